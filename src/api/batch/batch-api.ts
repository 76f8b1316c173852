/**
 * @module api/batch/batch-api
 * Wires AWS Batch operations to handlers: every request is validated against the operation's input
 * shape from the service model before its handler runs. Handlers live in `operations/`.
 */
import type { AccountScope } from '../../core/arns.js';
import type { Clock } from '../../core/clock.js';
import { ValidationError } from '../../core/errors.js';
import type { EventBus } from '../../core/events.js';
import type { Store } from '../../store/store.js';
import { batchModel, validateShape } from '../../protocol/model.js';
import type { JsonHandler } from '../http-server.js';
import type { RequestContext } from '../request-context.js';
import type { JobService } from './job-service.js';

/** What every Batch operation handler may use. */
export interface BatchDeps {
  store: Store;
  clock: Clock;
  events: EventBus;
  jobs: JobService;
  /** Defaults used when a request is unsigned. */
  defaultScope: AccountScope;
}

export type BatchOperation = (
  input: Record<string, unknown>,
  ctx: RequestContext,
  deps: BatchDeps,
) => unknown;

export function createBatchHandlers(
  deps: BatchDeps,
  operations: Readonly<Record<string, BatchOperation>>,
): Map<string, JsonHandler> {
  const model = batchModel();
  const handlers = new Map<string, JsonHandler>();
  for (const [name, op] of Object.entries(operations)) {
    const inputShape = model.operations[name]?.input;
    handlers.set(name, (input, ctx) => {
      if (inputShape) {
        const problems = validateShape(model, inputShape, input);
        if (problems.length > 0) {
          const msg =
            problems.length === 1
              ? `1 validation error detected: ${problems[0]!.message}`
              : `${problems.length} validation errors detected: ${problems.map((p) => p.message).join('; ')}`;
          throw new ValidationError(msg, problems[0]!.path);
        }
      }
      return op(input, ctx, deps);
    });
  }
  return handlers;
}
