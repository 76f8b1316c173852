/**
 * @module core/compute-environments/compute-environment-rules
 * AWS's validation rules for CreateComputeEnvironment / UpdateComputeEnvironment
 * (aws-batch-semantics §3.2), the declared-capacity model and the executor tag.
 */
import { ValidationError } from '../errors.js';
import { isRecord } from '../tags/resource-records.js';
import type { Tags } from '../tags/tags.js';
import type { ComputeEnvironmentDetail, ComputeEnvironmentDoc } from './compute-environment.js';
import { expandInstanceTypes } from './instance-types.js';

export const MAX_COMPUTE_ENVIRONMENTS = 50;
export const EXECUTOR_TAG = 'openbatch.io/executor';
export const EXECUTORS: readonly string[] = ['process', 'docker', 'slurm'];

const SPOT_ONLY_STRATEGIES = ['SPOT_CAPACITY_OPTIMIZED', 'SPOT_PRICE_CAPACITY_OPTIMIZED'];
/** Members Fargate compute resources must not set (AWS: "Don't specify it"). */
const NOT_FOR_FARGATE = [
  'allocationStrategy',
  'bidPercentage',
  'instanceTypes',
  'imageId',
  'ec2KeyPair',
  'instanceRole',
  'placementGroup',
  'spotIamFleetRole',
  'launchTemplate',
  'ec2Configuration',
  'tags',
  'scalingPolicy',
] as const;

export function isFargateType(t: unknown): boolean {
  return t === 'FARGATE' || t === 'FARGATE_SPOT';
}

function bad(message: string, field: string): never {
  throw new ValidationError(message, field);
}

/** Validate a complete computeResources object (after create, or after merging an update). */
export function validateComputeResources(cr: Record<string, unknown>): void {
  const type = cr.type as string;
  const num = (k: string): number | undefined => (typeof cr[k] === 'number' ? (cr[k] as number) : undefined);
  const maxv = num('maxvCpus');
  const minv = num('minvCpus');
  const desired = num('desiredvCpus');
  if (maxv === undefined) bad('computeResources.maxvCpus must be specified', 'computeResources.maxvCpus');
  if (maxv < 0)
    bad('computeResources.maxvCpus must be greater than or equal to 0', 'computeResources.maxvCpus');
  const subnets = cr.subnets;
  if (!Array.isArray(subnets)) bad('computeResources.subnets must be specified', 'computeResources.subnets');
  if (isFargateType(type)) {
    for (const k of NOT_FOR_FARGATE) {
      const v = cr[k];
      if (v === undefined || v === null) continue;
      bad(`computeResources.${k} is not applicable to Fargate compute resources`, `computeResources.${k}`);
    }
    // Terraform and other tools may send explicit zeros; any other value is refused.
    for (const k of ['minvCpus', 'desiredvCpus'] as const) {
      const v = num(k);
      if (v !== undefined && v !== 0)
        bad(`computeResources.${k} is not applicable to Fargate compute resources`, `computeResources.${k}`);
    }
    const sgs = cr.securityGroupIds;
    if (!Array.isArray(sgs) || sgs.length === 0) {
      bad(
        'computeResources.securityGroupIds must contain at least one security group for Fargate compute resources',
        'computeResources.securityGroupIds',
      );
    }
    if (subnets.length > 16)
      bad('Fargate compute resources can contain up to 16 subnets', 'computeResources.subnets');
    return;
  }
  // EC2 / SPOT
  if (minv !== undefined && minv < 0)
    bad('computeResources.minvCpus must be greater than or equal to 0', 'computeResources.minvCpus');
  if (minv !== undefined && minv > maxv) {
    bad(
      'computeResources.minvCpus must be less than or equal to computeResources.maxvCpus',
      'computeResources.minvCpus',
    );
  }
  if (desired !== undefined && (desired < (minv ?? 0) || desired > maxv)) {
    bad(
      'computeResources.desiredvCpus must be between minvCpus and maxvCpus',
      'computeResources.desiredvCpus',
    );
  }
  const strategy = cr.allocationStrategy;
  if (typeof strategy === 'string' && SPOT_ONLY_STRATEGIES.includes(strategy) && type !== 'SPOT') {
    bad(
      `computeResources.allocationStrategy ${strategy} is only valid for SPOT compute resources`,
      'computeResources.allocationStrategy',
    );
  }
  const bid = num('bidPercentage');
  if (bid !== undefined && (bid < 0 || bid > 100)) {
    bad('computeResources.bidPercentage must be between 0 and 100', 'computeResources.bidPercentage');
  }
  const types = cr.instanceTypes;
  if (types !== undefined) {
    if (!Array.isArray(types))
      bad('computeResources.instanceTypes must be a list', 'computeResources.instanceTypes');
    for (const t of types) {
      if (typeof t !== 'string' || !/^[a-z0-9_-]+(\.[a-z0-9-]+)?$/.test(t)) {
        bad(`Invalid instance type: ${String(t)}`, 'computeResources.instanceTypes');
      }
    }
  }
  const sp = cr.scalingPolicy;
  if (isRecord(sp) && typeof sp.minScaleDownDelayMinutes === 'number') {
    const m = sp.minScaleDownDelayMinutes;
    if (m !== 0 && (m < 20 || m > 10080)) {
      bad(
        'computeResources.scalingPolicy.minScaleDownDelayMinutes must be between 20 and 10080',
        'computeResources.scalingPolicy',
      );
    }
  }
  const ec2c = cr.ec2Configuration;
  if (Array.isArray(ec2c) && ec2c.length > 2) {
    bad('computeResources.ec2Configuration can have at most 2 entries', 'computeResources.ec2Configuration');
  }
}

/** The executor an `openbatch.io/executor` tag selects (undefined when the tag is absent). */
export function executorFromTags(tags: Tags | undefined): string | undefined {
  const v = tags?.[EXECUTOR_TAG];
  if (v === undefined) return undefined;
  if (!EXECUTORS.includes(v)) {
    throw new ValidationError(`Tag ${EXECUTOR_TAG} must be one of ${EXECUTORS.join(', ')}`, 'tags');
  }
  return v;
}

/**
 * openbatch's capacity view of a CE (`source: declared`): vCPUs = maxvCpus (or unmanagedvCpus);
 * memory and GPUs scale with the richest memory/GPU per vCPU among the allowed instance types
 * (Fargate: up to 8 GiB per vCPU, no GPUs).
 */
export function declaredCapacity(
  detail: ComputeEnvironmentDetail,
): NonNullable<ComputeEnvironmentDoc['capacity']> {
  if (detail.type === 'UNMANAGED') {
    const vcpus = detail.unmanagedvCpus ?? 0;
    return { source: 'declared', vcpus, memoryMiB: vcpus * 8192, gpus: 0 };
  }
  const cr = detail.computeResources;
  const vcpus = typeof cr?.maxvCpus === 'number' ? cr.maxvCpus : 0;
  if (!cr || isFargateType(cr.type)) return { source: 'declared', vcpus, memoryMiB: vcpus * 8192, gpus: 0 };
  const instances = expandInstanceTypes(cr.instanceTypes);
  let memPerVcpu = 0;
  let gpuPerVcpu = 0;
  for (const i of instances) {
    memPerVcpu = Math.max(memPerVcpu, i.memoryMiB / i.vcpus);
    gpuPerVcpu = Math.max(gpuPerVcpu, i.gpus / i.vcpus);
  }
  if (instances.length === 0) memPerVcpu = 8192; // only unknown types: assume a memory-rich family
  return {
    source: 'declared',
    vcpus,
    memoryMiB: Math.floor(vcpus * memPerVcpu),
    gpus: Math.floor(vcpus * gpuPerVcpu),
  };
}
