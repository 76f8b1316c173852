/**
 * @module engine/capacity
 * Capacity of a declared (non-host) compute environment: total = maxvCpus (or unmanagedvCpus),
 * memory scaled from its largest instance type, GPUs from whole instances of its most GPU-dense
 * type; a single job must fit one instance type (`shapes`).
 */
import type { ComputeEnvironmentDoc } from '../core/compute-environments/compute-environment.js';
import {
  expandInstanceTypes,
  instanceTypeInfo,
  largestInstance,
} from '../core/compute-environments/instance-types.js';

export interface Cap {
  vcpus: number;
  memoryMiB: number;
  gpus: number;
}

const UNLIMITED_MEMORY = Number.MAX_SAFE_INTEGER;

export interface CeCapacity {
  total: Cap;
  /** The largest job one instance can host, per dimension (not capped by maxvCpus). */
  maxJob: Cap;
  /** Instance shapes; a job must fit one of them. Absent: `maxJob` is the only shape. */
  shapes?: Cap[];
}

export function instanceCapacity(ce: ComputeEnvironmentDoc): CeCapacity {
  const d = ce.detail;
  const cr = d.computeResources;
  const vcpus =
    d.type === 'UNMANAGED'
      ? (d.unmanagedvCpus ?? ce.capacity?.vcpus ?? 0)
      : (cr?.maxvCpus ?? ce.capacity?.vcpus ?? 0);
  const types = (cr?.instanceTypes as string[] | undefined) ?? [];
  const fargate = cr?.type === 'FARGATE' || cr?.type === 'FARGATE_SPOT';
  if (fargate) {
    // Fargate: one task ≤ 16 vCPU / 120 GiB; memory scales with vCPUs.
    return {
      total: { vcpus, memoryMiB: vcpus * 8192, gpus: 0 },
      maxJob: { vcpus: 16, memoryMiB: 122_880, gpus: 0 },
    };
  }
  const infos = types.length ? expandInstanceTypes(types) : [];
  const largest = types.length ? largestInstance(types) : undefined;
  if (!largest || infos.length === 0) {
    if (ce.capacity && ce.capacity.source === 'declared' && ce.capacity.memoryMiB > 0) {
      const total = { vcpus, memoryMiB: ce.capacity.memoryMiB, gpus: ce.capacity.gpus };
      return { total, maxJob: total };
    }
    return {
      total: { vcpus, memoryMiB: UNLIMITED_MEMORY, gpus: 0 },
      maxJob: { vcpus, memoryMiB: UNLIMITED_MEMORY, gpus: 0 },
    };
  }
  // Memory per vCPU follows the largest type (ECS reserves a little memory per instance).
  // GPUs: as many as maxvCpus buys with the most GPU-dense type (whole instances).
  const perVcpuMem = largest.memoryMiB / largest.vcpus;
  let gpus = 0;
  for (const t of infos) if (t.gpus > 0) gpus = Math.max(gpus, Math.floor(vcpus / t.vcpus) * t.gpus);
  const total = { vcpus, memoryMiB: Math.floor(vcpus * perVcpuMem), gpus };
  const shapes = infos.map((t) => ({ vcpus: t.vcpus, memoryMiB: t.memoryMiB, gpus: t.gpus }));
  const maxJob = {
    vcpus: Math.max(...shapes.map((x) => x.vcpus)),
    memoryMiB: Math.max(...shapes.map((x) => x.memoryMiB)),
    gpus: Math.max(...shapes.map((x) => x.gpus)),
  };
  return { total, maxJob, shapes };
}

export { instanceTypeInfo };
