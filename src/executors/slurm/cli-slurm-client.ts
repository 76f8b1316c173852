/**
 * @module executors/slurm/cli-slurm-client
 * `SlurmClient` over the Slurm CLI: `sbatch --parsable` with the script on stdin, one
 * `squeue -h -r -t all -O …` (fixed-width columns) per poll, `scancel`, `sinfo -N -O …`,
 * `scontrol show config`. Commands run with a minimal environment: sbatch's default
 * `--export=ALL` copies the submitter's environment into the job, and the server's must not leak
 * (the job's own environment is exported inside the script; distributed.md §A.3).
 */
import { spawn } from 'node:child_process';

import type {
  SlurmClient,
  SlurmConfigInfo,
  SlurmJobRecord,
  SlurmNodeRecord,
  SlurmSubmitRequest,
} from './slurm-client.js';
import { baseState, gpuCount } from './slurm-client.js';

export interface CliSlurmClientOptions {
  /** Path of the cluster's slurm.conf (SLURM_CONF); default: the environment's or Slurm's default. */
  slurmConf?: string;
  /** Directory holding sbatch/squeue/scancel/sinfo/scontrol; default: PATH. */
  binDir?: string;
  /** Per-command timeout (default 30 s). */
  timeoutMs?: number;
}

interface Column {
  name: string;
  width: number;
}

/** squeue -O columns; Comment last so a long comment is only cut at the end. */
const JOB_COLUMNS: readonly Column[] = [
  { name: 'JobID', width: 24 },
  { name: 'Partition', width: 24 },
  { name: 'State', width: 20 },
  { name: 'Reason', width: 40 },
  { name: 'exit_code', width: 12 },
  { name: 'BatchHost', width: 48 },
  { name: 'Name', width: 128 },
  { name: 'Comment', width: 400 },
];

const NODE_COLUMNS: readonly Column[] = [
  { name: 'NodeList', width: 64 },
  { name: 'StateLong', width: 24 },
  { name: 'Partition', width: 64 },
  { name: 'CPUsState', width: 32 },
  { name: 'Memory', width: 16 },
  { name: 'AllocMem', width: 16 },
  { name: 'Gres', width: 96 },
  { name: 'GresUsed', width: 160 },
];

const format = (cols: readonly Column[]): string => cols.map((c) => `${c.name}:${c.width}`).join(',');

/** Splits one fixed-width line into trimmed fields. */
export function parseFixedWidth(line: string, cols: readonly Column[]): string[] {
  const out: string[] = [];
  let pos = 0;
  cols.forEach((c, i) => {
    const end = i === cols.length - 1 ? line.length : pos + c.width;
    out.push(line.slice(pos, end).trim());
    pos = end;
  });
  return out;
}

export function parseSqueue(stdout: string): SlurmJobRecord[] {
  const jobs: SlurmJobRecord[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [id = '', partition = '', state = '', reason = '', exit = '', host = '', name = '', comment = ''] =
      parseFixedWidth(line, JOB_COLUMNS);
    const rec: SlurmJobRecord = {
      id,
      partition,
      state: baseState(state),
      reason,
      node: host === '(null)' || host === 'N/A' ? '' : host,
      name,
      comment: comment === '(null)' ? '' : comment,
    };
    if (/^\d+$/.test(exit)) rec.exitStatus = Number(exit);
    jobs.push(rec);
  }
  return jobs;
}

export function parseSinfo(stdout: string): SlurmNodeRecord[] {
  const byName = new Map<string, SlurmNodeRecord>();
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [name = '', state = '', partition = '', cpus = '', mem = '', alloc = '', gres = '', gresUsed = ''] =
      parseFixedWidth(line, NODE_COLUMNS);
    const prev = byName.get(name);
    if (prev) {
      // sinfo -N prints a node once per partition
      if (!prev.partitions.includes(partition)) prev.partitions.push(partition);
      continue;
    }
    const [, idle = '0', , total = '0'] = cpus.split('/');
    byName.set(name, {
      name,
      state: state.toLowerCase(),
      partitions: [partition.replace(/\*$/, '')],
      cpusTotal: Number(total) || 0,
      cpusIdle: Number(idle) || 0,
      memoryMiB: Number(mem) || 0,
      allocMemoryMiB: Number(alloc) || 0,
      gpus: gpuCount(gres),
      gpusUsed: gpuCount(gresUsed),
    });
  }
  return [...byName.values()];
}

export function parseScontrolConfig(stdout: string): SlurmConfigInfo {
  const kv = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^(\w+)\s*=\s*(.*)$/.exec(line.trim());
    if (m) kv.set(m[1] as string, (m[2] as string).trim());
  }
  const num = (k: string): number | undefined => {
    const m = /^(\d+)/.exec(kv.get(k) ?? '');
    return m ? Number(m[1]) : undefined;
  };
  const info: SlurmConfigInfo = {};
  const set = <K extends keyof SlurmConfigInfo>(k: K, v: SlurmConfigInfo[K] | undefined): void => {
    if (v !== undefined) info[k] = v;
  };
  set('maxArraySize', num('MaxArraySize'));
  set('maxJobCount', num('MaxJobCount'));
  set('minJobAgeSeconds', num('MinJobAge'));
  set('killWaitSeconds', num('KillWait'));
  set('slurmdTimeoutSeconds', num('SlurmdTimeout'));
  set('taskPlugin', kv.get('TaskPlugin'));
  return info;
}

export class CliSlurmClient implements SlurmClient {
  readonly transport = 'cli' as const;
  readonly canSignalBatchShell = true;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly opts: CliSlurmClientOptions = {}) {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env.HOME ?? '/',
    };
    for (const k of ['LANG', 'LC_ALL', 'TZ', 'USER', 'LOGNAME'])
      if (process.env[k] !== undefined) env[k] = process.env[k];
    const conf = opts.slurmConf ?? process.env.SLURM_CONF;
    if (conf !== undefined) env.SLURM_CONF = conf;
    this.env = env;
  }

  private bin(name: string): string {
    return this.opts.binDir ? `${this.opts.binDir}/${name}` : name;
  }

  private run(cmd: string, args: readonly string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin(cmd), args, { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const timer = setTimeout(() => child.kill('SIGKILL'), this.opts.timeoutMs ?? 30_000);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`${cmd}: ${e.message}`, { cause: e }));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const stdout = Buffer.concat(out).toString('utf8');
        if (code === 0) resolve(stdout);
        else {
          const msg = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-3).join('; ');
          reject(new Error(`${cmd} failed (${signal ?? `exit ${code}`}): ${msg}`));
        }
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(input ?? '');
    });
  }

  async submit(req: SlurmSubmitRequest): Promise<string> {
    const args = [
      '--parsable',
      '--no-requeue',
      `--job-name=${req.name}`,
      `--comment=${req.comment}`,
      `--partition=${req.partition}`,
      '--ntasks=1',
      `--cpus-per-task=${req.cpusPerTask}`,
      `--output=${req.stdoutPath}`,
      `--error=${req.stdoutPath}`,
      `--chdir=${req.workingDirectory}`,
    ];
    if (req.memoryMiB > 0) args.push(`--mem=${req.memoryMiB}M`);
    if (req.gpus > 0) args.push(`--gres=gpu:${req.gpus}`);
    if (req.timeLimitMinutes !== undefined) args.push(`--time=${req.timeLimitMinutes}`);
    const out = await this.run('sbatch', args, req.script);
    const id = out.trim().split(';')[0] ?? '';
    if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id: ${out.trim().slice(0, 200)}`);
    return id;
  }

  async listJobs(opts: { partition?: string } = {}): Promise<SlurmJobRecord[]> {
    const args = ['-h', '-r', '-t', 'all', '-O', format(JOB_COLUMNS)];
    if (opts.partition !== undefined) args.push('-p', opts.partition);
    return parseSqueue(await this.run('squeue', args));
  }

  async cancel(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.run('scancel', [...ids]);
  }

  async signal(id: string, signal: string, opts: { batchShellOnly?: boolean } = {}): Promise<void> {
    await this.run('scancel', [
      ...(opts.batchShellOnly ? ['--batch'] : ['--full']),
      `--signal=${signal}`,
      id,
    ]);
  }

  async nodes(partition?: string): Promise<SlurmNodeRecord[]> {
    const args = ['-h', '-N', '-O', format(NODE_COLUMNS)];
    if (partition !== undefined) args.push('-p', partition);
    return parseSinfo(await this.run('sinfo', args));
  }

  async config(): Promise<SlurmConfigInfo> {
    return parseScontrolConfig(await this.run('scontrol', ['show', 'config']));
  }

  async ping(partition: string): Promise<void> {
    const out = await this.run('sinfo', ['-h', '-p', partition, '-o', '%P']);
    if (out.trim() === '') throw new Error(`SLURM: partition ${partition} not found`);
  }
}
