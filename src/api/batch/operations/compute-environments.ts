/**
 * @module api/batch/operations/compute-environments
 * Create/Describe/Update/DeleteComputeEnvironment. The stored detail echoes exactly what was sent
 * (no invented allocationStrategy/bidPercentage), status moves CREATING → VALID and
 * UPDATING → VALID asynchronously (loops/resource-lifecycle), deletes go DELETING → gone.
 */
import { batchArn, type AccountScope } from '../../../core/arns.js';
import type {
  ComputeEnvironmentDetail,
  ComputeEnvironmentDoc,
} from '../../../core/compute-environments/compute-environment.js';
import {
  declaredCapacity,
  executorFromTags,
  isFargateType,
  MAX_COMPUTE_ENVIRONMENTS,
  validateComputeResources,
} from '../../../core/compute-environments/compute-environment-rules.js';
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from '../../../core/errors.js';
import type { JobQueueDoc } from '../../../core/job-queues/job-queue.js';
import { indexCursor, paginate } from '../../../core/pagination/pagination.js';
import {
  cloneJson,
  emitChange,
  findByNameOrArn,
  isRecord,
  updateResource,
  validateResourceName,
} from '../../../core/tags/resource-records.js';
import { validateTags } from '../../../core/tags/tags.js';
import type { ResourceRecord } from '../../../store/store.js';
import type { BatchDeps, BatchOperation } from '../batch-api.js';

const KIND = 'compute-environment' as const;

function serviceLinkedRole(scope: AccountScope): string {
  return `arn:aws:iam::${scope.accountId}:role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch`;
}

function ceMissing(ref: string): NotFoundError {
  return new NotFoundError('ComputeEnvironment', ref, `ComputeEnvironment ${ref} does not exist`);
}

/** Resolve a CE by name or ARN (undefined when unknown). */
export async function findComputeEnvironment(
  deps: BatchDeps,
  ref: string,
): Promise<ResourceRecord<ComputeEnvironmentDoc> | undefined> {
  return findByNameOrArn<ComputeEnvironmentDoc>(deps.store, KIND, 'compute-environment', ref);
}

/** The wire form: the stored detail as AWS returns it. */
export function computeEnvironmentWire(doc: ComputeEnvironmentDoc): Record<string, unknown> {
  const d = cloneJson(doc.detail) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(d)) if (v === undefined || v === null) delete d[k];
  return d;
}

function withEc2Defaults(cr: Record<string, unknown>): Record<string, unknown> {
  const out = cloneJson(cr);
  if (!isFargateType(out.type)) {
    // Computed members AWS fills in (Terraform: Optional + Computed); the non-computed
    // allocationStrategy / bidPercentage are never filled.
    if (out.desiredvCpus === undefined)
      out.desiredvCpus = typeof out.minvCpus === 'number' ? out.minvCpus : 0;
    if (out.ec2Configuration === undefined) out.ec2Configuration = [{ imageType: 'ECS_AL2' }];
  }
  return out;
}

const createComputeEnvironment: BatchOperation = async (input, ctx, deps) => {
  const name = validateResourceName(
    input.computeEnvironmentName,
    'Compute environment',
    'computeEnvironmentName',
  );
  const type = input.type as 'MANAGED' | 'UNMANAGED';
  const tags = validateTags(input.tags);
  const executor = executorFromTags(tags);
  const cr = input.computeResources;
  if (type === 'MANAGED') {
    if (!isRecord(cr))
      throw new ValidationError(
        'computeResources must be specified for a MANAGED compute environment',
        'computeResources',
      );
    if (input.unmanagedvCpus !== undefined) {
      throw new ValidationError(
        'unmanagedvCpus is only supported for UNMANAGED compute environments',
        'unmanagedvCpus',
      );
    }
    validateComputeResources(cr);
  } else {
    if (cr !== undefined && cr !== null) {
      throw new ValidationError(
        'computeResources must not be specified for an UNMANAGED compute environment',
        'computeResources',
      );
    }
    if (typeof input.unmanagedvCpus === 'number' && input.unmanagedvCpus < 0) {
      throw new ValidationError('unmanagedvCpus must be greater than or equal to 0', 'unmanagedvCpus');
    }
  }
  if ((await deps.store.countResources(KIND)) >= MAX_COMPUTE_ENVIRONMENTS) {
    throw new LimitExceededError(
      `Maximum number of compute environments (${MAX_COMPUTE_ENVIRONMENTS}) reached`,
    );
  }
  if (await deps.store.getResource(KIND, name)) throw new ConflictError('Object already exists');

  const arn = batchArn(ctx, 'compute-environment', name);
  const uuid = globalThis.crypto.randomUUID();
  const serviceRole =
    typeof input.serviceRole === 'string' && input.serviceRole !== ''
      ? input.serviceRole
      : serviceLinkedRole(ctx);
  const detail: ComputeEnvironmentDetail = {
    computeEnvironmentName: name,
    computeEnvironmentArn: arn,
    ecsClusterArn: `arn:aws:ecs:${ctx.region}:${ctx.accountId}:cluster/${name}_Batch_${uuid}`,
    tags,
    type,
    state: (input.state as 'ENABLED' | 'DISABLED' | undefined) ?? 'ENABLED',
    status: 'CREATING',
    ...(type === 'MANAGED' && isRecord(cr)
      ? { computeResources: withEc2Defaults(cr) as ComputeEnvironmentDetail['computeResources'] }
      : {}),
    ...(type === 'UNMANAGED' && typeof input.unmanagedvCpus === 'number'
      ? { unmanagedvCpus: input.unmanagedvCpus }
      : {}),
    serviceRole,
    ...(isRecord(input.eksConfiguration) ? { eksConfiguration: cloneJson(input.eksConfiguration) } : {}),
    containerOrchestrationType: isRecord(input.eksConfiguration) ? 'EKS' : 'ECS',
    uuid,
    ...(typeof input.context === 'string' ? { context: input.context } : {}),
  };
  const doc: ComputeEnvironmentDoc = {
    detail,
    capacity: declaredCapacity(detail),
    ...(executor ? { executor } : {}),
  };
  try {
    await deps.store.putResource(KIND, name, arn, doc, null);
  } catch (err) {
    if (err instanceof ConflictError) throw new ConflictError('Object already exists', { cause: err });
    throw err;
  }
  emitChange(deps.events, KIND, name, arn, 'created');
  return { computeEnvironmentName: name, computeEnvironmentArn: arn };
};

const describeComputeEnvironments: BatchOperation = async (input, _ctx, deps) => {
  const refs = input.computeEnvironments as string[] | undefined;
  if (refs && refs.length > 0) {
    if (refs.length > 100)
      throw new ValidationError('computeEnvironments can contain at most 100 entries', 'computeEnvironments');
    const seen = new Set<string>();
    const found: ComputeEnvironmentDoc[] = [];
    for (const ref of refs) {
      const rec = await findComputeEnvironment(deps, ref);
      if (!rec || seen.has(rec.key)) continue;
      seen.add(rec.key);
      found.push(rec.data);
    }
    const indexed = found.map((d, i) => ({ d, c: indexCursor(i) }));
    const page = paginate(indexed, (x) => x.c, input, 'DescribeComputeEnvironments');
    return {
      computeEnvironments: page.items.map((x) => computeEnvironmentWire(x.d)),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  }
  const all = await deps.store.listResources<ComputeEnvironmentDoc>(KIND, { limit: 100_000 });
  const page = paginate(all, (r) => r.key, input, 'DescribeComputeEnvironments');
  return {
    computeEnvironments: page.items.map((r) => computeEnvironmentWire(r.data)),
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
  };
};

/** Members whose empty value ("" / {launchTemplateId:""} / {}) means "unset" on update. */
const UNSET_WITH_EMPTY_STRING = [
  'allocationStrategy',
  'ec2KeyPair',
  'imageId',
  'instanceRole',
  'placementGroup',
];

function mergeComputeResources(
  current: Record<string, unknown>,
  update: Record<string, unknown>,
): Record<string, unknown> {
  const out = cloneJson(current);
  for (const [k, v] of Object.entries(update)) {
    if (v === undefined || v === null) continue;
    if (k === 'updateToLatestImageVersion') continue; // an action, not a stored member
    if (UNSET_WITH_EMPTY_STRING.includes(k) && v === '') {
      delete out[k];
      continue;
    }
    if (k === 'launchTemplate' && isRecord(v) && !v.launchTemplateId && !v.launchTemplateName) {
      delete out[k];
      continue;
    }
    if (k === 'tags' && isRecord(v) && Object.keys(v).length === 0) {
      delete out[k];
      continue;
    }
    out[k] = cloneJson(v);
  }
  return out;
}

const updateComputeEnvironment: BatchOperation = async (input, _ctx, deps) => {
  const ref = input.computeEnvironment as string;
  const existing = await findComputeEnvironment(deps, ref);
  if (!existing) throw ceMissing(ref);
  const rec = await updateResource<ComputeEnvironmentDoc>(
    deps.store,
    KIND,
    existing.key,
    (cur) => {
      const doc = cloneJson(cur.data);
      const d = doc.detail;
      if (d.status === 'DELETING' || d.status === 'DELETED') {
        throw new ConflictError(`ComputeEnvironment ${d.computeEnvironmentName} is being deleted`);
      }
      if (input.state !== undefined) d.state = input.state as 'ENABLED' | 'DISABLED';
      if (typeof input.serviceRole === 'string' && input.serviceRole !== '')
        d.serviceRole = input.serviceRole;
      if (isRecord(input.updatePolicy))
        d.updatePolicy = { ...(d.updatePolicy ?? {}), ...cloneJson(input.updatePolicy) };
      if (typeof input.context === 'string') d.context = input.context;
      if (input.unmanagedvCpus !== undefined) {
        if (d.type !== 'UNMANAGED') {
          throw new ValidationError(
            'unmanagedvCpus is only supported for UNMANAGED compute environments',
            'unmanagedvCpus',
          );
        }
        if ((input.unmanagedvCpus as number) < 0)
          throw new ValidationError('unmanagedvCpus must be greater than or equal to 0', 'unmanagedvCpus');
        d.unmanagedvCpus = input.unmanagedvCpus as number;
      }
      const cru = input.computeResources;
      if (isRecord(cru)) {
        if (d.type === 'UNMANAGED' || !d.computeResources) {
          throw new ValidationError(
            'computeResources can only be updated for MANAGED compute environments',
            'computeResources',
          );
        }
        const current = d.computeResources as Record<string, unknown>;
        if (cru.type !== undefined && isFargateType(cru.type) !== isFargateType(current.type)) {
          throw new ValidationError(
            'Cannot change the compute resource type between EC2/SPOT and FARGATE/FARGATE_SPOT',
            'computeResources.type',
          );
        }
        if (
          typeof cru.desiredvCpus === 'number' &&
          !isFargateType(current.type) &&
          typeof current.desiredvCpus === 'number' &&
          cru.desiredvCpus < current.desiredvCpus
        ) {
          throw new ValidationError(
            `Manually scaling down compute environment is not supported. desiredvCpus must be greater than or equal to the current value ${current.desiredvCpus}`,
            'computeResources.desiredvCpus',
          );
        }
        const merged = mergeComputeResources(current, cru);
        validateComputeResources(merged);
        d.computeResources = merged as ComputeEnvironmentDetail['computeResources'];
      }
      d.status = 'UPDATING';
      delete d.statusReason;
      doc.capacity =
        doc.capacity?.source === 'host' && !isRecord(cru) && input.unmanagedvCpus === undefined
          ? doc.capacity
          : declaredCapacity(d);
      return doc;
    },
    () => ceMissing(ref),
  );
  emitChange(deps.events, KIND, rec.key, rec.arn, 'updated');
  return { computeEnvironmentName: rec.data.detail.computeEnvironmentName, computeEnvironmentArn: rec.arn };
};

const deleteComputeEnvironment: BatchOperation = async (input, _ctx, deps) => {
  const ref = input.computeEnvironment as string;
  const existing = await findComputeEnvironment(deps, ref);
  if (!existing) throw ceMissing(ref);
  if (existing.data.detail.status === 'DELETING') return {};
  const queues = await deps.store.listResources<JobQueueDoc>('job-queue', { limit: 100_000 });
  if (
    queues.some((q) =>
      q.data.detail.computeEnvironmentOrder.some((o) => o.computeEnvironment === existing.arn),
    )
  ) {
    throw new ConflictError('Cannot delete, found existing JobQueue relationship');
  }
  const rec = await updateResource<ComputeEnvironmentDoc>(
    deps.store,
    KIND,
    existing.key,
    (cur) => {
      const doc = cloneJson(cur.data);
      if (doc.detail.state !== 'DISABLED') {
        throw new ConflictError('Cannot delete, compute environment must be in DISABLED state');
      }
      doc.detail.status = 'DELETING';
      delete doc.detail.statusReason;
      return doc;
    },
    () => ceMissing(ref),
  );
  emitChange(deps.events, KIND, rec.key, rec.arn, 'updated');
  return {};
};

export const computeEnvironmentOperations: Readonly<Record<string, BatchOperation>> = {
  CreateComputeEnvironment: createComputeEnvironment,
  DescribeComputeEnvironments: describeComputeEnvironments,
  UpdateComputeEnvironment: updateComputeEnvironment,
  DeleteComputeEnvironment: deleteComputeEnvironment,
};
