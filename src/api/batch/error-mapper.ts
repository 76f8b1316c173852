/**
 * @module api/batch/error-mapper
 * The one place where domain errors become AWS Batch wire errors (rest-json):
 * status, `x-amzn-ErrorType` and `{"__type","message"}`.
 */
import {
  ConflictError,
  LimitExceededError,
  NotFoundError,
  ThrottlingError,
  ValidationError,
  VersionConflictError,
  JobNotInStateError,
} from '../../core/errors.js';

export interface WireError {
  status: number;
  type: string;
  message: string;
}

export function toBatchWireError(err: unknown): WireError {
  if (err instanceof ThrottlingError)
    return { status: 429, type: 'TooManyRequestsException', message: 'Too Many Requests' };
  if (
    err instanceof ValidationError ||
    err instanceof NotFoundError ||
    err instanceof ConflictError ||
    err instanceof LimitExceededError ||
    err instanceof VersionConflictError ||
    err instanceof JobNotInStateError
  ) {
    return { status: 400, type: 'ClientException', message: err.message };
  }
  return { status: 500, type: 'ServerException', message: 'Internal server error' };
}
