/**
 * @module api/batch/operations/quota-shares
 * Create/Describe/Update/Delete/ListQuotaShare(s) for quota-managed (SAGEMAKER_TRAINING) job
 * queues: stored with CREATING → VALID / UPDATING → VALID / DELETING → gone (partial).
 */
import { batchArn } from '../../../core/arns.js';
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from '../../../core/errors.js';
import type { JobQueueDoc } from '../../../core/job-queues/job-queue.js';
import { paginate } from '../../../core/pagination/pagination.js';
import {
  MAX_QUOTA_SHARES_PER_QUEUE,
  quotaShareKey,
  validateQuotaCapacityLimits,
  validateResourceSharing,
  type QuotaShareDetail,
  type QuotaShareDoc,
} from '../../../core/quota-shares/quota-share.js';
import {
  cloneJson,
  emitChange,
  findByNameOrArn,
  updateResource,
  validateResourceName,
} from '../../../core/tags/resource-records.js';
import { validateTags } from '../../../core/tags/tags.js';
import type { ResourceRecord } from '../../../store/store.js';
import type { BatchDeps, BatchOperation } from '../batch-api.js';

const KIND = 'quota-share' as const;

function qsMissing(ref: string): NotFoundError {
  return new NotFoundError('QuotaShare', ref, `QuotaShare ${ref} does not exist`);
}

async function mustFind(deps: BatchDeps, arn: string): Promise<ResourceRecord<QuotaShareDoc>> {
  const rec = await findByNameOrArn<QuotaShareDoc>(deps.store, KIND, 'quota-share', arn);
  if (!rec || !arn.startsWith('arn:')) throw qsMissing(arn);
  return rec;
}

async function findQueue(deps: BatchDeps, ref: string): Promise<ResourceRecord<JobQueueDoc>> {
  const q = await findByNameOrArn<JobQueueDoc>(deps.store, 'job-queue', 'job-queue', ref);
  if (!q || q.data.detail.status === 'DELETING')
    throw new ValidationError(`JobQueue ${ref} does not exist`, 'jobQueue');
  return q;
}

function summary(d: QuotaShareDetail): Record<string, unknown> {
  const out = cloneJson(d) as unknown as Record<string, unknown>;
  delete out.tags;
  return out;
}

const createQuotaShare: BatchOperation = async (input, ctx, deps) => {
  const name = validateResourceName(input.quotaShareName, 'Quota share', 'quotaShareName');
  const tags = validateTags(input.tags);
  const queue = await findQueue(deps, input.jobQueue as string);
  if (queue.data.detail.jobQueueType !== 'SAGEMAKER_TRAINING') {
    throw new ValidationError(
      'Quota shares can only be created for SAGEMAKER_TRAINING job queues',
      'jobQueue',
    );
  }
  const capacityLimits = validateQuotaCapacityLimits(input.capacityLimits);
  const sharing = validateResourceSharing(input.resourceSharingConfiguration as Record<string, unknown>);
  const preemption = input.preemptionConfiguration as { inSharePreemption: string };
  const existingShares = await deps.store.listResources(KIND, { keyPrefix: `${queue.key}/`, limit: 1000 });
  if (existingShares.length >= MAX_QUOTA_SHARES_PER_QUEUE) {
    throw new LimitExceededError(`A job queue can have at most ${MAX_QUOTA_SHARES_PER_QUEUE} quota shares`);
  }
  const key = quotaShareKey(queue.key, name);
  if (await deps.store.getResource(KIND, key)) throw new ConflictError('Object already exists');
  const arn = batchArn(ctx, 'quota-share', key);
  const detail: QuotaShareDetail = {
    quotaShareName: name,
    quotaShareArn: arn,
    jobQueueArn: queue.arn,
    capacityLimits,
    resourceSharingConfiguration: sharing,
    preemptionConfiguration: { inSharePreemption: preemption.inSharePreemption },
    state: (input.state as 'ENABLED' | 'DISABLED' | undefined) ?? 'ENABLED',
    status: 'CREATING',
    tags,
  };
  try {
    await deps.store.putResource<QuotaShareDoc>(KIND, key, arn, { detail }, null);
  } catch (err) {
    if (err instanceof ConflictError) throw new ConflictError('Object already exists', { cause: err });
    throw err;
  }
  emitChange(deps.events, KIND, key, arn, 'created');
  return { quotaShareName: name, quotaShareArn: arn };
};

const describeQuotaShare: BatchOperation = async (input, _ctx, deps) => {
  const rec = await mustFind(deps, input.quotaShareArn as string);
  return cloneJson(rec.data.detail) as unknown as Record<string, unknown>;
};

const listQuotaShares: BatchOperation = async (input, _ctx, deps) => {
  const queue = await findQueue(deps, input.jobQueue as string);
  const all = await deps.store.listResources<QuotaShareDoc>(KIND, {
    keyPrefix: `${queue.key}/`,
    limit: 1000,
  });
  const page = paginate(all, (r) => r.key, input, 'ListQuotaShares');
  return {
    quotaShares: page.items.map((r) => summary(r.data.detail)),
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
  };
};

const updateQuotaShare: BatchOperation = async (input, _ctx, deps) => {
  const ref = input.quotaShareArn as string;
  const existing = await mustFind(deps, ref);
  const limits =
    input.capacityLimits !== undefined ? validateQuotaCapacityLimits(input.capacityLimits) : undefined;
  const sharing =
    input.resourceSharingConfiguration !== undefined
      ? validateResourceSharing(input.resourceSharingConfiguration as Record<string, unknown>)
      : undefined;
  const rec = await updateResource<QuotaShareDoc>(
    deps.store,
    KIND,
    existing.key,
    (cur) => {
      const doc = cloneJson(cur.data);
      const d = doc.detail;
      if (d.status === 'DELETING') throw new ConflictError(`QuotaShare ${d.quotaShareName} is being deleted`);
      if (limits) d.capacityLimits = limits;
      if (sharing) d.resourceSharingConfiguration = sharing;
      if (input.preemptionConfiguration !== undefined) {
        d.preemptionConfiguration = {
          inSharePreemption: (input.preemptionConfiguration as { inSharePreemption: string })
            .inSharePreemption,
        };
      }
      if (input.state !== undefined) d.state = input.state as 'ENABLED' | 'DISABLED';
      d.status = 'UPDATING';
      return doc;
    },
    () => qsMissing(ref),
  );
  emitChange(deps.events, KIND, rec.key, rec.arn, 'updated');
  return { quotaShareName: rec.data.detail.quotaShareName, quotaShareArn: rec.arn };
};

const deleteQuotaShare: BatchOperation = async (input, _ctx, deps) => {
  const ref = input.quotaShareArn as string;
  const existing = await mustFind(deps, ref);
  if (existing.data.detail.status === 'DELETING') return {};
  const rec = await updateResource<QuotaShareDoc>(
    deps.store,
    KIND,
    existing.key,
    (cur) => {
      const doc = cloneJson(cur.data);
      if (doc.detail.state !== 'DISABLED')
        throw new ConflictError('Cannot delete, quota share must be in DISABLED state');
      doc.detail.status = 'DELETING';
      return doc;
    },
    () => qsMissing(ref),
  );
  emitChange(deps.events, KIND, rec.key, rec.arn, 'updated');
  return {};
};

export const quotaShareOperations: Readonly<Record<string, BatchOperation>> = {
  CreateQuotaShare: createQuotaShare,
  DescribeQuotaShare: describeQuotaShare,
  ListQuotaShares: listQuotaShares,
  UpdateQuotaShare: updateQuotaShare,
  DeleteQuotaShare: deleteQuotaShare,
};
