/**
 * @module logs/log-errors
 * Log-specific refinements of the core error taxonomy, for the few CloudWatch Logs error codes that
 * have no core equivalent. `api/logs/logs-api.ts` maps them to wire errors.
 */
import { LimitExceededError } from '../core/errors.js';

/** A resource would carry more than 50 tags. Maps to TooManyTagsException. */
export class TooManyTagsError extends LimitExceededError {
  constructor(readonly resourceName: string) {
    super('A resource can have no more than 50 tags.');
  }
}
