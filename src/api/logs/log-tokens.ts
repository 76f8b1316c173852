/**
 * @module api/logs/log-tokens
 * Wire forms of positions in the log store: event ids, GetLogEvents `f/…` / `b/…` tokens,
 * FilterLogEvents and Describe* next tokens, sequence tokens. All are deterministic functions of the
 * position, so a client that sends a token back at the end of a stream receives the same token again.
 */
import { ValidationError } from '../../core/errors.js';
import type { EventCursor } from '../../logs/log-store.js';

const TS_DIGITS = 20;
const SEQ_DIGITS = 36;

export const INVALID_NEXT_TOKEN = 'The specified nextToken is invalid.';

function digits(n: number, width: number): string {
  return String(Math.max(0, Math.trunc(n))).padStart(width, '0');
}

/** 56 digits: timestamp (20) + seq (36). Unique because seq is unique store-wide. */
export function eventId(ts: number, seq: number): string {
  return digits(ts, TS_DIGITS) + digits(seq, SEQ_DIGITS);
}

/** 56-digit sequence token derived from the stream's last seq. */
export function sequenceToken(lastSeq: number): string {
  return digits(lastSeq, 56);
}

export type StreamTokenDirection = 'f' | 'b';

export function encodeStreamToken(dir: StreamTokenDirection, c: EventCursor): string {
  return `${dir}/${eventId(c.ts, c.seq)}`;
}

export function decodeStreamToken(token: string): { dir: StreamTokenDirection; cursor: EventCursor } {
  const m = /^([fb])\/(\d{20})(\d{36})$/.exec(token);
  if (!m) throw new ValidationError(INVALID_NEXT_TOKEN, 'nextToken');
  const ts = Number(m[2]);
  const seq = Number(m[3]);
  if (!Number.isSafeInteger(ts) || !Number.isSafeInteger(seq))
    throw new ValidationError(INVALID_NEXT_TOKEN, 'nextToken');
  return { dir: m[1] as StreamTokenDirection, cursor: { ts, seq } };
}

/** Opaque token for keyset pagination: base64url of a small JSON object, tagged with its kind. */
export function encodeOpaqueToken(kind: string, value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify({ k: kind, ...value }), 'utf8').toString('base64url');
}

export function decodeOpaqueToken(kind: string, token: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError(INVALID_NEXT_TOKEN, 'nextToken');
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { k?: unknown }).k !== kind) {
    throw new ValidationError(INVALID_NEXT_TOKEN, 'nextToken');
  }
  return parsed as Record<string, unknown>;
}
