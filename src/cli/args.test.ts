import { describe, expect, it } from 'vitest';

import { Flags, parseArgs, parseDurationSeconds, parsePairs, type FlagSpec } from './args.js';
import { splitShellWords } from './shell-words.js';

const SPECS: FlagSpec[] = [
  { name: 'name', short: 'n', type: 'string', help: '' },
  { name: 'vcpus', type: 'number', help: '' },
  { name: 'wait', short: 'w', type: 'boolean', help: '' },
  { name: 'env', short: 'e', type: 'list', help: '' },
];

describe('parseArgs', () => {
  it('parses long, short, inline, list, boolean and -- rest', () => {
    const p = parseArgs(
      ['-n', 'job', '--vcpus=2', '-w', '-e', 'A=1', '--env', 'B=2', 'pos', '--', 'sh', '-c', 'echo --wait'],
      SPECS,
      'submit',
    );
    expect(p.flags).toEqual({ name: 'job', vcpus: 2, wait: true, env: ['A=1', 'B=2'] });
    expect(p.positionals).toEqual(['pos']);
    expect(p.rest).toEqual(['sh', '-c', 'echo --wait']);
    expect(parseArgs(['--no-wait'], SPECS, 'x').flags.wait).toBe(false);
  });
  it('rejects unknown options with a suggestion, and bad values', () => {
    expect(() => parseArgs(['--vcpu', '2'], SPECS, 'submit')).toThrow(
      /Unknown option --vcpu for 'openbatch submit' \(did you mean --vcpus\?\)/,
    );
    expect(() => parseArgs(['--vcpus', 'two'], SPECS, 'submit')).toThrow(/expects a number, not 'two'/);
    expect(() => parseArgs(['--name'], SPECS, 'submit')).toThrow(/needs a value/);
    expect(() => new Flags(parseArgs(['--vcpus', '1.5'], SPECS, 'x')).int('vcpus')).toThrow(/whole number/);
  });
  it('parses pairs and durations', () => {
    expect(parsePairs(['A=1', 'B=x=y'], 'env')).toEqual({ A: '1', B: 'x=y' });
    expect(() => parsePairs(['oops'], 'env')).toThrow(/KEY=VALUE/);
    expect([
      parseDurationSeconds('90', 't'),
      parseDurationSeconds('15m', 't'),
      parseDurationSeconds('4h', 't'),
      parseDurationSeconds('2d', 't'),
    ]).toEqual([90, 900, 14400, 172800]);
    expect(() => parseDurationSeconds('soon', 't')).toThrow(/duration/);
  });
  it('splits command strings like a shell', () => {
    expect(splitShellWords(`sh -c 'echo hi; echo "x y"'`)).toEqual(['sh', '-c', 'echo hi; echo "x y"']);
    expect(splitShellWords(`python run.py --name "a b" c\\ d`)).toEqual([
      'python',
      'run.py',
      '--name',
      'a b',
      'c d',
    ]);
    expect(() => splitShellWords(`echo 'unterminated`)).toThrow(/Unterminated single quote/);
  });
});
