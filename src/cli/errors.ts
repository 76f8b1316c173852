/**
 * @module cli/errors
 * User-facing errors: a plain sentence and an exit code, never a stack trace. `describeError`
 * turns SDK, network and template errors into such sentences.
 */
import { httpStatusOf, networkErrorCode } from '../sdk/retry.js';

/** Exit codes of `openbatch` (documented in docs/cli.md). */
export const ExitCode = {
  OK: 0,
  /** The job (or one of the jobs) ended FAILED, or a command's operation failed. */
  FAILED: 1,
  /** Bad usage: unknown command or option, bad value, bad config file. */
  USAGE: 2,
  /** The service could not be reached or rejected the request. */
  API: 3,
  /** `--wait` gave up (`--wait-timeout`). */
  TIMEOUT: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = ExitCode.USAGE, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

function sentence(s: string): string {
  const t = s.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** A plain sentence for any error, plus the exit code to use. */
export function describeError(err: unknown, endpoint?: string): { message: string; exitCode: number } {
  if (err instanceof CliError) return { message: sentence(err.message), exitCode: err.exitCode };
  const net = networkErrorCode(err);
  if (net) {
    const where = endpoint ?? 'the service';
    const what =
      net === 'ECONNREFUSED'
        ? `Could not connect to ${where} (connection refused). Is the server running? Start one with 'openbatch server' or pass --endpoint`
        : `Could not reach ${where} (${net})`;
    return { message: sentence(what), exitCode: ExitCode.API };
  }
  const e = err as { name?: unknown; message?: unknown };
  const name = typeof e?.name === 'string' ? e.name : '';
  const msg = typeof e?.message === 'string' && e.message ? e.message : String(err);
  const status = httpStatusOf(err);
  if (status !== undefined || /Exception$/.test(name)) {
    const label = name && name !== 'Error' ? `${name}` : `HTTP ${status ?? '?'}`;
    return {
      message: sentence(`The service rejected the request (${label}): ${msg}`),
      exitCode: ExitCode.API,
    };
  }
  return { message: sentence(msg), exitCode: ExitCode.FAILED };
}
