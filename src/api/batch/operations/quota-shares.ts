import type { BatchOperation } from '../batch-api.js';

export const quotaShareOperations: Readonly<Record<string, BatchOperation>> = {};
