/** @module core/jobs/status-reasons  The statusReason / container.reason strings user code pattern-matches. Byte-exact. */
export const StatusReason = {
  ESSENTIAL_CONTAINER_EXITED: 'Essential container in task exited',
  TIMEOUT: 'Job attempt duration exceeded timeout',
  DEPENDENT_JOB_FAILED: 'Dependent Job failed',
  ARRAY_CHILD_FAILED: 'Array Child Job failed',
  QUEUE_DELETED: 'JobQueue deleted',
  OOM: 'OutOfMemoryError: Container killed due to memory usage',
  TASK_FAILED_TO_START: 'Task failed to start',
} as const;

export function hostTerminated(instanceId: string): string {
  return `Host EC2 (instance ${instanceId}) terminated.`;
}

export function timeLimitCancelled(reason: string): string {
  return `Canceled by JobStateTimeLimit action due to reason: ${reason}`;
}
