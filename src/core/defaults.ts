/**
 * @module core/defaults
 * On first start (empty data dir, no --no-defaults) openbatch creates a MANAGED compute
 * environment `default` sized to the host and an ENABLED job queue `default` on it.
 */
import { batchArn, type AccountScope } from './arns.js';
import type { ComputeEnvironmentDoc } from './compute-environments/compute-environment.js';
import type { JobQueueDoc } from './job-queues/job-queue.js';
import type { Store } from '../store/store.js';

export interface HostCapacity {
  vcpus: number;
  memoryMiB: number;
  gpus: number;
}

export const DEFAULT_NAME = 'default';

/** Returns true when the defaults were created now. */
export async function ensureDefaults(
  store: Store,
  scope: AccountScope,
  host: HostCapacity,
  uuid: string,
): Promise<boolean> {
  // Only on a fresh store: a user who deleted the defaults keeps them deleted.
  if (
    (await store.countResources('compute-environment')) > 0 ||
    (await store.countResources('job-queue')) > 0
  ) {
    return false;
  }
  const ceArn = batchArn(scope, 'compute-environment', DEFAULT_NAME);
  const ce: ComputeEnvironmentDoc = {
    detail: {
      computeEnvironmentName: DEFAULT_NAME,
      computeEnvironmentArn: ceArn,
      ecsClusterArn: `arn:aws:ecs:${scope.region}:${scope.accountId}:cluster/openbatch-${DEFAULT_NAME}`,
      tags: {},
      type: 'MANAGED',
      state: 'ENABLED',
      status: 'VALID',
      statusReason: 'ComputeEnvironment Healthy',
      computeResources: {
        type: 'EC2',
        minvCpus: 0,
        maxvCpus: host.vcpus,
        desiredvCpus: 0,
        instanceTypes: ['optimal'],
        subnets: [],
        securityGroupIds: [],
      },
      containerOrchestrationType: 'ECS',
      uuid,
    },
    capacity: { source: 'host', vcpus: host.vcpus, memoryMiB: host.memoryMiB, gpus: host.gpus },
  };
  await store.putResource('compute-environment', DEFAULT_NAME, ceArn, ce, null);
  const jqArn = batchArn(scope, 'job-queue', DEFAULT_NAME);
  const jq: JobQueueDoc = {
    detail: {
      jobQueueName: DEFAULT_NAME,
      jobQueueArn: jqArn,
      state: 'ENABLED',
      status: 'VALID',
      statusReason: 'JobQueue Healthy',
      priority: 1,
      computeEnvironmentOrder: [{ order: 1, computeEnvironment: ceArn }],
      tags: {},
      jobStateTimeLimitActions: [],
    },
  };
  await store.putResource('job-queue', DEFAULT_NAME, jqArn, jq, null);
  return true;
}
