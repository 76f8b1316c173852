/** @module sdk  Typed client for openbatch / AWS Batch with endpoint resolution and retries. */
export {
  AWS_ENDPOINT_KEYWORD,
  createOpenbatchClient,
  DEFAULT_ENDPOINT,
  OpenbatchClient,
  resolveEndpoint,
} from './client.js';
export type {
  ClientOptions,
  EndpointSources,
  InterruptResult,
  InterruptSelector,
  ListJobsQuery,
} from './client.js';
export { httpStatusOf, isRetryableError, networkErrorCode, withRetry } from './retry.js';
export type { RetryOptions } from './retry.js';
