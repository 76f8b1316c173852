/**
 * @module core/quota-shares/quota-share
 * Quota shares of a SageMaker Training (quota-managed) job queue, stored with plausible status
 * transitions. ARN `arn:aws:batch:<region>:<account>:quota-share/<queueName>/<shareName>`
 * (format UNCONFIRMED); store key `<queueName>/<shareName>`.
 */
import { ValidationError } from '../errors.js';

export interface QuotaShareDetail {
  quotaShareName: string;
  quotaShareArn: string;
  jobQueueArn: string;
  capacityLimits: { maxCapacity: number; capacityUnit: string }[];
  resourceSharingConfiguration: { strategy: string; borrowLimit?: number };
  preemptionConfiguration: { inSharePreemption: string };
  state: 'ENABLED' | 'DISABLED';
  status: 'CREATING' | 'VALID' | 'INVALID' | 'UPDATING' | 'DELETING';
  tags?: Record<string, string>;
}

export interface QuotaShareDoc {
  detail: QuotaShareDetail;
}

export const MAX_QUOTA_SHARES_PER_QUEUE = 20;

export function quotaShareKey(queueName: string, shareName: string): string {
  return `${queueName}/${shareName}`;
}

export function validateResourceSharing(
  v: Record<string, unknown>,
): QuotaShareDetail['resourceSharingConfiguration'] {
  const strategy = v.strategy as string;
  const borrow = v.borrowLimit as number | undefined;
  if (borrow !== undefined) {
    if (strategy !== 'LEND_AND_BORROW') {
      throw new ValidationError(
        'borrowLimit can only be applied to quota shares with a strategy of LEND_AND_BORROW',
        'resourceSharingConfiguration.borrowLimit',
      );
    }
    if (borrow < -1)
      throw new ValidationError(
        'borrowLimit must be -1 (unlimited) or a non-negative percentage',
        'resourceSharingConfiguration.borrowLimit',
      );
  }
  return { strategy, ...(borrow !== undefined ? { borrowLimit: borrow } : {}) };
}

export function validateQuotaCapacityLimits(v: unknown): QuotaShareDetail['capacityLimits'] {
  const list = (v ?? []) as { maxCapacity: number; capacityUnit: string }[];
  if (list.length === 0)
    throw new ValidationError('capacityLimits must contain at least one entry', 'capacityLimits');
  for (const c of list) {
    if (c.maxCapacity < 0)
      throw new ValidationError(
        'capacityLimits.maxCapacity must be greater than or equal to 0',
        'capacityLimits',
      );
  }
  return list.map((c) => ({ maxCapacity: c.maxCapacity, capacityUnit: c.capacityUnit }));
}
