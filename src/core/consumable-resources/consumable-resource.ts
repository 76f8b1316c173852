/**
 * @module core/consumable-resources/consumable-resource
 * Consumable resources (aws-batch-semantics §3.6): counted resources such as licences.
 * `inUseQuantity` is live job state and comes from the job engine at read time.
 */
import { ValidationError } from '../errors.js';

export interface ConsumableResourceDetail {
  consumableResourceName: string;
  consumableResourceArn: string;
  totalQuantity: number;
  resourceType: 'REPLENISHABLE' | 'NON_REPLENISHABLE';
  createdAt: number;
  tags?: Record<string, string>;
}

export interface ConsumableResourceDoc {
  detail: ConsumableResourceDetail;
}

export const MAX_CONSUMABLE_RESOURCES = 50_000;
/** clientToken validity of UpdateConsumableResource. */
export const CLIENT_TOKEN_TTL_MS = 8 * 60 * 60 * 1000;

export function validateResourceType(v: unknown): 'REPLENISHABLE' | 'NON_REPLENISHABLE' {
  if (v === undefined || v === null) return 'REPLENISHABLE';
  if (v !== 'REPLENISHABLE' && v !== 'NON_REPLENISHABLE') {
    throw new ValidationError('resourceType must be one of REPLENISHABLE, NON_REPLENISHABLE', 'resourceType');
  }
  return v;
}

export function validateQuantity(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new ValidationError(`${field} must be a non-negative integer`, field);
  }
  return v;
}

/** New total after an UpdateConsumableResource operation. */
export function applyQuantityOperation(total: number, operation: string, quantity: number): number {
  switch (operation) {
    case 'SET':
      return quantity;
    case 'ADD':
      return total + quantity;
    case 'REMOVE':
      if (quantity > total) {
        throw new ValidationError(`Cannot remove ${quantity} from a total quantity of ${total}`, 'quantity');
      }
      return total - quantity;
    default:
      throw new ValidationError('operation must be one of SET, ADD, REMOVE', 'operation');
  }
}
