/**
 * @module cluster/http-json
 * Small JSON-over-HTTP helpers for node-to-node calls (keep-alive, bounded by a timeout).
 */
import type http from 'node:http';

export class RemoteError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

export async function postJson<T>(
  baseUrl: string,
  path: string,
  body: unknown,
  timeoutMs = 10_000,
): Promise<T> {
  const res = await fetch(baseUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { error: text };
  }
  if (!res.ok) {
    const e = parsed as { error?: string; code?: string };
    throw new RemoteError(res.status, e.code ?? 'http', e.error ?? `HTTP ${res.status}`);
  }
  return parsed as T;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function parseBody<T>(body: Buffer): T {
  return JSON.parse(body.length ? body.toString('utf8') : '{}') as T;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
