/**
 * @module sdk/retry
 * Retry with exponential backoff and full jitter for transient API failures: throttling (429,
 * TooManyRequestsException, ThrottlingException), server errors (5xx) and connection failures
 * (ECONNREFUSED, ECONNRESET, ...) such as a server restart in progress.
 */

export interface RetryOptions {
  /** Attempts in total, including the first. Default 8. */
  maxAttempts?: number;
  /** First backoff in ms. Default 200. */
  baseDelayMs?: number;
  /** Largest single backoff in ms. Default 4000. */
  maxDelayMs?: number;
  /** Called before each wait (for a "retrying..." note). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Injectable sleep (tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable random in [0,1) (tests). */
  random?: () => number;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const THROTTLE_NAMES = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'SlowDown',
  'ServiceUnavailableException',
  'ServiceUnavailable',
]);

function field(err: unknown, key: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[key] : undefined;
}

/** The network error code of `err` or of one of its causes (`ECONNREFUSED`, ...). */
export function networkErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e; depth++) {
    const code = field(e, 'code');
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    const errors = field(e, 'errors');
    if (Array.isArray(errors)) {
      for (const inner of errors) {
        const c = networkErrorCode(inner);
        if (c) return c;
      }
    }
    e = field(e, 'cause');
  }
  return undefined;
}

/** The HTTP status an AWS SDK error carries, if any. */
export function httpStatusOf(err: unknown): number | undefined {
  const meta = field(err, '$metadata');
  const status = field(meta, 'httpStatusCode') ?? field(err, 'statusCode');
  return typeof status === 'number' ? status : undefined;
}

/** True for errors worth retrying: throttling, 5xx, and connection failures. */
export function isRetryableError(err: unknown): boolean {
  if (networkErrorCode(err)) return true;
  const name = field(err, 'name');
  if (typeof name === 'string' && THROTTLE_NAMES.has(name)) return true;
  const status = httpStatusOf(err);
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  if (field(err, '$fault') === 'server') return true;
  return false;
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Run `fn`, retrying transient failures with capped exponential backoff and full jitter. */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const maxAttempts = opts.maxAttempts ?? 8;
  const base = opts.baseDelayMs ?? 200;
  const cap = opts.maxDelayMs ?? 4000;
  const sleep = opts.sleep ?? realSleep;
  const random = opts.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= maxAttempts || !isRetryableError(err)) throw err;
      const ceiling = Math.min(cap, base * 2 ** (attempt - 1));
      const delay = Math.max(base / 2, Math.round(random() * ceiling));
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
