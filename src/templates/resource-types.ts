/**
 * @module templates/resource-types
 * What `openbatch apply` does for each resource type. AWS::Batch::* and AWS::Logs::LogGroup are
 * applied through the API; IAM, EC2 networking and other AWS types are accepted and recorded with
 * stable fake ids/ARNs (not enforced); AWS::CDK::Metadata and custom resources are recorded no-ops.
 */
import { createHash } from 'node:crypto';

import type { OpenbatchClient } from '../sdk/client.js';
import type { Value } from './intrinsics.js';
import { mapProperties, type PropertySpec } from './property-mapping.js';
import type { ResourceState } from './stack-state.js';
import { isRecord, TemplateError } from './template-error.js';

export interface HandlerContext {
  client: OpenbatchClient;
  stackName: string;
  logicalId: string;
  region: string;
  accountId: string;
  /** Template path of this resource's Properties (for errors). */
  path: string;
  /** Longest wait for a status change. */
  waitTimeoutMs: number;
  pollMs: number;
  log(message: string): void;
}

export interface Applied {
  physicalId: string;
  attributes: Record<string, string | string[]>;
  /** Extra words for the output (e.g. "revision 2; revision 1 deregistered"). */
  detail?: string;
}

export interface ResourceHandler {
  /** `applied` types call the API; `recorded` ones only get stable ids. */
  readonly mode: 'applied' | 'recorded';
  /** Why a recorded type has no effect here (shown in the output). */
  readonly note?: string;
  /** Validate and convert properties (throws TemplateError naming the path). */
  check(props: Record<string, Value>, ctx: Pick<HandlerContext, 'path' | 'stackName' | 'logicalId'>): void;
  create(props: Record<string, Value>, ctx: HandlerContext): Promise<Applied>;
  /** Update in place, or return 'replace' when the change needs a new resource. */
  update(old: ResourceState, props: Record<string, Value>, ctx: HandlerContext): Promise<Applied | 'replace'>;
  /** Would this change need replacement? (for the plan) */
  needsReplacement(oldProps: unknown, props: Record<string, Value>): boolean;
  delete(state: ResourceState, ctx: HandlerContext): Promise<void>;
  /** Attribute names Fn::GetAtt accepts (undefined: any). */
  readonly attributes?: readonly string[];
  /** An in-place update changes the physical id (a job definition's new revision ARN). */
  readonly updateChangesId?: boolean;
}

export function stableHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}

/** CloudFormation-style generated name: `<stack>-<LogicalId>-<HASH>`, max `max` chars. */
export function generatedName(stack: string, logicalId: string, max = 128): string {
  const suffix = stableHash(stack, logicalId).slice(0, 12).toUpperCase();
  const head = `${stack}-${logicalId}`.slice(0, Math.max(1, max - suffix.length - 1));
  return `${head}-${suffix}`.replace(/[^A-Za-z0-9_-]/g, '-');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitUntil<T>(
  what: string,
  ctx: HandlerContext,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + ctx.waitTimeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(
        `Timed out after ${Math.round(ctx.waitTimeoutMs / 1000)}s waiting for ${what} (Resources.${ctx.logicalId})`,
      );
    await sleep(ctx.pollMs);
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function oldProps(old: unknown): Record<string, Value> {
  return isRecord(old) ? (old as Record<string, Value>) : {};
}

// ---------------------------------------------------------------- AWS::Batch::ComputeEnvironment

const CE_SPEC: PropertySpec = {
  required: ['Type'],
  allowed: [
    'ComputeEnvironmentName',
    'Type',
    'State',
    'ComputeResources',
    'ServiceRole',
    'UnmanagedvCpus',
    'Tags',
    'EksConfiguration',
    'UpdatePolicy',
    'Context',
  ],
  cfnOnly: ['ReplaceComputeEnvironment'],
  enums: {
    Type: ['MANAGED', 'UNMANAGED'],
    State: ['ENABLED', 'DISABLED'],
    'ComputeResources.Type': ['EC2', 'SPOT', 'FARGATE', 'FARGATE_SPOT'],
  },
};

const CR_UPDATABLE = [
  'minvCpus',
  'maxvCpus',
  'desiredvCpus',
  'subnets',
  'securityGroupIds',
  'allocationStrategy',
  'instanceTypes',
  'ec2KeyPair',
  'instanceRole',
  'tags',
  'placementGroup',
  'bidPercentage',
  'launchTemplate',
  'ec2Configuration',
  'updateToLatestImageVersion',
  'type',
  'imageId',
];

function ceInput(
  props: Record<string, Value>,
  ctx: Pick<HandlerContext, 'path' | 'stackName' | 'logicalId'>,
): Record<string, unknown> {
  const input = mapProperties(props, CE_SPEC, ctx.path);
  input.computeEnvironmentName ??= generatedName(ctx.stackName, ctx.logicalId);
  input.type = String(input.type).toUpperCase();
  if (input.type === 'MANAGED' && !isRecord(input.computeResources))
    throw new TemplateError(`${ctx.path}.ComputeResources`, 'required for a MANAGED compute environment');
  const cr = input.computeResources;
  if (isRecord(cr)) {
    if (cr.maxvCpus === undefined)
      throw new TemplateError(`${ctx.path}.ComputeResources.MaxvCpus`, 'required property is missing');
    if (typeof cr.minvCpus === 'number' && typeof cr.maxvCpus === 'number' && cr.minvCpus > cr.maxvCpus) {
      throw new TemplateError(
        `${ctx.path}.ComputeResources.MinvCpus`,
        `must not exceed MaxvCpus (${cr.minvCpus} > ${cr.maxvCpus})`,
      );
    }
  }
  return input;
}

async function describeCe(ctx: HandlerContext, arn: string) {
  return (await ctx.client.batch.describeComputeEnvironments({ computeEnvironments: [arn] }))
    .computeEnvironments?.[0];
}

async function waitCeSettled(ctx: HandlerContext, arn: string): Promise<void> {
  const ce = await waitUntil('the compute environment to become VALID', ctx, async () => {
    const d = await describeCe(ctx, arn);
    return d && d.status !== 'CREATING' && d.status !== 'UPDATING' ? d : undefined;
  });
  if (ce.status === 'INVALID')
    throw new Error(
      `Compute environment ${ce.computeEnvironmentName} is INVALID: ${ce.statusReason ?? 'no reason given'}`,
    );
}

const computeEnvironment: ResourceHandler = {
  mode: 'applied',
  attributes: ['ComputeEnvironmentArn'],
  check: (props, ctx) => void ceInput(props, ctx),
  async create(props, ctx) {
    const input = ceInput(props, ctx);
    const res = await ctx.client.batch.createComputeEnvironment(input as never);
    const arn = res.computeEnvironmentArn!;
    await waitCeSettled(ctx, arn);
    return {
      physicalId: arn,
      attributes: { ComputeEnvironmentArn: arn, ComputeEnvironmentName: res.computeEnvironmentName! },
    };
  },
  needsReplacement(old, props) {
    const o = oldProps(old);
    const cr = (p: Record<string, Value>) => (isRecord(p.ComputeResources) ? p.ComputeResources : {});
    return (
      !same(o.ComputeEnvironmentName, props.ComputeEnvironmentName) ||
      !same(o.Type, props.Type) ||
      !same(cr(o).Type, cr(props).Type)
    );
  },
  async update(old, props, ctx) {
    if (this.needsReplacement(old.properties, props)) return 'replace';
    const before = ceInput(oldProps(old.properties), ctx);
    const after = ceInput(props, ctx);
    const update: Record<string, unknown> = { computeEnvironment: old.physicalId };
    for (const k of ['state', 'serviceRole', 'unmanagedvCpus', 'updatePolicy', 'context'] as const) {
      if (!same(before[k], after[k]) && after[k] !== undefined) update[k] = after[k];
    }
    if (before.state !== undefined && after.state === undefined) update.state = 'ENABLED';
    const b = isRecord(before.computeResources) ? before.computeResources : {};
    const a = isRecord(after.computeResources) ? after.computeResources : {};
    const cr: Record<string, unknown> = {};
    for (const k of CR_UPDATABLE) if (!same(b[k], a[k]) && a[k] !== undefined) cr[k] = a[k];
    if (Object.keys(cr).length) update.computeResources = cr;
    if (Object.keys(update).length > 1) {
      await ctx.client.batch.updateComputeEnvironment(update as never);
      await waitCeSettled(ctx, old.physicalId);
    }
    if (!same(before.tags, after.tags) && after.tags)
      await ctx.client.batch.tagResource({
        resourceArn: old.physicalId,
        tags: after.tags as Record<string, string>,
      });
    return {
      physicalId: old.physicalId,
      attributes: old.attributes,
      detail: `updated in place (${
        Object.keys(update)
          .filter((k) => k !== 'computeEnvironment')
          .concat(Object.keys(cr).map((k) => `computeResources.${k}`))
          .filter((k) => k !== 'computeResources')
          .join(', ') || 'tags'
      })`,
    };
  },
  async delete(state, ctx) {
    const arn = state.physicalId;
    const d = await describeCe(ctx, arn);
    if (!d) return;
    if (d.state !== 'DISABLED') {
      await waitCeSettled(ctx, arn);
      await ctx.client.batch.updateComputeEnvironment({ computeEnvironment: arn, state: 'DISABLED' });
      await waitCeSettled(ctx, arn);
    }
    await ctx.client.batch.deleteComputeEnvironment({ computeEnvironment: arn });
    await waitUntil('the compute environment to be deleted', ctx, async () =>
      (await describeCe(ctx, arn)) ? undefined : true,
    );
  },
};

// ---------------------------------------------------------------- AWS::Batch::JobQueue

const JQ_SPEC: PropertySpec = {
  required: ['Priority'],
  allowed: [
    'JobQueueName',
    'Priority',
    'State',
    'ComputeEnvironmentOrder',
    'SchedulingPolicyArn',
    'JobStateTimeLimitActions',
    'ServiceEnvironmentOrder',
    'JobQueueType',
    'Tags',
  ],
  enums: { State: ['ENABLED', 'DISABLED'] },
};

function jqInput(
  props: Record<string, Value>,
  ctx: Pick<HandlerContext, 'path' | 'stackName' | 'logicalId'>,
): Record<string, unknown> {
  const input = mapProperties(props, JQ_SPEC, ctx.path);
  input.jobQueueName ??= generatedName(ctx.stackName, ctx.logicalId);
  if (props.ComputeEnvironmentOrder === undefined && props.ServiceEnvironmentOrder === undefined) {
    throw new TemplateError(`${ctx.path}.ComputeEnvironmentOrder`, 'required property is missing');
  }
  if (Array.isArray(props.ComputeEnvironmentOrder)) {
    props.ComputeEnvironmentOrder.forEach((o, i) => {
      if (!isRecord(o) || o.Order === undefined)
        throw new TemplateError(
          `${ctx.path}.ComputeEnvironmentOrder[${i}].Order`,
          'required property is missing',
        );
      if (o.ComputeEnvironment === undefined)
        throw new TemplateError(
          `${ctx.path}.ComputeEnvironmentOrder[${i}].ComputeEnvironment`,
          'required property is missing',
        );
    });
  }
  return input;
}

async function describeJq(ctx: HandlerContext, arn: string) {
  return (await ctx.client.batch.describeJobQueues({ jobQueues: [arn] })).jobQueues?.[0];
}

async function waitJqSettled(ctx: HandlerContext, arn: string): Promise<void> {
  const q = await waitUntil('the job queue to become VALID', ctx, async () => {
    const d = await describeJq(ctx, arn);
    return d && d.status !== 'CREATING' && d.status !== 'UPDATING' ? d : undefined;
  });
  if (q.status === 'INVALID')
    throw new Error(`Job queue ${q.jobQueueName} is INVALID: ${q.statusReason ?? 'no reason given'}`);
}

const jobQueue: ResourceHandler = {
  mode: 'applied',
  attributes: ['JobQueueArn', 'JobQueueName'],
  check: (props, ctx) => void jqInput(props, ctx),
  async create(props, ctx) {
    const res = await ctx.client.batch.createJobQueue(jqInput(props, ctx) as never);
    await waitJqSettled(ctx, res.jobQueueArn!);
    return {
      physicalId: res.jobQueueArn!,
      attributes: { JobQueueArn: res.jobQueueArn!, JobQueueName: res.jobQueueName! },
    };
  },
  needsReplacement: (old, props) =>
    !same(oldProps(old).JobQueueName, props.JobQueueName) ||
    !same(oldProps(old).JobQueueType, props.JobQueueType),
  async update(old, props, ctx) {
    if (this.needsReplacement(old.properties, props)) return 'replace';
    const before = jqInput(oldProps(old.properties), ctx);
    const after = jqInput(props, ctx);
    const update: Record<string, unknown> = { jobQueue: old.physicalId };
    for (const k of [
      'priority',
      'state',
      'computeEnvironmentOrder',
      'schedulingPolicyArn',
      'jobStateTimeLimitActions',
      'serviceEnvironmentOrder',
    ] as const) {
      if (!same(before[k], after[k]) && after[k] !== undefined) update[k] = after[k];
    }
    if (before.state !== undefined && after.state === undefined) update.state = 'ENABLED';
    if (Object.keys(update).length > 1) {
      await ctx.client.batch.updateJobQueue(update as never);
      await waitJqSettled(ctx, old.physicalId);
    }
    if (!same(before.tags, after.tags) && after.tags)
      await ctx.client.batch.tagResource({
        resourceArn: old.physicalId,
        tags: after.tags as Record<string, string>,
      });
    return {
      physicalId: old.physicalId,
      attributes: old.attributes,
      detail: `updated in place (${
        Object.keys(update)
          .filter((k) => k !== 'jobQueue')
          .join(', ') || 'tags'
      })`,
    };
  },
  async delete(state, ctx) {
    const arn = state.physicalId;
    const d = await describeJq(ctx, arn);
    if (!d) return;
    if (d.state !== 'DISABLED') {
      await waitJqSettled(ctx, arn);
      await ctx.client.batch.updateJobQueue({ jobQueue: arn, state: 'DISABLED' });
      await waitJqSettled(ctx, arn);
    }
    await ctx.client.batch.deleteJobQueue({ jobQueue: arn });
    await waitUntil('the job queue to be deleted', ctx, async () =>
      (await describeJq(ctx, arn)) ? undefined : true,
    );
  },
};

// ---------------------------------------------------------------- AWS::Batch::JobDefinition

const JD_SPEC: PropertySpec = {
  required: ['Type'],
  allowed: [
    'JobDefinitionName',
    'Type',
    'Parameters',
    'ContainerProperties',
    'NodeProperties',
    'EksProperties',
    'EcsProperties',
    'RetryStrategy',
    'Timeout',
    'PlatformCapabilities',
    'PropagateTags',
    'SchedulingPriority',
    'Tags',
    'ConsumableResourceProperties',
  ],
  cfnOnly: ['ResourceRetentionPolicy'],
  enums: { Type: ['CONTAINER', 'MULTINODE'] },
};

function jdInput(
  props: Record<string, Value>,
  ctx: Pick<HandlerContext, 'path' | 'stackName' | 'logicalId'>,
): Record<string, unknown> {
  const input = mapProperties(props, JD_SPEC, ctx.path);
  input.jobDefinitionName ??= generatedName(ctx.stackName, ctx.logicalId);
  input.type = String(input.type).toLowerCase();
  if (
    input.type === 'container' &&
    !input.containerProperties &&
    !input.eksProperties &&
    !input.ecsProperties
  ) {
    throw new TemplateError(
      `${ctx.path}.ContainerProperties`,
      'required for a container job definition (or EksProperties / EcsProperties)',
    );
  }
  const cp = props.ContainerProperties;
  if (isRecord(cp) && cp.Image === undefined)
    throw new TemplateError(`${ctx.path}.ContainerProperties.Image`, 'required property is missing');
  const rs = props.RetryStrategy;
  if (isRecord(rs) && Array.isArray(rs.EvaluateOnExit)) {
    rs.EvaluateOnExit.forEach((e, i) => {
      if (
        !isRecord(e) ||
        typeof e.Action !== 'string' ||
        !['RETRY', 'EXIT'].includes(e.Action.toUpperCase())
      ) {
        throw new TemplateError(
          `${ctx.path}.RetryStrategy.EvaluateOnExit[${i}].Action`,
          'expected RETRY or EXIT',
        );
      }
    });
  }
  return input;
}

const jobDefinition: ResourceHandler = {
  mode: 'applied',
  updateChangesId: true,
  attributes: ['JobDefinitionArn', 'JobDefinitionName', 'Revision'],
  check: (props, ctx) => void jdInput(props, ctx),
  async create(props, ctx) {
    const res = await ctx.client.batch.registerJobDefinition(jdInput(props, ctx) as never);
    return {
      physicalId: res.jobDefinitionArn!,
      attributes: {
        JobDefinitionArn: res.jobDefinitionArn!,
        JobDefinitionName: res.jobDefinitionName!,
        Revision: String(res.revision),
      },
      detail: `revision ${res.revision}`,
    };
  },
  needsReplacement: () => false,
  async update(old, props, ctx) {
    const res = await ctx.client.batch.registerJobDefinition(jdInput(props, ctx) as never);
    const keep =
      isRecord(props.ResourceRetentionPolicy) &&
      (props.ResourceRetentionPolicy.SkipDeregisterOnUpdate === true ||
        props.ResourceRetentionPolicy.SkipDeregisterOnUpdate === 'true');
    if (!keep && old.physicalId !== res.jobDefinitionArn)
      await ctx.client.batch.deregisterJobDefinition({ jobDefinition: old.physicalId });
    return {
      physicalId: res.jobDefinitionArn!,
      attributes: {
        JobDefinitionArn: res.jobDefinitionArn!,
        JobDefinitionName: res.jobDefinitionName!,
        Revision: String(res.revision),
      },
      detail: `new revision ${res.revision}${keep ? '' : `; revision ${old.attributes.Revision ?? '?'} deregistered`}`,
    };
  },
  async delete(state, ctx) {
    const d = (await ctx.client.batch.describeJobDefinitions({ jobDefinitions: [state.physicalId] }))
      .jobDefinitions?.[0];
    if (d && d.status !== 'INACTIVE')
      await ctx.client.batch.deregisterJobDefinition({ jobDefinition: state.physicalId });
  },
};

// ---------------------------------------------------------------- AWS::Batch::SchedulingPolicy

const SP_SPEC: PropertySpec = { allowed: ['Name', 'FairsharePolicy', 'Tags'] };

const schedulingPolicy: ResourceHandler = {
  mode: 'applied',
  attributes: ['Arn'],
  check: (props, ctx) => void mapProperties(props, SP_SPEC, ctx.path),
  async create(props, ctx) {
    const input = mapProperties(props, SP_SPEC, ctx.path);
    input.name ??= generatedName(ctx.stackName, ctx.logicalId);
    const res = await ctx.client.batch.createSchedulingPolicy(input as never);
    return { physicalId: res.arn!, attributes: { Arn: res.arn! } };
  },
  needsReplacement: (old, props) => !same(oldProps(old).Name, props.Name),
  async update(old, props, ctx) {
    if (this.needsReplacement(old.properties, props)) return 'replace';
    const input = mapProperties(props, SP_SPEC, ctx.path);
    await ctx.client.batch.updateSchedulingPolicy({
      arn: old.physicalId,
      ...(input.fairsharePolicy ? { fairsharePolicy: input.fairsharePolicy as never } : {}),
    });
    return {
      physicalId: old.physicalId,
      attributes: old.attributes,
      detail: 'updated in place (fairsharePolicy)',
    };
  },
  async delete(state, ctx) {
    try {
      await ctx.client.batch.deleteSchedulingPolicy({ arn: state.physicalId });
    } catch (err) {
      if (!/not found|does not exist/i.test((err as Error).message)) throw err;
    }
  },
};

// ---------------------------------------------------------------- AWS::Batch::ConsumableResource

const CR_SPEC: PropertySpec = {
  required: ['TotalQuantity', 'ResourceType'],
  allowed: ['ConsumableResourceName', 'TotalQuantity', 'ResourceType', 'Tags'],
  enums: { ResourceType: ['REPLENISHABLE', 'NON_REPLENISHABLE'] },
};

const consumableResource: ResourceHandler = {
  mode: 'applied',
  attributes: ['ConsumableResourceArn', 'CreatedAt'],
  check: (props, ctx) => void mapProperties(props, CR_SPEC, ctx.path),
  async create(props, ctx) {
    const input = mapProperties(props, CR_SPEC, ctx.path);
    input.consumableResourceName ??= generatedName(ctx.stackName, ctx.logicalId);
    const res = await ctx.client.batch.createConsumableResource(input as never);
    return {
      physicalId: res.consumableResourceArn!,
      attributes: { ConsumableResourceArn: res.consumableResourceArn!, CreatedAt: String(Date.now()) },
    };
  },
  needsReplacement: (old, props) =>
    !same(oldProps(old).ConsumableResourceName, props.ConsumableResourceName) ||
    !same(oldProps(old).ResourceType, props.ResourceType),
  async update(old, props, ctx) {
    if (this.needsReplacement(old.properties, props)) return 'replace';
    const input = mapProperties(props, CR_SPEC, ctx.path);
    await ctx.client.batch.updateConsumableResource({
      consumableResource: old.physicalId,
      operation: 'SET',
      quantity: input.totalQuantity as number,
    });
    return {
      physicalId: old.physicalId,
      attributes: old.attributes,
      detail: `updated in place (totalQuantity ${String(input.totalQuantity)})`,
    };
  },
  async delete(state, ctx) {
    try {
      await ctx.client.batch.deleteConsumableResource({ consumableResource: state.physicalId });
    } catch (err) {
      if (!/not found|does not exist/i.test((err as Error).message)) throw err;
    }
  },
};

// ---------------------------------------------------------------- AWS::Logs::LogGroup

const LG_SPEC: PropertySpec = {
  allowed: [
    'LogGroupName',
    'RetentionInDays',
    'KmsKeyId',
    'LogGroupClass',
    'Tags',
    'DataProtectionPolicy',
    'FieldIndexPolicies',
    'ResourcePolicyDocument',
  ],
};
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

function lgInput(
  props: Record<string, Value>,
  ctx: Pick<HandlerContext, 'path' | 'stackName' | 'logicalId'>,
): { name: string; retention?: number; tags?: Record<string, string>; cls?: string } {
  // Logs Tags are a list of {Key, Value}; validate the rest through the generic mapper.
  const { Tags, ...rest } = props;
  const input = mapProperties(rest, LG_SPEC, ctx.path);
  let tags: Record<string, string> | undefined;
  if (Tags !== undefined) {
    if (!Array.isArray(Tags)) throw new TemplateError(`${ctx.path}.Tags`, 'expected a list of {Key, Value}');
    tags = {};
    Tags.forEach((t, i) => {
      if (!isRecord(t) || typeof t.Key !== 'string')
        throw new TemplateError(`${ctx.path}.Tags[${i}]`, 'expected {Key, Value}');
      tags![t.Key] = String(t.Value ?? '');
    });
  }
  const retention = input.retentionInDays as number | undefined;
  if (retention !== undefined && !RETENTION_DAYS.includes(retention))
    throw new TemplateError(
      `${ctx.path}.RetentionInDays`,
      `must be one of ${RETENTION_DAYS.join(', ')}, got ${retention}`,
    );
  return {
    name: str(input.logGroupName) ?? generatedName(ctx.stackName, ctx.logicalId, 512),
    ...(retention !== undefined ? { retention } : {}),
    ...(tags ? { tags } : {}),
    ...(str(input.logGroupClass) ? { cls: str(input.logGroupClass) } : {}),
  };
}

function lgArn(ctx: HandlerContext, name: string): string {
  return `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:${name}:*`;
}

const logGroup: ResourceHandler = {
  mode: 'applied',
  attributes: ['Arn'],
  check: (props, ctx) => void lgInput(props, ctx),
  async create(props, ctx) {
    const lg = lgInput(props, ctx);
    let adopted = false;
    try {
      await ctx.client.logs.createLogGroup({
        logGroupName: lg.name,
        ...(lg.tags ? { tags: lg.tags } : {}),
        ...(lg.cls ? { logGroupClass: lg.cls as never } : {}),
      });
    } catch (err) {
      if ((err as { name?: string }).name !== 'ResourceAlreadyExistsException') throw err;
      adopted = true;
    }
    if (lg.retention !== undefined)
      await ctx.client.logs.putRetentionPolicy({ logGroupName: lg.name, retentionInDays: lg.retention });
    return {
      physicalId: lg.name,
      attributes: { Arn: lgArn(ctx, lg.name) },
      detail: `${adopted ? 'adopted existing group; ' : ''}retention ${lg.retention ? `${lg.retention} days` : 'never expire'}`,
    };
  },
  needsReplacement: (old, props) => !same(oldProps(old).LogGroupName, props.LogGroupName),
  async update(old, props, ctx) {
    if (this.needsReplacement(old.properties, props)) return 'replace';
    const lg = lgInput(props, ctx);
    if (lg.retention !== undefined)
      await ctx.client.logs.putRetentionPolicy({
        logGroupName: old.physicalId,
        retentionInDays: lg.retention,
      });
    else await ctx.client.logs.deleteRetentionPolicy({ logGroupName: old.physicalId });
    if (lg.tags) await ctx.client.logs.tagLogGroup({ logGroupName: old.physicalId, tags: lg.tags });
    return {
      physicalId: old.physicalId,
      attributes: old.attributes,
      detail: `updated in place (retention ${lg.retention ? `${lg.retention} days` : 'never expire'})`,
    };
  },
  async delete(state, ctx) {
    try {
      await ctx.client.logs.deleteLogGroup({ logGroupName: state.physicalId });
    } catch (err) {
      if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
    }
  },
};

// ---------------------------------------------------------------- recorded types

type FakeIds = (props: Record<string, Value>, ctx: HandlerContext) => Applied;

function recorded(note: string, ids: FakeIds, attributes?: readonly string[]): ResourceHandler {
  return {
    mode: 'recorded',
    note,
    ...(attributes ? { attributes } : {}),
    check: () => undefined,
    create: async (props, ctx) => ids(props, ctx),
    needsReplacement: () => false,
    update: async (_old, props, ctx) => ids(props, ctx),
    delete: async () => undefined,
  };
}

function hex(ctx: HandlerContext, n: number): string {
  return stableHash(ctx.stackName, ctx.logicalId).slice(0, n);
}

const iamNote = 'IAM is recorded, not enforced, by openbatch';
const ec2Note = 'EC2 networking is recorded; openbatch does not create it';

function iamName(props: Record<string, Value>, key: string, ctx: HandlerContext): string {
  return str(props[key]) ?? generatedName(ctx.stackName, ctx.logicalId, 64);
}

function iamPath(props: Record<string, Value>): string {
  const p = str(props.Path) ?? '/';
  return p.endsWith('/') ? p : `${p}/`;
}

const HANDLERS: Record<string, ResourceHandler> = {
  'AWS::Batch::ComputeEnvironment': computeEnvironment,
  'AWS::Batch::JobQueue': jobQueue,
  'AWS::Batch::JobDefinition': jobDefinition,
  'AWS::Batch::SchedulingPolicy': schedulingPolicy,
  'AWS::Batch::ConsumableResource': consumableResource,
  'AWS::Logs::LogGroup': logGroup,
  'AWS::IAM::Role': recorded(
    iamNote,
    (p, ctx) => {
      const name = iamName(p, 'RoleName', ctx);
      return {
        physicalId: name,
        attributes: {
          Arn: `arn:aws:iam::${ctx.accountId}:role${iamPath(p)}${name}`,
          RoleId: `AROA${hex(ctx, 17).toUpperCase()}`,
        },
      };
    },
    ['Arn', 'RoleId'],
  ),
  'AWS::IAM::InstanceProfile': recorded(
    iamNote,
    (p, ctx) => {
      const name = iamName(p, 'InstanceProfileName', ctx);
      return {
        physicalId: name,
        attributes: { Arn: `arn:aws:iam::${ctx.accountId}:instance-profile${iamPath(p)}${name}` },
      };
    },
    ['Arn'],
  ),
  'AWS::IAM::ManagedPolicy': recorded(iamNote, (p, ctx) => {
    const arn = `arn:aws:iam::${ctx.accountId}:policy${iamPath(p)}${iamName(p, 'ManagedPolicyName', ctx)}`;
    return { physicalId: arn, attributes: { PolicyArn: arn } };
  }),
  'AWS::IAM::Policy': recorded(iamNote, (p, ctx) => ({
    physicalId: iamName(p, 'PolicyName', ctx),
    attributes: {},
  })),
  'AWS::IAM::User': recorded(iamNote, (p, ctx) => {
    const name = iamName(p, 'UserName', ctx);
    return {
      physicalId: name,
      attributes: { Arn: `arn:aws:iam::${ctx.accountId}:user${iamPath(p)}${name}` },
    };
  }),
  'AWS::EC2::SecurityGroup': recorded(
    ec2Note,
    (p, ctx) => {
      const id = `sg-${hex(ctx, 17)}`;
      return {
        physicalId: id,
        attributes: {
          GroupId: id,
          VpcId: str(p.VpcId) ?? `vpc-${stableHash(ctx.stackName, 'default-vpc').slice(0, 17)}`,
        },
      };
    },
    ['GroupId', 'VpcId'],
  ),
  'AWS::EC2::VPC': recorded(ec2Note, (p, ctx) => {
    const id = `vpc-${hex(ctx, 17)}`;
    return {
      physicalId: id,
      attributes: {
        VpcId: id,
        CidrBlock: str(p.CidrBlock) ?? '10.0.0.0/16',
        DefaultSecurityGroup: `sg-${stableHash(id, 'default').slice(0, 17)}`,
        DefaultNetworkAcl: `acl-${stableHash(id, 'acl').slice(0, 17)}`,
        CidrBlockAssociations: [],
        Ipv6CidrBlocks: [],
      },
    };
  }),
  'AWS::EC2::Subnet': recorded(ec2Note, (p, ctx) => {
    const id = `subnet-${hex(ctx, 17)}`;
    return {
      physicalId: id,
      attributes: {
        SubnetId: id,
        VpcId: str(p.VpcId) ?? '',
        AvailabilityZone: str(p.AvailabilityZone) ?? `${ctx.region}a`,
        CidrBlock: str(p.CidrBlock) ?? '',
      },
    };
  }),
  'AWS::EC2::LaunchTemplate': recorded(ec2Note, (_p, ctx) => {
    const id = `lt-${hex(ctx, 17)}`;
    return {
      physicalId: id,
      attributes: { LaunchTemplateId: id, DefaultVersionNumber: '1', LatestVersionNumber: '1' },
    };
  }),
  'AWS::CDK::Metadata': recorded('CDK metadata; nothing to apply', () => ({
    physicalId: 'CDKMetadata',
    attributes: {},
  })),
};

const EC2_PREFIX: Record<string, string> = {
  InternetGateway: 'igw',
  NatGateway: 'nat',
  RouteTable: 'rtb',
  EIP: 'eipalloc',
  VPCEndpoint: 'vpce',
  NetworkAcl: 'acl',
  NetworkInterface: 'eni',
  PlacementGroup: 'pg',
  KeyPair: 'key',
};

/** The handler for `type`: a known one, or a recorded no-op that says why. */
export function handlerFor(type: string): ResourceHandler {
  const known = HANDLERS[type];
  if (known) return known;
  if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') {
    return recorded(
      'custom resource: its Lambda is not invoked locally; Fn::GetAtt returns placeholders',
      (_p, ctx) => ({ physicalId: `${ctx.logicalId}-${hex(ctx, 12)}`, attributes: {} }),
    );
  }
  const m = /^AWS::([A-Za-z0-9]+)::([A-Za-z0-9]+)$/.exec(type);
  if (!m) throw new TemplateError('', `unsupported resource type '${type}'`);
  const [, service, kind] = m;
  const note =
    service === 'EC2'
      ? ec2Note
      : service === 'IAM'
        ? iamNote
        : `${type} is outside AWS Batch; recorded, not created`;
  return recorded(note, (_p, ctx) => {
    const prefix = service === 'EC2' ? (EC2_PREFIX[kind!] ?? kind!.toLowerCase()) : undefined;
    const id = prefix
      ? `${prefix}-${hex(ctx, 17)}`
      : generatedName(ctx.stackName, ctx.logicalId, 64).toLowerCase();
    return {
      physicalId: id,
      attributes: {
        Arn: `arn:aws:${service!.toLowerCase()}:${ctx.region}:${ctx.accountId}:${kind!.toLowerCase()}/${id}`,
      },
    };
  });
}
