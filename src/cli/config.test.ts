import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadConfig, parseConfig } from './config.js';

describe('config file', () => {
  it('merges a profile over the top level', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ob-cfg-'));
    fs.writeFileSync(
      path.join(home, 'config.yaml'),
      `endpoint: http://127.0.0.1:1\nsubmit:\n  queue: q1\n  tags: {Team: a}\nprofiles:\n  prod:\n    endpoint: http://10.0.0.1:4566\n    submit:\n      definition: d\n      tags: {Env: prod}\n    cost:\n      spotDiscount: 0.6\n`,
    );
    const env = { OPENBATCH_HOME: home };
    expect(loadConfig({ env }).settings.endpoint).toBe('http://127.0.0.1:1');
    const p = loadConfig({ profileFlag: 'prod', env });
    expect(p.profile).toBe('prod');
    expect(p.settings).toMatchObject({
      endpoint: 'http://10.0.0.1:4566',
      submit: { queue: 'q1', definition: 'd', tags: { Team: 'a', Env: 'prod' } },
      cost: { spotDiscount: 0.6 },
    });
    expect(() => loadConfig({ profileFlag: 'prd', env })).toThrow(
      /Profile 'prd' is not defined .*did you mean 'prod'/,
    );
    expect(() => loadConfig({ configFlag: path.join(home, 'nope.yaml'), env })).toThrow(/does not exist/);
  });
  it('names the bad key and its path', () => {
    expect(() => parseConfig('profiles:\n  dev:\n    submit:\n      vcpu: 2\n', 'c.yaml')).toThrow(
      "Config file c.yaml: profiles.dev.submit.vcpu: unknown key (did you mean 'vcpus'?)",
    );
    expect(() => parseConfig('submit:\n  memory: lots\n', 'c.yaml')).toThrow(
      'Config file c.yaml: submit.memory: expected a number, got string "lots"',
    );
    expect(() => parseConfig('output: yaml\n', 'c.yaml')).toThrow(/output: expected one of table, json/);
    expect(() => parseConfig('cost:\n  spotDiscount: 1.5\n', 'c.yaml')).toThrow(
      /cost.spotDiscount: must be at most 1/,
    );
    expect(() => parseConfig('{"endpoint": 1}', 'c.json')).toThrow(/endpoint: expected a string/);
    expect(() => parseConfig('a: [', 'c.yaml')).toThrow(/not valid YAML/);
  });
});
