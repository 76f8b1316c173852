import type { BatchOperation } from '../batch-api.js';

export const schedulingPolicyOperations: Readonly<Record<string, BatchOperation>> = {};
