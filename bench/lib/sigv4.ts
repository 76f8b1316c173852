/**
 * @module bench/lib/sigv4
 * SigV4 signing for the load generators, as the AWS SDKs do it. Uses `@smithy/signature-v4` (the
 * SDK's own signer, installed with @aws-sdk/client-batch) when it resolves; otherwise a small
 * node:crypto implementation of the same algorithm. `selfCheck()` proves both agree.
 */
import { createHash, createHmac } from 'node:crypto';

export interface SignInput {
  method: string;
  host: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  service: string;
  region: string;
  date?: Date;
}

export type Signer = (req: SignInput) => Promise<Record<string, string>>;

const ACCESS_KEY = 'AKIDBENCHEXAMPLE';
const SECRET_KEY = 'bench/secret/key/EXAMPLEKEY';

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function amzDate(d: Date): string {
  return d.toISOString().replace(/[:-]|\.\d{3}/g, '');
}

const keyCache = new Map<string, Buffer>();
function signingKey(day: string, region: string, service: string): Buffer {
  const k = `${day}/${region}/${service}`;
  let key = keyCache.get(k);
  if (!key) {
    const kDate = createHmac('sha256', 'AWS4' + SECRET_KEY).update(day).digest();
    const kRegion = createHmac('sha256', kDate).update(region).digest();
    const kService = createHmac('sha256', kRegion).update(service).digest();
    key = createHmac('sha256', kService).update('aws4_request').digest();
    keyCache.set(k, key);
  }
  return key;
}

/** The node:crypto implementation (no query string: every request the bench sends is a POST). */
export const nodeCryptoSigner: Signer = async (req) => {
  const date = amzDate(req.date ?? new Date());
  const day = date.slice(0, 8);
  const payloadHash = sha256Hex(req.body);
  const headers: Record<string, string> = { ...req.headers, host: req.host, 'x-amz-date': date, 'x-amz-content-sha256': payloadHash };
  const names = Object.keys(headers)
    .map((h) => h.toLowerCase())
    .sort();
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v.trim().replace(/\s+/g, ' ');
  const canonicalHeaders = names.map((n) => `${n}:${lower[n]}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalPath = req.path
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()))
    .join('/');
  const canonical = [req.method, canonicalPath, '', canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${req.region}/${req.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, sha256Hex(canonical)].join('\n');
  const signature = createHmac('sha256', signingKey(day, req.region, req.service)).update(toSign).digest('hex');
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
};

/** Minimal view of @smithy/signature-v4's class. */
interface SmithySignerCtor {
  new (init: {
    credentials: { accessKeyId: string; secretAccessKey: string };
    region: string;
    service: string;
    sha256: new (secret?: unknown) => { update(d: unknown): void; digest(): Promise<Uint8Array> };
    uriEscapePath?: boolean;
  }): {
    sign(
      req: { method: string; protocol: string; hostname: string; port?: number; path: string; headers: Record<string, string>; body: string; query: Record<string, string> },
      opts?: { signingDate?: Date },
    ): Promise<{ headers: Record<string, string> }>;
  };
}

class NodeSha256 {
  private readonly h;
  constructor(secret?: unknown) {
    this.h = secret ? createHmac('sha256', secret as Buffer) : createHash('sha256');
  }
  update(d: unknown): void {
    this.h.update(typeof d === 'string' ? d : Buffer.from(d as Uint8Array));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

/** The SDK's signer when it is installed, else the node:crypto one. */
export async function loadSigner(): Promise<{ name: string; sign: Signer }> {
  let mod: { SignatureV4?: SmithySignerCtor };
  try {
    mod = (await import('@smithy/signature-v4' as string)) as { SignatureV4?: SmithySignerCtor };
  } catch {
    return { name: 'node:crypto SigV4 (fallback: @smithy/signature-v4 not found)', sign: nodeCryptoSigner };
  }
  const Ctor = mod.SignatureV4;
  if (!Ctor) return { name: 'node:crypto SigV4 (fallback)', sign: nodeCryptoSigner };
  const signers = new Map<string, InstanceType<SmithySignerCtor>>();
  const sign: Signer = async (req) => {
    const k = `${req.region}/${req.service}`;
    let s = signers.get(k);
    if (!s) {
      s = new Ctor({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, region: req.region, service: req.service, sha256: NodeSha256 });
      signers.set(k, s);
    }
    const [hostname, port] = req.host.split(':');
    const out = await s.sign(
      {
        method: req.method,
        protocol: 'http:',
        hostname: hostname ?? req.host,
        ...(port ? { port: Number(port) } : {}),
        path: req.path,
        headers: { ...req.headers, host: req.host, 'x-amz-content-sha256': sha256Hex(req.body) },
        body: req.body,
        query: {},
      },
      ...(req.date ? [{ signingDate: req.date }] : []),
    );
    return out.headers;
  };
  return { name: '@smithy/signature-v4 (the AWS SDK v3 signer)', sign };
}

/** Both implementations must produce the same Authorization header for the same request. */
export async function selfCheck(sign: Signer): Promise<boolean> {
  const req: SignInput = {
    method: 'POST',
    host: '127.0.0.1:4566',
    path: '/v1/submitjob',
    headers: { 'content-type': 'application/json' },
    body: '{"a":1}',
    service: 'batch',
    region: 'us-east-1',
    date: new Date('2026-01-02T03:04:05Z'),
  };
  const a = await sign(req);
  const b = await nodeCryptoSigner(req);
  return a.authorization === b.authorization;
}

/** Mean milliseconds per signature (500 signatures after a warm-up). */
export async function signCost(sign: Signer): Promise<number> {
  const req: SignInput = { method: 'POST', host: '127.0.0.1:4566', path: '/v1/submitjob', headers: { 'content-type': 'application/json' }, body: '{"jobName":"x","jobQueue":"q"}', service: 'batch', region: 'us-east-1' };
  for (let i = 0; i < 50; i++) await sign(req);
  const t0 = performance.now();
  for (let i = 0; i < 500; i++) await sign(req);
  return (performance.now() - t0) / 500;
}
