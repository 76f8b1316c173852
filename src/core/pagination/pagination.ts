/**
 * @module core/pagination/pagination
 * One pagination helper for every paginated Batch operation (aws-batch-semantics §1.4):
 * `maxResults` validated (1–100 unless told otherwise), opaque `nextToken` bound to the operation,
 * stable across inserts/deletes (a token remembers the last cursor, not an offset), omitted on the
 * last page and never repeated (cursors strictly increase).
 */
import { ValidationError } from '../errors.js';

export interface PageInput {
  maxResults?: unknown;
  nextToken?: unknown;
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/** Validate `maxResults` and return the page size. */
export function pageSize(maxResults: unknown, opts: { max?: number; defaultSize?: number } = {}): number {
  const max = opts.max ?? 100;
  const def = opts.defaultSize ?? max;
  if (maxResults === undefined || maxResults === null) return def;
  if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > max) {
    throw new ValidationError(`maxResults must be between 1 and ${max}`, 'maxResults');
  }
  return maxResults;
}

const PREFIX = 'ob1.';

/** Encode an opaque token: `scope` (usually the operation name) + the last cursor returned. */
export function encodeNextToken(scope: string, cursor: string): string {
  return PREFIX + Buffer.from(JSON.stringify({ s: scope, c: cursor }), 'utf8').toString('base64url');
}

/** Decode a token from `encodeNextToken`; a foreign or malformed token is a ClientException. */
export function decodeNextToken(token: unknown, scope: string): string | undefined {
  if (token === undefined || token === null || token === '') return undefined;
  if (typeof token !== 'string' || !token.startsWith(PREFIX)) {
    throw new ValidationError('Invalid nextToken', 'nextToken');
  }
  try {
    const parsed = JSON.parse(Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8')) as {
      s?: unknown;
      c?: unknown;
    };
    if (parsed.s !== scope || typeof parsed.c !== 'string') throw new Error('scope');
    return parsed.c;
  } catch (err) {
    throw new ValidationError('Invalid nextToken', 'nextToken', { cause: err });
  }
}

/**
 * Paginate `items`, which must be sorted by `cursorOf` in strictly increasing (string) order.
 * The page starts after the cursor carried by `input.nextToken`.
 */
export function paginate<T>(
  items: readonly T[],
  cursorOf: (item: T) => string,
  input: PageInput,
  scope: string,
  opts: { max?: number; defaultSize?: number } = {},
): Page<T> {
  const size = pageSize(input.maxResults, opts);
  const after = decodeNextToken(input.nextToken, scope);
  let start = 0;
  if (after !== undefined) {
    start = items.findIndex((it) => cursorOf(it) > after);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + size);
  const more = start + size < items.length;
  const last = page[page.length - 1];
  return more && last !== undefined
    ? { items: page, nextToken: encodeNextToken(scope, cursorOf(last)) }
    : { items: page };
}

/** Cursor for a position in a request-ordered list (e.g. the names a Describe call asked for). */
export function indexCursor(i: number): string {
  return String(i).padStart(8, '0');
}
