/**
 * @module cli/config
 * The CLI's configuration file: defaults for every command and named profiles.
 *
 * Location: `--config FILE`, else `$OPENBATCH_CONFIG`, else `$OPENBATCH_HOME/config.yaml`
 * (`config.yml` / `config.json` also accepted) where `OPENBATCH_HOME` defaults to `~/.openbatch`.
 * YAML or JSON. Validated strictly: an unknown key or a wrong type is an error naming its path.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import YAML from 'yaml';

import { suggest } from './args.js';
import { CliError, ExitCode } from './errors.js';

export interface SubmitDefaults {
  queue?: string;
  definition?: string;
  name?: string;
  command?: string[];
  vcpus?: number;
  memory?: number;
  gpus?: number;
  timeout?: number;
  retryAttempts?: number;
  shareIdentifier?: string;
  schedulingPriority?: number;
  env?: Record<string, string>;
  tags?: Record<string, string>;
  parameters?: Record<string, string>;
}

export interface CostEnvironmentConfig {
  /** Fraction off on-demand for this environment (0..1). SPOT environments default to `cost.spotDiscount`. */
  spotDiscount?: number;
  /** Override the environment's instance types for pricing. */
  instanceTypes?: string[];
  /** Flat price per vCPU-hour (skips the instance table). */
  pricePerVcpuHour?: number;
}

export interface CostConfig {
  /** Discount of SPOT environments off on-demand, 0..1. Default 0.7 (70% off). */
  spotDiscount?: number;
  /** On-demand $/hour per instance type, overriding the shipped table. */
  prices?: Record<string, number>;
  /** $/vCPU-hour when an environment's instance types are unknown. Default: c5's on-demand rate. */
  defaultPricePerVcpuHour?: number;
  environments?: Record<string, CostEnvironmentConfig>;
}

export interface Settings {
  endpoint?: string;
  region?: string;
  output?: 'table' | 'json';
  /** Seconds between polls for --wait, --watch and -f. */
  pollInterval?: number;
  submit?: SubmitDefaults;
  cost?: CostConfig;
}

export interface ConfigFile extends Settings {
  defaultProfile?: string;
  profiles?: Record<string, Settings>;
}

export interface LoadedConfig {
  /** The file read, or undefined when none exists. */
  path: string | undefined;
  /** The profile in use, if any. */
  profile: string | undefined;
  /** Top-level settings with the profile merged over them. */
  settings: Settings;
}

/** `$OPENBATCH_HOME`, default `~/.openbatch`: config, idempotency keys and stack state live here. */
export function openbatchHome(env: NodeJS.ProcessEnv = process.env): string {
  const h = env.OPENBATCH_HOME;
  return h && h.trim() ? path.resolve(h) : path.join(os.homedir(), '.openbatch');
}

type Check = (v: unknown, at: string) => void;

class ConfigError extends CliError {}

function fail(file: string, at: string, msg: string): never {
  throw new ConfigError(`Config file ${file}: ${at}: ${msg}`, ExitCode.USAGE);
}

function typeName(v: unknown): string {
  return v === null
    ? 'null'
    : Array.isArray(v)
      ? 'a list'
      : typeof v === 'object'
        ? 'a mapping'
        : `${typeof v} ${JSON.stringify(v)}`;
}

function makeValidator(file: string) {
  const str: Check = (v, at) => {
    if (typeof v !== 'string') fail(file, at, `expected a string, got ${typeName(v)}`);
  };
  const num =
    (opts: { int?: boolean; min?: number; max?: number } = {}): Check =>
    (v, at) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        fail(file, at, `expected a number, got ${typeName(v)}`);
      if (opts.int && !Number.isInteger(v)) fail(file, at, `expected a whole number, got ${v}`);
      if (opts.min !== undefined && v < opts.min) fail(file, at, `must be at least ${opts.min}, got ${v}`);
      if (opts.max !== undefined && v > opts.max) fail(file, at, `must be at most ${opts.max}, got ${v}`);
    };
  const oneOf =
    (values: readonly string[]): Check =>
    (v, at) => {
      if (typeof v !== 'string' || !values.includes(v))
        fail(file, at, `expected one of ${values.join(', ')}, got ${typeName(v)}`);
    };
  const listOf =
    (item: Check): Check =>
    (v, at) => {
      if (!Array.isArray(v)) fail(file, at, `expected a list, got ${typeName(v)}`);
      v.forEach((x, i) => item(x, `${at}[${i}]`));
    };
  const mapOf =
    (value: Check): Check =>
    (v, at) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        fail(file, at, `expected a mapping, got ${typeName(v)}`);
      for (const [k, x] of Object.entries(v)) value(x, `${at}.${k}`);
    };
  const scalarString: Check = (v, at) => {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      fail(file, at, `expected a string, got ${typeName(v)}`);
  };
  const obj =
    (shape: Record<string, Check>): Check =>
    (v, at) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        fail(file, at || '(top level)', `expected a mapping, got ${typeName(v)}`);
      for (const [k, x] of Object.entries(v)) {
        const key = at ? `${at}.${k}` : k;
        const check = shape[k];
        if (!check) {
          const hint = suggest(k, Object.keys(shape));
          fail(
            file,
            key,
            `unknown key${hint ? ` (did you mean '${hint}'?)` : ''}; allowed here: ${Object.keys(shape).join(', ')}`,
          );
        }
        if (x !== undefined && x !== null) check(x, key);
      }
    };
  const submit = obj({
    queue: str,
    definition: str,
    name: str,
    command: listOf(str),
    vcpus: num({ min: 0 }),
    memory: num({ int: true, min: 1 }),
    gpus: num({ int: true, min: 0 }),
    timeout: num({ int: true, min: 60 }),
    retryAttempts: num({ int: true, min: 1, max: 10 }),
    shareIdentifier: str,
    schedulingPriority: num({ int: true, min: 0, max: 9999 }),
    env: mapOf(scalarString),
    tags: mapOf(scalarString),
    parameters: mapOf(scalarString),
  });
  const cost = obj({
    spotDiscount: num({ min: 0, max: 1 }),
    prices: mapOf(num({ min: 0 })),
    defaultPricePerVcpuHour: num({ min: 0 }),
    environments: mapOf(
      obj({
        spotDiscount: num({ min: 0, max: 1 }),
        instanceTypes: listOf(str),
        pricePerVcpuHour: num({ min: 0 }),
      }),
    ),
  });
  const settingsShape: Record<string, Check> = {
    endpoint: str,
    region: str,
    output: oneOf(['table', 'json']),
    pollInterval: num({ min: 0.05 }),
    submit,
    cost,
  };
  return obj({ ...settingsShape, defaultProfile: str, profiles: mapOf(obj(settingsShape)) });
}

/** Parse and validate config text; `file` names the source in errors. */
export function parseConfig(text: string, file: string): ConfigFile {
  let data: unknown;
  try {
    data = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new CliError(
      `Config file ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
      ExitCode.USAGE,
    );
  }
  if (data === null || data === undefined) return {};
  makeValidator(file)(data, '');
  return stringifyMaps(data as ConfigFile);
}

function stringifyMaps(c: ConfigFile): ConfigFile {
  const fix = (s: Settings | undefined) => {
    if (!s?.submit) return;
    for (const k of ['env', 'tags', 'parameters'] as const) {
      const m = s.submit[k];
      if (m) s.submit[k] = Object.fromEntries(Object.entries(m).map(([a, b]) => [a, String(b)]));
    }
  };
  fix(c);
  for (const p of Object.values(c.profiles ?? {})) fix(p);
  return c;
}

function merge(base: Settings, over: Settings): Settings {
  const out: Settings = { ...base, ...over };
  if (base.submit || over.submit) {
    const b = base.submit ?? {};
    const o = over.submit ?? {};
    out.submit = {
      ...b,
      ...o,
      env: { ...b.env, ...o.env },
      tags: { ...b.tags, ...o.tags },
      parameters: { ...b.parameters, ...o.parameters },
    };
  }
  if (base.cost || over.cost) {
    const b = base.cost ?? {};
    const o = over.cost ?? {};
    out.cost = {
      ...b,
      ...o,
      prices: { ...b.prices, ...o.prices },
      environments: { ...b.environments, ...o.environments },
    };
  }
  return out;
}

/** The default config path (the first existing of config.yaml, config.yml, config.json under the home). */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const home = openbatchHome(env);
  for (const name of ['config.yaml', 'config.yml', 'config.json']) {
    const p = path.join(home, name);
    if (fs.existsSync(p)) return p;
  }
  return path.join(home, 'config.yaml');
}

export function loadConfig(opts: {
  configFlag?: string | undefined;
  profileFlag?: string | undefined;
  env?: NodeJS.ProcessEnv;
}): LoadedConfig {
  const env = opts.env ?? process.env;
  const explicit =
    opts.configFlag ??
    (env.OPENBATCH_CONFIG && env.OPENBATCH_CONFIG.trim() ? env.OPENBATCH_CONFIG : undefined);
  const file = explicit ? path.resolve(explicit) : defaultConfigPath(env);
  let cfg: ConfigFile = {};
  let used: string | undefined;
  if (fs.existsSync(file)) {
    cfg = parseConfig(fs.readFileSync(file, 'utf8'), file);
    used = file;
  } else if (explicit) {
    throw new CliError(`Config file ${file} does not exist`, ExitCode.USAGE);
  }
  const profile =
    opts.profileFlag ??
    (env.OPENBATCH_PROFILE && env.OPENBATCH_PROFILE.trim() ? env.OPENBATCH_PROFILE : undefined) ??
    cfg.defaultProfile;
  const { profiles, defaultProfile: _d, ...top } = cfg;
  let settings: Settings = top;
  if (profile !== undefined) {
    const p = profiles?.[profile];
    if (!p) {
      const names = Object.keys(profiles ?? {});
      const hint = suggest(profile, names);
      throw new CliError(
        `Profile '${profile}' is not defined${used ? ` in ${used}` : ' (no config file found)'}${hint ? `; did you mean '${hint}'?` : names.length ? `; profiles: ${names.join(', ')}` : ''}`,
        ExitCode.USAGE,
      );
    }
    settings = merge(top, p);
  }
  return { path: used, profile, settings };
}
