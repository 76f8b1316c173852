import type { BatchOperation } from '../batch-api.js';

export const tagOperations: Readonly<Record<string, BatchOperation>> = {};
