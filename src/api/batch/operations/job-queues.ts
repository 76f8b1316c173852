/**
 * @module api/batch/operations/job-queues
 * Create/Describe/Update/DeleteJobQueue. computeEnvironmentOrder takes names or ARNs and is echoed
 * as ARNs in the order sent; schedulingPolicyArn is never returned as "".
 */
import { batchArn } from '../../../core/arns.js';
import type { ComputeEnvironmentDoc } from '../../../core/compute-environments/compute-environment.js';
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from '../../../core/errors.js';
import type {
  ComputeEnvironmentOrder,
  JobQueueDetail,
  JobQueueDoc,
} from '../../../core/job-queues/job-queue.js';
import {
  MAX_CES_PER_QUEUE,
  MAX_JOB_QUEUES,
  platformFamily,
  validateJobStateTimeLimitActions,
} from '../../../core/job-queues/job-queue-rules.js';
import { indexCursor, paginate } from '../../../core/pagination/pagination.js';
import type { QuotaShareDoc } from '../../../core/quota-shares/quota-share.js';
import { policyKind, type SchedulingPolicyDoc } from '../../../core/scheduling-policies/scheduling-policy.js';
import type { ServiceEnvironmentDoc } from '../../../core/service-environments/service-environment.js';
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

const KIND = 'job-queue' as const;

function jqMissing(ref: string): NotFoundError {
  return new NotFoundError('JobQueue', ref, `JobQueue ${ref} does not exist`);
}

export async function findJobQueue(
  deps: BatchDeps,
  ref: string,
): Promise<ResourceRecord<JobQueueDoc> | undefined> {
  return findByNameOrArn<JobQueueDoc>(deps.store, KIND, 'job-queue', ref);
}

export function jobQueueWire(doc: JobQueueDoc): Record<string, unknown> {
  const d = cloneJson(doc.detail) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(d)) if (v === undefined || v === null) delete d[k];
  if (d.schedulingPolicyArn === '') delete d.schedulingPolicyArn;
  return d;
}

/** Resolve and validate computeEnvironmentOrder: names → ARNs, order and entry order kept. */
async function resolveCeOrder(deps: BatchDeps, raw: unknown): Promise<ComputeEnvironmentOrder[]> {
  const list = raw as { order: number; computeEnvironment: string }[];
  if (list.length > MAX_CES_PER_QUEUE) {
    throw new ValidationError(
      `A job queue can have at most ${MAX_CES_PER_QUEUE} compute environments`,
      'computeEnvironmentOrder',
    );
  }
  const out: ComputeEnvironmentOrder[] = [];
  const families = new Set<string>();
  const seenCe = new Set<string>();
  const seenOrder = new Set<number>();
  for (const e of list) {
    const ce = await findByNameOrArn<ComputeEnvironmentDoc>(
      deps.store,
      'compute-environment',
      'compute-environment',
      e.computeEnvironment,
    );
    if (!ce || ce.data.detail.status === 'DELETING' || ce.data.detail.status === 'DELETED') {
      throw new ValidationError(
        `ComputeEnvironment ${e.computeEnvironment} does not exist`,
        'computeEnvironmentOrder',
      );
    }
    if (ce.data.detail.status === 'INVALID') {
      throw new ValidationError(
        `ComputeEnvironment ${e.computeEnvironment} is not in VALID state`,
        'computeEnvironmentOrder',
      );
    }
    if (seenCe.has(ce.arn)) {
      throw new ValidationError(
        `ComputeEnvironment ${e.computeEnvironment} is listed more than once`,
        'computeEnvironmentOrder',
      );
    }
    if (seenOrder.has(e.order)) {
      throw new ValidationError(
        `computeEnvironmentOrder contains the order ${e.order} more than once`,
        'computeEnvironmentOrder',
      );
    }
    if (e.order < 0)
      throw new ValidationError(
        'computeEnvironmentOrder.order must be greater than or equal to 0',
        'computeEnvironmentOrder',
      );
    seenCe.add(ce.arn);
    seenOrder.add(e.order);
    families.add(platformFamily(ce.data.detail.type, ce.data.detail.computeResources?.type));
    out.push({ order: e.order, computeEnvironment: ce.arn });
  }
  if (families.size > 1) {
    throw new ValidationError(
      'All compute environments of a job queue must be either EC2 (EC2 or SPOT) or Fargate (FARGATE or FARGATE_SPOT); EC2 and Fargate compute environments cannot be mixed',
      'computeEnvironmentOrder',
    );
  }
  return out;
}

async function resolveServiceEnvOrder(
  deps: BatchDeps,
  raw: unknown,
): Promise<{ order: number; serviceEnvironment: string }[]> {
  const list = raw as { order: number; serviceEnvironment: string }[];
  if (list.length > 1)
    throw new ValidationError(
      'A job queue can have at most 1 service environment',
      'serviceEnvironmentOrder',
    );
  const out: { order: number; serviceEnvironment: string }[] = [];
  for (const e of list) {
    const se = await findByNameOrArn<ServiceEnvironmentDoc>(
      deps.store,
      'service-environment',
      'service-environment',
      e.serviceEnvironment,
    );
    if (!se || se.data.detail.status === 'DELETING') {
      throw new ValidationError(
        `ServiceEnvironment ${e.serviceEnvironment} does not exist`,
        'serviceEnvironmentOrder',
      );
    }
    out.push({ order: e.order, serviceEnvironment: se.arn });
  }
  return out;
}

async function resolvePolicy(deps: BatchDeps, arn: string): Promise<ResourceRecord<SchedulingPolicyDoc>> {
  const sp = await findByNameOrArn<SchedulingPolicyDoc>(
    deps.store,
    'scheduling-policy',
    'scheduling-policy',
    arn,
  );
  if (!sp) throw new ValidationError(`SchedulingPolicy ${arn} does not exist`, 'schedulingPolicyArn');
  return sp;
}

const createJobQueue: BatchOperation = async (input, ctx, deps) => {
  const name = validateResourceName(input.jobQueueName, 'Job queue', 'jobQueueName');
  const tags = validateTags(input.tags);
  const priority = input.priority as number;
  if (priority < 0) throw new ValidationError('priority must be greater than or equal to 0', 'priority');
  const queueType = input.jobQueueType as string | undefined;
  const hasCe = Array.isArray(input.computeEnvironmentOrder) && input.computeEnvironmentOrder.length > 0;
  const hasSe = Array.isArray(input.serviceEnvironmentOrder) && input.serviceEnvironmentOrder.length > 0;
  if (hasCe && hasSe) {
    throw new ValidationError(
      'computeEnvironmentOrder and serviceEnvironmentOrder cannot be specified together',
      'computeEnvironmentOrder',
    );
  }
  if (hasSe !== (queueType === 'SAGEMAKER_TRAINING') && (hasSe || queueType === 'SAGEMAKER_TRAINING')) {
    throw new ValidationError(
      'serviceEnvironmentOrder is required for, and only valid with, jobQueueType SAGEMAKER_TRAINING',
      'serviceEnvironmentOrder',
    );
  }
  if (!hasCe && !hasSe) {
    throw new ValidationError(
      'computeEnvironmentOrder must contain at least one compute environment',
      'computeEnvironmentOrder',
    );
  }
  const actions = validateJobStateTimeLimitActions(input.jobStateTimeLimitActions, queueType);
  const ceOrder = hasCe ? await resolveCeOrder(deps, input.computeEnvironmentOrder) : [];
  const seOrder = hasSe ? await resolveServiceEnvOrder(deps, input.serviceEnvironmentOrder) : undefined;
  let policyArn: string | undefined;
  if (typeof input.schedulingPolicyArn === 'string' && input.schedulingPolicyArn !== '') {
    policyArn = (await resolvePolicy(deps, input.schedulingPolicyArn)).arn;
  }
  if ((await deps.store.countResources(KIND)) >= MAX_JOB_QUEUES) {
    throw new LimitExceededError(`Maximum number of job queues (${MAX_JOB_QUEUES}) reached`);
  }
  if (await deps.store.getResource(KIND, name)) throw new ConflictError('Object already exists');
  const arn = batchArn(ctx, 'job-queue', name);
  const detail: JobQueueDetail = {
    jobQueueName: name,
    jobQueueArn: arn,
    state: (input.state as 'ENABLED' | 'DISABLED' | undefined) ?? 'ENABLED',
    ...(policyArn ? { schedulingPolicyArn: policyArn } : {}),
    status: 'CREATING',
    priority,
    computeEnvironmentOrder: ceOrder,
    ...(seOrder ? { serviceEnvironmentOrder: seOrder } : {}),
    ...(queueType ? { jobQueueType: queueType } : {}),
    tags,
    jobStateTimeLimitActions: actions,
  };
  try {
    await deps.store.putResource<JobQueueDoc>(KIND, name, arn, { detail }, null);
  } catch (err) {
    if (err instanceof ConflictError) throw new ConflictError('Object already exists', { cause: err });
    throw err;
  }
  emitChange(deps.events, KIND, name, arn, 'created');
  return { jobQueueName: name, jobQueueArn: arn };
};

const describeJobQueues: BatchOperation = async (input, _ctx, deps) => {
  const refs = input.jobQueues as string[] | undefined;
  if (refs && refs.length > 0) {
    if (refs.length > 100)
      throw new ValidationError('jobQueues can contain at most 100 entries', 'jobQueues');
    const seen = new Set<string>();
    const found: JobQueueDoc[] = [];
    for (const ref of refs) {
      const rec = await findJobQueue(deps, ref);
      if (!rec || seen.has(rec.key)) continue;
      seen.add(rec.key);
      found.push(rec.data);
    }
    const page = paginate(
      found.map((d, i) => ({ d, c: indexCursor(i) })),
      (x) => x.c,
      input,
      'DescribeJobQueues',
    );
    return {
      jobQueues: page.items.map((x) => jobQueueWire(x.d)),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  }
  const all = await deps.store.listResources<JobQueueDoc>(KIND, { limit: 100_000 });
  const page = paginate(all, (r) => r.key, input, 'DescribeJobQueues');
  return {
    jobQueues: page.items.map((r) => jobQueueWire(r.data)),
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
  };
};

const updateJobQueue: BatchOperation = async (input, _ctx, deps) => {
  const ref = input.jobQueue as string;
  const existing = await findJobQueue(deps, ref);
  if (!existing) throw jqMissing(ref);
  // Resolve references before the CAS loop (they only read other resources).
  const queueType = existing.data.detail.jobQueueType;
  const ceOrder =
    input.computeEnvironmentOrder !== undefined && input.computeEnvironmentOrder !== null
      ? await resolveCeOrder(deps, input.computeEnvironmentOrder)
      : undefined;
  const seOrder =
    input.serviceEnvironmentOrder !== undefined && input.serviceEnvironmentOrder !== null
      ? await resolveServiceEnvOrder(deps, input.serviceEnvironmentOrder)
      : undefined;
  const actions =
    input.jobStateTimeLimitActions !== undefined && input.jobStateTimeLimitActions !== null
      ? validateJobStateTimeLimitActions(input.jobStateTimeLimitActions, queueType)
      : undefined;
  let newPolicy: ResourceRecord<SchedulingPolicyDoc> | undefined;
  const policyInput = input.schedulingPolicyArn;
  if (typeof policyInput === 'string' && policyInput !== '')
    newPolicy = await resolvePolicy(deps, policyInput);
  if (input.priority !== undefined && (input.priority as number) < 0) {
    throw new ValidationError('priority must be greater than or equal to 0', 'priority');
  }

  const rec = await updateResource<JobQueueDoc>(
    deps.store,
    KIND,
    existing.key,
    async (cur) => {
      const doc = cloneJson(cur.data);
      const d = doc.detail;
      if (d.status === 'DELETING' || d.status === 'DELETED')
        throw new ConflictError(`JobQueue ${d.jobQueueName} is being deleted`);
      if (input.state !== undefined) d.state = input.state as 'ENABLED' | 'DISABLED';
      if (input.priority !== undefined) d.priority = input.priority as number;
      if (ceOrder) {
        if (d.serviceEnvironmentOrder && d.serviceEnvironmentOrder.length > 0 && ceOrder.length > 0) {
          throw new ValidationError(
            'computeEnvironmentOrder cannot be set on a job queue that uses service environments',
            'computeEnvironmentOrder',
          );
        }
        if (ceOrder.length === 0 && !(d.serviceEnvironmentOrder && d.serviceEnvironmentOrder.length > 0)) {
          throw new ValidationError(
            'computeEnvironmentOrder must contain at least one compute environment',
            'computeEnvironmentOrder',
          );
        }
        d.computeEnvironmentOrder = ceOrder;
      }
      if (seOrder) {
        if (d.jobQueueType !== 'SAGEMAKER_TRAINING' && seOrder.length > 0) {
          throw new ValidationError(
            'serviceEnvironmentOrder is only valid for SAGEMAKER_TRAINING job queues',
            'serviceEnvironmentOrder',
          );
        }
        d.serviceEnvironmentOrder = seOrder;
      }
      if (actions) d.jobStateTimeLimitActions = actions;
      if (policyInput === '') {
        if (d.schedulingPolicyArn) {
          throw new ValidationError(
            'The scheduling policy of a job queue can be replaced but not removed',
            'schedulingPolicyArn',
          );
        }
      } else if (newPolicy) {
        if (!d.schedulingPolicyArn) {
          throw new ValidationError(
            'A job queue without a scheduling policy is a FIFO job queue and cannot have a scheduling policy added',
            'schedulingPolicyArn',
          );
        }
        if (newPolicy.arn !== d.schedulingPolicyArn) {
          const old = await deps.store.getResourceByArn<SchedulingPolicyDoc>(
            'scheduling-policy',
            d.schedulingPolicyArn,
          );
          if (
            old &&
            policyKind(old.data.detail) === 'quotashare' &&
            policyKind(newPolicy.data.detail) !== 'quotashare'
          ) {
            throw new ValidationError(
              'A quota share scheduling policy can only be replaced by another quota share policy',
              'schedulingPolicyArn',
            );
          }
        }
        d.schedulingPolicyArn = newPolicy.arn;
      }
      d.status = 'UPDATING';
      delete d.statusReason;
      return doc;
    },
    () => jqMissing(ref),
  );
  emitChange(deps.events, KIND, rec.key, rec.arn, 'updated');
  return { jobQueueName: rec.data.detail.jobQueueName, jobQueueArn: rec.arn };
};

const deleteJobQueue: BatchOperation = async (input, _ctx, deps) => {
  const ref = input.jobQueue as string;
  const existing = await findJobQueue(deps, ref);
  if (!existing) throw jqMissing(ref);
  if (existing.data.detail.status === 'DELETING') return {};
  const rec = await updateResource<JobQueueDoc>(
    deps.store,
    KIND,
    existing.key,
    (cur) => {
      const doc = cloneJson(cur.data);
      if (doc.detail.state !== 'DISABLED')
        throw new ConflictError('Cannot delete, job queue must be in DISABLED state');
      doc.detail.status = 'DELETING';
      delete doc.detail.statusReason;
      return doc;
    },
    () => jqMissing(ref),
  );
  emitChange(deps.events, KIND, rec.key, rec.arn, 'updated');
  // Quota shares belong to their queue.
  const shares = await deps.store.listResources<QuotaShareDoc>('quota-share', {
    keyPrefix: `${rec.key}/`,
    limit: 1000,
  });
  for (const s of shares) {
    if (await deps.store.deleteResource('quota-share', s.key))
      emitChange(deps.events, 'quota-share', s.key, s.arn, 'deleted');
  }
  await deps.jobs.onJobQueueDeleted(rec.arn);
  return {};
};

export const jobQueueOperations: Readonly<Record<string, BatchOperation>> = {
  CreateJobQueue: createJobQueue,
  DescribeJobQueues: describeJobQueues,
  UpdateJobQueue: updateJobQueue,
  DeleteJobQueue: deleteJobQueue,
};
