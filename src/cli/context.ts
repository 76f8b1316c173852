/**
 * @module cli/context
 * What every client command gets: output streams, terminal style, the loaded config and profile,
 * and a lazily created API client for the resolved endpoint.
 */
import { createOpenbatchClient, resolveEndpoint, type OpenbatchClient } from '../sdk/client.js';
import type { Flags } from './args.js';
import { type FlagSpec } from './args.js';
import { loadConfig, type LoadedConfig, type Settings } from './config.js';
import { CliError, ExitCode } from './errors.js';
import type { Style } from './format.js';

export interface Output {
  write(s: string): void;
  readonly isTTY: boolean;
  readonly columns: number;
}

export interface Context {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly style: Style;
  readonly env: NodeJS.ProcessEnv;
  readonly config: LoadedConfig;
  readonly settings: Settings;
  readonly output: 'table' | 'json';
  readonly endpoint: string | undefined;
  readonly pollMs: number;
  client(): OpenbatchClient;
  /** Print to stdout. */
  out(s: string): void;
  /** Print a note to stderr. */
  note(s: string): void;
  /** Release the client. */
  close(): void;
}

export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  {
    name: 'endpoint',
    type: 'string',
    value: 'URL',
    help: "API endpoint (default: $OPENBATCH_ENDPOINT, $AWS_ENDPOINT_URL, config, http://127.0.0.1:4566; 'aws' for AWS itself)",
  },
  {
    name: 'region',
    type: 'string',
    value: 'REGION',
    help: 'AWS region (default: $AWS_REGION, config, us-east-1)',
  },
  {
    name: 'profile',
    type: 'string',
    value: 'NAME',
    help: 'named profile from the config file (default: $OPENBATCH_PROFILE or defaultProfile)',
  },
  {
    name: 'config',
    type: 'string',
    value: 'FILE',
    help: 'config file (default: $OPENBATCH_CONFIG or ~/.openbatch/config.yaml)',
  },
  { name: 'output', short: 'o', type: 'string', value: 'table|json', help: 'output format' },
  {
    name: 'color',
    type: 'boolean',
    help: 'force colours on or off (--no-color); default: only on a terminal without NO_COLOR',
  },
  { name: 'help', short: 'h', type: 'boolean', help: 'show this help' },
];

function wrap(stream: NodeJS.WriteStream): Output {
  return {
    write: (s) => void stream.write(s),
    get isTTY() {
      return Boolean(stream.isTTY);
    },
    get columns() {
      return stream.columns || 100;
    },
  };
}

export function createContext(flags: Flags, env: NodeJS.ProcessEnv = process.env): Context {
  const config = loadConfig({ configFlag: flags.str('config'), profileFlag: flags.str('profile'), env });
  const settings = config.settings;
  const stdout = wrap(process.stdout);
  const stderr = wrap(process.stderr);
  const outputFlag = flags.str('output') ?? settings.output ?? 'table';
  if (outputFlag !== 'table' && outputFlag !== 'json')
    throw new CliError(`Option --output expects table or json, not '${outputFlag}'`);
  const colorFlag = flags.parsed.flags.color;
  const color =
    typeof colorFlag === 'boolean' ? colorFlag : stdout.isTTY && !env.NO_COLOR && env.TERM !== 'dumb';
  const endpoint = resolveEndpoint({ flag: flags.str('endpoint'), env, config: settings.endpoint });
  const pollSeconds = settings.pollInterval ?? 1;
  let client: OpenbatchClient | undefined;
  const ctx: Context = {
    stdout,
    stderr,
    style: { color },
    env,
    config,
    settings,
    output: outputFlag,
    endpoint,
    pollMs: Math.max(50, Math.round(pollSeconds * 1000)),
    client() {
      client ??= createOpenbatchClient({
        endpoint,
        region: flags.str('region') ?? settings.region,
        env,
        retry: {
          onRetry: (err, attempt, delay) => {
            if (attempt >= 2) {
              const why =
                (err as { code?: string; name?: string }).code ?? (err as { name?: string }).name ?? 'error';
              stderr.write(
                `openbatch: ${why} from ${endpoint ?? 'AWS'}; retrying in ${(delay / 1000).toFixed(1)}s (attempt ${attempt + 1})\n`,
              );
            }
          },
        },
      });
      return client;
    },
    out: (s) => stdout.write(s),
    note: (s) => stderr.write(s.endsWith('\n') ? s : `${s}\n`),
    close: () => client?.destroy(),
  };
  return ctx;
}

/** A job id or fail with a usage error. */
export function requireArg(value: string | undefined, what: string, command: string): string {
  if (!value)
    throw new CliError(
      `'openbatch ${command}' needs ${what}; see 'openbatch ${command} --help'`,
      ExitCode.USAGE,
    );
  return value;
}
