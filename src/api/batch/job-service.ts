/**
 * @module api/batch/job-service
 * The port between the Batch API and the job engine. Job operations and the parts of other
 * operations that need live job state (consumable resource usage, job tags, queue deletion) go
 * through it.
 */
import type { RequestContext } from '../request-context.js';

export interface JobService {
  submitJob(
    input: Record<string, unknown>,
    ctx: RequestContext,
  ): Promise<{ jobArn: string; jobName: string; jobId: string }>;
  describeJobs(jobIds: readonly string[], ctx: RequestContext): Promise<Record<string, unknown>[]>;
  listJobs(
    input: Record<string, unknown>,
    ctx: RequestContext,
  ): Promise<{ jobSummaryList: Record<string, unknown>[]; nextToken?: string }>;
  cancelJob(jobId: string, reason: string): Promise<void>;
  terminateJob(jobId: string, reason: string): Promise<void>;
  getJobQueueSnapshot(jobQueueArn: string): Promise<Record<string, unknown>>;
  /** Quantity of a consumable resource held by STARTING/RUNNING jobs. */
  consumableInUse(consumableResourceArn: string): number;
  listJobsByConsumableResource(
    consumableResourceArn: string,
    input: Record<string, unknown>,
  ): Promise<{ jobs: Record<string, unknown>[]; nextToken?: string }>;
  /** Tags of a job by ARN, or undefined when there is no such job. */
  getJobTags(jobArn: string): Promise<Record<string, string> | undefined>;
  setJobTags(jobArn: string, tags: Record<string, string>): Promise<void>;
  /** A job queue was deleted: its unfinished jobs end FAILED ("JobQueue deleted"). */
  onJobQueueDeleted(jobQueueArn: string): Promise<void>;
  /** Number of unfinished jobs in a queue (DeleteJobQueue and UpdateJobQueue checks). */
  activeJobCount(jobQueueArn: string): number;
}
