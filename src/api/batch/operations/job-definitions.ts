/**
 * @module api/batch/operations/job-definitions
 * Register/Describe/DeregisterJobDefinition. Every registration is a new revision from
 * `store.nextRevision` (never reused); Deregister marks a revision INACTIVE, which stays describable.
 */
import { isArn } from '../../../core/arns.js';
import type { ConsumableResourceDoc } from '../../../core/consumable-resources/consumable-resource.js';
import { NotFoundError, ValidationError } from '../../../core/errors.js';
import {
  jdArn,
  jdKey,
  parseJobDefinitionRef,
  type JobDefinitionDetail,
  type JobDefinitionDoc,
} from '../../../core/job-definitions/job-definition.js';
import { buildJobDefinitionBody } from '../../../core/job-definitions/job-definition-rules.js';
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

const KIND = 'job-definition' as const;

export function jobDefinitionWire(doc: JobDefinitionDoc): Record<string, unknown> {
  const d = cloneJson(doc.detail) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(d)) if (v === undefined || v === null) delete d[k];
  return d;
}

/** consumableResourceProperties: every referenced resource must exist (echoed as sent). */
async function validateConsumables(deps: BatchDeps, props: unknown, field: string): Promise<void> {
  if (!isRecord(props)) return;
  const list = (props.consumableResourceList ?? []) as { consumableResource?: string; quantity?: number }[];
  const seen = new Set<string>();
  for (const c of list) {
    const ref = c.consumableResource;
    if (typeof ref !== 'string' || ref === '')
      throw new ValidationError(`${field}.consumableResource must be specified`, field);
    const rec = await findByNameOrArn<ConsumableResourceDoc>(
      deps.store,
      'consumable-resource',
      'consumable-resource',
      ref,
    );
    if (!rec) throw new ValidationError(`Consumable resource ${ref} does not exist`, field);
    if (seen.has(rec.arn))
      throw new ValidationError(`Consumable resource ${ref} is listed more than once`, field);
    seen.add(rec.arn);
    if (typeof c.quantity !== 'number' || c.quantity < 1) {
      throw new ValidationError(`${field}.quantity must be at least 1`, field);
    }
  }
}

const registerJobDefinition: BatchOperation = async (input, ctx, deps) => {
  const name = validateResourceName(input.jobDefinitionName, 'Job definition', 'jobDefinitionName');
  const tags = validateTags(input.tags);
  const body = buildJobDefinitionBody(input);
  await validateConsumables(
    deps,
    input.consumableResourceProperties,
    'consumableResourceProperties.consumableResourceList',
  );
  if (isRecord(input.nodeProperties)) {
    for (const r of (input.nodeProperties.nodeRangeProperties ?? []) as Record<string, unknown>[]) {
      await validateConsumables(
        deps,
        r.consumableResourceProperties,
        'nodeProperties.nodeRangeProperties.consumableResourceProperties',
      );
    }
  }
  const revision = await deps.store.nextRevision(name);
  const arn = jdArn(ctx, name, revision);
  const detail = {
    jobDefinitionName: name,
    jobDefinitionArn: arn,
    revision,
    status: 'ACTIVE',
    ...body,
    tags,
    ...(input.consumableResourceProperties !== undefined
      ? { consumableResourceProperties: cloneJson(input.consumableResourceProperties) }
      : {}),
  } as unknown as JobDefinitionDetail;
  const key = jdKey(name, revision);
  await deps.store.putResource<JobDefinitionDoc>(KIND, key, arn, { detail }, null);
  emitChange(deps.events, KIND, key, arn, 'created');
  return { jobDefinitionName: name, jobDefinitionArn: arn, revision };
};

function validateStatusFilter(status: unknown): 'ACTIVE' | 'INACTIVE' | undefined {
  if (status === undefined || status === null) return undefined;
  if (status !== 'ACTIVE' && status !== 'INACTIVE') {
    throw new ValidationError('status must be one of ACTIVE, INACTIVE', 'status');
  }
  return status;
}

async function revisionsOf(deps: BatchDeps, name: string): Promise<ResourceRecord<JobDefinitionDoc>[]> {
  const list = await deps.store.listResources<JobDefinitionDoc>(KIND, {
    keyPrefix: `${name}:`,
    limit: 1_000_000,
  });
  return list.filter((r) => r.data.detail.jobDefinitionName === name);
}

/**
 * Order: by name, then revision ascending (the store key order). AWS does not document the
 * order of DescribeJobDefinitions results (UNCONFIRMED).
 */
const describeJobDefinitions: BatchOperation = async (input, _ctx, deps) => {
  const refs = input.jobDefinitions as string[] | undefined;
  const status = validateStatusFilter(input.status);
  if (refs && refs.length > 0) {
    if (input.jobDefinitionName !== undefined || input.status !== undefined) {
      throw new ValidationError('jobDefinitions cannot be used with other parameters', 'jobDefinitions');
    }
    if (refs.length > 100)
      throw new ValidationError('jobDefinitions can contain at most 100 entries', 'jobDefinitions');
    const seen = new Set<string>();
    const found: JobDefinitionDoc[] = [];
    for (const ref of refs) {
      const p = parseJobDefinitionRef(ref);
      if (!p) continue;
      if (isArn(ref) && !ref.includes('job-definition/')) continue;
      const recs =
        p.revision !== undefined
          ? [await deps.store.getResource<JobDefinitionDoc>(KIND, jdKey(p.name, p.revision))]
          : await revisionsOf(deps, p.name); // bare name: every revision (lenient)
      for (const r of recs) {
        if (!r || seen.has(r.key)) continue;
        if (isArn(ref) && p.revision !== undefined && r.arn !== ref) continue;
        seen.add(r.key);
        found.push(r.data);
      }
    }
    const page = paginate(
      found.map((d, i) => ({ d, c: indexCursor(i) })),
      (x) => x.c,
      input,
      'DescribeJobDefinitions',
    );
    return {
      jobDefinitions: page.items.map((x) => jobDefinitionWire(x.d)),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  }
  let all: ResourceRecord<JobDefinitionDoc>[];
  if (typeof input.jobDefinitionName === 'string' && input.jobDefinitionName !== '') {
    all = await revisionsOf(deps, input.jobDefinitionName);
  } else {
    all = await deps.store.listResources<JobDefinitionDoc>(KIND, { limit: 1_000_000 });
  }
  if (status) all = all.filter((r) => r.data.detail.status === status);
  const page = paginate(all, (r) => r.key, input, 'DescribeJobDefinitions');
  return {
    jobDefinitions: page.items.map((r) => jobDefinitionWire(r.data)),
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
  };
};

const deregisterJobDefinition: BatchOperation = async (input, _ctx, deps) => {
  const ref = input.jobDefinition as string;
  const p = parseJobDefinitionRef(ref);
  if (!p || p.revision === undefined) {
    throw new ValidationError(
      'jobDefinition must be name:revision or a job definition ARN with a revision',
      'jobDefinition',
    );
  }
  const key = jdKey(p.name, p.revision);
  const missing = () => new NotFoundError('JobDefinition', ref, `JobDefinition ${ref} does not exist`);
  const current = await deps.store.getResource<JobDefinitionDoc>(KIND, key);
  if (!current || (isArn(ref) && current.arn !== ref)) throw missing();
  if (current.data.detail.status === 'INACTIVE') return {};
  const rec = await updateResource<JobDefinitionDoc>(
    deps.store,
    KIND,
    key,
    (cur) => {
      const doc = cloneJson(cur.data);
      doc.detail.status = 'INACTIVE';
      return doc;
    },
    missing,
  );
  emitChange(deps.events, KIND, key, rec.arn, 'updated');
  return {};
};

export const jobDefinitionOperations: Readonly<Record<string, BatchOperation>> = {
  RegisterJobDefinition: registerJobDefinition,
  DescribeJobDefinitions: describeJobDefinitions,
  DeregisterJobDefinition: deregisterJobDefinition,
};
