/**
 * @module api/batch/operations/tags
 * TagResource / UntagResource / ListTagsForResource on every taggable Batch ARN: compute
 * environments, job queues, job definition revisions, scheduling policies, consumable resources,
 * service environments, quota shares, service jobs and jobs (through the job engine). Array child
 * (`job/<id>:<n>`) and MNP node (`job/<id>#<n>`) ARNs are refused, as AWS does.
 */
import { parseArn } from '../../../core/arns.js';
import type { ComputeEnvironmentDoc } from '../../../core/compute-environments/compute-environment.js';
import { executorFromTags } from '../../../core/compute-environments/compute-environment-rules.js';
import { NotFoundError, ValidationError } from '../../../core/errors.js';
import { jdKey } from '../../../core/job-definitions/job-definition.js';
import { cloneJson, emitChange, updateResource } from '../../../core/tags/resource-records.js';
import { mergeTags, removeTags, validateTags, type Tags } from '../../../core/tags/tags.js';
import type { ResourceKind } from '../../../store/store.js';
import type { BatchDeps, BatchOperation } from '../batch-api.js';

type Target = { kind: 'job'; arn: string } | { kind: ResourceKind; key: string; arn: string };

function notFound(arn: string): NotFoundError {
  return new NotFoundError('Resource', arn, `Resource ${arn} does not exist`);
}

async function resolveTarget(deps: BatchDeps, arn: string): Promise<Target> {
  const p = parseArn(arn);
  if (!p || p.service !== 'batch') throw new ValidationError(`Invalid resource ARN: ${arn}`, 'resourceArn');
  const id = p.resourceId;
  let kind: ResourceKind;
  let key = id;
  switch (p.resourceType) {
    case 'job':
      if (id.includes(':') || id.includes('#')) {
        throw new ValidationError(
          'Tagging of array child jobs and multi-node parallel job nodes is not supported',
          'resourceArn',
        );
      }
      return { kind: 'job', arn };
    case 'compute-environment':
    case 'job-queue':
    case 'scheduling-policy':
    case 'consumable-resource':
    case 'service-environment':
    case 'quota-share':
    case 'service-job':
      kind = p.resourceType;
      break;
    case 'job-definition': {
      const colon = id.lastIndexOf(':');
      const rev = colon > 0 ? Number(id.slice(colon + 1)) : NaN;
      if (!Number.isInteger(rev) || rev < 1) {
        throw new ValidationError(
          'A job definition ARN must include the revision (name:revision)',
          'resourceArn',
        );
      }
      kind = 'job-definition';
      key = jdKey(id.slice(0, colon), rev);
      break;
    }
    default:
      throw new ValidationError(`Resource type ${p.resourceType} does not support tagging`, 'resourceArn');
  }
  const rec = await deps.store.getResourceByArn(kind, arn);
  if (!rec || rec.key !== key) throw notFound(arn);
  return { kind, key, arn };
}

async function currentTags(deps: BatchDeps, t: Target): Promise<Tags> {
  if (t.kind === 'job') {
    const tags = await deps.jobs.getJobTags(t.arn);
    if (!tags) throw notFound(t.arn);
    return tags;
  }
  const rec = await deps.store.getResource<{ detail: { tags?: Tags } }>(t.kind, (t as { key: string }).key);
  if (!rec) throw notFound(t.arn);
  return { ...(rec.data.detail.tags ?? {}) };
}

async function writeTags(deps: BatchDeps, t: Target, change: (tags: Tags) => Tags): Promise<void> {
  if (t.kind === 'job') {
    const tags = await currentTags(deps, t);
    await deps.jobs.setJobTags(t.arn, change(tags));
    return;
  }
  const key = (t as { key: string }).key;
  const kind = t.kind;
  await updateResource<{ detail: { tags?: Tags }; executor?: string }>(
    deps.store,
    kind,
    key,
    (cur) => {
      const doc = cloneJson(cur.data);
      const next = change({ ...(doc.detail.tags ?? {}) });
      doc.detail.tags = next;
      if (kind === 'compute-environment') {
        const executor = executorFromTags(next);
        const ce = doc as unknown as ComputeEnvironmentDoc;
        if (executor) ce.executor = executor;
        else delete ce.executor;
      }
      return doc;
    },
    () => notFound(t.arn),
  );
  emitChange(deps.events, kind, key, t.arn, 'updated');
}

const tagResource: BatchOperation = async (input, _ctx, deps) => {
  const arn = input.resourceArn as string;
  const tags = validateTags(input.tags);
  if (Object.keys(tags).length === 0) throw new ValidationError('tags must contain at least one tag', 'tags');
  const t = await resolveTarget(deps, arn);
  await writeTags(deps, t, (cur) => mergeTags(cur, tags));
  return {};
};

const untagResource: BatchOperation = async (input, _ctx, deps) => {
  const arn = input.resourceArn as string;
  const keys = (input.tagKeys ?? []) as string[];
  if (keys.length < 1 || keys.length > 50)
    throw new ValidationError('tagKeys must contain between 1 and 50 keys', 'tagKeys');
  for (const k of keys) {
    if (k.length < 1 || k.length > 128)
      throw new ValidationError('Tag keys must be between 1 and 128 characters', 'tagKeys');
  }
  const t = await resolveTarget(deps, arn);
  await writeTags(deps, t, (cur) => removeTags(cur, keys));
  return {};
};

const listTagsForResource: BatchOperation = async (input, _ctx, deps) => {
  const t = await resolveTarget(deps, input.resourceArn as string);
  return { tags: await currentTags(deps, t) };
};

export const tagOperations: Readonly<Record<string, BatchOperation>> = {
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTagsForResource: listTagsForResource,
};
