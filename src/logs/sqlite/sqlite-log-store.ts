/**
 * @module logs/sqlite/sqlite-log-store
 * The embedded log store: its own SQLite file (`<dataDir>/logs.db`, WAL, synchronous=NORMAL).
 *
 * - `append()` (the job engine's path) only buffers; a timer flushes every `flushIntervalMs` in one
 *   transaction, and a full buffer (`maxBufferedEvents` / `maxBufferedBytes`) is flushed synchronously
 *   inside `append()`, which is the back-pressure that keeps memory bounded.
 * - Every read and every PutLogEvents flushes the buffer first, so readers see all appended lines.
 * - Per-stream cap: when a stream holds more than `maxStreamBytes` of message bytes, its oldest events
 *   are deleted until it holds at most 90% of the cap (AWS has no such cap; this one protects the disk).
 */
import Database from 'better-sqlite3';

import { ConflictError, NotFoundError } from '../../core/errors.js';
import type { LogEventInput } from '../log-sink.js';
import type {
  CreateGroupInput,
  EventCursor,
  FilteredStoredLogEvent,
  FilterQuery,
  FilterResult,
  ListGroupsQuery,
  ListStreamsQuery,
  LogGroupRecord,
  LogStore,
  LogStreamRecord,
  PutEventsResult,
  ReadStreamQuery,
  RetentionResult,
  StoredLogEvent,
} from '../log-store.js';
import { LOG_MIGRATIONS } from './migrations.js';

export interface SqliteLogStoreOptions {
  /** File path, or ':memory:'. */
  path: string;
  /** Ingestion time source for `append()`. */
  now?: () => number;
  flushIntervalMs?: number;
  maxBufferedEvents?: number;
  maxBufferedBytes?: number;
  /** Per-stream cap on stored message bytes (default 1 GiB). */
  maxStreamBytes?: number;
  /** Flush failures and events dropped because their group is missing (createGroup false). */
  onError?: (err: unknown) => void;
}

export const DEFAULT_MAX_STREAM_BYTES = 1024 * 1024 * 1024;
const EVENT_OVERHEAD = 26;
const MAX_SEQ = Number.MAX_SAFE_INTEGER;
const DAY_MS = 86_400_000;
const DELETE_CHUNK = 50_000;

export const LOG_GROUP_NOT_FOUND = 'The specified log group does not exist.';
export const LOG_STREAM_NOT_FOUND = 'The specified log stream does not exist.';

interface GroupRow {
  id: number;
  name: string;
  creation_time: number;
  retention_days: number | null;
  log_group_class: string;
  kms_key_id: string | null;
  deletion_protection: number | null;
  tags: string;
  stored_bytes: number;
}

interface StreamRow {
  id: number;
  group_id: number;
  name: string;
  creation_time: number;
  first_ts: number | null;
  last_ts: number | null;
  last_ingestion: number | null;
  stored_bytes: number;
  last_seq: number;
}

/** Row of the raw (array-mode) read statements: seq, ts, ingestion_time, message. */
type RawEventRow = [number, number, number, string];

interface PendingAppend {
  group: string;
  stream: string;
  createGroup: boolean;
  events: readonly LogEventInput[];
  ingestionTime: number;
}

interface StreamIds {
  groupId: number;
  streamId: number;
}

function toGroup(r: GroupRow): LogGroupRecord {
  return {
    name: r.name,
    creationTime: r.creation_time,
    ...(r.retention_days !== null ? { retentionInDays: r.retention_days } : {}),
    logGroupClass: r.log_group_class,
    ...(r.kms_key_id !== null ? { kmsKeyId: r.kms_key_id } : {}),
    ...(r.deletion_protection !== null ? { deletionProtectionEnabled: r.deletion_protection === 1 } : {}),
    storedBytes: r.stored_bytes,
    tags: JSON.parse(r.tags) as Record<string, string>,
  };
}

function toStream(groupName: string, r: StreamRow): LogStreamRecord {
  return {
    groupName,
    name: r.name,
    creationTime: r.creation_time,
    ...(r.first_ts !== null ? { firstEventTimestamp: r.first_ts } : {}),
    ...(r.last_ts !== null ? { lastEventTimestamp: r.last_ts } : {}),
    ...(r.last_ingestion !== null ? { lastIngestionTime: r.last_ingestion } : {}),
    storedBytes: r.stored_bytes,
    lastSeq: r.last_seq,
  };
}

function cmpCursor(a: EventCursor, b: EventCursor): number {
  return a.ts !== b.ts ? a.ts - b.ts : a.seq - b.seq;
}

function maxCursor(a: EventCursor, b: EventCursor): EventCursor {
  return cmpCursor(a, b) >= 0 ? a : b;
}

function minCursor(a: EventCursor, b: EventCursor): EventCursor {
  return cmpCursor(a, b) <= 0 ? a : b;
}

/** Heap entry of the k-way merge in filterEvents. */
interface MergeSource {
  streamId: number;
  streamName: string;
  buf: RawEventRow[];
  idx: number;
  chunk: number;
  exhausted: boolean;
}

export class SqliteLogStore implements LogStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly flushIntervalMs: number;
  private readonly maxBufferedEvents: number;
  private readonly maxBufferedBytes: number;
  private readonly maxStreamBytes: number;
  private readonly onError: (err: unknown) => void;

  private pending: PendingAppend[] = [];
  private pendingEvents = 0;
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private nextSeq: number;
  private readonly streamIds = new Map<string, StreamIds>();

  private readonly stmts: ReturnType<SqliteLogStore['prepare']>;

  constructor(opts: SqliteLogStoreOptions) {
    this.db = new Database(opts.path);
    this.now = opts.now ?? Date.now;
    this.flushIntervalMs = opts.flushIntervalMs ?? 50;
    this.maxBufferedEvents = opts.maxBufferedEvents ?? 20_000;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.maxStreamBytes = opts.maxStreamBytes ?? DEFAULT_MAX_STREAM_BYTES;
    this.onError = opts.onError ?? ((err) => console.error('[logs] flush failed', err));
    if (opts.path !== ':memory:') {
      this.db.pragma('journal_mode = WAL');
    }
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = OFF');
    this.migrate();
    this.stmts = this.prepare();
    this.nextSeq = (this.stmts.getMeta.get('next_seq') as { value: number } | undefined)?.value ?? 1;
  }

  private migrate(): void {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS log_schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL)',
    );
    const done = new Set(
      (this.db.prepare('SELECT version FROM log_schema_version').all() as Array<{ version: number }>).map(
        (r) => r.version,
      ),
    );
    for (const m of LOG_MIGRATIONS) {
      if (done.has(m.version)) continue;
      this.db.transaction(() => {
        this.db
          .prepare('INSERT INTO log_schema_version (version, name) VALUES (?, ?)')
          .run(m.version, m.name);
        this.db.exec(m.sql);
      })();
    }
  }

  private prepare() {
    const db = this.db;
    return {
      getMeta: db.prepare('SELECT value FROM log_meta WHERE key = ?'),
      setMeta: db.prepare(
        'INSERT INTO log_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      groupByName: db.prepare('SELECT * FROM log_groups WHERE name = ?'),
      insertGroup: db.prepare(
        `INSERT INTO log_groups (name, creation_time, log_group_class, kms_key_id, deletion_protection, tags)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      streamByName: db.prepare('SELECT * FROM log_streams WHERE group_id = ? AND name = ?'),
      streamsOfGroup: db.prepare('SELECT * FROM log_streams WHERE group_id = ?'),
      insertStream: db.prepare('INSERT INTO log_streams (group_id, name, creation_time) VALUES (?, ?, ?)'),
      insertEvent: db.prepare(
        'INSERT INTO log_events (stream_id, ts, seq, ingestion_time, message) VALUES (?, ?, ?, ?, ?)',
      ),
      updateStreamStats: db.prepare(
        `UPDATE log_streams SET
           first_ts = CASE WHEN first_ts IS NULL OR first_ts > @minTs THEN @minTs ELSE first_ts END,
           last_ts = CASE WHEN last_ts IS NULL OR last_ts < @maxTs THEN @maxTs ELSE last_ts END,
           last_ingestion = @ingestion,
           stored_bytes = stored_bytes + @bytes,
           last_seq = @lastSeq
         WHERE id = @id`,
      ),
      streamBytes: db.prepare('SELECT stored_bytes FROM log_streams WHERE id = ?'),
      addGroupBytes: db.prepare('UPDATE log_groups SET stored_bytes = stored_bytes + ? WHERE id = ?'),
      addStreamBytes: db.prepare('UPDATE log_streams SET stored_bytes = stored_bytes + ? WHERE id = ?'),
      setFirstTs: db.prepare(
        'UPDATE log_streams SET first_ts = coalesce((SELECT ts FROM log_events WHERE stream_id = @id ORDER BY ts, seq LIMIT 1), first_ts) WHERE id = @id',
      ),
      deleteStreamEvents: db.prepare('DELETE FROM log_events WHERE stream_id = ?'),
      deleteStream: db.prepare('DELETE FROM log_streams WHERE id = ?'),
      deleteStreamsOfGroup: db.prepare('DELETE FROM log_streams WHERE group_id = ?'),
      deleteGroup: db.prepare('DELETE FROM log_groups WHERE id = ?'),
      setRetention: db.prepare('UPDATE log_groups SET retention_days = ? WHERE id = ?'),
      setTags: db.prepare('UPDATE log_groups SET tags = ? WHERE id = ?'),
      readForwardRaw: db
        .prepare(
          `SELECT seq, ts, ingestion_time, message FROM log_events
           WHERE stream_id = ? AND (ts, seq) > (?, ?) AND (ts, seq) < (?, ?)
           ORDER BY ts, seq LIMIT ?`,
        )
        .raw(true),
      readBackwardRaw: db
        .prepare(
          `SELECT seq, ts, ingestion_time, message FROM log_events
           WHERE stream_id = ? AND (ts, seq) > (?, ?) AND (ts, seq) < (?, ?)
           ORDER BY ts DESC, seq DESC LIMIT ?`,
        )
        .raw(true),
      nthOlderThan: db.prepare(
        'SELECT ts, seq FROM log_events WHERE stream_id = ? AND ts < ? ORDER BY ts, seq LIMIT 1 OFFSET ?',
      ),
      sizeUpTo: db.prepare(
        `SELECT count(*) AS n, coalesce(sum(length(CAST(message AS BLOB))), 0) AS bytes FROM log_events
         WHERE stream_id = ? AND (ts, seq) <= (?, ?)`,
      ),
      deleteUpTo: db.prepare('DELETE FROM log_events WHERE stream_id = ? AND (ts, seq) <= (?, ?)'),
      oldestWithSize: db.prepare(
        'SELECT ts, seq, length(CAST(message AS BLOB)) AS bytes FROM log_events WHERE stream_id = ? ORDER BY ts, seq',
      ),
      groupsWithRetention: db.prepare(
        'SELECT id, retention_days FROM log_groups WHERE retention_days IS NOT NULL',
      ),
    };
  }

  // ------------------------------------------------------------------------------------------
  // LogSink

  append(
    group: string,
    stream: string,
    events: readonly LogEventInput[],
    opts?: { createGroup?: boolean },
  ): void {
    if (this.closed || events.length === 0) return;
    this.pending.push({
      group,
      stream,
      createGroup: opts?.createGroup ?? true,
      events,
      ingestionTime: this.now(),
    });
    this.pendingEvents += events.length;
    for (const e of events) this.pendingBytes += e.message.length + EVENT_OVERHEAD;
    if (this.pendingEvents >= this.maxBufferedEvents || this.pendingBytes >= this.maxBufferedBytes) {
      this.flushSync();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flushSync();
      }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  async flush(): Promise<void> {
    this.flushSync();
    return;
  }

  /** Write everything buffered in one transaction. Never throws: failures go to `onError`. */
  private flushSync(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingEvents = 0;
    this.pendingBytes = 0;
    try {
      this.writeBatch(batch);
    } catch (err) {
      this.onError(err);
    }
  }

  private writeBatch(batch: readonly PendingAppend[]): void {
    // Events get their seq in append order (across streams), so equal timestamps keep arrival order.
    interface StreamWrite {
      ids: StreamIds;
      minTs: number;
      maxTs: number;
      ingestion: number;
      bytes: number;
      lastSeq: number;
    }
    const dropped = new Set<string>();
    this.db.transaction(() => {
      const writes = new Map<number, StreamWrite>();
      for (const p of batch) {
        const ids = this.resolveStream(
          `${p.group}\u0000${p.stream}`,
          p.group,
          p.stream,
          p.createGroup,
          p.ingestionTime,
        );
        if (!ids) {
          dropped.add(p.group);
          continue;
        }
        let w = writes.get(ids.streamId);
        if (!w) {
          w = {
            ids,
            minTs: Number.POSITIVE_INFINITY,
            maxTs: Number.NEGATIVE_INFINITY,
            ingestion: 0,
            bytes: 0,
            lastSeq: 0,
          };
          writes.set(ids.streamId, w);
        }
        w.ingestion = p.ingestionTime;
        for (const e of p.events) {
          const ts = Math.trunc(e.timestamp);
          w.lastSeq = this.nextSeq++;
          this.stmts.insertEvent.run(ids.streamId, ts, w.lastSeq, p.ingestionTime, e.message);
          if (ts < w.minTs) w.minTs = ts;
          if (ts > w.maxTs) w.maxTs = ts;
          w.bytes += Buffer.byteLength(e.message, 'utf8');
        }
      }
      for (const w of writes.values())
        this.finishStreamWrite(w.ids, w.minTs, w.maxTs, w.ingestion, w.bytes, w.lastSeq);
      this.stmts.setMeta.run('next_seq', this.nextSeq);
    })();
    for (const g of dropped) {
      this.onError(
        new NotFoundError(
          'logGroup',
          g,
          `${LOG_GROUP_NOT_FOUND} (${g}); output dropped because awslogs-create-group is false`,
        ),
      );
    }
  }

  private finishStreamWrite(
    ids: StreamIds,
    minTs: number,
    maxTs: number,
    ingestion: number,
    bytes: number,
    lastSeq: number,
  ): void {
    const info = this.stmts.updateStreamStats.run({
      id: ids.streamId,
      minTs,
      maxTs,
      ingestion,
      bytes,
      lastSeq,
    });
    if (info.changes === 0) return;
    this.stmts.addGroupBytes.run(bytes, ids.groupId);
    const row = this.stmts.streamBytes.get(ids.streamId) as { stored_bytes: number };
    if (row.stored_bytes > this.maxStreamBytes)
      this.trimStream(ids, row.stored_bytes - Math.floor(this.maxStreamBytes * 0.9));
  }

  /** Delete the oldest events of a stream until at least `bytesToFree` message bytes are gone. */
  private trimStream(ids: StreamIds, bytesToFree: number): void {
    let freed = 0;
    let cut: EventCursor | undefined;
    for (const r of this.stmts.oldestWithSize.iterate(ids.streamId) as IterableIterator<{
      ts: number;
      seq: number;
      bytes: number;
    }>) {
      freed += r.bytes;
      cut = { ts: r.ts, seq: r.seq };
      if (freed >= bytesToFree) break;
    }
    if (!cut) return;
    this.stmts.deleteUpTo.run(ids.streamId, cut.ts, cut.seq);
    this.stmts.addStreamBytes.run(-freed, ids.streamId);
    this.stmts.addGroupBytes.run(-freed, ids.groupId);
    this.stmts.setFirstTs.run({ id: ids.streamId });
  }

  /** Stream ids for an append; creates the group (if allowed) and the stream. Undefined when the group is missing. */
  private resolveStream(
    key: string,
    group: string,
    stream: string,
    createGroup: boolean,
    now: number,
  ): StreamIds | undefined {
    const cached = this.streamIds.get(key);
    if (cached) return cached;
    let g = this.stmts.groupByName.get(group) as GroupRow | undefined;
    if (!g) {
      if (!createGroup) return undefined;
      this.stmts.insertGroup.run(group, now, 'STANDARD', null, null, '{}');
      g = this.stmts.groupByName.get(group) as GroupRow;
    }
    let s = this.stmts.streamByName.get(g.id, stream) as StreamRow | undefined;
    if (!s) {
      this.stmts.insertStream.run(g.id, stream, now);
      s = this.stmts.streamByName.get(g.id, stream) as StreamRow;
    }
    const ids = { groupId: g.id, streamId: s.id };
    this.streamIds.set(key, ids);
    return ids;
  }

  // ------------------------------------------------------------------------------------------
  // Groups

  private groupRow(name: string): GroupRow | undefined {
    return this.stmts.groupByName.get(name) as GroupRow | undefined;
  }

  private requireGroup(name: string): GroupRow {
    const g = this.groupRow(name);
    if (!g) throw new NotFoundError('logGroup', name, LOG_GROUP_NOT_FOUND);
    return g;
  }

  private requireStream(group: string, stream: string): { g: GroupRow; s: StreamRow } {
    const g = this.requireGroup(group);
    const s = this.stmts.streamByName.get(g.id, stream) as StreamRow | undefined;
    if (!s) throw new NotFoundError('logStream', stream, LOG_STREAM_NOT_FOUND);
    return { g, s };
  }

  async ensureGroup(group: string, create: boolean): Promise<boolean> {
    this.flushSync();
    if (this.groupRow(group)) return true;
    if (!create) return false;
    this.stmts.insertGroup.run(group, this.now(), 'STANDARD', null, null, '{}');
    return true;
  }

  async createGroup(input: CreateGroupInput): Promise<LogGroupRecord> {
    this.flushSync();
    if (this.groupRow(input.name)) throw new ConflictError('The specified log group already exists');
    this.stmts.insertGroup.run(
      input.name,
      input.now,
      input.logGroupClass ?? 'STANDARD',
      input.kmsKeyId ?? null,
      input.deletionProtectionEnabled === undefined ? null : input.deletionProtectionEnabled ? 1 : 0,
      JSON.stringify(input.tags ?? {}),
    );
    return toGroup(this.groupRow(input.name)!);
  }

  async deleteGroup(name: string): Promise<void> {
    this.flushSync();
    const g = this.requireGroup(name);
    this.db.transaction(() => {
      for (const s of this.stmts.streamsOfGroup.all(g.id) as StreamRow[])
        this.stmts.deleteStreamEvents.run(s.id);
      this.stmts.deleteStreamsOfGroup.run(g.id);
      this.stmts.deleteGroup.run(g.id);
    })();
    for (const key of this.streamIds.keys()) if (key.startsWith(`${name}\u0000`)) this.streamIds.delete(key);
    return;
  }

  async getGroup(name: string): Promise<LogGroupRecord | undefined> {
    this.flushSync();
    const g = this.groupRow(name);
    return g ? toGroup(g) : undefined;
  }

  async listGroups(q: ListGroupsQuery): Promise<LogGroupRecord[]> {
    this.flushSync();
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.prefix !== undefined) {
      where.push('substr(name, 1, ?) = ?');
      params.push(q.prefix.length, q.prefix);
    }
    if (q.contains !== undefined && q.contains !== '') {
      where.push('instr(name, ?) > 0');
      params.push(q.contains);
    }
    if (q.names) {
      if (q.names.length === 0) return [];
      where.push(`name IN (${q.names.map(() => '?').join(', ')})`);
      params.push(...q.names);
    }
    if (q.logGroupClass !== undefined) {
      where.push('log_group_class = ?');
      params.push(q.logGroupClass);
    }
    if (q.afterName !== undefined) {
      where.push('name > ?');
      params.push(q.afterName);
    }
    const sql = `SELECT * FROM log_groups ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY name LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, q.limit) as GroupRow[];
    return rows.map(toGroup);
  }

  async setRetention(name: string, days: number | undefined): Promise<void> {
    this.flushSync();
    const g = this.requireGroup(name);
    this.stmts.setRetention.run(days ?? null, g.id);
    return;
  }

  async updateTags(
    name: string,
    set: Record<string, string>,
    remove: readonly string[],
  ): Promise<Record<string, string>> {
    this.flushSync();
    const g = this.requireGroup(name);
    const tags = { ...(JSON.parse(g.tags) as Record<string, string>), ...set };
    for (const k of remove) delete tags[k];
    this.stmts.setTags.run(JSON.stringify(tags), g.id);
    return tags;
  }

  // ------------------------------------------------------------------------------------------
  // Streams

  async createStream(group: string, stream: string, now: number): Promise<LogStreamRecord> {
    this.flushSync();
    const g = this.requireGroup(group);
    if (this.stmts.streamByName.get(g.id, stream))
      throw new ConflictError('The specified log stream already exists');
    this.stmts.insertStream.run(g.id, stream, now);
    return toStream(group, this.stmts.streamByName.get(g.id, stream) as StreamRow);
  }

  async deleteStream(group: string, stream: string): Promise<void> {
    this.flushSync();
    const { g, s } = this.requireStream(group, stream);
    this.db.transaction(() => {
      this.stmts.deleteStreamEvents.run(s.id);
      this.stmts.deleteStream.run(s.id);
      this.stmts.addGroupBytes.run(-s.stored_bytes, g.id);
    })();
    this.streamIds.delete(`${group}\u0000${stream}`);
    return;
  }

  async getStream(group: string, stream: string): Promise<LogStreamRecord | undefined> {
    this.flushSync();
    const g = this.groupRow(group);
    if (!g) return undefined;
    const s = this.stmts.streamByName.get(g.id, stream) as StreamRow | undefined;
    return s ? toStream(group, s) : undefined;
  }

  async listStreams(group: string, q: ListStreamsQuery): Promise<LogStreamRecord[]> {
    this.flushSync();
    const g = this.requireGroup(group);
    const where = ['group_id = ?'];
    const params: unknown[] = [g.id];
    if (q.prefix !== undefined) {
      where.push('substr(name, 1, ?) = ?');
      params.push(q.prefix.length, q.prefix);
    }
    const cmp = q.descending ? '<' : '>';
    const dir = q.descending ? 'DESC' : 'ASC';
    let order: string;
    if (q.orderBy === 'LastEventTime') {
      if (q.after) {
        where.push(`(coalesce(last_ts, -1), name) ${cmp} (?, ?)`);
        params.push(q.after.lastEventTimestamp, q.after.name);
      }
      order = `coalesce(last_ts, -1) ${dir}, name ${dir}`;
    } else {
      if (q.after) {
        where.push(`name ${cmp} ?`);
        params.push(q.after.name);
      }
      order = `name ${dir}`;
    }
    const rows = this.db
      .prepare(`SELECT * FROM log_streams WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`)
      .all(...params, q.limit) as StreamRow[];
    return rows.map((r) => toStream(group, r));
  }

  // ------------------------------------------------------------------------------------------
  // Events

  async putEvents(
    group: string,
    stream: string,
    events: readonly LogEventInput[],
    ingestionTime: number,
  ): Promise<PutEventsResult> {
    this.flushSync();
    const { g, s } = this.requireStream(group, stream);
    if (events.length === 0) return { lastSeq: s.last_seq };
    const ids = { groupId: g.id, streamId: s.id };
    this.db.transaction(() => {
      let minTs = Number.POSITIVE_INFINITY;
      let maxTs = Number.NEGATIVE_INFINITY;
      let bytes = 0;
      for (const e of events) {
        const ts = Math.trunc(e.timestamp);
        this.stmts.insertEvent.run(s.id, ts, this.nextSeq++, ingestionTime, e.message);
        if (ts < minTs) minTs = ts;
        if (ts > maxTs) maxTs = ts;
        bytes += Buffer.byteLength(e.message, 'utf8');
      }
      this.finishStreamWrite(ids, minTs, maxTs, ingestionTime, bytes, this.nextSeq - 1);
      this.stmts.setMeta.run('next_seq', this.nextSeq);
    })();
    return { lastSeq: this.nextSeq - 1 };
  }

  async readStream(group: string, stream: string, q: ReadStreamQuery): Promise<StoredLogEvent[]> {
    this.flushSync();
    const { s } = this.requireStream(group, stream);
    let lower: EventCursor = {
      ts: q.startTime !== undefined ? q.startTime : Number.MIN_SAFE_INTEGER,
      seq: -1,
    };
    let upper: EventCursor = { ts: q.endTime !== undefined ? q.endTime : Number.MAX_SAFE_INTEGER, seq: -1 };
    if (q.cursor) {
      if (q.direction === 'forward') lower = maxCursor(lower, q.cursor);
      else upper = minCursor(upper, q.cursor);
    }
    const out: StoredLogEvent[] = [];
    const forward = q.direction === 'forward';
    const stmt = forward ? this.stmts.readForwardRaw : this.stmts.readBackwardRaw;
    let bytes = 0;
    let chunk = Math.min(q.limit, 2_500);
    // Chunked raw reads: fast for small lines, and a page of large lines stops at the byte budget
    // without reading `limit` rows.
    while (out.length < q.limit && cmpCursor(lower, upper) < 0) {
      const n = Math.min(chunk, q.limit - out.length);
      const rows = stmt.all(s.id, lower.ts, lower.seq, upper.ts, upper.seq, n) as RawEventRow[];
      for (const r of rows) {
        bytes += Buffer.byteLength(r[3], 'utf8') + EVENT_OVERHEAD;
        if (bytes > q.maxBytes && out.length > 0) {
          if (!forward) out.reverse();
          return out;
        }
        out.push({ seq: r[0], timestamp: r[1], ingestionTime: r[2], message: r[3] });
      }
      if (rows.length < n) break;
      const lastRow = rows[rows.length - 1]!;
      if (forward) lower = { ts: lastRow[1], seq: lastRow[0] };
      else upper = { ts: lastRow[1], seq: lastRow[0] };
      chunk = Math.min(chunk * 2, 10_000);
    }
    if (!forward) out.reverse();
    return out;
  }

  async filterEvents(group: string, q: FilterQuery): Promise<FilterResult> {
    this.flushSync();
    const g = this.requireGroup(group);
    const names = q.streamNames ? new Set(q.streamNames) : undefined;
    const lower: EventCursor = maxCursor(
      { ts: q.startTime !== undefined ? q.startTime : Number.MIN_SAFE_INTEGER, seq: -1 },
      q.after ?? { ts: Number.MIN_SAFE_INTEGER, seq: -1 },
    );
    const upper: EventCursor = {
      ts: q.endTime !== undefined ? q.endTime : Number.MAX_SAFE_INTEGER - 1,
      seq: MAX_SEQ,
    };

    const sources: MergeSource[] = [];
    for (const s of this.stmts.streamsOfGroup.all(g.id) as StreamRow[]) {
      if (names && !names.has(s.name)) continue;
      if (q.streamNamePrefix !== undefined && !s.name.startsWith(q.streamNamePrefix)) continue;
      if (s.last_ts === null || s.first_ts === null) continue;
      if (s.last_ts < lower.ts || s.first_ts > upper.ts) continue;
      sources.push({ streamId: s.id, streamName: s.name, buf: [], idx: 0, chunk: 64, exhausted: false });
    }
    const fill = (src: MergeSource, after: EventCursor): void => {
      src.buf = this.stmts.readForwardRaw.all(
        src.streamId,
        after.ts,
        after.seq,
        upper.ts,
        upper.seq,
        src.chunk,
      ) as RawEventRow[];
      src.idx = 0;
      if (src.buf.length < src.chunk) src.exhausted = true;
      src.chunk = Math.min(src.chunk * 2, 4096);
    };
    const heap: MergeSource[] = [];
    const head = (src: MergeSource): RawEventRow => src.buf[src.idx]!;
    const less = (a: MergeSource, b: MergeSource): boolean => {
      const x = head(a);
      const y = head(b);
      return x[1] !== y[1] ? x[1] < y[1] : x[0] < y[0];
    };
    const push = (src: MergeSource): void => {
      heap.push(src);
      let i = heap.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!less(heap[i]!, heap[p]!)) break;
        [heap[i], heap[p]] = [heap[p]!, heap[i]!];
        i = p;
      }
    };
    const pop = (): MergeSource | undefined => {
      const top = heap[0];
      const last = heap.pop();
      if (heap.length > 0 && last) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
          if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
          if (m === i) break;
          [heap[i], heap[m]] = [heap[m]!, heap[i]!];
          i = m;
        }
      }
      return top;
    };
    for (const src of sources) {
      fill(src, lower);
      if (src.buf.length > 0) push(src);
    }

    const events: FilteredStoredLogEvent[] = [];
    let bytes = 0;
    let scanned = 0;
    let last: EventCursor | undefined;
    while (heap.length > 0) {
      if (events.length >= q.limit || scanned >= q.scanBudget) return { events, resumeAfter: last! };
      const src = pop()!;
      const [seq, ts, ingestionTime, message] = head(src);
      if (q.predicate(message)) {
        const size = Buffer.byteLength(message, 'utf8') + EVENT_OVERHEAD;
        if (bytes + size > q.maxBytes && events.length > 0) return { events, resumeAfter: last! };
        bytes += size;
        events.push({ seq, timestamp: ts, ingestionTime, message, streamName: src.streamName });
      }
      scanned++;
      last = { ts, seq };
      src.idx++;
      if (src.idx >= src.buf.length) {
        if (!src.exhausted) fill(src, last);
        else src.buf = [];
      }
      if (src.idx < src.buf.length) push(src);
    }
    return { events };
  }

  // ------------------------------------------------------------------------------------------
  // Retention

  async deleteExpired(now: number): Promise<RetentionResult> {
    this.flushSync();
    let deletedEvents = 0;
    let deletedBytes = 0;
    for (const grp of this.stmts.groupsWithRetention.all() as Array<{ id: number; retention_days: number }>) {
      const cutoff = now - grp.retention_days * DAY_MS;
      for (const s of this.stmts.streamsOfGroup.all(grp.id) as StreamRow[]) {
        if (s.first_ts === null || s.first_ts >= cutoff) continue;
        for (;;) {
          const r = this.deleteChunkOlderThan({ groupId: grp.id, streamId: s.id }, cutoff);
          deletedEvents += r.n;
          deletedBytes += r.bytes;
          if (!r.more) break;
          // Let appends and requests run between chunks.
          await new Promise<void>((resolve) => setImmediate(resolve));
          this.flushSync();
        }
      }
    }
    return { deletedEvents, deletedBytes };
  }

  private deleteChunkOlderThan(ids: StreamIds, cutoff: number): { n: number; bytes: number; more: boolean } {
    return this.db.transaction(() => {
      const nth = this.stmts.nthOlderThan.get(ids.streamId, cutoff, DELETE_CHUNK - 1) as
        { ts: number; seq: number } | undefined;
      const cut: EventCursor = nth ?? { ts: cutoff - 1, seq: MAX_SEQ };
      const size = this.stmts.sizeUpTo.get(ids.streamId, cut.ts, cut.seq) as { n: number; bytes: number };
      if (size.n > 0) {
        this.stmts.deleteUpTo.run(ids.streamId, cut.ts, cut.seq);
        this.stmts.addStreamBytes.run(-size.bytes, ids.streamId);
        this.stmts.addGroupBytes.run(-size.bytes, ids.groupId);
        this.stmts.setFirstTs.run({ id: ids.streamId });
      }
      return { n: size.n, bytes: size.bytes, more: nth !== undefined };
    })();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushSync();
    this.closed = true;
    this.db.close();
    return;
  }
}

export function createSqliteLogStore(opts: SqliteLogStoreOptions): SqliteLogStore {
  return new SqliteLogStore(opts);
}
