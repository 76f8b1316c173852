/**
 * @module core/compute-environments/compute-environment
 * The stored compute environment is AWS's ComputeEnvironmentDetail as Describe returns it (echo
 * fidelity for IaC), plus openbatch's own view of its capacity.
 */

export const CEState = { ENABLED: 'ENABLED', DISABLED: 'DISABLED' } as const;
export type CEState = (typeof CEState)[keyof typeof CEState];

export const ResourceStatus = {
  CREATING: 'CREATING',
  UPDATING: 'UPDATING',
  DELETING: 'DELETING',
  DELETED: 'DELETED',
  VALID: 'VALID',
  INVALID: 'INVALID',
} as const;
export type ResourceStatus = (typeof ResourceStatus)[keyof typeof ResourceStatus];

/** AWS's ComputeEnvironmentDetail (the wire shape). */
export interface ComputeEnvironmentDetail {
  computeEnvironmentName: string;
  computeEnvironmentArn: string;
  unmanagedvCpus?: number;
  ecsClusterArn?: string;
  tags?: Record<string, string>;
  type: 'MANAGED' | 'UNMANAGED';
  state: CEState;
  status: ResourceStatus;
  statusReason?: string;
  computeResources?: Record<string, unknown> & {
    type: string;
    maxvCpus?: number;
    minvCpus?: number;
    desiredvCpus?: number;
    instanceTypes?: string[];
  };
  serviceRole?: string;
  updatePolicy?: Record<string, unknown>;
  eksConfiguration?: Record<string, unknown>;
  containerOrchestrationType?: string;
  uuid?: string;
  context?: string;
}

/** What openbatch stores per compute environment. */
export interface ComputeEnvironmentDoc {
  detail: ComputeEnvironmentDetail;
  /**
   * openbatch's capacity model for the environment. `host` = the machine the server runs on
   * (the `default` environment); `instances` = derived from maxvCpus/instance types.
   */
  capacity?: {
    source: 'host' | 'declared';
    vcpus: number;
    memoryMiB: number;
    gpus: number;
  };
  /** Which executor runs this environment's jobs (`process`, `docker`, `slurm`...). */
  executor?: string;
}

export function isUsable(ce: ComputeEnvironmentDetail): boolean {
  return ce.state === 'ENABLED' && (ce.status === 'VALID' || ce.status === 'UPDATING');
}
