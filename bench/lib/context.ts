/**
 * @module bench/lib/context
 * What every figure gets: sizes for the mode, the signer, the shared baselines (Slurm cluster,
 * posix_spawn floor) and the row list it appends to.
 */
import type { Row } from './report.js';
import type { SlurmHandle } from './slurm.js';
import type { Signer } from './sigv4.js';

export interface Sizes {
  apiSubmits: number;
  apiDescribes: number;
  apiTimeMs: number;
  motoTimeMs: number;
  execJobs: number;
  slurmJobs: number;
  /** Jobs through openbatch's Slurm executor, and as many plain sbatch jobs before and after. */
  slurmExecJobs: number;
  latencySamples: number;
  slurmLatencySamples: number;
  arraySize: number;
  slurmArrayRun: number;
  scaleJobs: number;
  scaleQueries: number;
  /** Time box per query kind and per scheduler variant. */
  budgetMs: number;
  schedRunnable: number;
  schedRuns: number;
  scaleExecJobs: number;
  logLines: number;
  logStreamEvents: number;
}

export const FULL: Sizes = {
  apiSubmits: 30_000,
  apiDescribes: 20_000,
  apiTimeMs: 20_000,
  motoTimeMs: 15_000,
  execJobs: 5_000,
  slurmJobs: 300,
  slurmExecJobs: 300,
  latencySamples: 100,
  slurmLatencySamples: 20,
  arraySize: 10_000,
  slurmArrayRun: 500,
  scaleJobs: 1_000_000,
  scaleQueries: 500,
  budgetMs: 30_000,
  schedRunnable: 100_000,
  schedRuns: 30,
  scaleExecJobs: 2_000,
  logLines: 5_000_000,
  logStreamEvents: 1_000_000,
};

export const QUICK: Sizes = {
  apiSubmits: 1_500,
  apiDescribes: 1_500,
  apiTimeMs: 3_000,
  motoTimeMs: 2_000,
  execJobs: 200,
  slurmJobs: 10,
  slurmExecJobs: 20,
  latencySamples: 10,
  slurmLatencySamples: 3,
  arraySize: 1_000,
  slurmArrayRun: 10,
  scaleJobs: 5_000,
  scaleQueries: 50,
  budgetMs: 4_000,
  schedRunnable: 10_000,
  schedRuns: 3,
  scaleExecJobs: 50,
  logLines: 200_000,
  logStreamEvents: 50_000,
};

export interface BenchContext {
  quick: boolean;
  sizes: Sizes;
  sign: Signer;
  rows: Row[];
  /** Free-text notes for the report (method details, caveats). */
  notes: string[];
  /** A running Slurm cluster, or why there is none. */
  slurm: SlurmHandle | { skipped: string };
  /** The compiled posix_spawn floor program, or why there is none. */
  floor: string | { skipped: string };
  /** Measured earlier in the run, reused as baselines later. */
  shared: { idleDescribeP99?: number; execRate?: number; floorRate?: number };
  log(msg: string): void;
}

export function slurmOf(ctx: BenchContext): SlurmHandle | undefined {
  return 'skipped' in ctx.slurm ? undefined : ctx.slurm;
}

export function slurmSkip(ctx: BenchContext): string {
  return 'skipped' in ctx.slurm ? ctx.slurm.skipped : '';
}
