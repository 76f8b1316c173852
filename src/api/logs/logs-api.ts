/**
 * @module api/logs/logs-api
 * The CloudWatch Logs subset openbatch serves (awsJson1.1, `X-Amz-Target: Logs_20140328.<Op>`), over a
 * `LogStore`. Decodes and validates input against the logs model, applies the AWS semantic rules,
 * calls the store, and encodes the response. `toLogsWireError` is the one place where domain errors
 * become Logs wire errors.
 */
import {
  ConflictError,
  LimitExceededError,
  NotFoundError,
  ThrottlingError,
  ValidationError,
} from '../../core/errors.js';
import { compileFilterPattern, FilterPatternError } from '../../logs/filter-pattern.js';
import { TooManyTagsError } from '../../logs/log-errors.js';
import type { LogEventInput } from '../../logs/log-sink.js';
import type {
  EventCursor,
  LogGroupRecord,
  LogStore,
  LogStreamRecord,
  StoredLogEvent,
} from '../../logs/log-store.js';
import { logsModel, validateShape } from '../../protocol/model.js';
import type { WireError } from '../batch/error-mapper.js';
import type { JsonHandler } from '../http-server.js';
import type { RequestContext } from '../request-context.js';
import {
  decodeOpaqueToken,
  decodeStreamToken,
  encodeOpaqueToken,
  encodeStreamToken,
  eventId,
  sequenceToken,
} from './log-tokens.js';

export const ALLOWED_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** PutLogEvents: batch size limit, counting UTF-8 message bytes + 26 per event. */
export const MAX_BATCH_BYTES = 1_048_576;
const EVENT_OVERHEAD = 26;
const MAX_BATCH_SPAN_MS = 24 * HOUR_MS;
const TOO_OLD_MS = 14 * DAY_MS;
const TOO_NEW_MS = 2 * HOUR_MS;
/** GetLogEvents / FilterLogEvents: response size limit. */
const MAX_RESPONSE_BYTES = 1_048_576;
const DEFAULT_EVENTS_LIMIT = 10_000;
/** FilterLogEvents examines at most this many events per call, then returns a nextToken (as AWS does). */
const FILTER_SCAN_BUDGET = 100_000;
const MAX_TAGS = 50;

export interface LogsHandlersOptions {
  /** Epoch ms; ingestion time, creation times and the too-old / too-new rules use it. */
  clock?: () => number;
}

// ---------------------------------------------------------------------------------------------
// Errors

export function toLogsWireError(err: unknown): WireError {
  if (err instanceof ValidationError) {
    if (err.message.startsWith('Could not parse request body')) {
      return { status: 400, type: 'SerializationException', message: err.message };
    }
    return { status: 400, type: 'InvalidParameterException', message: err.message };
  }
  if (err instanceof NotFoundError)
    return { status: 400, type: 'ResourceNotFoundException', message: err.message };
  if (err instanceof ConflictError)
    return { status: 400, type: 'ResourceAlreadyExistsException', message: err.message };
  if (err instanceof TooManyTagsError)
    return { status: 400, type: 'TooManyTagsException', message: err.message };
  if (err instanceof LimitExceededError)
    return { status: 400, type: 'LimitExceededException', message: err.message };
  if (err instanceof ThrottlingError)
    return { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' };
  return {
    status: 500,
    type: 'ServiceUnavailableException',
    message: 'The service cannot complete the request.',
  };
}

// ---------------------------------------------------------------------------------------------
// Validation

const patternCache = new Map<string, RegExp | null>();

function compilePattern(pattern: string): RegExp | null {
  let re = patternCache.get(pattern);
  if (re !== undefined) return re;
  const body = pattern.replace(/^\^/, '').replace(/\$$/, '');
  try {
    re = new RegExp(`^(?:${body})$`, 'u');
  } catch {
    try {
      re = new RegExp(`^(?:${body})$`);
    } catch {
      re = null;
    }
  }
  patternCache.set(pattern, re);
  return re;
}

/** Model validation (types, required, enums, min/max) plus top-level string patterns. */
function validateInput(op: string, input: Record<string, unknown>): void {
  const model = logsModel();
  const shapeName = model.operations[op]?.input;
  if (!shapeName) return;
  const messages = validateShape(model, shapeName, input).map((p) => p.message);
  const shape = model.shapes[shapeName];
  for (const [name, ref] of Object.entries(shape?.members ?? {})) {
    const v = input[name];
    const member = model.shapes[ref.shape];
    if (typeof v !== 'string' || !member?.pattern) continue;
    const re = compilePattern(member.pattern);
    if (re && !re.test(v)) {
      messages.push(
        `Value '${v}' at '${name}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${member.pattern}`,
      );
    }
  }
  if (messages.length > 0) {
    const n = messages.length;
    throw new ValidationError(`${n} validation error${n === 1 ? '' : 's'} detected: ${messages.join('; ')}`);
  }
}

function str(input: Record<string, unknown>, key: string): string | undefined {
  const v = input[key];
  return typeof v === 'string' ? v : undefined;
}

function int(input: Record<string, unknown>, key: string): number | undefined {
  const v = input[key];
  return typeof v === 'number' ? v : undefined;
}

function bool(input: Record<string, unknown>, key: string): boolean | undefined {
  const v = input[key];
  return typeof v === 'boolean' ? v : undefined;
}

function tagsOf(input: Record<string, unknown>, key: string): Record<string, string> | undefined {
  const v = input[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : undefined;
}

function stringList(input: Record<string, unknown>, key: string): string[] | undefined {
  const v = input[key];
  return Array.isArray(v) ? (v as string[]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// ARNs

function groupArnBase(ctx: RequestContext, group: string): string {
  return `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:${group}`;
}

/** `arn:<partition>:logs:<region>:<account>:log-group:<name>[:*]` → name. */
function groupNameFromArn(arn: string): string | undefined {
  const m = /^arn:[a-z-]+:logs:[a-z0-9-]*:\d*:log-group:([^:]+)(?::\*)?$/.exec(arn);
  return m?.[1];
}

/** The group named by `logGroupName` or `logGroupIdentifier` (name or ARN); exactly one is required. */
function resolveGroup(input: Record<string, unknown>): string {
  const name = str(input, 'logGroupName');
  const ident = str(input, 'logGroupIdentifier');
  if (name !== undefined && ident !== undefined) {
    throw new ValidationError(
      'LogGroup name and LogGroup ARN are mutually exclusive parameters.',
      'logGroupIdentifier',
    );
  }
  if (name !== undefined) return name;
  if (ident === undefined)
    throw new ValidationError('Either logGroupName or logGroupIdentifier must be specified.', 'logGroupName');
  if (!ident.startsWith('arn:')) return ident;
  const fromArn = groupNameFromArn(ident);
  if (fromArn === undefined)
    throw new ValidationError(`Invalid log group identifier: ${ident}`, 'logGroupIdentifier');
  return fromArn;
}

// ---------------------------------------------------------------------------------------------
// Encoders

function groupOut(ctx: RequestContext, g: LogGroupRecord): Record<string, unknown> {
  const base = groupArnBase(ctx, g.name);
  return {
    logGroupName: g.name,
    creationTime: g.creationTime,
    ...(g.retentionInDays !== undefined ? { retentionInDays: g.retentionInDays } : {}),
    metricFilterCount: 0,
    arn: `${base}:*`,
    storedBytes: g.storedBytes,
    ...(g.kmsKeyId !== undefined ? { kmsKeyId: g.kmsKeyId } : {}),
    logGroupClass: g.logGroupClass,
    logGroupArn: base,
    ...(g.deletionProtectionEnabled !== undefined
      ? { deletionProtectionEnabled: g.deletionProtectionEnabled }
      : {}),
  };
}

function streamOut(ctx: RequestContext, s: LogStreamRecord): Record<string, unknown> {
  return {
    logStreamName: s.name,
    creationTime: s.creationTime,
    ...(s.firstEventTimestamp !== undefined ? { firstEventTimestamp: s.firstEventTimestamp } : {}),
    ...(s.lastEventTimestamp !== undefined ? { lastEventTimestamp: s.lastEventTimestamp } : {}),
    ...(s.lastIngestionTime !== undefined ? { lastIngestionTime: s.lastIngestionTime } : {}),
    ...(s.lastSeq > 0 ? { uploadSequenceToken: sequenceToken(s.lastSeq) } : {}),
    arn: `${groupArnBase(ctx, s.groupName)}:log-stream:${s.name}`,
    storedBytes: s.storedBytes,
  };
}

function eventOut(e: StoredLogEvent): Record<string, unknown> {
  return { timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime };
}

// ---------------------------------------------------------------------------------------------
// Handlers

export function createLogsHandlers(
  store: LogStore,
  opts: LogsHandlersOptions = {},
): Map<string, JsonHandler> {
  const clock = opts.clock ?? Date.now;
  const handlers = new Map<string, JsonHandler>();
  const op = (
    name: string,
    fn: (input: Record<string, unknown>, ctx: RequestContext) => Promise<unknown>,
  ): void => {
    handlers.set(name, async (input, ctx) => {
      validateInput(name, input);
      return fn(input, ctx);
    });
  };

  const requireGroup = async (name: string): Promise<LogGroupRecord> => {
    const g = await store.getGroup(name);
    if (!g) throw new NotFoundError('logGroup', name, 'The specified log group does not exist.');
    return g;
  };

  const checkTagCount = (name: string, tags: Record<string, string>): void => {
    if (Object.keys(tags).length > MAX_TAGS) throw new TooManyTagsError(name);
  };

  const setTags = async (
    name: string,
    set: Record<string, string>,
    remove: readonly string[],
  ): Promise<void> => {
    const g = await requireGroup(name);
    const merged = { ...g.tags, ...set };
    for (const k of remove) delete merged[k];
    checkTagCount(name, merged);
    await store.updateTags(name, set, remove);
  };

  const groupFromResourceArn = (arn: string): string => {
    const name = groupNameFromArn(arn);
    if (name === undefined) {
      if (/^arn:[a-z-]+:logs:/.test(arn))
        throw new NotFoundError('resource', arn, 'The specified resource does not exist.');
      throw new ValidationError(`Invalid resource ARN: ${arn}`, 'resourceArn');
    }
    return name;
  };

  // -- Groups --------------------------------------------------------------------------------

  op('CreateLogGroup', async (input) => {
    const name = str(input, 'logGroupName')!;
    const tags = tagsOf(input, 'tags');
    const logGroupClass = str(input, 'logGroupClass');
    const kmsKeyId = str(input, 'kmsKeyId');
    const deletionProtectionEnabled = bool(input, 'deletionProtectionEnabled');
    await store.createGroup({
      name,
      now: clock(),
      ...(tags ? { tags } : {}),
      ...(logGroupClass ? { logGroupClass } : {}),
      ...(kmsKeyId ? { kmsKeyId } : {}),
      ...(deletionProtectionEnabled !== undefined ? { deletionProtectionEnabled } : {}),
    });
    return {};
  });

  op('DeleteLogGroup', async (input) => {
    await store.deleteGroup(str(input, 'logGroupName')!);
    return {};
  });

  op('DescribeLogGroups', async (input, ctx) => {
    const prefix = str(input, 'logGroupNamePrefix');
    const pattern = str(input, 'logGroupNamePattern');
    const identifiers = stringList(input, 'logGroupIdentifiers');
    if (prefix !== undefined && pattern !== undefined) {
      throw new ValidationError(
        'LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.',
        'logGroupNamePattern',
      );
    }
    if (identifiers && (prefix !== undefined || pattern !== undefined)) {
      throw new ValidationError(
        'logGroupIdentifiers cannot be combined with logGroupNamePrefix or logGroupNamePattern.',
        'logGroupIdentifiers',
      );
    }
    const limit = int(input, 'limit') ?? 50;
    const token = str(input, 'nextToken');
    const afterName = token !== undefined ? decodeOpaqueToken('g', token).n : undefined;
    if (token !== undefined && typeof afterName !== 'string')
      throw new ValidationError('The specified nextToken is invalid.', 'nextToken');
    const names = identifiers?.map((i) => (i.startsWith('arn:') ? (groupNameFromArn(i) ?? i) : i));
    const logGroupClass = str(input, 'logGroupClass');
    const rows = await store.listGroups({
      ...(prefix !== undefined ? { prefix } : {}),
      ...(pattern !== undefined ? { contains: pattern } : {}),
      ...(names ? { names } : {}),
      ...(logGroupClass !== undefined ? { logGroupClass } : {}),
      ...(typeof afterName === 'string' ? { afterName } : {}),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const more = rows.length > limit;
    return {
      logGroups: page.map((g) => groupOut(ctx, g)),
      ...(more ? { nextToken: encodeOpaqueToken('g', { n: page[page.length - 1]!.name }) } : {}),
    };
  });

  op('PutRetentionPolicy', async (input) => {
    const days = int(input, 'retentionInDays')!;
    if (!ALLOWED_RETENTION_DAYS.includes(days)) {
      throw new ValidationError(
        `1 validation error detected: Value '${days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${ALLOWED_RETENTION_DAYS.join(', ')}]`,
        'retentionInDays',
      );
    }
    await store.setRetention(str(input, 'logGroupName')!, days);
    return {};
  });

  op('DeleteRetentionPolicy', async (input) => {
    await store.setRetention(str(input, 'logGroupName')!, undefined);
    return {};
  });

  // -- Tags ----------------------------------------------------------------------------------

  op('TagResource', async (input) => {
    await setTags(groupFromResourceArn(str(input, 'resourceArn')!), tagsOf(input, 'tags') ?? {}, []);
    return {};
  });

  op('UntagResource', async (input) => {
    await setTags(groupFromResourceArn(str(input, 'resourceArn')!), {}, stringList(input, 'tagKeys') ?? []);
    return {};
  });

  op('ListTagsForResource', async (input) => {
    const g = await requireGroup(groupFromResourceArn(str(input, 'resourceArn')!));
    return { tags: g.tags };
  });

  op('TagLogGroup', async (input) => {
    await setTags(str(input, 'logGroupName')!, tagsOf(input, 'tags') ?? {}, []);
    return {};
  });

  op('UntagLogGroup', async (input) => {
    await setTags(str(input, 'logGroupName')!, {}, stringList(input, 'tags') ?? []);
    return {};
  });

  op('ListTagsLogGroup', async (input) => {
    const g = await requireGroup(str(input, 'logGroupName')!);
    return { tags: g.tags };
  });

  // -- Streams -------------------------------------------------------------------------------

  op('CreateLogStream', async (input) => {
    await store.createStream(str(input, 'logGroupName')!, str(input, 'logStreamName')!, clock());
    return {};
  });

  op('DeleteLogStream', async (input) => {
    await store.deleteStream(str(input, 'logGroupName')!, str(input, 'logStreamName')!);
    return {};
  });

  op('DescribeLogStreams', async (input, ctx) => {
    const group = resolveGroup(input);
    const prefix = str(input, 'logStreamNamePrefix');
    const orderBy = (str(input, 'orderBy') ?? 'LogStreamName') as 'LogStreamName' | 'LastEventTime';
    if (orderBy === 'LastEventTime' && prefix !== undefined) {
      throw new ValidationError('Cannot order by LastEventTime with a logStreamNamePrefix.', 'orderBy');
    }
    const descending = bool(input, 'descending') ?? false;
    const limit = int(input, 'limit') ?? 50;
    const token = str(input, 'nextToken');
    let after: { name: string; lastEventTimestamp: number } | undefined;
    if (token !== undefined) {
      const t = decodeOpaqueToken(orderBy === 'LastEventTime' ? 'st' : 'sn', token);
      if (typeof t.n !== 'string' || typeof t.t !== 'number')
        throw new ValidationError('The specified nextToken is invalid.', 'nextToken');
      after = { name: t.n, lastEventTimestamp: t.t };
    }
    const rows = await store.listStreams(group, {
      ...(prefix !== undefined ? { prefix } : {}),
      orderBy,
      descending,
      ...(after ? { after } : {}),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      logStreams: page.map((s) => streamOut(ctx, s)),
      ...(rows.length > limit && last
        ? {
            nextToken: encodeOpaqueToken(orderBy === 'LastEventTime' ? 'st' : 'sn', {
              n: last.name,
              t: last.lastEventTimestamp ?? -1,
            }),
          }
        : {}),
    };
  });

  // -- Events --------------------------------------------------------------------------------

  op('PutLogEvents', async (input) => {
    const group = str(input, 'logGroupName')!;
    const stream = str(input, 'logStreamName')!;
    const events = input.logEvents as Array<{ timestamp: number; message: string }>;
    const now = clock();

    const g = await requireGroup(group);
    const s = await store.getStream(group, stream);
    if (!s) throw new NotFoundError('logStream', stream, 'The specified log stream does not exist.');

    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      bytes += Buffer.byteLength(e.message, 'utf8') + EVENT_OVERHEAD;
      if (i > 0 && e.timestamp < events[i - 1]!.timestamp) {
        throw new ValidationError(
          'Log events in a single PutLogEvents request must be in chronological order.',
          'logEvents',
        );
      }
    }
    if (bytes > MAX_BATCH_BYTES) {
      throw new ValidationError(
        `Upload too large: ${bytes} bytes exceeds limit of ${MAX_BATCH_BYTES}`,
        'logEvents',
      );
    }
    if (
      events.length > 0 &&
      events[events.length - 1]!.timestamp - events[0]!.timestamp > MAX_BATCH_SPAN_MS
    ) {
      throw new ValidationError(
        'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.',
        'logEvents',
      );
    }

    const tooOldBefore = now - TOO_OLD_MS;
    const expiredBefore = g.retentionInDays !== undefined ? now - g.retentionInDays * DAY_MS : undefined;
    const tooNewAfter = now + TOO_NEW_MS;
    let tooOldEnd = -1;
    let expiredEnd = -1;
    let tooNewStart = events.length;
    for (let i = 0; i < events.length; i++) {
      const ts = events[i]!.timestamp;
      if (ts < tooOldBefore) tooOldEnd = i;
      if (expiredBefore !== undefined && ts < expiredBefore) expiredEnd = i;
      if (ts > tooNewAfter && tooNewStart === events.length) tooNewStart = i;
    }
    const firstAccepted = Math.max(tooOldEnd, expiredEnd) + 1;
    const accepted: LogEventInput[] = events
      .slice(firstAccepted, tooNewStart)
      .map((e) => ({ timestamp: e.timestamp, message: e.message }));
    const res = await store.putEvents(group, stream, accepted, now);
    const rejected = {
      ...(tooNewStart < events.length ? { tooNewLogEventStartIndex: tooNewStart } : {}),
      ...(tooOldEnd >= 0 ? { tooOldLogEventEndIndex: tooOldEnd } : {}),
      ...(expiredEnd >= 0 ? { expiredLogEventEndIndex: expiredEnd } : {}),
    };
    return {
      nextSequenceToken: sequenceToken(res.lastSeq),
      ...(Object.keys(rejected).length > 0 ? { rejectedLogEventsInfo: rejected } : {}),
    };
  });

  op('GetLogEvents', async (input) => {
    const group = resolveGroup(input);
    const stream = str(input, 'logStreamName')!;
    const limit = int(input, 'limit') ?? DEFAULT_EVENTS_LIMIT;
    const startTime = int(input, 'startTime');
    const endTime = int(input, 'endTime');
    const token = str(input, 'nextToken');
    const decoded = token !== undefined ? decodeStreamToken(token) : undefined;
    const direction = decoded
      ? decoded.dir === 'f'
        ? 'forward'
        : 'backward'
      : bool(input, 'startFromHead') === true
        ? 'forward'
        : 'backward';

    const events = await store.readStream(group, stream, {
      ...(startTime !== undefined ? { startTime } : {}),
      ...(endTime !== undefined ? { endTime } : {}),
      direction,
      ...(decoded ? { cursor: decoded.cursor } : {}),
      limit,
      maxBytes: MAX_RESPONSE_BYTES,
    });

    let forward: EventCursor;
    let backward: EventCursor;
    const first = events[0];
    const last = events[events.length - 1];
    if (first && last) {
      forward = { ts: last.timestamp, seq: last.seq };
      backward = { ts: first.timestamp, seq: first.seq };
    } else if (decoded && decoded.dir === 'f') {
      // End of the stream going forward: the same forward token again (the client's stop signal).
      forward = decoded.cursor;
      backward = { ts: decoded.cursor.ts, seq: decoded.cursor.seq + 1 };
    } else if (decoded) {
      // Start of the stream going backward: the same backward token again.
      backward = decoded.cursor;
      forward =
        decoded.cursor.seq > 0
          ? { ts: decoded.cursor.ts, seq: decoded.cursor.seq - 1 }
          : { ts: Math.max(0, decoded.cursor.ts - 1), seq: Number.MAX_SAFE_INTEGER };
    } else {
      forward = { ts: 0, seq: 0 };
      backward = { ts: 0, seq: 0 };
    }
    return {
      events: events.map(eventOut),
      nextForwardToken: encodeStreamToken('f', forward),
      nextBackwardToken: encodeStreamToken('b', backward),
    };
  });

  op('FilterLogEvents', async (input) => {
    const group = resolveGroup(input);
    const streamNames = stringList(input, 'logStreamNames');
    const prefix = str(input, 'logStreamNamePrefix');
    if (streamNames && prefix !== undefined) {
      throw new ValidationError(
        'logStreamNames and logStreamNamePrefix are mutually exclusive parameters.',
        'logStreamNamePrefix',
      );
    }
    let predicate: (m: string) => boolean;
    try {
      predicate = compileFilterPattern(str(input, 'filterPattern'));
    } catch (err) {
      if (err instanceof FilterPatternError)
        throw new ValidationError('Invalid filter pattern', 'filterPattern', { cause: err });
      throw err;
    }
    const token = str(input, 'nextToken');
    let after: EventCursor | undefined;
    if (token !== undefined) {
      const t = decodeOpaqueToken('fe', token);
      if (typeof t.t !== 'number' || typeof t.s !== 'number')
        throw new ValidationError('The specified nextToken is invalid.', 'nextToken');
      after = { ts: t.t, seq: t.s };
    }
    const startTime = int(input, 'startTime');
    const endTime = int(input, 'endTime');
    const res = await store.filterEvents(group, {
      ...(streamNames ? { streamNames } : {}),
      ...(prefix !== undefined ? { streamNamePrefix: prefix } : {}),
      ...(startTime !== undefined ? { startTime } : {}),
      ...(endTime !== undefined ? { endTime } : {}),
      ...(after ? { after } : {}),
      predicate,
      limit: int(input, 'limit') ?? DEFAULT_EVENTS_LIMIT,
      maxBytes: MAX_RESPONSE_BYTES,
      scanBudget: FILTER_SCAN_BUDGET,
    });
    return {
      events: res.events.map((e) => ({
        logStreamName: e.streamName,
        timestamp: e.timestamp,
        message: e.message,
        ingestionTime: e.ingestionTime,
        eventId: eventId(e.timestamp, e.seq),
      })),
      ...(res.resumeAfter
        ? { nextToken: encodeOpaqueToken('fe', { t: res.resumeAfter.ts, s: res.resumeAfter.seq }) }
        : {}),
    };
  });

  return handlers;
}
