import type { BatchOperation } from '../batch-api.js';

export const serviceEnvironmentOperations: Readonly<Record<string, BatchOperation>> = {};
