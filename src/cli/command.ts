/**
 * @module cli/command
 * The shape of a client command and its generated `--help`.
 */
import type { Flags, FlagSpec } from './args.js';
import type { Context } from './context.js';
import { GLOBAL_FLAGS } from './context.js';

export interface Command {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly summary: string;
  readonly usage: string;
  readonly description?: string;
  readonly flags: readonly FlagSpec[];
  readonly examples: readonly string[];
  run(ctx: Context, flags: Flags, positionals: string[], rest: string[]): Promise<number>;
}

function flagLine(f: FlagSpec): [string, string] {
  const left = `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.type === 'boolean' ? '' : ` ${f.value ?? (f.type === 'number' ? 'N' : 'VALUE')}`}${f.type === 'list' ? ' ...' : ''}`;
  return [left, f.help];
}

function block(lines: [string, string][]): string {
  const w = Math.min(36, Math.max(...lines.map(([l]) => l.length)));
  return lines
    .map(([l, r]) => (l.length > w ? `  ${l}\n  ${' '.repeat(w)}  ${r}` : `  ${l.padEnd(w)}  ${r}`))
    .join('\n');
}

export function commandHelp(cmd: Command): string {
  const parts = [`Usage: ${cmd.usage}`, '', cmd.summary];
  if (cmd.description) parts.push('', cmd.description.trim());
  if (cmd.flags.length) parts.push('', 'Options:', block(cmd.flags.map(flagLine)));
  parts.push('', 'Global options:', block(GLOBAL_FLAGS.map(flagLine)));
  if (cmd.examples.length) parts.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return parts.join('\n') + '\n';
}
