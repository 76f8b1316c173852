/**
 * @module logs/log-store
 * The log store port: everything the CloudWatch Logs API and the retention loop need, on top of the
 * `LogSink` the job engine writes through. Implementations own their connections; no driver type leaks.
 *
 * Ordering: events of a stream are ordered by (timestamp, seq), where `seq` is a store-wide, never
 * reused, increasing number assigned at ingestion. `seq` is the basis of event ids and page tokens.
 */
import type { LogEventInput, LogSink } from './log-sink.js';

export interface LogGroupRecord {
  name: string;
  creationTime: number;
  retentionInDays?: number;
  logGroupClass: string;
  kmsKeyId?: string;
  deletionProtectionEnabled?: boolean;
  /** Sum of the UTF-8 sizes of the messages stored in the group. */
  storedBytes: number;
  tags: Record<string, string>;
}

export interface LogStreamRecord {
  groupName: string;
  name: string;
  creationTime: number;
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
  storedBytes: number;
  /** Highest seq ever written to the stream (0 when empty); basis of the upload sequence token. */
  lastSeq: number;
}

/** A position in the (timestamp, seq) order of events. */
export interface EventCursor {
  ts: number;
  seq: number;
}

export interface StoredLogEvent {
  seq: number;
  timestamp: number;
  ingestionTime: number;
  message: string;
}

export interface FilteredStoredLogEvent extends StoredLogEvent {
  streamName: string;
}

export interface CreateGroupInput {
  name: string;
  now: number;
  tags?: Record<string, string>;
  logGroupClass?: string;
  kmsKeyId?: string;
  deletionProtectionEnabled?: boolean;
}

export interface ListGroupsQuery {
  /** Name starts with. */
  prefix?: string;
  /** Name contains (case-sensitive). */
  contains?: string;
  /** Restrict to these names. */
  names?: readonly string[];
  logGroupClass?: string;
  /** Return names strictly after this one. */
  afterName?: string;
  limit: number;
}

export interface ListStreamsQuery {
  prefix?: string;
  orderBy: 'LogStreamName' | 'LastEventTime';
  descending: boolean;
  /** Keyset cursor: the last stream of the previous page (lastEventTimestamp is only used with LastEventTime). */
  after?: { name: string; lastEventTimestamp: number };
  limit: number;
}

export interface ReadStreamQuery {
  /** Inclusive. */
  startTime?: number;
  /** Exclusive. */
  endTime?: number;
  /** 'forward' reads events strictly after `cursor` (or from the start); 'backward' strictly before it (or from the end). */
  direction: 'forward' | 'backward';
  cursor?: EventCursor;
  limit: number;
  /** Byte budget for the page, counting UTF-8 message bytes + 26 per event. */
  maxBytes: number;
}

export interface FilterQuery {
  /** Restrict to these streams (missing names are ignored). */
  streamNames?: readonly string[];
  streamNamePrefix?: string;
  /** Inclusive. */
  startTime?: number;
  /** Inclusive. */
  endTime?: number;
  /** Scan strictly after this position. */
  after?: EventCursor;
  predicate: (message: string) => boolean;
  limit: number;
  maxBytes: number;
  /** Stop after examining this many events even if the page is not full. */
  scanBudget: number;
}

export interface FilterResult {
  events: FilteredStoredLogEvent[];
  /** Where to resume; absent when the whole range was scanned. */
  resumeAfter?: EventCursor;
}

export interface PutEventsResult {
  /** Highest seq written; 0 when nothing was written. */
  lastSeq: number;
}

export interface RetentionResult {
  deletedEvents: number;
  deletedBytes: number;
}

export interface LogStore extends LogSink {
  /**
   * Whether a job may log to `group`: true if the group exists; otherwise creates it and returns true
   * when `create` is true, and returns false when `create` is false. Never called at startup.
   */
  ensureGroup(group: string, create: boolean): Promise<boolean>;

  /** Throws ConflictError when the group exists. */
  createGroup(input: CreateGroupInput): Promise<LogGroupRecord>;
  /** Deletes the group, its streams and events. Throws NotFoundError. */
  deleteGroup(name: string): Promise<void>;
  getGroup(name: string): Promise<LogGroupRecord | undefined>;
  /** Sorted by name ascending. */
  listGroups(query: ListGroupsQuery): Promise<LogGroupRecord[]>;
  /** `undefined` removes the policy. Throws NotFoundError. */
  setRetention(name: string, days: number | undefined): Promise<void>;
  /** Merge `set`, then remove `remove`. Returns the resulting tags. Throws NotFoundError. */
  updateTags(
    name: string,
    set: Record<string, string>,
    remove: readonly string[],
  ): Promise<Record<string, string>>;

  /** Throws NotFoundError (group) or ConflictError (stream exists). */
  createStream(group: string, stream: string, now: number): Promise<LogStreamRecord>;
  /** Throws NotFoundError (group or stream). */
  deleteStream(group: string, stream: string): Promise<void>;
  getStream(group: string, stream: string): Promise<LogStreamRecord | undefined>;
  listStreams(group: string, query: ListStreamsQuery): Promise<LogStreamRecord[]>;

  /**
   * Write events to an existing stream now (PutLogEvents), in the given order, with `ingestionTime`.
   * Buffered `append`s are flushed first. Throws NotFoundError when the group or stream is missing.
   */
  putEvents(
    group: string,
    stream: string,
    events: readonly LogEventInput[],
    ingestionTime: number,
  ): Promise<PutEventsResult>;
  /** One page of a stream, always ascending. Throws NotFoundError when the group or stream is missing. */
  readStream(group: string, stream: string, query: ReadStreamQuery): Promise<StoredLogEvent[]>;
  /** Events of a group matching `predicate`, interleaved in (timestamp, seq) order. Throws NotFoundError. */
  filterEvents(group: string, query: FilterQuery): Promise<FilterResult>;

  /** Delete events older than their group's retention at `now`; updates storedBytes. */
  deleteExpired(now: number): Promise<RetentionResult>;

  /** Flush and release the database. */
  close(): Promise<void>;
}
