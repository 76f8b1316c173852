import type { BatchOperation } from '../batch-api.js';

export const serviceJobOperations: Readonly<Record<string, BatchOperation>> = {};
