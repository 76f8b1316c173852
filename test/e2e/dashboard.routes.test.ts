/**
 * The dashboard routes (static files, redirects, the Server-Sent Events stream) behind the real
 * HTTP server of api/http-server.ts, with a real EventBus and raw HTTP/TCP clients.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  createDashboardRoutes,
  dashboardStaticDir,
  safeRelativePath,
  type DashboardDeps,
  type DashboardRoutes,
} from '../../src/api/dashboard/dashboard-routes.js';
import { createHttpServer, listen, type RunningHttpServer } from '../../src/api/http-server.js';
import { EventBus, type JobStatusChange } from '../../src/core/events.js';

let tmp: string;
let staticDir: string;

interface Harness {
  server: RunningHttpServer;
  routes: DashboardRoutes;
  events: EventBus;
}
const open: Harness[] = [];

async function start(opts: Partial<Omit<DashboardDeps, 'events' | 'staticDir'>> = {}): Promise<Harness> {
  const events = new EventBus();
  const routes = createDashboardRoutes({ events, staticDir, ...opts });
  const server = await listen(
    createHttpServer({
      batch: new Map(),
      health: () => ({ status: 'ok' }),
      defaultScope: { region: 'us-east-1', accountId: '123456789012' },
      extra: routes.extra,
      prefixRoutes: routes.prefixRoutes,
    }),
    '127.0.0.1',
    0,
  );
  const h = { server, routes, events };
  open.push(h);
  return h;
}

/** A request with the path sent byte for byte (no client-side normalisation). */
function rawGet(
  port: number,
  rawPath: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: rawPath, method, headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** An SSE client over a raw socket: collects text; `paused` leaves the kernel buffers to fill. */
function sseClient(
  port: number,
  headers: Record<string, string> = {},
): { socket: net.Socket; text: () => string; waitFor: (re: RegExp, ms?: number) => Promise<string> } {
  const socket = net.connect(port, '127.0.0.1');
  let buf = '';
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => (buf += c));
  socket.on('error', () => {});
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.write(
    `GET /openbatch/v1/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n${extra}\r\n`,
  );
  return {
    socket,
    text: () => buf,
    waitFor: async (re, ms = 5_000) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const m = re.exec(buf);
        if (m) return m[0];
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`timed out waiting for ${re} in event stream; got ${JSON.stringify(buf.slice(-500))}`);
    },
  };
}

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}
function parseSse(text: string): SseEvent[] {
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  const out: SseEvent[] = [];
  for (const block of body.split('\n\n')) {
    const e: SseEvent = {};
    for (const line of block.split('\n')) {
      // Chunked transfer encoding puts size lines between blocks; SSE fields are `name: value`.
      const m = /^(id|event|data): (.*)$/.exec(line.replace(/\r$/, ''));
      if (m) e[m[1] as 'id' | 'event' | 'data'] = m[2];
    }
    if (e.event) out.push(e);
  }
  return out;
}

const change = (over: Partial<JobStatusChange> = {}): JobStatusChange => ({
  jobId: 'j-1',
  jobName: 'hello',
  jobQueueArn: 'arn:aws:batch:us-east-1:123456789012:job-queue/default',
  from: 'RUNNABLE',
  to: 'STARTING',
  at: 1_700_000_000_000,
  ...over,
});

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openbatch-dash-'));
  staticDir = path.join(tmp, 'static');
  fs.mkdirSync(path.join(staticDir, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>dash</title>');
  fs.writeFileSync(path.join(staticDir, 'app.js'), 'console.log(1);');
  fs.writeFileSync(path.join(staticDir, 'app.css'), 'body{}');
  fs.writeFileSync(path.join(staticDir, 'logo.svg'), '<svg/>');
  fs.writeFileSync(path.join(staticDir, 'sub', 'index.html'), 'sub index');
  fs.writeFileSync(path.join(staticDir, '.env'), 'SECRET=dotfile');
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'TOP-SECRET');
  fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(staticDir, 'link.txt'));
});

afterEach(async () => {
  for (const h of open.splice(0)) {
    h.routes.close();
    await h.server.close();
  }
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('static files and redirects', () => {
  it('redirects / and /dashboard to /dashboard/', async () => {
    const { server } = await start();
    const root = await rawGet(server.port, '/');
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe('/dashboard/');
    const bare = await rawGet(server.port, '/dashboard');
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe('/dashboard/');
  });

  it('serves files with their content types and a strict CSP', async () => {
    const { server } = await start();
    const index = await rawGet(server.port, '/dashboard/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>dash</title>');
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    const cases: [string, string, string][] = [
      ['/dashboard/index.html', 'text/html; charset=utf-8', '<title>dash</title>'],
      ['/dashboard/app.js', 'text/javascript; charset=utf-8', 'console.log(1);'],
      ['/dashboard/app.css?v=2', 'text/css; charset=utf-8', 'body{}'],
      ['/dashboard/logo.svg', 'image/svg+xml', '<svg/>'],
      ['/dashboard/sub/', 'text/html; charset=utf-8', 'sub index'],
    ];
    for (const [p, type, body] of cases) {
      const r = await rawGet(server.port, p);
      expect(r.status, p).toBe(200);
      expect(r.headers['content-type'], p).toBe(type);
      expect(r.body, p).toContain(body);
    }
  });

  it('answers HEAD without a body and If-None-Match with 304', async () => {
    const { server } = await start();
    const head = await rawGet(server.port, '/dashboard/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String('console.log(1);'.length));
    expect(head.body).toBe('');
    const first = await rawGet(server.port, '/dashboard/app.js');
    expect(first.headers.etag).toMatch(/^W\/".+"$/);
    const again = await rawGet(server.port, '/dashboard/app.js', 'GET', {
      'if-none-match': String(first.headers.etag),
    });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it('refuses directory traversal, encoded separators, dotfiles and symlinks out of the folder', async () => {
    const { server } = await start();
    const attempts = [
      '/dashboard/../secret.txt',
      '/dashboard/sub/../../secret.txt',
      '/dashboard/%2e%2e/secret.txt',
      '/dashboard/%2E%2E/secret.txt',
      '/dashboard/..%2fsecret.txt',
      '/dashboard/%2e%2e%2fsecret.txt',
      '/dashboard/sub/..%5c..%5csecret.txt',
      '/dashboard/..\\secret.txt',
      '/dashboard//etc/passwd',
      '/dashboard/%2fetc%2fpasswd',
      '/dashboard/.env',
      '/dashboard/%2eenv',
      '/dashboard/link.txt',
      '/dashboard/app.js%00.html',
      '/dashboard/%E0%A4%A',
      '/dashboard/missing.js',
      '/dashboard/sub',
    ];
    for (const p of attempts) {
      const r = await rawGet(server.port, p);
      expect(r.status, p).toBe(404);
      expect(r.body, p).not.toContain('TOP-SECRET');
      expect(r.body, p).not.toContain('SECRET=');
      expect(r.body, p).not.toContain('root:');
    }
  });

  it('maps URL paths to safe relative paths', () => {
    expect(safeRelativePath('')).toBe('index.html');
    expect(safeRelativePath('a/b.js')).toBe('a/b.js');
    expect(safeRelativePath('a/')).toBe('a/index.html');
    expect(safeRelativePath('my%20file.txt')).toBe('my file.txt');
    for (const bad of [
      '..',
      'a/..',
      '%2e%2e',
      'a%2fb',
      'a%5cb',
      '.git/config',
      'a//b',
      '/abs',
      'x%00',
      'c:%5cwin',
      '%zz',
    ]) {
      expect(safeRelativePath(bad), bad).toBeUndefined();
    }
  });

  it('points at the static folder beside the module', () => {
    const dir = dashboardStaticDir();
    expect(dir.endsWith(path.join('web', 'static') + path.sep)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'index.html'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'app.js'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'app.css'))).toBe(true);
  });
});

describe('event stream', () => {
  it('streams job:submitted and job:statusChanged as SSE, and nothing else', async () => {
    const { server, events } = await start();
    const c = sseClient(server.port);
    await c.waitFor(/event: hello\n/);
    expect(c.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(c.text().toLowerCase()).toContain('content-type: text/event-stream');
    expect(c.text().toLowerCase()).toContain('cache-control: no-cache');
    events.emit('job:submitted', { jobId: 'j-1', jobName: 'hello', jobQueueArn: 'q', at: 1 });
    events.emit('job:attemptStarted', {
      jobId: 'j-1',
      attempt: 1,
      taskId: 't',
      computeEnvironmentArn: 'ce',
      at: 2,
    });
    events.emit('job:statusChanged', change({ statusReason: 'line1\nline2' }));
    await c.waitFor(/event: job:statusChanged\n/);
    const evs = parseSse(c.text());
    expect(evs.map((e) => e.event)).toEqual(['hello', 'job:submitted', 'job:statusChanged']);
    expect(JSON.parse(evs[1]!.data!)).toEqual({ jobId: 'j-1', jobName: 'hello', jobQueueArn: 'q', at: 1 });
    // A newline inside a value stays inside the one data line (JSON-escaped).
    expect(JSON.parse(evs[2]!.data!)).toEqual(change({ statusReason: 'line1\nline2' }));
    const ids = evs.map((e) => Number(e.id!.split('.')[1]));
    expect(ids[2]).toBe(ids[1]! + 1);
    c.socket.destroy();
  });

  it('sends heartbeat comments', async () => {
    const { server } = await start({ heartbeatMs: 50 });
    const c = sseClient(server.port);
    await c.waitFor(/: heartbeat \d+\n\n[\s\S]*: heartbeat \d+\n\n/);
    c.socket.destroy();
  });

  it('unsubscribes from the bus when the last client disconnects', async () => {
    const { server, events, routes } = await start({ heartbeatMs: 50 });
    expect(events.hasListeners('job:statusChanged')).toBe(false);
    const a = sseClient(server.port);
    const b = sseClient(server.port);
    await a.waitFor(/event: hello/);
    await b.waitFor(/event: hello/);
    expect(routes.streamStats().clients).toBe(2);
    expect(events.hasListeners('job:statusChanged')).toBe(true);
    expect(events.hasListeners('job:submitted')).toBe(true);
    a.socket.destroy();
    await expect.poll(() => routes.streamStats().clients).toBe(1);
    expect(events.hasListeners('job:statusChanged')).toBe(true);
    b.socket.destroy();
    await expect.poll(() => routes.streamStats().clients).toBe(0);
    expect(events.hasListeners('job:statusChanged')).toBe(false);
    expect(events.hasListeners('job:submitted')).toBe(false);
  });

  it('tells a reconnecting client (Last-Event-ID) to resync', async () => {
    const { server } = await start();
    const c = sseClient(server.port, { 'Last-Event-ID': 'abc.41' });
    await c.waitFor(/event: resync\ndata: \{"reason":"reconnected"\}/);
    c.socket.destroy();
  });

  it('drops events for a client that does not read, then sends resync once it drains', async () => {
    const { server, events, routes } = await start({ maxBufferedBytes: 64 * 1024, heartbeatMs: 60_000 });
    const c = sseClient(server.port);
    await c.waitFor(/event: hello/);
    c.socket.pause();
    const reason = 'x'.repeat(1000);
    const total = 20_000; // ~21 MB: more than socket buffers hold
    for (let i = 0; i < total; i++)
      events.emit('job:statusChanged', change({ jobId: `j-${i}`, statusReason: reason }));
    const stats = routes.streamStats();
    expect(stats.droppedEvents).toBeGreaterThan(0);
    c.socket.resume();
    await c.waitFor(/event: resync\ndata: \{"reason":"slow-consumer","dropped":\d+\}/, 20_000);
    const evs = parseSse(c.text());
    const delivered = evs.filter((e) => e.event === 'job:statusChanged').length;
    const resync = evs.find((e) => e.event === 'resync')!;
    expect(delivered).toBeLessThan(total);
    expect(delivered + (JSON.parse(resync.data!) as { dropped: number }).dropped).toBe(total);
    // The stream carries on after the resync.
    events.emit('job:statusChanged', change({ jobId: 'after-resync' }));
    await c.waitFor(/"jobId":"after-resync"/);
    c.socket.destroy();
  });

  it('disconnects a client that never drains', async () => {
    const { server, events, routes } = await start({
      maxBufferedBytes: 4 * 1024 * 1024,
      heartbeatMs: 50,
      stallTimeoutMs: 200,
    });
    const c = sseClient(server.port);
    await c.waitFor(/event: hello/);
    c.socket.pause();
    const reason = 'y'.repeat(8000);
    // Keep writing until the kernel buffers are full too and the socket never drains again.
    const deadline = Date.now() + 40_000;
    let i = 0;
    while (routes.streamStats().clients > 0 && Date.now() < deadline) {
      for (let k = 0; k < 5_000; k++)
        events.emit('job:statusChanged', change({ jobId: `s-${i++}`, statusReason: reason }));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(routes.streamStats().clients).toBe(0);
    expect(routes.streamStats().droppedEvents).toBeGreaterThan(0);
    c.socket.destroy();
  });

  it('limits concurrent clients and ends streams on close()', async () => {
    const { server, routes } = await start({ maxClients: 1 });
    const a = sseClient(server.port);
    await a.waitFor(/event: hello/);
    const second = await rawGet(server.port, '/openbatch/v1/events');
    expect(second.status).toBe(503);
    let ended = false;
    a.socket.on('end', () => (ended = true));
    routes.close();
    await expect.poll(() => ended || a.text().endsWith('0\r\n\r\n')).toBe(true);
    expect(routes.streamStats().clients).toBe(0);
    a.socket.destroy();
  });
});
