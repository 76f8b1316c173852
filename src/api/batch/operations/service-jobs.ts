/**
 * @module api/batch/operations/service-jobs
 * Submit/Describe/List/Terminate/UpdateServiceJob: SageMaker Training service jobs are stored and
 * move SUBMITTED → RUNNABLE (loops/resource-lifecycle); openbatch never starts them (partial).
 */
import { batchArn } from '../../../core/arns.js';
import { ConflictError, NotFoundError, ValidationError } from '../../../core/errors.js';
import type { JobQueueDoc } from '../../../core/job-queues/job-queue.js';
import { paginate } from '../../../core/pagination/pagination.js';
import type { QuotaShareDoc } from '../../../core/quota-shares/quota-share.js';
import {
  cloneJson,
  emitChange,
  findByNameOrArn,
  updateResource,
} from '../../../core/tags/resource-records.js';
import { validateTags } from '../../../core/tags/tags.js';
import type { ResourceRecord } from '../../../store/store.js';
import type { BatchDeps, BatchOperation } from '../batch-api.js';

const KIND = 'service-job' as const;
const JOB_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const MAX_PAYLOAD_BYTES = 10 * 1024;
const TERMINAL = ['SUCCEEDED', 'FAILED'];

export interface ServiceJobDetail {
  jobArn: string;
  jobId: string;
  jobName: string;
  jobQueue: string;
  serviceJobType: string;
  serviceRequestPayload: string;
  status: string;
  statusReason?: string;
  createdAt: number;
  stoppedAt?: number;
  isTerminated?: boolean;
  attempts: unknown[];
  schedulingPriority?: number;
  shareIdentifier?: string;
  quotaShareName?: string;
  retryStrategy?: unknown;
  timeoutConfig?: unknown;
  preemptionConfiguration?: unknown;
  tags?: Record<string, string>;
}

export interface ServiceJobDoc {
  detail: ServiceJobDetail;
  clientToken?: string;
}

function jobMissing(id: string): NotFoundError {
  return new NotFoundError('ServiceJob', id, `Service job ${id} does not exist`);
}

async function findQueue(deps: BatchDeps, ref: string): Promise<ResourceRecord<JobQueueDoc>> {
  const q = await findByNameOrArn<JobQueueDoc>(deps.store, 'job-queue', 'job-queue', ref);
  if (!q || q.data.detail.status === 'DELETING')
    throw new ValidationError(`JobQueue ${ref} does not exist`, 'jobQueue');
  return q;
}

const submitServiceJob: BatchOperation = async (input, ctx, deps) => {
  const jobName = input.jobName as string;
  if (!JOB_NAME_RE.test(jobName)) throw new ValidationError('Job name should match valid pattern', 'jobName');
  const tags = validateTags(input.tags);
  const payload = input.serviceRequestPayload as string;
  if (Buffer.byteLength(payload, 'utf8') > MAX_PAYLOAD_BYTES) {
    throw new ValidationError('serviceRequestPayload must be at most 10 KiB', 'serviceRequestPayload');
  }
  try {
    JSON.parse(payload);
  } catch (err) {
    throw new ValidationError('serviceRequestPayload must be a JSON document', 'serviceRequestPayload', {
      cause: err,
    });
  }
  const queue = await findQueue(deps, input.jobQueue as string);
  if (queue.data.detail.jobQueueType !== 'SAGEMAKER_TRAINING') {
    throw new ValidationError(
      `Job queue ${queue.data.detail.jobQueueName} does not accept service jobs (jobQueueType must be SAGEMAKER_TRAINING)`,
      'jobQueue',
    );
  }
  if (queue.data.detail.state !== 'ENABLED')
    throw new ValidationError(`Job queue ${queue.data.detail.jobQueueName} is not ENABLED`, 'jobQueue');
  if (input.schedulingPriority !== undefined) {
    const p = input.schedulingPriority as number;
    if (p < 0 || p > 9999)
      throw new ValidationError('schedulingPriority must be between 0 and 9999', 'schedulingPriority');
  }
  const rs = input.retryStrategy as { attempts?: number } | undefined;
  if (rs && (rs.attempts === undefined || rs.attempts < 1 || rs.attempts > 10)) {
    throw new ValidationError('retryStrategy.attempts must be between 1 and 10', 'retryStrategy.attempts');
  }
  if (typeof input.quotaShareName === 'string') {
    const share = await deps.store.getResource<QuotaShareDoc>(
      'quota-share',
      `${queue.key}/${input.quotaShareName}`,
    );
    if (!share)
      throw new ValidationError(
        `Quota share ${input.quotaShareName} does not exist in job queue ${queue.data.detail.jobQueueName}`,
        'quotaShareName',
      );
  }
  const token = input.clientToken as string | undefined;
  if (token) {
    const prior = await deps.store.getResource<ServiceJobDoc>('idempotency', `SubmitServiceJob:${token}`);
    if (prior)
      return {
        jobArn: prior.data.detail.jobArn,
        jobName: prior.data.detail.jobName,
        jobId: prior.data.detail.jobId,
      };
  }
  const jobId = globalThis.crypto.randomUUID();
  const arn = batchArn(ctx, 'service-job', jobId);
  const detail: ServiceJobDetail = {
    jobArn: arn,
    jobId,
    jobName,
    jobQueue: queue.arn,
    serviceJobType: input.serviceJobType as string,
    serviceRequestPayload: payload,
    status: 'SUBMITTED',
    createdAt: deps.clock.now(),
    attempts: [],
    tags,
  };
  for (const k of [
    'schedulingPriority',
    'shareIdentifier',
    'quotaShareName',
    'retryStrategy',
    'timeoutConfig',
    'preemptionConfiguration',
  ] as const) {
    if (input[k] !== undefined && input[k] !== null)
      (detail as unknown as Record<string, unknown>)[k] = cloneJson(input[k]);
  }
  await deps.store.putResource<ServiceJobDoc>(KIND, jobId, arn, { detail }, null);
  if (token) {
    const key = `SubmitServiceJob:${token}`;
    await deps.store.putResource<ServiceJobDoc>('idempotency', key, `idempotency:${key}`, { detail }, null);
  }
  emitChange(deps.events, KIND, jobId, arn, 'created');
  return { jobArn: arn, jobName, jobId };
};

const describeServiceJob: BatchOperation = async (input, _ctx, deps) => {
  const id = input.jobId as string;
  const rec = await deps.store.getResource<ServiceJobDoc>(KIND, id);
  if (!rec) throw jobMissing(id);
  return cloneJson(rec.data.detail) as unknown as Record<string, unknown>;
};

function nameMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  return p.endsWith('*') ? n.startsWith(p.slice(0, -1)) : n === p;
}

const listServiceJobs: BatchOperation = async (input, _ctx, deps) => {
  const filters = (input.filters ?? []) as { name?: string; values?: string[] }[];
  if (filters.length > 1) throw new ValidationError('Only one filter can be used at a time', 'filters');
  const queueArn =
    typeof input.jobQueue === 'string' ? (await findQueue(deps, input.jobQueue)).arn : undefined;
  const filter = filters[0];
  const statusFilterApplies =
    !filter || filter.name === 'SHARE_IDENTIFIER' || filter.name === 'QUOTA_SHARE_NAME';
  const status = statusFilterApplies ? ((input.jobStatus as string | undefined) ?? 'RUNNING') : undefined;
  const all = await deps.store.listResources<ServiceJobDoc>(KIND, { limit: 1_000_000 });
  const value = filter?.values?.[0] ?? '';
  const match = (d: ServiceJobDetail): boolean => {
    if (queueArn && d.jobQueue !== queueArn) return false;
    if (status && d.status !== status) return false;
    switch (filter?.name) {
      case undefined:
        return true;
      case 'JOB_NAME':
        return nameMatches(value, d.jobName);
      case 'BEFORE_CREATED_AT':
        return d.createdAt < Number(value);
      case 'AFTER_CREATED_AT':
        return d.createdAt > Number(value);
      case 'SHARE_IDENTIFIER':
        return d.shareIdentifier === value;
      case 'QUOTA_SHARE_NAME':
        return d.quotaShareName === value;
      default:
        throw new ValidationError(`Invalid filter name ${String(filter?.name)}`, 'filters');
    }
  };
  const rows = all
    .map((r) => r.data.detail)
    .filter(match)
    .map((d) => ({ d, c: `${String(9_999_999_999_999 - d.createdAt).padStart(13, '0')}:${d.jobId}` }))
    .sort((a, b) => (a.c < b.c ? -1 : a.c > b.c ? 1 : 0));
  const page = paginate(rows, (x) => x.c, input, 'ListServiceJobs');
  return {
    jobSummaryList: page.items.map(({ d }) => ({
      jobArn: d.jobArn,
      jobId: d.jobId,
      jobName: d.jobName,
      serviceJobType: d.serviceJobType,
      status: d.status,
      createdAt: d.createdAt,
      ...(d.statusReason ? { statusReason: d.statusReason } : {}),
      ...(d.stoppedAt ? { stoppedAt: d.stoppedAt } : {}),
      ...(d.shareIdentifier ? { shareIdentifier: d.shareIdentifier } : {}),
      ...(d.quotaShareName ? { quotaShareName: d.quotaShareName } : {}),
    })),
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
  };
};

const terminateServiceJob: BatchOperation = async (input, _ctx, deps) => {
  const id = input.jobId as string;
  const reason = input.reason as string;
  const current = await deps.store.getResource<ServiceJobDoc>(KIND, id);
  if (!current) throw jobMissing(id);
  if (TERMINAL.includes(current.data.detail.status)) return {};
  const rec = await updateResource<ServiceJobDoc>(
    deps.store,
    KIND,
    id,
    (cur) => {
      const doc = cloneJson(cur.data);
      if (TERMINAL.includes(doc.detail.status)) return doc;
      doc.detail.status = 'FAILED';
      doc.detail.statusReason = reason;
      doc.detail.isTerminated = true;
      doc.detail.stoppedAt = deps.clock.now();
      return doc;
    },
    () => jobMissing(id),
  );
  emitChange(deps.events, KIND, id, rec.arn, 'updated');
  return {};
};

const updateServiceJob: BatchOperation = async (input, _ctx, deps) => {
  const id = input.jobId as string;
  const p = input.schedulingPriority as number;
  if (p < 0 || p > 9999)
    throw new ValidationError('schedulingPriority must be between 0 and 9999', 'schedulingPriority');
  const rec = await updateResource<ServiceJobDoc>(
    deps.store,
    KIND,
    id,
    (cur) => {
      const doc = cloneJson(cur.data);
      if (TERMINAL.includes(doc.detail.status)) {
        throw new ConflictError(
          `Service job ${id} is in ${doc.detail.status} state and can no longer be updated`,
        );
      }
      doc.detail.schedulingPriority = p;
      return doc;
    },
    () => jobMissing(id),
  );
  emitChange(deps.events, KIND, id, rec.arn, 'updated');
  return { jobArn: rec.arn, jobName: rec.data.detail.jobName, jobId: id };
};

export const serviceJobOperations: Readonly<Record<string, BatchOperation>> = {
  SubmitServiceJob: submitServiceJob,
  DescribeServiceJob: describeServiceJob,
  ListServiceJobs: listServiceJobs,
  TerminateServiceJob: terminateServiceJob,
  UpdateServiceJob: updateServiceJob,
};
