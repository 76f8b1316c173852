/**
 * @module api/batch/operations/consumable-resources
 * Create/Describe/Update/Delete/ListConsumableResources and ListJobsByConsumableResource.
 * inUseQuantity comes from the job engine (`deps.jobs.consumableInUse`); Delete is refused while
 * jobs hold some of the resource (openbatch choice: AWS does not document this case).
 */
import { batchArn } from '../../../core/arns.js';
import {
  applyQuantityOperation,
  CLIENT_TOKEN_TTL_MS,
  MAX_CONSUMABLE_RESOURCES,
  validateQuantity,
  validateResourceType,
  type ConsumableResourceDetail,
  type ConsumableResourceDoc,
} from '../../../core/consumable-resources/consumable-resource.js';
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from '../../../core/errors.js';
import { paginate, pageSize } from '../../../core/pagination/pagination.js';
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

const KIND = 'consumable-resource' as const;

function crMissing(ref: string): NotFoundError {
  return new NotFoundError('ConsumableResource', ref, `Consumable resource ${ref} does not exist`);
}

async function mustFind(deps: BatchDeps, ref: string): Promise<ResourceRecord<ConsumableResourceDoc>> {
  const rec = await findByNameOrArn<ConsumableResourceDoc>(deps.store, KIND, 'consumable-resource', ref);
  if (!rec) throw crMissing(ref);
  return rec;
}

const createConsumableResource: BatchOperation = async (input, ctx, deps) => {
  const name = validateResourceName(
    input.consumableResourceName,
    'Consumable resource',
    'consumableResourceName',
  );
  const tags = validateTags(input.tags);
  const total =
    input.totalQuantity === undefined ? 0 : validateQuantity(input.totalQuantity, 'totalQuantity');
  const resourceType = validateResourceType(input.resourceType);
  if ((await deps.store.countResources(KIND)) >= MAX_CONSUMABLE_RESOURCES) {
    throw new LimitExceededError(
      `Maximum number of consumable resources (${MAX_CONSUMABLE_RESOURCES}) reached`,
    );
  }
  if (await deps.store.getResource(KIND, name))
    throw new ConflictError(`Consumable resource ${name} already exists`);
  const arn = batchArn(ctx, 'consumable-resource', name);
  const detail: ConsumableResourceDetail = {
    consumableResourceName: name,
    consumableResourceArn: arn,
    totalQuantity: total,
    resourceType,
    createdAt: deps.clock.now(),
    tags,
  };
  try {
    await deps.store.putResource<ConsumableResourceDoc>(KIND, name, arn, { detail }, null);
  } catch (err) {
    if (err instanceof ConflictError)
      throw new ConflictError(`Consumable resource ${name} already exists`, { cause: err });
    throw err;
  }
  emitChange(deps.events, KIND, name, arn, 'created');
  return { consumableResourceName: name, consumableResourceArn: arn };
};

function inUse(deps: BatchDeps, arn: string): number {
  return deps.jobs.consumableInUse(arn);
}

const describeConsumableResource: BatchOperation = async (input, _ctx, deps) => {
  const rec = await mustFind(deps, input.consumableResource as string);
  const d = rec.data.detail;
  const used = inUse(deps, rec.arn);
  return {
    consumableResourceName: d.consumableResourceName,
    consumableResourceArn: d.consumableResourceArn,
    totalQuantity: d.totalQuantity,
    inUseQuantity: used,
    availableQuantity: Math.max(0, d.totalQuantity - used),
    resourceType: d.resourceType,
    createdAt: d.createdAt,
    tags: { ...(d.tags ?? {}) },
  };
};

function nameMatcher(values: readonly string[]): (name: string) => boolean {
  const pats = values.map((v) => v.toLowerCase());
  return (name) => {
    const n = name.toLowerCase();
    return pats.some((p) => (p.endsWith('*') ? n.startsWith(p.slice(0, -1)) : n === p));
  };
}

const listConsumableResources: BatchOperation = async (input, _ctx, deps) => {
  const filters = (input.filters ?? []) as { name?: string; values?: string[] }[];
  let match: (name: string) => boolean = () => true;
  for (const f of filters) {
    if (f.name !== 'CONSUMABLE_RESOURCE_NAME') {
      throw new ValidationError(
        `Invalid filter name ${String(f.name)}; valid filter names: CONSUMABLE_RESOURCE_NAME`,
        'filters',
      );
    }
    const m = nameMatcher(f.values ?? []);
    const prev = match;
    match = (n) => prev(n) && m(n);
  }
  const all = (await deps.store.listResources<ConsumableResourceDoc>(KIND, { limit: 1_000_000 })).filter(
    (r) => match(r.data.detail.consumableResourceName),
  );
  const page = paginate(all, (r) => r.key, input, 'ListConsumableResources');
  return {
    consumableResources: page.items.map((r) => ({
      consumableResourceName: r.data.detail.consumableResourceName,
      consumableResourceArn: r.arn,
      totalQuantity: r.data.detail.totalQuantity,
      inUseQuantity: inUse(deps, r.arn),
      resourceType: r.data.detail.resourceType,
    })),
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
  };
};

interface IdempotencyDoc {
  request: string;
  result: Record<string, unknown>;
  expiresAt: number;
}

const updateConsumableResource: BatchOperation = async (input, _ctx, deps) => {
  const ref = input.consumableResource as string;
  const existing = await mustFind(deps, ref);
  const hasQuantity = input.quantity !== undefined && input.quantity !== null;
  const operation = (input.operation as string | undefined) ?? 'SET';
  if (!['SET', 'ADD', 'REMOVE'].includes(operation))
    throw new ValidationError('operation must be one of SET, ADD, REMOVE', 'operation');
  if (input.operation !== undefined && !hasQuantity)
    throw new ValidationError('quantity must be specified with operation', 'quantity');
  const quantity = hasQuantity ? validateQuantity(input.quantity, 'quantity') : 0;

  const token = input.clientToken as string | undefined;
  const idemKey = token ? `UpdateConsumableResource:${existing.arn}:${token}` : undefined;
  const requestFingerprint = JSON.stringify({ operation, quantity: hasQuantity ? quantity : null });
  const now = deps.clock.now();
  let idem: ResourceRecord<IdempotencyDoc> | undefined;
  if (idemKey) {
    idem = await deps.store.getResource<IdempotencyDoc>('idempotency', idemKey);
    if (idem && idem.data.expiresAt > now) {
      if (idem.data.request !== requestFingerprint) {
        throw new ConflictError('clientToken was already used with a different request');
      }
      return idem.data.result;
    }
  }

  let result: Record<string, unknown>;
  if (!hasQuantity) {
    const d = existing.data.detail;
    result = {
      consumableResourceName: d.consumableResourceName,
      consumableResourceArn: d.consumableResourceArn,
      totalQuantity: d.totalQuantity,
    };
  } else {
    const rec = await updateResource<ConsumableResourceDoc>(
      deps.store,
      KIND,
      existing.key,
      (cur) => {
        const doc = cloneJson(cur.data);
        doc.detail.totalQuantity = applyQuantityOperation(doc.detail.totalQuantity, operation, quantity);
        return doc;
      },
      () => crMissing(ref),
    );
    emitChange(deps.events, KIND, rec.key, rec.arn, 'updated');
    const d = rec.data.detail;
    result = {
      consumableResourceName: d.consumableResourceName,
      consumableResourceArn: d.consumableResourceArn,
      totalQuantity: d.totalQuantity,
    };
  }
  if (idemKey) {
    const doc: IdempotencyDoc = { request: requestFingerprint, result, expiresAt: now + CLIENT_TOKEN_TTL_MS };
    // The idempotency record's "arn" must be unique per kind: use its key.
    await deps.store.putResource<IdempotencyDoc>(
      'idempotency',
      idemKey,
      `idempotency:${idemKey}`,
      doc,
      idem ? idem.version : null,
    );
  }
  return result;
};

const deleteConsumableResource: BatchOperation = async (input, _ctx, deps) => {
  const rec = await mustFind(deps, input.consumableResource as string);
  const used = inUse(deps, rec.arn);
  if (used > 0) {
    throw new ConflictError(
      `Cannot delete consumable resource ${rec.data.detail.consumableResourceName}: ${used} in use by running jobs`,
    );
  }
  if (await deps.store.deleteResource(KIND, rec.key))
    emitChange(deps.events, KIND, rec.key, rec.arn, 'deleted');
  return {};
};

const listJobsByConsumableResource: BatchOperation = async (input, _ctx, deps) => {
  const rec = await mustFind(deps, input.consumableResource as string);
  pageSize(input.maxResults);
  for (const f of (input.filters ?? []) as { name?: string }[]) {
    if (f.name !== 'JOB_STATUS' && f.name !== 'JOB_NAME') {
      throw new ValidationError(
        `Invalid filter name ${String(f.name)}; valid filter names: JOB_STATUS, JOB_NAME`,
        'filters',
      );
    }
  }
  const out = await deps.jobs.listJobsByConsumableResource(rec.arn, input);
  return { jobs: out.jobs, ...(out.nextToken ? { nextToken: out.nextToken } : {}) };
};

export const consumableResourceOperations: Readonly<Record<string, BatchOperation>> = {
  CreateConsumableResource: createConsumableResource,
  DescribeConsumableResource: describeConsumableResource,
  ListConsumableResources: listConsumableResources,
  UpdateConsumableResource: updateConsumableResource,
  DeleteConsumableResource: deleteConsumableResource,
  ListJobsByConsumableResource: listJobsByConsumableResource,
};
