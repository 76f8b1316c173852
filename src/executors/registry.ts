/**
 * @module executors/registry
 * Builds the executors this server offers, by kind. The engine picks one per compute environment
 * (`ComputeEnvironmentDoc.executor` from the tag `openbatch.io/executor`, else the server default).
 */
import type { LogSink } from '../logs/log-sink.js';
import { createDockerExecutor, type DockerExecutorOptions } from './docker/docker-executor.js';
import type { Executor, ExecutorFactoryContext } from './executor.js';
import { createProcessExecutor, type ProcessExecutorOptions } from './process/process-executor.js';
import { createSlurmExecutor, type SlurmExecutorOptions } from './slurm/slurm-executor.js';

export interface ExecutorsOptions {
  process?: ProcessExecutorOptions;
  /** Register the docker executor (the engine only connects when a job uses it). */
  docker?: DockerExecutorOptions;
  /** Register the Slurm executor. */
  slurm?: SlurmExecutorOptions;
  logs?: LogSink;
}

export async function createExecutors(
  ctx: ExecutorFactoryContext,
  opts: ExecutorsOptions = {},
): Promise<Map<string, Executor>> {
  const map = new Map<string, Executor>();
  map.set('process', createProcessExecutor(ctx, opts.process));
  if (opts.docker)
    map.set(
      'docker',
      createDockerExecutor(ctx, { ...opts.docker, ...(opts.logs ? { logSink: opts.logs } : {}) }),
    );
  if (opts.slurm) map.set('slurm', createSlurmExecutor(ctx, opts.slurm));
  return map;
}
