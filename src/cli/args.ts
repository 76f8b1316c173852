/**
 * @module cli/args
 * A small argv parser: `--flag value`, `--flag=value`, `-f value`, boolean flags, repeatable
 * list flags, and `--` to end options (what follows is the job's command).
 */
import { CliError } from './errors.js';

export type FlagType = 'string' | 'number' | 'boolean' | 'list';

export interface FlagSpec {
  readonly name: string;
  readonly type: FlagType;
  readonly short?: string;
  readonly value?: string;
  readonly help: string;
}

export type FlagValue = string | number | boolean | string[];

export interface ParsedArgs {
  readonly flags: Record<string, FlagValue>;
  readonly positionals: string[];
  /** Everything after `--`. */
  readonly rest: string[];
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i]![j] = Math.min(
        dp[i - 1]![j]! + 1,
        dp[i]![j - 1]! + 1,
        dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return dp[a.length]![b.length]!;
}

/** The closest of `candidates` to `word`, if reasonably close. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], command: string): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const flags: Record<string, FlagValue> = {};
  const positionals: string[] = [];
  let rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    let shown = arg;
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      shown = `--${name}`;
      spec = byName.get(name);
      if (!spec && name.startsWith('no-')) {
        const neg = byName.get(name.slice(3));
        if (neg?.type === 'boolean' && inline === undefined) {
          flags[neg.name] = false;
          continue;
        }
      }
      if (!spec) {
        const hint = suggest(name, [...byName.keys()]);
        throw new CliError(
          `Unknown option ${shown} for 'openbatch ${command}'${hint ? ` (did you mean --${hint}?)` : ''}; see 'openbatch ${command} --help'`,
        );
      }
    } else if (/^-[A-Za-z]$/.test(arg)) {
      spec = byShort.get(arg.slice(1));
      if (!spec)
        throw new CliError(
          `Unknown option ${arg} for 'openbatch ${command}'; see 'openbatch ${command} --help'`,
        );
    } else {
      positionals.push(arg);
      continue;
    }
    if (spec.type === 'boolean') {
      if (inline === undefined) flags[spec.name] = true;
      else if (/^(true|yes|1)$/i.test(inline)) flags[spec.name] = true;
      else if (/^(false|no|0)$/i.test(inline)) flags[spec.name] = false;
      else throw new CliError(`Option --${spec.name} takes no value (or true/false), not '${inline}'`);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined)
        throw new CliError(`Option ${shown} needs a value${spec.value ? ` (${spec.value})` : ''}`);
      value = next;
      i++;
    }
    if (spec.type === 'number') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n))
        throw new CliError(`Option --${spec.name} expects a number, not '${value}'`);
      flags[spec.name] = n;
    } else if (spec.type === 'list') {
      const prev = flags[spec.name];
      flags[spec.name] = [...(Array.isArray(prev) ? prev : []), value];
    } else {
      flags[spec.name] = value;
    }
  }
  return { flags, positionals, rest };
}

/** Typed accessors over parsed flags. */
export class Flags {
  constructor(readonly parsed: ParsedArgs) {}
  str(name: string): string | undefined {
    const v = this.parsed.flags[name];
    return typeof v === 'string' ? v : undefined;
  }
  num(name: string): number | undefined {
    const v = this.parsed.flags[name];
    return typeof v === 'number' ? v : undefined;
  }
  int(name: string, min = Number.MIN_SAFE_INTEGER): number | undefined {
    const v = this.num(name);
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || v < min)
      throw new CliError(
        `Option --${name} expects a whole number${min > Number.MIN_SAFE_INTEGER ? ` of at least ${min}` : ''}, not ${v}`,
      );
    return v;
  }
  bool(name: string): boolean {
    return this.parsed.flags[name] === true;
  }
  has(name: string): boolean {
    return this.parsed.flags[name] !== undefined;
  }
  list(name: string): string[] {
    const v = this.parsed.flags[name];
    return Array.isArray(v) ? v : [];
  }
}

/** Parse `K=V` pairs (for --env, --tag, --parameter, --param). */
export function parsePairs(items: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new CliError(`Option --${flag} expects KEY=VALUE, not '${item}'`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** Parse a duration such as `90`, `90s`, `15m`, `4h`, `2d` into seconds. */
export function parseDurationSeconds(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?$/i.exec(text.trim());
  if (!m)
    throw new CliError(`Option --${flag} expects a duration like 90, 90s, 15m, 4h or 2d, not '${text}'`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const mult = unit.startsWith('s')
    ? 1
    : unit.startsWith('m')
      ? 60
      : unit === 'h'
        ? 3600
        : unit === 'd'
          ? 86400
          : 604800;
  return Math.round(n * mult);
}
