import type { BatchOperation } from '../batch-api.js';

export const consumableResourceOperations: Readonly<Record<string, BatchOperation>> = {};
