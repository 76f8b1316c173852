/**
 * @module executors/slurm/slurm-client
 * The port through which the Slurm executor talks to a cluster. Two adapters: `CliSlurmClient`
 * (sbatch/squeue/scancel/sinfo/scontrol) and `RestSlurmClient` (slurmrestd). The executor picks
 * one per compute environment. Every call is batched by the caller: `listJobs` is one squeue / one
 * `GET /jobs` for all attempts of a partition, never one call per job.
 */

export interface SlurmSubmitRequest {
  /** Complete batch script (`#!/bin/bash` …); the job environment is exported inside it. */
  script: string;
  name: string;
  comment: string;
  partition: string;
  cpusPerTask: number;
  /** `--mem=<n>M`; 0 = the partition's default (DefMemPerCPU). */
  memoryMiB: number;
  gpus: number;
  /** `--time` backstop in minutes; undefined = the partition's default. */
  timeLimitMinutes?: number;
  /** Slurm's own stdout/stderr of the batch step (the shim's diagnostics, not the payload's output). */
  stdoutPath: string;
  workingDirectory: string;
}

/** One job as Slurm reports it. States are Slurm's base states (`RUNNING`, `NODE_FAIL`…). */
export interface SlurmJobRecord {
  id: string;
  name: string;
  comment: string;
  partition: string;
  state: string;
  reason: string;
  /** Raw wait(2) status of the batch script (`exit_code` of squeue -O / REST), when known. */
  exitStatus?: number;
  /** Batch host or node list; empty while pending. */
  node: string;
}

export interface SlurmNodeRecord {
  name: string;
  /** Lower-case state words, e.g. `idle`, `mixed`, `down*`, `drained`. */
  state: string;
  partitions: string[];
  cpusTotal: number;
  cpusIdle: number;
  memoryMiB: number;
  allocMemoryMiB: number;
  gpus: number;
  gpusUsed: number;
}

/** Cluster limits openbatch must respect (`scontrol show config`); `undefined` when not readable. */
export interface SlurmConfigInfo {
  maxArraySize?: number;
  maxJobCount?: number;
  minJobAgeSeconds?: number;
  killWaitSeconds?: number;
  slurmdTimeoutSeconds?: number;
  taskPlugin?: string;
}

export interface SlurmClient {
  readonly transport: 'cli' | 'rest';
  /**
   * Whether `signal(…, { batchShellOnly: true })` reaches only the batch shell (`scancel --batch`).
   * slurmrestd's `DELETE /job/{id}?signal=` signals every process of the job, so the executor
   * uses the shim's control file instead.
   */
  readonly canSignalBatchShell: boolean;
  /** Submit one job; resolves to its Slurm job id. */
  submit(req: SlurmSubmitRequest): Promise<string>;
  /** All jobs (finished ones too, while Slurm keeps them), optionally of one partition. */
  listJobs(opts?: { partition?: string }): Promise<SlurmJobRecord[]>;
  /** Cancel (TERM, KillWait, KILL by Slurm). */
  cancel(ids: readonly string[]): Promise<void>;
  /** Send a signal without cancelling; `batchShellOnly` needs `canSignalBatchShell`. */
  signal(id: string, signal: string, opts?: { batchShellOnly?: boolean }): Promise<void>;
  nodes(partition?: string): Promise<SlurmNodeRecord[]>;
  config(): Promise<SlurmConfigInfo>;
  /** Fails with a readable message when the cluster is unreachable or the partition is missing. */
  ping(partition: string): Promise<void>;
}

/** Slurm states after which the job will not run again. */
export const TERMINAL_STATES: ReadonlySet<string> = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'OUT_OF_MEMORY',
  'REVOKED',
  'SPECIAL_EXIT',
]);

/** Base state from what squeue/REST print (`CANCELLED by 0`, `COMPLETING`, flags…). */
export function baseState(state: string): string {
  return (state.trim().split(/[\s+]/)[0] ?? '').toUpperCase();
}

/** GPU count from a gres string such as `gpu:2`, `gpu:a100:4(S:0-1)`, `gpu:0(IDX:N/A)`. */
export function gpuCount(gres: string): number {
  let n = 0;
  for (const part of gres.split(/,(?![^(]*\))/)) {
    const m = /^gpu(?::[^:(]+)?:(\d+)/.exec(part.trim());
    if (m) n += Number(m[1]);
  }
  return n;
}
