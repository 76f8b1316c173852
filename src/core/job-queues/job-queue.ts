/** @module core/job-queues/job-queue  The stored job queue: AWS's JobQueueDetail as Describe returns it. */
import type { ResourceStatus } from '../compute-environments/compute-environment.js';

export interface ComputeEnvironmentOrder {
  order: number;
  computeEnvironment: string;
}

export interface JobStateTimeLimitAction {
  reason: string;
  state: 'RUNNABLE';
  maxTimeSeconds: number;
  action: 'CANCEL' | 'TERMINATE';
}

export interface JobQueueDetail {
  jobQueueName: string;
  jobQueueArn: string;
  state: 'ENABLED' | 'DISABLED';
  schedulingPolicyArn?: string;
  status: ResourceStatus;
  statusReason?: string;
  priority: number;
  computeEnvironmentOrder: ComputeEnvironmentOrder[];
  serviceEnvironmentOrder?: { order: number; serviceEnvironment: string }[];
  jobQueueType?: string;
  tags?: Record<string, string>;
  jobStateTimeLimitActions?: JobStateTimeLimitAction[];
}

export interface JobQueueDoc {
  detail: JobQueueDetail;
}
