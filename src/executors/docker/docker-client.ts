/**
 * @module executors/docker/docker-client
 * A small typed client for the part of the Docker Engine API the container executor uses (API v1.41,
 * served by Docker Engine and by `podman system service`). It speaks HTTP over a unix socket or TCP,
 * following `DOCKER_HOST` (`unix:///path`, `tcp://host:port`, `http://`/`https://`; TLS from
 * `DOCKER_TLS_VERIFY` + `DOCKER_CERT_PATH` as the docker CLI does).
 *
 * Why not dockerode: it would bring grpc-js, protobufjs, ssh2 (with an optional native build) and tar-fs for
 * BuildKit/SSH features we never use, its types (@types/dockerode 4.x) trail the library (5.x), and we need
 * exact control over long-lived requests (logs follow, wait) and their sockets. The endpoints used here are a
 * dozen plain JSON calls plus the 8-byte-header log stream (see log-frames.ts).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';

const API_PREFIX = '/v1.41';

export interface DockerEndpoint {
  /** Normalised DOCKER_HOST, for messages and handles. */
  url: string;
  socketPath?: string;
  host?: string;
  port?: number;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
  /** Whether the engine runs on this machine (unix socket or loopback TCP). */
  local: boolean;
}

/** Parses DOCKER_HOST semantics. Default: unix:///var/run/docker.sock. */
export function parseDockerHost(
  value: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): DockerEndpoint {
  const raw = value && value.trim() !== '' ? value.trim() : 'unix:///var/run/docker.sock';
  if (raw.startsWith('unix://')) {
    const socketPath = raw.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new Error(`DOCKER_HOST ${raw}: unix socket path must be absolute`);
    return { url: raw, socketPath, local: true };
  }
  if (raw.startsWith('/')) return { url: `unix://${raw}`, socketPath: raw, local: true };
  const m = /^(tcp|http|https):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(raw);
  if (!m) throw new Error(`DOCKER_HOST ${raw}: expected unix:///path, tcp://host:port, http(s)://host:port`);
  const scheme = m[1] ?? 'tcp';
  const host = (m[2] ?? '').replace(/^\[|\]$/g, '');
  const tlsWanted =
    scheme === 'https' || (env['DOCKER_TLS_VERIFY'] !== undefined && env['DOCKER_TLS_VERIFY'] !== '');
  const port = m[3] !== undefined ? Number(m[3]) : tlsWanted ? 2376 : 2375;
  const local = host === 'localhost' || host === '::1' || /^127\./.test(host);
  const ep: DockerEndpoint = { url: raw, host, port, local };
  if (tlsWanted) {
    const dir = env['DOCKER_CERT_PATH'];
    const read = (f: string): Buffer | undefined => {
      if (!dir) return undefined;
      try {
        return readFileSync(join(dir, f));
      } catch {
        return undefined;
      }
    };
    const tls: NonNullable<DockerEndpoint['tls']> = { rejectUnauthorized: env['DOCKER_TLS_VERIFY'] !== '0' };
    const ca = read('ca.pem');
    const cert = read('cert.pem');
    const key = read('key.pem');
    if (ca) tls.ca = ca;
    if (cert) tls.cert = cert;
    if (key) tls.key = key;
    ep.tls = tls;
  }
  return ep;
}

/** An error answer from the engine (or a transport failure, statusCode 0). */
export class DockerApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DockerApiError';
  }
}

export interface EngineInfo {
  /** `podman` when the API is served by Podman, else `docker`. */
  kind: 'docker' | 'podman';
  version: string;
  apiVersion: string;
}

export interface ContainerState {
  Status: string;
  Running: boolean;
  OOMKilled: boolean;
  ExitCode: number;
  Error?: string;
  StartedAt?: string;
  FinishedAt?: string;
  Pid?: number;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  State: ContainerState;
  Config: { Labels?: Record<string, string> | null; Image?: string };
  HostConfig: Record<string, unknown>;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string> | null;
}

export type ContainerCreateBody = Record<string, unknown> & {
  Image: string;
  HostConfig: Record<string, unknown>;
};

interface RequestOptions {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Abort after this many ms of inactivity (default 60 s; 0 = never, for wait/logs follow). */
  timeoutMs?: number;
}

function queryString(q: RequestOptions['query']): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    parts.push(
      `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'boolean' ? (v ? '1' : '0') : String(v))}`,
    );
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

function errorMessage(text: string, status: number): string {
  try {
    const j = JSON.parse(text) as { message?: unknown };
    if (typeof j.message === 'string' && j.message !== '') return j.message;
  } catch {
    /* not JSON */
  }
  return text.trim() || `HTTP ${status}`;
}

export class DockerClient {
  readonly endpoint: DockerEndpoint;
  private readonly agent: http.Agent;

  constructor(dockerHost: string | undefined) {
    this.endpoint = parseDockerHost(dockerHost);
    const agentOpts: http.AgentOptions = { keepAlive: true, maxSockets: Infinity, maxFreeSockets: 16 };
    this.agent = this.endpoint.tls
      ? new https.Agent({ ...agentOpts, ...this.endpoint.tls })
      : new http.Agent(agentOpts);
  }

  /** Sends a request and resolves with the response, whatever its status. */
  raw(opts: RequestOptions): Promise<{ res: http.IncomingMessage; req: http.ClientRequest }> {
    const path = `${API_PREFIX}${opts.path}${queryString(opts.query)}`;
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: http.OutgoingHttpHeaders = { Host: 'docker' };
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = payload.length;
    }
    const base: http.RequestOptions = { method: opts.method, path, headers, agent: this.agent };
    if (this.endpoint.socketPath !== undefined) base.socketPath = this.endpoint.socketPath;
    else {
      base.host = this.endpoint.host ?? 'localhost';
      base.port = this.endpoint.port ?? 2375;
    }
    return new Promise((resolve, reject) => {
      const req = (this.endpoint.tls ? https : http).request(base, (res) => resolve({ res, req }));
      const timeout = opts.timeoutMs ?? 60_000;
      if (timeout > 0) {
        req.setTimeout(timeout, () => req.destroy(new Error(`no answer within ${timeout} ms`)));
      }
      req.on('error', (err) =>
        reject(new DockerApiError(0, `${this.endpoint.url}: ${err.message}`, path, { cause: err })),
      );
      req.end(payload);
    });
  }

  /** JSON request; non-2xx answers throw DockerApiError with the engine's message. */
  async json<T>(opts: RequestOptions): Promise<T> {
    const { res } = await this.raw(opts);
    const text = await readAll(res);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300)
      throw new DockerApiError(status, errorMessage(text, status), opts.path);
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new DockerApiError(
        status,
        `unparseable answer from the engine: ${text.slice(0, 200)}`,
        opts.path,
        { cause: err },
      );
    }
  }

  async engineInfo(): Promise<EngineInfo> {
    const v = await this.json<{ Version?: string; ApiVersion?: string; Components?: { Name?: string }[] }>({
      method: 'GET',
      path: '/version',
      timeoutMs: 5000,
    });
    const podman = (v.Components ?? []).some((c) => /podman/i.test(c.Name ?? ''));
    return {
      kind: podman ? 'podman' : 'docker',
      version: v.Version ?? 'unknown',
      apiVersion: v.ApiVersion ?? 'unknown',
    };
  }

  /** Whether the image is present locally. */
  async imageExists(image: string): Promise<boolean> {
    try {
      await this.json({ method: 'GET', path: `/images/${encodeURIComponent(image)}/json` });
      return true;
    } catch (err) {
      if (err instanceof DockerApiError && err.statusCode === 404) return false;
      throw err;
    }
  }

  /**
   * Pulls an image. The engine answers 200 and then streams JSON progress objects; a failure can arrive
   * either as an HTTP error or as an `error` object in that stream. Resolves when the pull succeeded.
   */
  async pullImage(image: string): Promise<void> {
    const { name, tag, digest } = splitImageReference(image);
    const query: Record<string, string> = { fromImage: name };
    if (digest) query['fromImage'] = `${name}@${digest}`;
    else query['tag'] = tag;
    const { res } = await this.raw({ method: 'POST', path: '/images/create', query, timeoutMs: 0 });
    const text = await readAll(res);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300)
      throw new DockerApiError(status, errorMessage(text, status), '/images/create');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let obj: { error?: unknown; errorDetail?: { message?: unknown } };
      try {
        obj = JSON.parse(line) as typeof obj;
      } catch {
        continue;
      }
      const msg = typeof obj.errorDetail?.message === 'string' ? obj.errorDetail.message : obj.error;
      if (typeof msg === 'string' && msg !== '') throw new DockerApiError(status, msg, '/images/create');
    }
  }

  async createContainer(name: string, body: ContainerCreateBody): Promise<string> {
    const r = await this.json<{ Id: string }>({
      method: 'POST',
      path: '/containers/create',
      query: { name },
      body,
    });
    return r.Id;
  }

  async startContainer(id: string): Promise<void> {
    await this.json({ method: 'POST', path: `/containers/${encodeURIComponent(id)}/start` });
  }

  /** Long-polls until the container is no longer running; resolves with its exit code. */
  async waitContainer(id: string): Promise<number> {
    const r = await this.json<{ StatusCode?: number }>({
      method: 'POST',
      path: `/containers/${encodeURIComponent(id)}/wait`,
      query: { condition: 'not-running' },
      timeoutMs: 0,
    });
    return r.StatusCode ?? -1;
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.json<ContainerInspect>({ method: 'GET', path: `/containers/${encodeURIComponent(id)}/json` });
  }

  async killContainer(id: string, signal: string): Promise<void> {
    await this.json({
      method: 'POST',
      path: `/containers/${encodeURIComponent(id)}/kill`,
      query: { signal },
    });
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.json({
        method: 'DELETE',
        path: `/containers/${encodeURIComponent(id)}`,
        query: { force: true, v: true },
      });
    } catch (err) {
      if (err instanceof DockerApiError && err.statusCode === 404) return;
      throw err;
    }
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await this.json({
        method: 'DELETE',
        path: `/volumes/${encodeURIComponent(name)}`,
        query: { force: true },
      });
    } catch (err) {
      if (err instanceof DockerApiError && err.statusCode === 404) return;
      throw err;
    }
  }

  /** All containers (running or not) carrying every given label (`key` or `key=value`). */
  async listContainers(labels: string[]): Promise<ContainerSummary[]> {
    const r = await this.json<ContainerSummary[] | null>({
      method: 'GET',
      path: '/containers/json',
      query: { all: true, filters: JSON.stringify({ label: labels }) },
    });
    return r ?? [];
  }

  /**
   * Opens the multiplexed log stream (stdout=1, stderr=1, timestamps=1). With `follow` it stays open until
   * the container stops. `since` is in epoch seconds. The caller reads and eventually destroys `res`.
   */
  async logs(
    id: string,
    opts: { follow: boolean; since?: number },
  ): Promise<{ res: http.IncomingMessage; req: http.ClientRequest }> {
    const r = await this.raw({
      method: 'GET',
      path: `/containers/${encodeURIComponent(id)}/logs`,
      query: { stdout: true, stderr: true, timestamps: true, follow: opts.follow, since: opts.since },
      timeoutMs: 0,
    });
    const status = r.res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const text = await readAll(r.res);
      throw new DockerApiError(status, errorMessage(text, status), `/containers/${id}/logs`);
    }
    return r;
  }

  close(): void {
    this.agent.destroy();
  }
}

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('response aborted')));
  });
}

/** `registry:5000/ns/name:tag@sha256:…` → name, tag (default `latest`), digest. */
export function splitImageReference(image: string): { name: string; tag: string; digest?: string } {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  let tag = 'latest';
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return digest !== undefined ? { name: rest, tag, digest } : { name: rest, tag };
}
