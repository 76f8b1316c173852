/**
 * @module api/http-server
 * One port for everything: AWS Batch rest-json (`/v1/<op>`, `/v1/tags/{arn}`), CloudWatch Logs
 * awsJson1.1 (`POST /` + `X-Amz-Target: Logs_20140328.<Op>`), `/health`, and extra routes
 * (openbatch extensions, dashboard). Handlers get decoded JSON and return JSON; errors are mapped
 * by the service's error mapper.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { ValidationError } from '../core/errors.js';
import { newRequestId } from '../lib/ids.js';
import { toBatchWireError, type WireError } from './batch/error-mapper.js';
import { parseSigV4Scope, type RequestContext } from './request-context.js';

export type JsonHandler = (input: Record<string, unknown>, ctx: RequestContext) => unknown;

export interface ServiceRoutes {
  /** Batch operations by their model name, e.g. `SubmitJob`. */
  batch: ReadonlyMap<string, JsonHandler>;
  /** CloudWatch Logs operations by name, e.g. `GetLogEvents`. */
  logs?: {
    handlers: ReadonlyMap<string, JsonHandler>;
    mapError: (err: unknown) => WireError;
  };
  health: () => unknown;
  /** Extra routes: key is `METHOD /path` (exact), value gets the raw request. */
  extra?: ReadonlyMap<string, ExtraHandler>;
  /** Prefix routes such as `GET /dashboard/` for static files. */
  prefixRoutes?: ReadonlyArray<{ method: string; prefix: string; handler: ExtraHandler }>;
  defaultScope: { region: string; accountId: string };
  /** Access-key-id → account id mapping. */
  accounts?: ReadonlyMap<string, string>;
  onServerError?: (err: unknown, op: string) => void;
  maxBodyBytes?: number;
}

export type ExtraHandler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: Buffer,
  url: URL,
) => void | Promise<void>;

const BATCH_OPS_BY_PATH = new Map<string, string>();

export function registerBatchPath(op: string): void {
  BATCH_OPS_BY_PATH.set(`/v1/${op.toLowerCase()}`, op);
}

function send(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
): void {
  const text = body === undefined ? '{}' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': headers['content-type'] ?? 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendError(res: http.ServerResponse, requestId: string, e: WireError, contentType: string): void {
  send(
    res,
    e.status,
    { __type: e.type, message: e.message },
    { 'x-amzn-requestid': requestId, 'x-amzn-errortype': e.type, 'content-type': contentType },
  );
}

export interface RunningHttpServer {
  server: http.Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

export function createHttpServer(routes: ServiceRoutes): http.Server {
  const maxBody = routes.maxBodyBytes ?? 8 * 1024 * 1024;
  for (const op of routes.batch.keys()) registerBatchPath(op);

  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) {
        tooBig = true;
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const requestId = newRequestId();
      if (tooBig) {
        sendError(
          res,
          requestId,
          { status: 413, type: 'ClientException', message: 'Request body too large' },
          'application/json',
        );
        return;
      }
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      void dispatch(routes, req, res, body, requestId).catch((err: unknown) => {
        routes.onServerError?.(err, 'dispatch');
        if (!res.headersSent)
          sendError(
            res,
            requestId,
            { status: 500, type: 'ServerException', message: 'Internal server error' },
            'application/json',
          );
        else res.destroy();
      });
    });
  });
}

function contextFor(
  routes: ServiceRoutes,
  req: http.IncomingMessage,
  requestId: string,
  bodyBytes: number,
): RequestContext {
  const scope = parseSigV4Scope(req.headers.authorization);
  const accountId = (scope && routes.accounts?.get(scope.accessKeyId)) ?? routes.defaultScope.accountId;
  return {
    region: scope?.region ?? routes.defaultScope.region,
    accountId,
    requestId,
    bodyBytes,
    ...(scope ? { accessKeyId: scope.accessKeyId } : {}),
  };
}

function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ValidationError('Could not parse request body into json: malformed JSON');
  }
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ValidationError('Could not parse request body into json: expected a JSON object');
  }
  return parsed as Record<string, unknown>;
}

async function dispatch(
  routes: ServiceRoutes,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: Buffer,
  requestId: string,
): Promise<void> {
  const method = req.method ?? 'GET';
  const rawUrl = req.url ?? '/';
  const qIdx = rawUrl.indexOf('?');
  const rawPath = qIdx >= 0 ? rawUrl.slice(0, qIdx) : rawUrl;
  const search = qIdx >= 0 ? rawUrl.slice(qIdx) : '';

  // CloudWatch Logs: POST / with X-Amz-Target.
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && method === 'POST') {
    const logs = routes.logs;
    const dot = target.indexOf('.');
    const op = dot >= 0 ? target.slice(dot + 1) : target;
    const contentType = 'application/x-amz-json-1.1';
    if (!logs || !target.startsWith('Logs_20140328.')) {
      sendError(
        res,
        requestId,
        { status: 400, type: 'UnknownOperationException', message: `Unknown target ${target}` },
        contentType,
      );
      return;
    }
    const handler = logs.handlers.get(op);
    if (!handler) {
      sendError(
        res,
        requestId,
        { status: 400, type: 'UnknownOperationException', message: `Operation ${op} is not supported` },
        contentType,
      );
      return;
    }
    try {
      const input = parseJsonBody(body);
      const ctx = contextFor(routes, req, requestId, body.length);
      const out = await handler(input, ctx);
      send(res, 200, out ?? {}, { 'x-amzn-requestid': requestId, 'content-type': contentType });
    } catch (err) {
      const wire = logs.mapError(err);
      if (wire.status >= 500) routes.onServerError?.(err, op);
      sendError(res, requestId, wire, contentType);
    }
    return;
  }

  if (method === 'GET' && (rawPath === '/health' || rawPath === '/_health')) {
    send(res, 200, await routes.health(), {});
    return;
  }

  // Batch tag operations: /v1/tags/{resourceArn} (ARN percent-encoded as one segment, or raw).
  if (rawPath.startsWith('/v1/tags/')) {
    let op: string | undefined;
    if (method === 'GET') op = 'ListTagsForResource';
    else if (method === 'POST') op = 'TagResource';
    else if (method === 'DELETE') op = 'UntagResource';
    const arnRaw = rawPath.slice('/v1/tags/'.length);
    await runBatch(routes, req, res, body, requestId, op, (input) => {
      let arn: string;
      try {
        arn = decodeURIComponent(arnRaw);
      } catch {
        throw new ValidationError('resourceArn is not a valid percent-encoded ARN');
      }
      input.resourceArn = arn;
      if (op === 'UntagResource') {
        const params = new URLSearchParams(search);
        input.tagKeys = params.getAll('tagKeys');
      }
    });
    return;
  }

  const op = BATCH_OPS_BY_PATH.get(rawPath.toLowerCase());
  if (op) {
    if (method !== 'POST') {
      sendError(
        res,
        requestId,
        { status: 405, type: 'ClientException', message: `Method ${method} not allowed for ${rawPath}` },
        'application/json',
      );
      return;
    }
    await runBatch(routes, req, res, body, requestId, op);
    return;
  }

  const extra = routes.extra?.get(`${method} ${rawPath}`);
  const url = new URL(rawUrl, 'http://localhost');
  if (extra) {
    await extra(req, res, body, url);
    return;
  }
  for (const r of routes.prefixRoutes ?? []) {
    if (r.method === method && rawPath.startsWith(r.prefix)) {
      await r.handler(req, res, body, url);
      return;
    }
  }
  sendError(
    res,
    requestId,
    { status: 404, type: 'UnknownOperationException', message: `No operation matches ${method} ${rawPath}` },
    'application/json',
  );
}

async function runBatch(
  routes: ServiceRoutes,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: Buffer,
  requestId: string,
  op: string | undefined,
  prepare?: (input: Record<string, unknown>) => void,
): Promise<void> {
  const handler = op ? routes.batch.get(op) : undefined;
  if (!op || !handler) {
    sendError(
      res,
      requestId,
      {
        status: 404,
        type: 'UnknownOperationException',
        message: `No operation matches ${req.method} ${req.url}`,
      },
      'application/json',
    );
    return;
  }
  try {
    const input = req.method === 'GET' || req.method === 'DELETE' ? {} : parseJsonBody(body);
    prepare?.(input);
    const ctx = contextFor(routes, req, requestId, body.length);
    const out = await handler(input, ctx);
    send(res, 200, out ?? {}, { 'x-amzn-requestid': requestId });
  } catch (err) {
    const wire = toBatchWireError(err);
    if (wire.status >= 500) routes.onServerError?.(err, op);
    sendError(res, requestId, wire, 'application/json');
  }
}

export async function listen(server: http.Server, host: string, port: number): Promise<RunningHttpServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.keepAliveTimeout = 65_000;
  const addr = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    server,
    port: addr.port,
    url: `http://${shownHost}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
