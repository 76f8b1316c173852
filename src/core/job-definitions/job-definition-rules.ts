/**
 * @module core/job-definitions/job-definition-rules
 * RegisterJobDefinition validation (aws-batch-semantics §3.4) and the echo shape Describe returns:
 * what was sent, plus AWS's empty-array defaults inside container properties. Nothing else is
 * invented (no retryStrategy, timeout, schedulingPriority or platformCapabilities).
 */
import { ValidationError } from '../errors.js';
import { validateRetryStrategy } from '../jobs/retry-strategy.js';
import { cloneJson, isRecord } from '../tags/resource-records.js';
import type { RetryStrategy } from './job-definition.js';

export const MAX_JOB_DEFINITION_BYTES = 24 * 1024;

/** Fargate vCPU → allowed MEMORY values (MiB). */
const FARGATE_COMBOS: ReadonlyMap<number, readonly number[]> = new Map([
  [0.25, [512, 1024, 2048]],
  [0.5, range(1024, 4096, 1024)],
  [1, range(2048, 8192, 1024)],
  [2, range(4096, 16384, 1024)],
  [4, range(8192, 30720, 1024)],
  [8, range(16384, 61440, 4096)],
  [16, range(32768, 122880, 8192)],
]);

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

function bad(message: string, field: string): never {
  throw new ValidationError(message, field);
}

const NUMERIC_RE = /^\d+(\.\d+)?$/;

interface ContainerCheckOptions {
  fargate: boolean;
  field: string;
  requireImage: boolean;
  /** Check vcpus/memory/resourceRequirements (off for multi-container ECS tasks). */
  resources?: boolean;
}

/** Validate one container-properties-like object (containerProperties, node container, ECS container). */
export function validateContainer(c: Record<string, unknown>, opts: ContainerCheckOptions): void {
  const f = opts.field;
  if (opts.requireImage && (typeof c.image !== 'string' || c.image.length === 0)) {
    bad(`${f}.image must be specified`, `${f}.image`);
  }
  if (typeof c.image === 'string' && c.image.length > 255)
    bad(`${f}.image must be at most 255 characters`, `${f}.image`);
  const cmd = c.command;
  if (Array.isArray(cmd) && cmd.some((s) => s === ''))
    bad('Command field cannot have empty strings', `${f}.command`);
  const env = c.environment;
  if (Array.isArray(env)) {
    for (const e of env as { name?: string }[]) {
      if (typeof e.name === 'string' && e.name.startsWith('AWS_BATCH')) {
        bad(`Environment variable names starting with AWS_BATCH are reserved: ${e.name}`, `${f}.environment`);
      }
    }
  }
  if (opts.resources === false) return;
  if (c.vcpus !== undefined && (c.vcpus as number) < 1) bad(`${f}.vcpus must be at least 1`, `${f}.vcpus`);
  if (c.memory !== undefined && (c.memory as number) < 4)
    bad(`${f}.memory must be at least 4 MiB`, `${f}.memory`);
  const rr = (c.resourceRequirements ?? []) as { type: string; value: string }[];
  const byType = new Map<string, number>();
  for (const r of rr) {
    if (byType.has(r.type))
      bad(`${f}.resourceRequirements contains ${r.type} more than once`, `${f}.resourceRequirements`);
    if (typeof r.value !== 'string' || !NUMERIC_RE.test(r.value)) {
      bad(
        `Invalid value for resource requirement ${r.type}: ${String(r.value)}`,
        `${f}.resourceRequirements`,
      );
    }
    const n = Number(r.value);
    byType.set(r.type, n);
    if (r.type === 'MEMORY' && (n < 4 || !Number.isInteger(n)))
      bad('MEMORY resource requirement must be an integer of at least 4 MiB', `${f}.resourceRequirements`);
    if (r.type === 'GPU' && (n < 1 || !Number.isInteger(n)))
      bad('GPU resource requirement must be a positive integer', `${f}.resourceRequirements`);
    if (r.type === 'VCPU' && !opts.fargate && (n < 1 || !Number.isInteger(n))) {
      bad(
        'VCPU resource requirement must be an integer of at least 1 for EC2 resources',
        `${f}.resourceRequirements`,
      );
    }
  }
  if (c.vcpus !== undefined && byType.has('VCPU')) {
    bad('vcpus cannot be specified together with a VCPU resource requirement', `${f}.vcpus`);
  }
  if (c.memory !== undefined && byType.has('MEMORY')) {
    bad('memory cannot be specified together with a MEMORY resource requirement', `${f}.memory`);
  }
  if (opts.fargate) {
    if (c.vcpus !== undefined || c.memory !== undefined) {
      bad(
        'Fargate job definitions must use resourceRequirements instead of vcpus and memory',
        `${f}.resourceRequirements`,
      );
    }
    if (byType.has('GPU'))
      bad('GPU resource requirements are not supported on Fargate', `${f}.resourceRequirements`);
    const v = byType.get('VCPU');
    const m = byType.get('MEMORY');
    if (v === undefined || m === undefined) {
      bad(
        'Fargate job definitions must specify VCPU and MEMORY resource requirements',
        `${f}.resourceRequirements`,
      );
    }
    const allowed = FARGATE_COMBOS.get(v);
    if (!allowed)
      bad(
        `Fargate VCPU value must be one of 0.25, 0.5, 1, 2, 4, 8, 16 (got ${v})`,
        `${f}.resourceRequirements`,
      );
    if (!allowed.includes(m)) {
      bad(`Fargate MEMORY value ${m} is not supported with VCPU ${v}`, `${f}.resourceRequirements`);
    }
    if (typeof c.executionRoleArn !== 'string' || c.executionRoleArn === '') {
      bad('executionRoleArn must be specified for Fargate job definitions', `${f}.executionRoleArn`);
    }
    const ld = isRecord(c.logConfiguration) ? c.logConfiguration.logDriver : undefined;
    if (ld !== undefined && ld !== 'awslogs' && ld !== 'splunk' && ld !== 'awsfirelens') {
      bad(`Log driver ${String(ld)} is not supported on Fargate`, `${f}.logConfiguration.logDriver`);
    }
  }
  const eph = c.ephemeralStorage;
  if (isRecord(eph) && typeof eph.sizeInGiB === 'number' && (eph.sizeInGiB < 21 || eph.sizeInGiB > 200)) {
    bad('ephemeralStorage.sizeInGiB must be between 21 and 200', `${f}.ephemeralStorage`);
  }
}

/** AWS's empty-array defaults for container properties. */
export function withContainerDefaults(c: Record<string, unknown>): Record<string, unknown> {
  const out = cloneJson(c);
  for (const k of ['environment', 'mountPoints', 'ulimits', 'volumes', 'resourceRequirements', 'secrets']) {
    if (out[k] === undefined || out[k] === null) out[k] = [];
  }
  return out;
}

function parseRange(s: string, numNodes: number): [number, number] {
  const m = /^(\d*)(?::(\d*))?$/.exec(s);
  if (!m) bad(`Invalid targetNodes ${s}`, 'nodeProperties.nodeRangeProperties.targetNodes');
  const hasColon = s.includes(':');
  const from = m[1] === '' ? 0 : Number(m[1]);
  const to = hasColon ? (m[2] === '' || m[2] === undefined ? numNodes - 1 : Number(m[2])) : from;
  if (from > to || to >= numNodes)
    bad(`targetNodes ${s} is outside 0:${numNodes - 1}`, 'nodeProperties.nodeRangeProperties.targetNodes');
  return [from, to];
}

/** Validate the request and return the JobDefinition detail fields to store (without name/arn/revision/status). */
export function buildJobDefinitionBody(input: Record<string, unknown>): Record<string, unknown> {
  const size = Buffer.byteLength(JSON.stringify(input), 'utf8');
  if (size > MAX_JOB_DEFINITION_BYTES) {
    bad(
      `Job definition size ${size} bytes exceeds the maximum of ${MAX_JOB_DEFINITION_BYTES} bytes (24 KiB)`,
      'jobDefinition',
    );
  }
  const type = input.type as string;
  const caps = (input.platformCapabilities ?? []) as string[];
  const fargate = caps.includes('FARGATE');
  if (caps.length > 1) bad('platformCapabilities can contain only one value', 'platformCapabilities');
  const cp = input.containerProperties;
  const ecs = input.ecsProperties;
  const eks = input.eksProperties;
  const np = input.nodeProperties;
  const out: Record<string, unknown> = { type };

  if (type === 'container') {
    const n = [cp, ecs, eks].filter((x) => x !== undefined && x !== null).length;
    if (n !== 1) {
      bad(
        'One of containerProperties, ecsProperties or eksProperties must be specified for a container job definition',
        'containerProperties',
      );
    }
    if (np !== undefined && np !== null)
      bad('nodeProperties is only valid for multinode job definitions', 'nodeProperties');
    if (isRecord(cp)) {
      validateContainer(cp, { fargate, field: 'containerProperties', requireImage: true });
      out.containerProperties = withContainerDefaults(cp);
    }
    if (isRecord(ecs)) {
      const tasks = (ecs.taskProperties ?? []) as Record<string, unknown>[];
      if (tasks.length !== 1)
        bad('ecsProperties.taskProperties must contain exactly one entry', 'ecsProperties.taskProperties');
      const containers = (tasks[0]!.containers ?? []) as Record<string, unknown>[];
      if (containers.length < 1 || containers.length > 10) {
        bad(
          'ecsProperties.taskProperties.containers must contain between 1 and 10 containers',
          'ecsProperties',
        );
      }
      for (const c of containers) {
        validateContainer(c, {
          fargate,
          field: 'ecsProperties.taskProperties.containers',
          requireImage: true,
          resources: false,
        });
      }
      out.ecsProperties = cloneJson(ecs);
    }
    if (isRecord(eks)) {
      const pod = isRecord(eks.podProperties) ? eks.podProperties : undefined;
      const containers = (pod?.containers ?? []) as Record<string, unknown>[];
      if (containers.length < 1 || containers.length > 10) {
        bad(
          'eksProperties.podProperties.containers must contain between 1 and 10 containers',
          'eksProperties',
        );
      }
      for (const c of containers) {
        if (typeof c.image !== 'string' || c.image === '')
          bad('eksProperties.podProperties.containers.image must be specified', 'eksProperties');
        if (Array.isArray(c.command) && c.command.some((s) => s === ''))
          bad('Command field cannot have empty strings', 'eksProperties');
      }
      if (fargate)
        bad('eksProperties cannot be used with FARGATE platform capability', 'platformCapabilities');
      out.eksProperties = cloneJson(eks);
    }
  } else {
    if (!isRecord(np))
      bad('nodeProperties must be specified for a multinode job definition', 'nodeProperties');
    if (cp !== undefined || ecs !== undefined || eks !== undefined) {
      bad(
        'containerProperties, ecsProperties and eksProperties are not valid for a multinode job definition; use nodeProperties',
        'containerProperties',
      );
    }
    if (fargate) bad('Multi-node parallel jobs are not supported on Fargate', 'platformCapabilities');
    const numNodes = np.numNodes as number;
    const mainNode = np.mainNode as number;
    if (numNodes < 1 || numNodes > 1000)
      bad('nodeProperties.numNodes must be between 1 and 1000', 'nodeProperties.numNodes');
    if (mainNode < 0 || mainNode >= numNodes)
      bad('nodeProperties.mainNode must be less than numNodes', 'nodeProperties.mainNode');
    const ranges = (np.nodeRangeProperties ?? []) as Record<string, unknown>[];
    if (ranges.length < 1 || ranges.length > 5)
      bad(
        'nodeProperties.nodeRangeProperties must contain between 1 and 5 entries',
        'nodeProperties.nodeRangeProperties',
      );
    const covered = new Set<number>();
    const outRanges: Record<string, unknown>[] = [];
    for (const r of ranges) {
      const [from, to] = parseRange(r.targetNodes as string, numNodes);
      for (let i = from; i <= to; i++) {
        if (covered.has(i))
          bad(`Node ${i} is covered by more than one node range`, 'nodeProperties.nodeRangeProperties');
        covered.add(i);
      }
      const copy = cloneJson(r);
      if (isRecord(r.container)) {
        validateContainer(r.container, {
          fargate: false,
          field: 'nodeProperties.nodeRangeProperties.container',
          requireImage: true,
        });
        copy.container = withContainerDefaults(r.container);
      }
      outRanges.push(copy);
    }
    out.nodeProperties = { ...cloneJson(np), nodeRangeProperties: outRanges };
  }

  validateRetryStrategy(input.retryStrategy as RetryStrategy | undefined);
  if (input.retryStrategy !== undefined) out.retryStrategy = cloneJson(input.retryStrategy);
  const timeout = input.timeout;
  if (isRecord(timeout)) {
    if (typeof timeout.attemptDurationSeconds === 'number' && timeout.attemptDurationSeconds < 60) {
      bad('timeout.attemptDurationSeconds must be at least 60 seconds', 'timeout.attemptDurationSeconds');
    }
    out.timeout = cloneJson(timeout);
  }
  if (input.schedulingPriority !== undefined) {
    const p = input.schedulingPriority as number;
    if (p < 0 || p > 9999) bad('schedulingPriority must be between 0 and 9999', 'schedulingPriority');
    out.schedulingPriority = p;
  }
  out.parameters = cloneJson((input.parameters as Record<string, string> | undefined) ?? {});
  out.propagateTags = input.propagateTags === true;
  if (input.platformCapabilities !== undefined) out.platformCapabilities = [...caps];
  out.containerOrchestrationType = isRecord(eks) ? 'EKS' : 'ECS';
  return out;
}
