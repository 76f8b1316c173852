/**
 * @module api/dashboard/dashboard-routes
 * Endpoints only the web dashboard uses:
 *  - `GET /` redirects to `/dashboard/`; `GET /dashboard` to `/dashboard/`.
 *  - `GET|HEAD /dashboard/*` serves the static files of `src/web/static/` (copied to `dist/web/static/`),
 *    with a safe path join (no `..`, no encoded separators, no dotfiles, no symlinks out of the folder),
 *    content types, ETags and a strict Content-Security-Policy.
 *  - `GET /openbatch/v1/events` streams the domain events `job:submitted` and `job:statusChanged` as
 *    Server-Sent Events, with a heartbeat comment every 15 s. A client that reads too slowly is never
 *    buffered without bound: once more than `maxBufferedBytes` wait in its socket, events are dropped
 *    and a `resync` event is sent when the socket drains (the client then reloads its state). A
 *    client that reconnects with `Last-Event-ID` gets `resync` at once, since events are not kept.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { DomainEventMap, EventBus } from '../../core/events.js';
import type { ExtraHandler } from '../http-server.js';

export interface DashboardDeps {
  events: EventBus;
  /** Folder holding index.html, app.js, app.css. */
  staticDir: string;
  /** Heartbeat comment interval for the event stream (default 15 000 ms). */
  heartbeatMs?: number;
  /** Bytes that may wait in one client's socket before events are dropped (default 1 MiB). */
  maxBufferedBytes?: number;
  /** A client that stays over the limit this long is disconnected (default 60 000 ms). */
  stallTimeoutMs?: number;
  /** Concurrent event-stream clients (default 256); more get 503. */
  maxClients?: number;
}

export interface DashboardRoutes {
  extra: Map<string, ExtraHandler>;
  prefixRoutes: { method: string; prefix: string; handler: ExtraHandler }[];
  /** Event-stream counters, for tests and `/openbatch/v1/stats`-style reporting. */
  streamStats(): { clients: number; droppedEvents: number; resyncs: number };
  /** Ends every open event stream (call before closing the HTTP server). */
  close(): void;
}

/** The static folder next to this module's build output: `dist/web/static` (or `src/web/static` under tsx/vitest). */
export function dashboardStaticDir(): string {
  return fileURLToPath(new URL('../../web/static/', import.meta.url));
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

const STREAMED_EVENTS = [
  'job:submitted',
  'job:statusChanged',
] as const satisfies readonly (keyof DomainEventMap)[];

function plain(
  res: http.ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * Maps the part of a URL path after `/dashboard/` to a path relative to the static folder, or
 * undefined when it must not be served. Each segment is decoded on its own so `%2F`, `%5C` and `%00`
 * cannot smuggle separators, and `.`/`..`/dotfile segments are refused outright.
 */
export function safeRelativePath(urlPath: string): string | undefined {
  if (urlPath === '') return 'index.html';
  const segments: string[] = [];
  const raw = urlPath.split('/');
  for (let i = 0; i < raw.length; i++) {
    const seg = raw[i]!;
    if (seg === '') {
      // Only a trailing slash is allowed: `a/` → `a/index.html`.
      if (i === raw.length - 1) {
        segments.push('index.html');
        continue;
      }
      return undefined;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      return undefined;
    }
    if (decoded.startsWith('.') || /[/\\\0:]/.test(decoded)) return undefined;
    segments.push(decoded);
  }
  return segments.join('/');
}

function createStaticHandler(staticDir: string): ExtraHandler {
  const root = path.resolve(staticDir);
  let realRoot: string | undefined;
  return async (req, res) => {
    // The raw path, not the WHATWG-normalised URL: `..` must be refused, never resolved.
    const raw = req.url ?? '/';
    const q = raw.search(/[?#]/);
    const rawPath = q >= 0 ? raw.slice(0, q) : raw;
    if (!rawPath.startsWith('/dashboard/')) return plain(res, 404, 'Not found\n');
    const rel = safeRelativePath(rawPath.slice('/dashboard/'.length));
    if (rel === undefined) return plain(res, 404, 'Not found\n');
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep)) return plain(res, 404, 'Not found\n');
    let stat: fs.Stats;
    let real: string;
    try {
      realRoot ??= await fs.promises.realpath(root);
      real = await fs.promises.realpath(file);
      stat = await fs.promises.stat(real);
    } catch {
      return plain(res, 404, 'Not found\n');
    }
    // A symlink inside the folder must not lead out of it.
    if (!real.startsWith(realRoot + path.sep) || !stat.isFile()) return plain(res, 404, 'Not found\n');
    const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'content-type': CONTENT_TYPES[path.extname(real).toLowerCase()] ?? 'application/octet-stream',
      // Revalidate every time: the files are small and change on upgrade.
      'cache-control': 'no-cache',
      etag,
      'last-modified': stat.mtime.toUTCString(),
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const data = await fs.promises.readFile(real);
    res.writeHead(200, { ...headers, 'content-length': String(data.length) });
    res.end(req.method === 'HEAD' ? undefined : data);
  };
}

interface StreamClient {
  res: http.ServerResponse;
  dropping: boolean;
  droppedSince: number;
  overSince: number;
}

export function createDashboardRoutes(deps: DashboardDeps): DashboardRoutes {
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  const maxBuffered = deps.maxBufferedBytes ?? 1024 * 1024;
  const stallTimeoutMs = deps.stallTimeoutMs ?? 60_000;
  const maxClients = deps.maxClients ?? 256;
  // Event ids carry the server instance, so ids from before a restart are recognised as foreign.
  const instance = randomUUID().slice(0, 8);
  let seq = 0;
  const clients = new Set<StreamClient>();
  const counters = { droppedEvents: 0, resyncs: 0 };

  const write = (c: StreamClient, chunk: string): void => {
    if (c.res.destroyed || c.res.writableEnded) return;
    if (c.dropping) {
      c.droppedSince++;
      counters.droppedEvents++;
      return;
    }
    if (c.res.writableLength > maxBuffered) {
      c.dropping = true;
      c.overSince = Date.now();
      c.droppedSince = 1;
      counters.droppedEvents++;
      c.res.once('drain', () => {
        if (c.res.destroyed || c.res.writableEnded) return;
        const dropped = c.droppedSince;
        c.dropping = false;
        c.droppedSince = 0;
        counters.resyncs++;
        c.res.write(
          `id: ${instance}.${seq}\nevent: resync\ndata: ${JSON.stringify({ reason: 'slow-consumer', dropped })}\n\n`,
        );
      });
      return;
    }
    c.res.write(chunk);
  };

  const broadcast = (name: string, payload: unknown): void => {
    seq++;
    const chunk = `id: ${instance}.${seq}\nevent: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
    for (const c of clients) write(c, chunk);
  };

  const subscriptions: (() => void)[] = [];
  const subscribe = (): void => {
    for (const name of STREAMED_EVENTS) subscriptions.push(deps.events.on(name, (p) => broadcast(name, p)));
  };
  const unsubscribe = (): void => {
    for (const off of subscriptions.splice(0)) off();
  };

  let heartbeat: NodeJS.Timeout | undefined;
  const tick = (): void => {
    const now = Date.now();
    for (const c of clients) {
      if (c.dropping) {
        // A reader that never drains is disconnected; EventSource reconnects and resyncs.
        if (now - c.overSince > stallTimeoutMs) c.res.destroy();
        continue;
      }
      write(c, `: heartbeat ${now}\n\n`);
    }
  };

  const events: ExtraHandler = (req, res) => {
    if (clients.size >= maxClients) {
      return plain(res, 503, 'Too many event-stream clients\n', { 'retry-after': '10' });
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true);
    const c: StreamClient = { res, dropping: false, droppedSince: 0, overSince: 0 };
    // The first client subscribes to the bus; the last one to leave unsubscribes.
    if (clients.size === 0) subscribe();
    clients.add(c);
    heartbeat ??= setInterval(tick, heartbeatMs).unref();
    let hello = `retry: 3000\n: openbatch event stream\n\n`;
    hello += `id: ${instance}.${seq}\nevent: hello\ndata: ${JSON.stringify({ instance, heartbeatMs, serverTime: Date.now() })}\n\n`;
    if (req.headers['last-event-id'] !== undefined) {
      // Nothing is kept between connections: a reconnecting client reloads its state.
      counters.resyncs++;
      hello += `id: ${instance}.${seq}\nevent: resync\ndata: ${JSON.stringify({ reason: 'reconnected' })}\n\n`;
    }
    res.write(hello);
    const cleanup = (): void => {
      if (!clients.delete(c)) return;
      if (clients.size === 0) {
        unsubscribe();
        if (heartbeat) clearInterval(heartbeat);
        heartbeat = undefined;
      }
    };
    // Not req 'close': an IncomingMessage closes as soon as its (empty) body has been read.
    res.on('close', cleanup);
    res.on('error', cleanup);
  };

  const extra = new Map<string, ExtraHandler>();
  extra.set('GET /', (_req, res) => plain(res, 302, 'Found: /dashboard/\n', { location: '/dashboard/' }));
  extra.set('GET /dashboard', (_req, res) =>
    plain(res, 301, 'Moved: /dashboard/\n', { location: '/dashboard/' }),
  );
  extra.set('GET /openbatch/v1/events', events);
  const files = createStaticHandler(deps.staticDir);
  return {
    extra,
    prefixRoutes: [
      { method: 'GET', prefix: '/dashboard/', handler: files },
      { method: 'HEAD', prefix: '/dashboard/', handler: files },
    ],
    streamStats: () => ({ clients: clients.size, ...counters }),
    close: () => {
      for (const c of [...clients]) c.res.end();
      clients.clear();
      unsubscribe();
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = undefined;
    },
  };
}
