/**
 * @module core/errors
 * The one error taxonomy of openbatch. Domain code throws these; `api/batch/error-mapper.ts`
 * and `api/logs/logs-api.ts` turn them into wire errors in exactly one place each.
 */

export abstract class OpenBatchError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input: a field is missing, has the wrong type, or breaks an AWS rule. Maps to ClientException. */
export class ValidationError extends OpenBatchError {
  readonly code = 'OBATCH-1001';
  constructor(
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A named resource does not exist. Maps to ClientException (Batch) / ResourceNotFoundException (Logs). */
export class NotFoundError extends OpenBatchError {
  readonly code = 'OBATCH-1002';
  constructor(
    readonly resourceType: string,
    readonly id: string,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? `${resourceType} ${id} does not exist`, options);
  }
}

/** The resource exists already, or is in a state that forbids the request. Maps to ClientException. */
export class ConflictError extends OpenBatchError {
  readonly code = 'OBATCH-1003';
}

/** A compare-and-set write lost: the record changed since it was read. Retried internally. */
export class JobNotInStateError extends OpenBatchError {
  readonly code = 'OBATCH-1004';
  constructor(
    readonly jobId: string,
    readonly expected: string,
    readonly actual: string | undefined,
  ) {
    super(`Job ${jobId} is not in state ${expected} (found ${actual ?? 'nothing'})`);
  }
}

/** A compare-and-set on a resource lost. */
export class VersionConflictError extends OpenBatchError {
  readonly code = 'OBATCH-1005';
}

/** Too many requests. Maps to 429 TooManyRequestsException. */
export class ThrottlingError extends OpenBatchError {
  readonly code = 'OBATCH-1006';
}

/** A limit of the service (AWS quota) was hit. Maps to ClientException. */
export class LimitExceededError extends OpenBatchError {
  readonly code = 'OBATCH-1007';
}

/** "Cannot happen". Maps to ServerException (500). */
export class InvariantError extends OpenBatchError {
  readonly code = 'OBATCH-1999';
}

export function assertNever(x: never, what = 'value'): never {
  throw new InvariantError(`unexpected ${what}: ${JSON.stringify(x)}`);
}

export function invariant(cond: unknown, message: string): asserts cond {
  if (!cond) throw new InvariantError(message);
}
