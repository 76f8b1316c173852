/** @module api/batch/operations/jobs  Job operations: thin wire wrappers over the JobService port. */
import { ValidationError } from '../../../core/errors.js';
import type { BatchOperation } from '../batch-api.js';

export const jobOperations: Readonly<Record<string, BatchOperation>> = {
  SubmitJob: (input, ctx, deps) => deps.jobs.submitJob(input, ctx),
  DescribeJobs: async (input, ctx, deps) => ({
    jobs: await deps.jobs.describeJobs(input.jobs as string[], ctx),
  }),
  ListJobs: (input, ctx, deps) => deps.jobs.listJobs(input, ctx),
  CancelJob: async (input, _ctx, deps) => {
    await deps.jobs.cancelJob(input.jobId as string, input.reason as string);
    return {};
  },
  TerminateJob: async (input, _ctx, deps) => {
    await deps.jobs.terminateJob(input.jobId as string, input.reason as string);
    return {};
  },
  GetJobQueueSnapshot: (input, _ctx, deps) => {
    if (typeof input.jobQueue !== 'string') throw new ValidationError('jobQueue is required', 'jobQueue');
    return deps.jobs.getJobQueueSnapshot(input.jobQueue);
  },
};
