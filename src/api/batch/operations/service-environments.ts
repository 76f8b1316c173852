/**
 * @module api/batch/operations/service-environments
 * Create/Describe/Update/DeleteServiceEnvironment(s): stored SageMaker Training capacity
 * definitions with CE-like status transitions (partial: nothing runs on SageMaker).
 */
import { batchArn } from '../../../core/arns.js';
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from '../../../core/errors.js';
import type { JobQueueDoc } from '../../../core/job-queues/job-queue.js';
import { indexCursor, paginate } from '../../../core/pagination/pagination.js';
import {
  MAX_SERVICE_ENVIRONMENTS,
  validateCapacityLimits,
  type ServiceEnvironmentDetail,
  type ServiceEnvironmentDoc,
} from '../../../core/service-environments/service-environment.js';
import {
  cloneJson,
  emitChange,
  findByNameOrArn,
  updateResource,
  validateResourceName,
} from '../../../core/tags/resource-records.js';
import { validateTags } from '../../../core/tags/tags.js';
import type { BatchDeps, BatchOperation } from '../batch-api.js';

const KIND = 'service-environment' as const;

function seMissing(ref: string): NotFoundError {
  return new NotFoundError('ServiceEnvironment', ref, `ServiceEnvironment ${ref} does not exist`);
}

function find(deps: BatchDeps, ref: string) {
  return findByNameOrArn<ServiceEnvironmentDoc>(deps.store, KIND, 'service-environment', ref);
}

function wire(d: ServiceEnvironmentDetail): Record<string, unknown> {
  return cloneJson(d) as unknown as Record<string, unknown>;
}

const createServiceEnvironment: BatchOperation = async (input, ctx, deps) => {
  const name = validateResourceName(
    input.serviceEnvironmentName,
    'Service environment',
    'serviceEnvironmentName',
  );
  const tags = validateTags(input.tags);
  const capacityLimits = validateCapacityLimits(input.capacityLimits);
  if ((await deps.store.countResources(KIND)) >= MAX_SERVICE_ENVIRONMENTS) {
    throw new LimitExceededError(
      `Maximum number of service environments (${MAX_SERVICE_ENVIRONMENTS}) reached`,
    );
  }
  if (await deps.store.getResource(KIND, name)) throw new ConflictError('Object already exists');
  const arn = batchArn(ctx, 'service-environment', name);
  const detail: ServiceEnvironmentDetail = {
    serviceEnvironmentName: name,
    serviceEnvironmentArn: arn,
    serviceEnvironmentType: input.serviceEnvironmentType as string,
    state: (input.state as 'ENABLED' | 'DISABLED' | undefined) ?? 'ENABLED',
    status: 'CREATING',
    capacityLimits,
    tags,
  };
  try {
    await deps.store.putResource<ServiceEnvironmentDoc>(KIND, name, arn, { detail }, null);
  } catch (err) {
    if (err instanceof ConflictError) throw new ConflictError('Object already exists', { cause: err });
    throw err;
  }
  emitChange(deps.events, KIND, name, arn, 'created');
  return { serviceEnvironmentName: name, serviceEnvironmentArn: arn };
};

const describeServiceEnvironments: BatchOperation = async (input, _ctx, deps) => {
  const refs = input.serviceEnvironments as string[] | undefined;
  if (refs && refs.length > 0) {
    if (refs.length > 100)
      throw new ValidationError('serviceEnvironments can contain at most 100 entries', 'serviceEnvironments');
    const seen = new Set<string>();
    const found: ServiceEnvironmentDoc[] = [];
    for (const ref of refs) {
      const rec = await find(deps, ref);
      if (!rec || seen.has(rec.key)) continue;
      seen.add(rec.key);
      found.push(rec.data);
    }
    const page = paginate(
      found.map((d, i) => ({ d, c: indexCursor(i) })),
      (x) => x.c,
      input,
      'DescribeServiceEnvironments',
    );
    return {
      serviceEnvironments: page.items.map((x) => wire(x.d.detail)),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  }
  const all = await deps.store.listResources<ServiceEnvironmentDoc>(KIND, { limit: 100_000 });
  const page = paginate(all, (r) => r.key, input, 'DescribeServiceEnvironments');
  return {
    serviceEnvironments: page.items.map((r) => wire(r.data.detail)),
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
  };
};

const updateServiceEnvironment: BatchOperation = async (input, _ctx, deps) => {
  const ref = input.serviceEnvironment as string;
  const existing = await find(deps, ref);
  if (!existing) throw seMissing(ref);
  const limits =
    input.capacityLimits !== undefined ? validateCapacityLimits(input.capacityLimits) : undefined;
  const rec = await updateResource<ServiceEnvironmentDoc>(
    deps.store,
    KIND,
    existing.key,
    (cur) => {
      const doc = cloneJson(cur.data);
      if (doc.detail.status === 'DELETING')
        throw new ConflictError(`ServiceEnvironment ${doc.detail.serviceEnvironmentName} is being deleted`);
      if (input.state !== undefined) doc.detail.state = input.state as 'ENABLED' | 'DISABLED';
      if (limits) doc.detail.capacityLimits = limits;
      doc.detail.status = 'UPDATING';
      return doc;
    },
    () => seMissing(ref),
  );
  emitChange(deps.events, KIND, rec.key, rec.arn, 'updated');
  return { serviceEnvironmentName: rec.data.detail.serviceEnvironmentName, serviceEnvironmentArn: rec.arn };
};

const deleteServiceEnvironment: BatchOperation = async (input, _ctx, deps) => {
  const ref = input.serviceEnvironment as string;
  const existing = await find(deps, ref);
  if (!existing) throw seMissing(ref);
  if (existing.data.detail.status === 'DELETING') return {};
  const queues = await deps.store.listResources<JobQueueDoc>('job-queue', { limit: 100_000 });
  if (
    queues.some((q) =>
      (q.data.detail.serviceEnvironmentOrder ?? []).some((o) => o.serviceEnvironment === existing.arn),
    )
  ) {
    throw new ConflictError('Cannot delete, found existing JobQueue relationship');
  }
  const rec = await updateResource<ServiceEnvironmentDoc>(
    deps.store,
    KIND,
    existing.key,
    (cur) => {
      const doc = cloneJson(cur.data);
      if (doc.detail.state !== 'DISABLED')
        throw new ConflictError('Cannot delete, service environment must be in DISABLED state');
      doc.detail.status = 'DELETING';
      return doc;
    },
    () => seMissing(ref),
  );
  emitChange(deps.events, KIND, rec.key, rec.arn, 'updated');
  return {};
};

export const serviceEnvironmentOperations: Readonly<Record<string, BatchOperation>> = {
  CreateServiceEnvironment: createServiceEnvironment,
  DescribeServiceEnvironments: describeServiceEnvironments,
  UpdateServiceEnvironment: updateServiceEnvironment,
  DeleteServiceEnvironment: deleteServiceEnvironment,
};
