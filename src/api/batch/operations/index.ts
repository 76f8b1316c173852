/**
 * @module api/batch/operations
 * Every AWS Batch operation openbatch serves, by its model name. One file per resource area.
 */
import type { BatchOperation } from '../batch-api.js';
import { computeEnvironmentOperations } from './compute-environments.js';
import { consumableResourceOperations } from './consumable-resources.js';
import { jobDefinitionOperations } from './job-definitions.js';
import { jobOperations } from './jobs.js';
import { jobQueueOperations } from './job-queues.js';
import { quotaShareOperations } from './quota-shares.js';
import { schedulingPolicyOperations } from './scheduling-policies.js';
import { serviceEnvironmentOperations } from './service-environments.js';
import { serviceJobOperations } from './service-jobs.js';
import { tagOperations } from './tags.js';

export const batchOperations: Readonly<Record<string, BatchOperation>> = {
  ...computeEnvironmentOperations,
  ...jobQueueOperations,
  ...jobDefinitionOperations,
  ...schedulingPolicyOperations,
  ...consumableResourceOperations,
  ...serviceEnvironmentOperations,
  ...quotaShareOperations,
  ...serviceJobOperations,
  ...tagOperations,
  ...jobOperations,
};
