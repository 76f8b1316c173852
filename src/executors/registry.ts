/**
 * @module executors/registry
 * Builds the executors this server offers, by kind. The engine picks one per compute environment
 * (`ComputeEnvironmentDoc.executor`, else the server default).
 */
import type { Executor, ExecutorFactoryContext } from './executor.js';
import { createProcessExecutor } from './process/process-executor.js';

export async function createExecutors(ctx: ExecutorFactoryContext): Promise<Map<string, Executor>> {
  const map = new Map<string, Executor>();
  map.set('process', createProcessExecutor(ctx));
  return map;
}
