/**
 * @module bench/lib/client
 * A keep-alive, SigV4-signing JSON client for the AWS Batch rest-json API (`POST /v1/<op>`) and
 * the CloudWatch Logs awsJson1.1 API (`POST /` + `X-Amz-Target`). Loopback only.
 */
import http from 'node:http';

import type { Signer } from './sigv4.js';
import { BenchError, now } from './util.js';

export interface CallResult<T> {
  status: number;
  body: T;
  ms: number;
}

export class ApiClient {
  private readonly agent: http.Agent;
  private readonly host: string;

  constructor(
    private readonly port: number,
    private readonly sign: Signer,
    opts: { maxSockets?: number; region?: string } = {},
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 1 });
    this.host = `127.0.0.1:${port}`;
    this.region = opts.region ?? 'us-east-1';
  }

  private readonly region: string;

  async raw(path: string, service: string, body: string, extraHeaders: Record<string, string>): Promise<CallResult<string>> {
    const t0 = now();
    const headers = await this.sign({ method: 'POST', host: this.host, path, headers: extraHeaders, body, service, region: this.region });
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: this.port, method: 'POST', path, agent: this.agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: now() - t0 }));
          res.on('error', reject);
        },
      );
      req.setTimeout(60_000, () => req.destroy(new BenchError(`request ${path} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** AWS Batch operation; throws on a non-2xx answer. */
  async batch<T = Record<string, unknown>>(op: string, input: unknown): Promise<CallResult<T>> {
    const r = await this.raw(`/v1/${op.toLowerCase()}`, 'batch', JSON.stringify(input), { 'content-type': 'application/json' });
    if (r.status < 200 || r.status > 299) throw new BenchError(`${op} → HTTP ${r.status}: ${r.body.slice(0, 300)}`);
    return { status: r.status, body: (r.body ? JSON.parse(r.body) : {}) as T, ms: r.ms };
  }

  /** CloudWatch Logs operation; throws on a non-2xx answer. */
  async logs<T = Record<string, unknown>>(op: string, input: unknown): Promise<CallResult<T>> {
    const r = await this.raw('/', 'logs', JSON.stringify(input), {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `Logs_20140328.${op}`,
    });
    if (r.status < 200 || r.status > 299) throw new BenchError(`${op} → HTTP ${r.status}: ${r.body.slice(0, 300)}`);
    return { status: r.status, body: JSON.parse(r.body) as T, ms: r.ms };
  }

  /** Plain GET (openbatch extension routes). */
  get<T>(path: string): Promise<T> {
    return new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: this.port, path, agent: this.agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString()) as T);
            } catch (e) {
              reject(e as Error);
            }
          });
        })
        .on('error', reject);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** `n` independent clients (one keep-alive connection each), like n SDK clients. */
export function clients(port: number, sign: Signer, n: number): ApiClient[] {
  return Array.from({ length: n }, () => new ApiClient(port, sign));
}
