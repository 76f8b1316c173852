/**
 * @module core/job-queues/job-queue-rules
 * AWS's rules for job queues (aws-batch-semantics §3.3): 1–3 compute environments, no EC2/Fargate
 * mixing, jobStateTimeLimitActions bounds, and the scheduling-policy rules.
 */
import { ValidationError } from '../errors.js';
import type { JobStateTimeLimitAction } from './job-queue.js';

export const MAX_JOB_QUEUES = 50;
export const MAX_CES_PER_QUEUE = 3;

export function validateJobStateTimeLimitActions(
  v: unknown,
  queueType: string | undefined,
): JobStateTimeLimitAction[] {
  if (v === undefined || v === null) return [];
  const list = v as Record<string, unknown>[];
  const out: JobStateTimeLimitAction[] = [];
  for (const a of list) {
    const reason = a.reason;
    if (typeof reason !== 'string' || reason.length === 0) {
      throw new ValidationError(
        'jobStateTimeLimitActions.reason must be specified',
        'jobStateTimeLimitActions.reason',
      );
    }
    if (a.state !== 'RUNNABLE')
      throw new ValidationError(
        'jobStateTimeLimitActions.state must be RUNNABLE',
        'jobStateTimeLimitActions.state',
      );
    const t = a.maxTimeSeconds as number;
    if (typeof t !== 'number' || t < 600 || t > 86400) {
      throw new ValidationError(
        'jobStateTimeLimitActions.maxTimeSeconds must be between 600 and 86400',
        'jobStateTimeLimitActions.maxTimeSeconds',
      );
    }
    const sagemaker = queueType === 'SAGEMAKER_TRAINING';
    if (!sagemaker && a.action !== 'CANCEL') {
      throw new ValidationError(
        'jobStateTimeLimitActions.action must be CANCEL for this job queue',
        'jobStateTimeLimitActions.action',
      );
    }
    if (sagemaker && a.action !== 'TERMINATE') {
      throw new ValidationError(
        'jobStateTimeLimitActions.action must be TERMINATE for SAGEMAKER_TRAINING job queues',
        'jobStateTimeLimitActions.action',
      );
    }
    out.push({ reason, state: 'RUNNABLE', maxTimeSeconds: t, action: a.action as 'CANCEL' | 'TERMINATE' });
  }
  return out;
}

/** Platform family of a compute environment for the "no mixing" rule. */
export function platformFamily(ceType: string | undefined, crType: string | undefined): 'EC2' | 'FARGATE' {
  if (ceType === 'UNMANAGED') return 'EC2';
  return crType === 'FARGATE' || crType === 'FARGATE_SPOT' ? 'FARGATE' : 'EC2';
}
