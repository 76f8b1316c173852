/**
 * @module cluster/proxy
 * Raw HTTP forwarding from a non-leader node to the leader: same method, path, headers and body
 * (SigV4 signatures stay valid because the signed host/path/body are unchanged on the wire... the
 * server does not verify signatures anyway). One hop only: a request that already carries
 * `x-openbatch-forwarded` is never forwarded again, so a stale leader view cannot loop.
 */
import http from 'node:http';

export const FORWARDED_HEADER = 'x-openbatch-forwarded';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** Paths whose requests must reach the leader's engine. */
export function isLeaderPath(rawUrl: string): boolean {
  return rawUrl.startsWith('/v1/') || rawUrl.startsWith('/openbatch/v1/');
}

export function sendUnavailable(res: http.ServerResponse, message: string): void {
  const body = JSON.stringify({ __type: 'ServerException', message });
  res.writeHead(503, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-errortype': 'ServerException',
    'retry-after': '1',
  });
  res.end(body);
}

/** Streams `req` to `target` (http://host:port) and the answer back; 503 ServerException if the leader can't be reached. */
export function forward(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: string,
  fromNode: string,
): void {
  const url = new URL(target);
  const headers: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
  headers[FORWARDED_HEADER] = fromNode;
  const out = http.request(
    {
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      method: req.method,
      path: req.url,
      headers,
      agent,
      timeout: 60_000,
    },
    (up) => {
      const h: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) h[k] = v;
      res.writeHead(up.statusCode ?? 502, h);
      up.pipe(res);
      up.on('error', () => res.destroy());
    },
  );
  out.on('timeout', () => out.destroy(new Error('leader timed out')));
  out.on('error', (err) => {
    if (!res.headersSent)
      sendUnavailable(res, `the scheduler leader at ${target} is unreachable (${err.message}); retry`);
    else res.destroy();
  });
  req.pipe(out);
}
