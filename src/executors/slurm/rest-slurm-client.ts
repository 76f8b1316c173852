/**
 * @module executors/slurm/rest-slurm-client
 * `SlurmClient` over slurmrestd (Slurm 22.05: openapi v0.0.36–v0.0.38), on a unix socket with
 * `rest_auth/local` or over HTTP with `rest_auth/jwt`. Wire shapes differ per plugin version, so
 * each version has a mapper; the version is configured or detected with `GET …/ping`.
 *
 * Measured quirks (distributed.md §A.2 and this adapter's tests):
 *  - `environment` is mandatory (an object in v0.0.38);
 *  - `requeue: false` is ignored by v0.0.38 (jobs keep `Requeue=1`): a requeued attempt is
 *    reported with state `REQUEUED` (from `restart_cnt`), and the shim refuses to run twice;
 *  - `DELETE /job/{id}?signal=` signals every process of the job, not only the batch shell;
 *  - `GET /jobs?update_time=<t>` answers 304 when nothing changed: used as a cache validator.
 */
import http from 'node:http';

import type {
  SlurmClient,
  SlurmConfigInfo,
  SlurmJobRecord,
  SlurmNodeRecord,
  SlurmSubmitRequest,
} from './slurm-client.js';
import { baseState, gpuCount } from './slurm-client.js';

export interface RestSlurmClientOptions {
  /** `unix:/path/to/rest.sock` (rest_auth/local) or `http://host:6820` (rest_auth/jwt). */
  url: string;
  /** Plugin version (`v0.0.38`…); default: detected. */
  apiVersion?: string;
  /** JWT auth: user name and token (`scontrol token`), sent as X-SLURM-USER-NAME / X-SLURM-USER-TOKEN. */
  user?: string;
  token?: string;
  timeoutMs?: number;
  /** PATH given to jobs through the mandatory `environment` field. */
  jobPath?: string;
}

interface RestMapper {
  submitBody(req: SlurmSubmitRequest, jobPath: string): unknown;
  job(j: Record<string, unknown>): SlurmJobRecord;
  node(n: Record<string, unknown>): SlurmNodeRecord;
}

const str = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v) || 0);

/** v0.0.36–v0.0.38 share these shapes. */
const MAPPER_0038: RestMapper = {
  submitBody(req, jobPath) {
    const job: Record<string, unknown> = {
      name: req.name,
      comment: req.comment,
      partition: req.partition,
      tasks: 1,
      cpus_per_task: req.cpusPerTask,
      requeue: false,
      environment: { PATH: jobPath },
      current_working_directory: req.workingDirectory,
      standard_output: req.stdoutPath,
      standard_error: req.stdoutPath,
    };
    if (req.memoryMiB > 0) job.memory_per_node = req.memoryMiB;
    if (req.gpus > 0) job.gres = `gpu:${req.gpus}`;
    if (req.timeLimitMinutes !== undefined) job.time_limit = req.timeLimitMinutes;
    return { script: req.script, job };
  },
  job(j) {
    let state = baseState(str(j.job_state));
    if (
      num(j.restart_cnt) > 0 &&
      !['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY'].includes(state)
    )
      state = 'REQUEUED';
    const rec: SlurmJobRecord = {
      id: str(j.job_id),
      name: str(j.name),
      comment: str(j.comment),
      partition: str(j.partition),
      state,
      reason: str(j.state_reason),
      node: str(j.batch_host) || str(j.nodes),
    };
    if (typeof j.exit_code === 'number') rec.exitStatus = j.exit_code;
    return rec;
  },
  node(n) {
    const flags = Array.isArray(n.state_flags) ? (n.state_flags as unknown[]).map(str) : [];
    return {
      name: str(n.name),
      state: [str(n.state), ...flags].join('+').toLowerCase(),
      partitions: Array.isArray(n.partitions) ? (n.partitions as unknown[]).map(str) : [],
      cpusTotal: num(n.cpus),
      cpusIdle: num(n.idle_cpus),
      memoryMiB: num(n.real_memory),
      allocMemoryMiB: num(n.alloc_memory),
      gpus: gpuCount(str(n.gres)),
      gpusUsed: gpuCount(str(n.gres_used)),
    };
  },
};

export const REST_MAPPERS: Readonly<Record<string, RestMapper>> = {
  'v0.0.38': MAPPER_0038,
  'v0.0.37': MAPPER_0038,
  'v0.0.36': MAPPER_0038,
};

interface Response {
  status: number;
  body: Record<string, unknown>;
}

export class RestSlurmClient implements SlurmClient {
  readonly transport = 'rest' as const;
  readonly canSignalBatchShell = false;
  private version: string | undefined;
  private readonly agent: http.Agent;
  private jobsCache: { at: number; records: SlurmJobRecord[] } | undefined;

  constructor(private readonly opts: RestSlurmClientOptions) {
    this.version = opts.apiVersion;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  }

  close(): void {
    this.agent.destroy();
  }

  private request(method: string, path: string, body?: unknown): Promise<Response> {
    const u = this.opts.url;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.opts.user !== undefined) headers['X-SLURM-USER-NAME'] = this.opts.user;
    if (this.opts.token !== undefined) headers['X-SLURM-USER-TOKEN'] = this.opts.token;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    const target: http.RequestOptions = u.startsWith('unix:')
      ? { socketPath: u.slice(5), path, host: 'localhost' }
      : (() => {
          const url = new URL(u);
          return {
            hostname: url.hostname,
            port: url.port || 80,
            path: url.pathname.replace(/\/$/, '') + path,
          };
        })();
    return new Promise((resolve, reject) => {
      const req = http.request(
        { ...target, method, headers, agent: this.agent, timeout: this.opts.timeoutMs ?? 30_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: Record<string, unknown> = {};
            if (text.trim() !== '') {
              try {
                parsed = JSON.parse(text) as Record<string, unknown>;
              } catch {
                parsed = { errors: [{ error: text.slice(0, 200) }] };
              }
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`slurmrestd ${method} ${path}: timed out`)));
      req.on('error', (e) => reject(new Error(`slurmrestd ${method} ${path}: ${e.message}`, { cause: e })));
      req.end(payload);
    });
  }

  private static errors(r: Response): string {
    const errs = Array.isArray(r.body.errors) ? (r.body.errors as Record<string, unknown>[]) : [];
    return errs
      .map((e) => str(e.error) || str(e.description))
      .filter((s) => s !== '')
      .join('; ');
  }

  private async call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const v = await this.apiVersion();
    const r = await this.request(method, `/slurm/${v}${path}`, body);
    if (r.status >= 400)
      throw new Error(`SLURM: slurmrestd ${r.status}: ${RestSlurmClient.errors(r) || 'request failed'}`);
    return r.body;
  }

  private mapper(): RestMapper {
    const m = this.version ? REST_MAPPERS[this.version] : undefined;
    if (!m) throw new Error(`SLURM: unsupported slurmrestd API version ${this.version ?? '(unknown)'}`);
    return m;
  }

  /** The configured version, or the newest one this server answers `ping` for. */
  async apiVersion(): Promise<string> {
    if (this.version) return this.version;
    const problems: string[] = [];
    for (const v of Object.keys(REST_MAPPERS).sort().reverse()) {
      const r = await this.request('GET', `/slurm/${v}/ping`);
      if (r.status === 200) {
        this.version = v;
        return v;
      }
      problems.push(`${v}: ${r.status} ${RestSlurmClient.errors(r)}`);
    }
    throw new Error(`SLURM: no supported slurmrestd API version (${problems.join(', ')})`);
  }

  async submit(req: SlurmSubmitRequest): Promise<string> {
    await this.apiVersion();
    const body = await this.call(
      'POST',
      '/job/submit',
      this.mapper().submitBody(req, this.opts.jobPath ?? '/usr/local/bin:/usr/bin:/bin'),
    );
    const id = body.job_id;
    if (typeof id !== 'number' && typeof id !== 'string') {
      throw new Error(
        `SLURM: submit failed: ${RestSlurmClient.errors({ status: 200, body }) || 'no job id'}`,
      );
    }
    this.jobsCache = undefined;
    return String(id);
  }

  async listJobs(opts: { partition?: string } = {}): Promise<SlurmJobRecord[]> {
    const v = await this.apiVersion();
    const cache = this.jobsCache;
    const now = Math.floor(Date.now() / 1000);
    // update_time is a validator: 304 = nothing changed since then (a full list otherwise)
    const r = await this.request('GET', `/slurm/${v}/jobs${cache ? `?update_time=${cache.at}` : ''}`);
    let records: SlurmJobRecord[];
    if (r.status === 304 && cache) records = cache.records;
    else if (r.status >= 400) throw new Error(`SLURM: slurmrestd ${r.status}: ${RestSlurmClient.errors(r)}`);
    else {
      const jobs = Array.isArray(r.body.jobs) ? (r.body.jobs as Record<string, unknown>[]) : [];
      records = jobs.map((j) => this.mapper().job(j));
      // one second of overlap: Slurm's update times have second resolution
      this.jobsCache = { at: now - 1, records };
    }
    return opts.partition === undefined ? records : records.filter((j) => j.partition === opts.partition);
  }

  async cancel(ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.call('DELETE', `/job/${encodeURIComponent(id)}`);
    this.jobsCache = undefined;
  }

  async signal(id: string, signal: string, opts: { batchShellOnly?: boolean } = {}): Promise<void> {
    if (opts.batchShellOnly) throw new Error('slurmrestd cannot signal only the batch shell');
    await this.call(
      'DELETE',
      `/job/${encodeURIComponent(id)}?signal=${encodeURIComponent(signal.replace(/^SIG/, ''))}`,
    );
  }

  async nodes(partition?: string): Promise<SlurmNodeRecord[]> {
    const body = await this.call('GET', '/nodes');
    const nodes = (Array.isArray(body.nodes) ? (body.nodes as Record<string, unknown>[]) : []).map((n) =>
      this.mapper().node(n),
    );
    return partition === undefined ? nodes : nodes.filter((n) => n.partitions.includes(partition));
  }

  async config(): Promise<SlurmConfigInfo> {
    // slurmrestd v0.0.3x exposes no slurm.conf limits; the executor falls back to Slurm's defaults.
    return {};
  }

  async ping(partition: string): Promise<void> {
    const body = await this.call('GET', `/partition/${encodeURIComponent(partition)}`);
    const parts = Array.isArray(body.partitions) ? body.partitions : [];
    if (parts.length === 0) throw new Error(`SLURM: partition ${partition} not found`);
  }
}
