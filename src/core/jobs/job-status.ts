/**
 * @module core/jobs/job-status
 * Job statuses (the AWS wire strings) and the one transition table of the job lifecycle.
 * See docs/architecture/job-lifecycle.md for the diagram.
 */
export const JobStatus = {
  /** Accepted by SubmitJob; not yet evaluated by the scheduler. */
  SUBMITTED: 'SUBMITTED',
  /** Waiting on dependencies (or, for an array parent, on its children). */
  PENDING: 'PENDING',
  /** Ready to run; waiting for capacity in one of its queue's compute environments. */
  RUNNABLE: 'RUNNABLE',
  /** Placed; the executor is starting the attempt. */
  STARTING: 'STARTING',
  /** The attempt's payload runs. */
  RUNNING: 'RUNNING',
  /** Exit code 0. Terminal. */
  SUCCEEDED: 'SUCCEEDED',
  /** Failed, cancelled, terminated, timed out, or a dependency failed. Terminal. */
  FAILED: 'FAILED',
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

export const ALL_JOB_STATUSES: readonly JobStatus[] = [
  'SUBMITTED',
  'PENDING',
  'RUNNABLE',
  'STARTING',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
];

export const ALLOWED: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  SUBMITTED: ['PENDING', 'RUNNABLE', 'FAILED', 'SUCCEEDED'],
  PENDING: ['RUNNABLE', 'FAILED', 'SUCCEEDED'],
  RUNNABLE: ['STARTING', 'FAILED'],
  // STARTING → RUNNABLE: the attempt failed before it ran and is retried.
  STARTING: ['RUNNING', 'RUNNABLE', 'FAILED', 'SUCCEEDED'],
  RUNNING: ['SUCCEEDED', 'FAILED', 'RUNNABLE'],
  SUCCEEDED: [],
  FAILED: [],
};

export function isTerminal(s: string): boolean {
  return s === 'SUCCEEDED' || s === 'FAILED';
}

export function isActive(s: string): boolean {
  return !isTerminal(s);
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function isJobStatus(s: unknown): s is JobStatus {
  return typeof s === 'string' && (ALL_JOB_STATUSES as readonly string[]).includes(s);
}
