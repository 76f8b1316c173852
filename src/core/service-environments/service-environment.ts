/**
 * @module core/service-environments/service-environment
 * Service environments (SageMaker Training capacity, aws-batch-semantics §3.7). openbatch stores
 * them and moves their status like a compute environment's; nothing runs on SageMaker.
 */
import type { ResourceStatus } from '../compute-environments/compute-environment.js';
import { ValidationError } from '../errors.js';

export interface CapacityLimit {
  maxCapacity?: number;
  capacityUnit?: string;
}

export interface ServiceEnvironmentDetail {
  serviceEnvironmentName: string;
  serviceEnvironmentArn: string;
  serviceEnvironmentType: string;
  state: 'ENABLED' | 'DISABLED';
  status: ResourceStatus;
  capacityLimits: CapacityLimit[];
  tags?: Record<string, string>;
}

export interface ServiceEnvironmentDoc {
  detail: ServiceEnvironmentDetail;
}

export const MAX_SERVICE_ENVIRONMENTS = 50;

export function validateCapacityLimits(v: unknown, field = 'capacityLimits'): CapacityLimit[] {
  const list = (v ?? []) as CapacityLimit[];
  if (list.length === 0) throw new ValidationError(`${field} must contain at least one entry`, field);
  for (const c of list) {
    if (c.maxCapacity !== undefined && c.maxCapacity < 0) {
      throw new ValidationError(`${field}.maxCapacity must be greater than or equal to 0`, field);
    }
    if (c.capacityUnit !== undefined && c.capacityUnit.length === 0) {
      throw new ValidationError(`${field}.capacityUnit must not be empty`, field);
    }
  }
  return list.map((c) => ({ ...c }));
}
