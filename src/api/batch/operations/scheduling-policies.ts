/**
 * @module api/batch/operations/scheduling-policies
 * Create/Describe/Update/Delete/ListSchedulingPolicies. A policy is fair-share or quota-share
 * (never both, and the kind never changes); nothing is invented when no policy body was sent.
 */
import { batchArn } from '../../../core/arns.js';
import { ConflictError, NotFoundError, ValidationError } from '../../../core/errors.js';
import type { JobQueueDoc } from '../../../core/job-queues/job-queue.js';
import { paginate } from '../../../core/pagination/pagination.js';
import {
  policyKind,
  validateFairsharePolicy,
  type SchedulingPolicyDetail,
  type SchedulingPolicyDoc,
} from '../../../core/scheduling-policies/scheduling-policy.js';
import {
  cloneJson,
  emitChange,
  findByNameOrArn,
  isRecord,
  updateResource,
  validateResourceName,
} from '../../../core/tags/resource-records.js';
import { validateTags } from '../../../core/tags/tags.js';
import type { BatchOperation } from '../batch-api.js';

const KIND = 'scheduling-policy' as const;

function spMissing(ref: string): NotFoundError {
  return new NotFoundError('SchedulingPolicy', ref, `SchedulingPolicy ${ref} does not exist`);
}

function policyBody(
  input: Record<string, unknown>,
): Pick<SchedulingPolicyDetail, 'fairsharePolicy' | 'quotaSharePolicy'> {
  const fs = input.fairsharePolicy;
  const qs = input.quotaSharePolicy;
  if (isRecord(fs) && isRecord(qs)) {
    throw new ValidationError(
      'Only one of fairsharePolicy and quotaSharePolicy can be specified',
      'fairsharePolicy',
    );
  }
  if (isRecord(fs)) return { fairsharePolicy: validateFairsharePolicy(fs) };
  if (isRecord(qs))
    return {
      quotaSharePolicy: { idleResourceAssignmentStrategy: qs.idleResourceAssignmentStrategy as string },
    };
  return {};
}

function wire(d: SchedulingPolicyDetail): Record<string, unknown> {
  const out = cloneJson(d) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(out)) if (v === undefined || v === null) delete out[k];
  return out;
}

const createSchedulingPolicy: BatchOperation = async (input, ctx, deps) => {
  const name = validateResourceName(input.name, 'Scheduling policy', 'name');
  const tags = validateTags(input.tags);
  const body = policyBody(input);
  if (await deps.store.getResource(KIND, name)) throw new ConflictError('Object already exists');
  const arn = batchArn(ctx, 'scheduling-policy', name);
  const detail: SchedulingPolicyDetail = { name, arn, ...body, tags };
  try {
    await deps.store.putResource<SchedulingPolicyDoc>(KIND, name, arn, { detail }, null);
  } catch (err) {
    if (err instanceof ConflictError) throw new ConflictError('Object already exists', { cause: err });
    throw err;
  }
  emitChange(deps.events, KIND, name, arn, 'created');
  return { name, arn };
};

const describeSchedulingPolicies: BatchOperation = async (input, _ctx, deps) => {
  const arns = (input.arns ?? []) as string[];
  if (arns.length > 100) throw new ValidationError('arns can contain at most 100 entries', 'arns');
  const seen = new Set<string>();
  const out: Record<string, unknown>[] = [];
  for (const ref of arns) {
    const rec = await findByNameOrArn<SchedulingPolicyDoc>(deps.store, KIND, 'scheduling-policy', ref);
    if (!rec || seen.has(rec.key)) continue;
    seen.add(rec.key);
    out.push(wire(rec.data.detail));
  }
  return { schedulingPolicies: out };
};

const listSchedulingPolicies: BatchOperation = async (input, _ctx, deps) => {
  const all = await deps.store.listResources<SchedulingPolicyDoc>(KIND, { limit: 1_000_000 });
  const page = paginate(all, (r) => r.key, input, 'ListSchedulingPolicies');
  return {
    schedulingPolicies: page.items.map((r) => ({ arn: r.arn })),
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
  };
};

const updateSchedulingPolicy: BatchOperation = async (input, _ctx, deps) => {
  const ref = input.arn as string;
  const existing = await findByNameOrArn<SchedulingPolicyDoc>(deps.store, KIND, 'scheduling-policy', ref);
  if (!existing) throw spMissing(ref);
  const body = policyBody(input);
  const rec = await updateResource<SchedulingPolicyDoc>(
    deps.store,
    KIND,
    existing.key,
    (cur) => {
      const doc = cloneJson(cur.data);
      const before = policyKind(doc.detail);
      const after = policyKind(body);
      if (after === 'none') return doc; // nothing to change
      if (before !== 'none' && before !== after) {
        throw new ValidationError(
          `Cannot change a ${before === 'fairshare' ? 'fair-share' : 'quota-share'} scheduling policy into a ${after === 'fairshare' ? 'fair-share' : 'quota-share'} policy`,
          after === 'fairshare' ? 'fairsharePolicy' : 'quotaSharePolicy',
        );
      }
      delete doc.detail.fairsharePolicy;
      delete doc.detail.quotaSharePolicy;
      Object.assign(doc.detail, body);
      return doc;
    },
    () => spMissing(ref),
  );
  emitChange(deps.events, KIND, rec.key, rec.arn, 'updated');
  return {};
};

const deleteSchedulingPolicy: BatchOperation = async (input, _ctx, deps) => {
  const ref = input.arn as string;
  const existing = await findByNameOrArn<SchedulingPolicyDoc>(deps.store, KIND, 'scheduling-policy', ref);
  if (!existing) throw spMissing(ref);
  const queues = await deps.store.listResources<JobQueueDoc>('job-queue', { limit: 100_000 });
  const user = queues.find((q) => q.data.detail.schedulingPolicyArn === existing.arn);
  if (user) {
    throw new ConflictError(
      `Cannot delete, found existing JobQueue relationship: scheduling policy is used by job queue ${user.data.detail.jobQueueName}`,
    );
  }
  if (await deps.store.deleteResource(KIND, existing.key))
    emitChange(deps.events, KIND, existing.key, existing.arn, 'deleted');
  return {};
};

export const schedulingPolicyOperations: Readonly<Record<string, BatchOperation>> = {
  CreateSchedulingPolicy: createSchedulingPolicy,
  DescribeSchedulingPolicies: describeSchedulingPolicies,
  ListSchedulingPolicies: listSchedulingPolicies,
  UpdateSchedulingPolicy: updateSchedulingPolicy,
  DeleteSchedulingPolicy: deleteSchedulingPolicy,
};
