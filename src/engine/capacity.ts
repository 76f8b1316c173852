/**
 * @module engine/capacity
 * Capacity of a declared (non-host) compute environment: total = maxvCpus (or unmanagedvCpus),
 * memory and GPUs scaled from its instance types; the largest single job is its largest instance.
 */
import type { ComputeEnvironmentDoc } from '../core/compute-environments/compute-environment.js';
import { instanceTypeInfo, largestInstance } from '../core/compute-environments/instance-types.js';

export interface Cap {
  vcpus: number;
  memoryMiB: number;
  gpus: number;
}

const UNLIMITED_MEMORY = Number.MAX_SAFE_INTEGER;

export function instanceCapacity(ce: ComputeEnvironmentDoc): { total: Cap; maxJob: Cap } {
  const d = ce.detail;
  const cr = d.computeResources;
  const vcpus = d.type === 'UNMANAGED' ? (d.unmanagedvCpus ?? ce.capacity?.vcpus ?? 0) : (cr?.maxvCpus ?? ce.capacity?.vcpus ?? 0);
  const types = (cr?.instanceTypes as string[] | undefined) ?? [];
  const fargate = cr?.type === 'FARGATE' || cr?.type === 'FARGATE_SPOT';
  if (fargate) {
    // Fargate: one task ≤ 16 vCPU / 120 GiB; memory scales with vCPUs.
    return { total: { vcpus, memoryMiB: vcpus * 8192, gpus: 0 }, maxJob: { vcpus: 16, memoryMiB: 122_880, gpus: 0 } };
  }
  const largest = types.length ? largestInstance(types) : undefined;
  if (!largest) {
    if (ce.capacity && ce.capacity.source === 'declared' && ce.capacity.memoryMiB > 0) {
      const total = { vcpus, memoryMiB: ce.capacity.memoryMiB, gpus: ce.capacity.gpus };
      return { total, maxJob: total };
    }
    return { total: { vcpus, memoryMiB: UNLIMITED_MEMORY, gpus: 0 }, maxJob: { vcpus, memoryMiB: UNLIMITED_MEMORY, gpus: 0 } };
  }
  // Memory and GPUs per vCPU follow the largest type (ECS reserves a little memory per instance).
  const perVcpuMem = largest.memoryMiB / largest.vcpus;
  const perVcpuGpu = largest.gpus / largest.vcpus;
  const total = { vcpus, memoryMiB: Math.floor(vcpus * perVcpuMem), gpus: Math.floor(vcpus * perVcpuGpu) };
  const maxJob = {
    vcpus: Math.min(largest.vcpus, vcpus),
    memoryMiB: Math.min(largest.memoryMiB, total.memoryMiB),
    gpus: Math.min(largest.gpus, total.gpus),
  };
  return { total, maxJob };
}

export { instanceTypeInfo };
