/**
 * @module logs/postgres/postgres-log-store
 * The shared log store for cluster mode: CloudWatch Logs groups, streams and events in the same
 * PostgreSQL database as the job store, so a line written by the node that runs a job is readable
 * from every node.
 *
 * Same behaviour as the SQLite log store (logs/sqlite), with these differences:
 * - `append()` buffers and a timer flushes every `flushIntervalMs` (50 ms) as one transaction of
 *   batched statements (`unnest` arrays: a few round trips per flush, never one row per commit). A full
 *   buffer starts a flush at once; `append` never blocks the event loop.
 * - `seq` comes from a database sequence (`log_event_seq`), so it is unique and increasing across all
 *   nodes. Within one flush, events get seqs in append order.
 * - Reads flush this node's buffer first. Lines buffered on OTHER nodes become visible after their
 *   next flush (≤ flushIntervalMs later).
 * - Counters (stored bytes, first/last timestamps) are maintained with relative updates inside the
 *   write transaction, so concurrent writers and retention passes on several nodes stay exact.
 */
import pg from 'pg';

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
import { migrateLogs } from './migrations.js';

export interface PostgresLogStoreOptions {
  url: string;
  /** Schema (default `public`), the same as the job store's. */
  schema?: string;
  poolSize?: number;
  now?: () => number;
  flushIntervalMs?: number;
  maxBufferedEvents?: number;
  maxBufferedBytes?: number;
  /** Per-stream cap on stored message bytes (default 1 GiB). */
  maxStreamBytes?: number;
  onError?: (err: unknown) => void;
}

const EVENT_OVERHEAD = 26;
const DAY_MS = 86_400_000;
const DELETE_CHUNK = 50_000;
const INSERT_CHUNK = 5_000;
const MIN_TS = Number.MIN_SAFE_INTEGER;
const MAX_TS = Number.MAX_SAFE_INTEGER;
const LOG_GROUP_NOT_FOUND = 'The specified log group does not exist.';
const LOG_STREAM_NOT_FOUND = 'The specified log stream does not exist.';

interface GroupRow {
  id: number;
  name: string;
  creation_time: number;
  retention_days: number | null;
  log_group_class: string;
  kms_key_id: string | null;
  deletion_protection: boolean | null;
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

interface EventRow {
  seq: number;
  ts: number;
  ingestion_time: number;
  message: string;
  stream_id?: number;
}

interface PendingAppend {
  group: string;
  stream: string;
  createGroup: boolean;
  events: readonly LogEventInput[];
  ingestionTime: number;
}

interface StreamWrite {
  groupId: number;
  streamId: number;
  events: { ts: number; ingestion: number; message: string }[];
}

function toGroup(r: GroupRow): LogGroupRecord {
  return {
    name: r.name,
    creationTime: r.creation_time,
    ...(r.retention_days !== null ? { retentionInDays: r.retention_days } : {}),
    logGroupClass: r.log_group_class,
    ...(r.kms_key_id !== null ? { kmsKeyId: r.kms_key_id } : {}),
    ...(r.deletion_protection !== null ? { deletionProtectionEnabled: r.deletion_protection } : {}),
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

function typeParsers(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));
  return types;
}

const SQLSTATE_DEADLOCK = '40P01';
const SQLSTATE_SERIALIZATION = '40001';

export class PostgresLogStore implements LogStore {
  private readonly pool: pg.Pool;
  private readonly now: () => number;
  private readonly flushIntervalMs: number;
  private readonly maxBufferedEvents: number;
  private readonly maxBufferedBytes: number;
  private readonly maxStreamBytes: number;
  private readonly onError: (err: unknown) => void;
  readonly schema: string;

  private pending: PendingAppend[] = [];
  private pendingEvents = 0;
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(opts: PostgresLogStoreOptions) {
    this.schema = opts.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.schema))
      throw new Error(`invalid schema name ${JSON.stringify(this.schema)}`);
    this.now = opts.now ?? Date.now;
    this.flushIntervalMs = opts.flushIntervalMs ?? 50;
    this.maxBufferedEvents = opts.maxBufferedEvents ?? 20_000;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.maxStreamBytes = opts.maxStreamBytes ?? 1024 * 1024 * 1024;
    this.onError = opts.onError ?? ((err) => console.error('[logs] flush failed', err));
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 4,
      application_name: 'openbatch-logs',
      options: [
        `-c search_path=${this.schema}`,
        '-c statement_timeout=60000',
        '-c idle_in_transaction_session_timeout=60000',
      ].join(' '),
      types: typeParsers(),
      keepAlive: true,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 15_000,
    });
    this.pool.on('error', () => undefined);
  }

  async migrate(): Promise<void> {
    const c = await this.pool.connect();
    try {
      await migrateLogs(c, this.schema);
    } finally {
      c.release(true);
    }
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const c = await this.pool.connect();
      let broken = false;
      try {
        await c.query('BEGIN');
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (err) {
        try {
          await c.query('ROLLBACK');
        } catch {
          broken = true;
        }
        const code = (err as { code?: string }).code;
        if ((code === SQLSTATE_DEADLOCK || code === SQLSTATE_SERIALIZATION) && attempt < 5) continue;
        throw err;
      } finally {
        c.release(broken);
      }
    }
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
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Writes everything appended so far (one transaction per flush; failures go to onError). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.pending;
    this.pending = [];
    this.pendingEvents = 0;
    this.pendingBytes = 0;
    const next = this.flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.writeBatch(batch);
      } catch (err) {
        this.onError(err);
      }
    });
    this.flushing = next;
    return next;
  }

  private async writeBatch(batch: readonly PendingAppend[]): Promise<void> {
    const dropped = new Set<string>();
    await this.tx(async (c) => {
      dropped.clear();
      const ids = await this.resolveStreams(c, batch);
      const writes = new Map<number, StreamWrite>();
      for (const p of batch) {
        const id = ids.get(`${p.group}\u0000${p.stream}`);
        if (!id) {
          dropped.add(p.group);
          continue;
        }
        let w = writes.get(id.streamId);
        if (!w) writes.set(id.streamId, (w = { ...id, events: [] }));
        for (const e of p.events)
          w.events.push({ ts: Math.trunc(e.timestamp), ingestion: p.ingestionTime, message: e.message });
      }
      await this.insertEvents(c, [...writes.values()]);
    });
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

  /** Group and stream ids for the appends of a batch; creates groups (when allowed) and streams. */
  private async resolveStreams(
    c: pg.ClientBase,
    batch: readonly PendingAppend[],
  ): Promise<Map<string, { groupId: number; streamId: number }>> {
    const wanted = new Map<string, { group: string; stream: string; create: boolean }>();
    for (const p of batch) {
      const k = `${p.group}\u0000${p.stream}`;
      const w = wanted.get(k);
      if (w) w.create ||= p.createGroup;
      else wanted.set(k, { group: p.group, stream: p.stream, create: p.createGroup });
    }
    const list = [...wanted.values()];
    const lookup = async (): Promise<
      { gname: string; sname: string; gid: number | null; sid: number | null }[]
    > =>
      (
        await c.query<{ gname: string; sname: string; gid: number | null; sid: number | null }>(
          `SELECT x.gname, x.sname, g.id AS gid, s.id AS sid
           FROM unnest($1::text[], $2::text[]) AS x(gname, sname)
           LEFT JOIN log_groups g ON g.name = x.gname
           LEFT JOIN log_streams s ON s.group_id = g.id AND s.name = x.sname`,
          [list.map((l) => l.group), list.map((l) => l.stream)],
        )
      ).rows;
    let rows = await lookup();
    const now = batch[0]?.ingestionTime ?? this.now();
    const missingGroups = [
      ...new Set(
        rows
          .filter((r) => r.gid === null && wanted.get(`${r.gname}\u0000${r.sname}`)!.create)
          .map((r) => r.gname),
      ),
    ].sort();
    const missingStreams = rows.filter(
      (r) => r.sid === null && (r.gid !== null || missingGroups.includes(r.gname)),
    );
    if (missingGroups.length > 0) {
      await c.query(
        `INSERT INTO log_groups (name, creation_time) SELECT n, $2 FROM unnest($1::text[]) AS n ORDER BY n ON CONFLICT (name) DO NOTHING`,
        [missingGroups, now],
      );
    }
    if (missingStreams.length > 0) {
      await c.query(
        `INSERT INTO log_streams (group_id, name, creation_time)
         SELECT g.id, x.sname, $3 FROM unnest($1::text[], $2::text[]) AS x(gname, sname) JOIN log_groups g ON g.name = x.gname
         ORDER BY g.id, x.sname
         ON CONFLICT (group_id, name) DO NOTHING`,
        [missingStreams.map((r) => r.gname), missingStreams.map((r) => r.sname), now],
      );
      rows = await lookup();
    } else if (missingGroups.length > 0) rows = await lookup();
    const out = new Map<string, { groupId: number; streamId: number }>();
    for (const r of rows)
      if (r.gid !== null && r.sid !== null)
        out.set(`${r.gname}\u0000${r.sname}`, { groupId: r.gid, streamId: r.sid });
    return out;
  }

  /** Inserts events (seqs in order), then updates stream and group counters; trims capped streams. */
  private async insertEvents(c: pg.ClientBase, writes: StreamWrite[]): Promise<number> {
    const total = writes.reduce((n, w) => n + w.events.length, 0);
    if (total === 0) return 0;
    const seqs = (
      await c.query<{ s: number }>(`SELECT nextval('log_event_seq') AS s FROM generate_series(1, $1::int)`, [
        total,
      ])
    ).rows
      .map((r) => r.s)
      .sort((a, b) => a - b);
    let i = 0;
    const cols: [number[], number[], number[], number[], string[]] = [[], [], [], [], []];
    const stats: {
      id: number;
      gid: number;
      min: number;
      max: number;
      ing: number;
      bytes: number;
      last: number;
    }[] = [];
    const flushCols = async (): Promise<void> => {
      if (cols[0].length === 0) return;
      await c.query(
        `INSERT INTO log_events (stream_id, ts, seq, ingestion_time, message)
         SELECT * FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::text[])`,
        cols,
      );
      for (const col of cols) col.length = 0;
    };
    for (const w of writes.sort((a, b) => a.streamId - b.streamId)) {
      const st = { id: w.streamId, gid: w.groupId, min: MAX_TS, max: MIN_TS, ing: 0, bytes: 0, last: 0 };
      for (const e of w.events) {
        const seq = seqs[i++]!;
        cols[0].push(w.streamId);
        cols[1].push(e.ts);
        cols[2].push(seq);
        cols[3].push(e.ingestion);
        cols[4].push(e.message);
        if (e.ts < st.min) st.min = e.ts;
        if (e.ts > st.max) st.max = e.ts;
        st.ing = Math.max(st.ing, e.ingestion);
        st.bytes += Buffer.byteLength(e.message, 'utf8');
        st.last = seq;
        if (cols[0].length >= INSERT_CHUNK) await flushCols();
      }
      stats.push(st);
    }
    await flushCols();
    const updated = (
      await c.query<{ id: number; group_id: number; stored_bytes: number }>(
        `UPDATE log_streams s SET
           first_ts = LEAST(coalesce(s.first_ts, v.mn), v.mn),
           last_ts = GREATEST(coalesce(s.last_ts, v.mx), v.mx),
           last_ingestion = v.ing,
           stored_bytes = s.stored_bytes + v.b,
           last_seq = GREATEST(s.last_seq, v.last)
         FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[]) AS v(id, mn, mx, ing, b, last)
         WHERE s.id = v.id
         RETURNING s.id, s.group_id, s.stored_bytes`,
        [
          stats.map((s) => s.id),
          stats.map((s) => s.min),
          stats.map((s) => s.max),
          stats.map((s) => s.ing),
          stats.map((s) => s.bytes),
          stats.map((s) => s.last),
        ],
      )
    ).rows;
    const byGroup = new Map<number, number>();
    const live = new Set(updated.map((u) => u.id));
    for (const s of stats) if (live.has(s.id)) byGroup.set(s.gid, (byGroup.get(s.gid) ?? 0) + s.bytes);
    const gids = [...byGroup.keys()].sort((a, b) => a - b);
    if (gids.length > 0) {
      await c.query(
        `UPDATE log_groups g SET stored_bytes = g.stored_bytes + v.b FROM unnest($1::int8[], $2::int8[]) AS v(id, b) WHERE g.id = v.id`,
        [gids, gids.map((g) => byGroup.get(g)!)],
      );
    }
    for (const u of updated) {
      if (u.stored_bytes > this.maxStreamBytes)
        await this.trimStream(c, u.id, u.group_id, u.stored_bytes - Math.floor(this.maxStreamBytes * 0.9));
    }
    return stats[stats.length - 1]!.last;
  }

  /** Delete the oldest events of a stream until at least `bytesToFree` message bytes are gone. */
  private async trimStream(
    c: pg.ClientBase,
    streamId: number,
    groupId: number,
    bytesToFree: number,
  ): Promise<void> {
    const cut = (
      await c.query<{ ts: number; seq: number }>(
        `SELECT ts, seq FROM (SELECT ts, seq, sum(octet_length(message)) OVER (ORDER BY ts, seq) AS cum FROM log_events WHERE stream_id = $1) c
         WHERE cum >= $2 ORDER BY ts, seq LIMIT 1`,
        [streamId, bytesToFree],
      )
    ).rows[0];
    if (!cut) return;
    await this.deleteUpTo(c, streamId, groupId, cut.ts, cut.seq);
  }

  private async deleteUpTo(
    c: pg.ClientBase,
    streamId: number,
    groupId: number,
    ts: number,
    seq: number,
    limit?: number,
  ): Promise<{ n: number; bytes: number }> {
    const r = (
      await c.query<{ n: number; b: number }>(
        `WITH d AS (
           DELETE FROM log_events WHERE stream_id = $1 AND (ts, seq) IN (
             SELECT ts, seq FROM log_events WHERE stream_id = $1 AND (ts, seq) <= ($2::int8, $3::int8) ORDER BY ts, seq ${limit ? 'LIMIT $4' : ''})
           RETURNING octet_length(message) AS b)
         SELECT count(*)::int8 AS n, coalesce(sum(b), 0)::int8 AS b FROM d`,
        limit ? [streamId, ts, seq, limit] : [streamId, ts, seq],
      )
    ).rows[0]!;
    if (r.n > 0) {
      await c.query(
        `UPDATE log_streams SET stored_bytes = stored_bytes - $2,
           first_ts = coalesce((SELECT ts FROM log_events WHERE stream_id = $1 ORDER BY ts, seq LIMIT 1), first_ts)
         WHERE id = $1`,
        [streamId, r.b],
      );
      await c.query('UPDATE log_groups SET stored_bytes = stored_bytes - $2 WHERE id = $1', [groupId, r.b]);
    }
    return { n: r.n, bytes: r.b };
  }

  // ------------------------------------------------------------------------------------------
  // Groups

  private async groupRow(
    name: string,
    c: pg.ClientBase | pg.Pool = this.pool,
  ): Promise<GroupRow | undefined> {
    return (await c.query<GroupRow>('SELECT * FROM log_groups WHERE name = $1', [name])).rows[0];
  }

  private async requireGroup(name: string, c: pg.ClientBase | pg.Pool = this.pool): Promise<GroupRow> {
    const g = await this.groupRow(name, c);
    if (!g) throw new NotFoundError('logGroup', name, LOG_GROUP_NOT_FOUND);
    return g;
  }

  private async requireStream(
    group: string,
    stream: string,
    c: pg.ClientBase | pg.Pool = this.pool,
  ): Promise<{ g: GroupRow; s: StreamRow }> {
    const g = await this.requireGroup(group, c);
    const s = (
      await c.query<StreamRow>('SELECT * FROM log_streams WHERE group_id = $1 AND name = $2', [g.id, stream])
    ).rows[0];
    if (!s) throw new NotFoundError('logStream', stream, LOG_STREAM_NOT_FOUND);
    return { g, s };
  }

  async ensureGroup(group: string, create: boolean): Promise<boolean> {
    await this.flush();
    if (await this.groupRow(group)) return true;
    if (!create) return false;
    await this.pool.query(
      'INSERT INTO log_groups (name, creation_time) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
      [group, this.now()],
    );
    return true;
  }

  async createGroup(input: CreateGroupInput): Promise<LogGroupRecord> {
    await this.flush();
    const { rows } = await this.pool.query<GroupRow>(
      `INSERT INTO log_groups (name, creation_time, log_group_class, kms_key_id, deletion_protection, tags)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING *`,
      [
        input.name,
        input.now,
        input.logGroupClass ?? 'STANDARD',
        input.kmsKeyId ?? null,
        input.deletionProtectionEnabled === undefined ? null : input.deletionProtectionEnabled,
        JSON.stringify(input.tags ?? {}),
      ],
    );
    if (!rows[0]) throw new ConflictError('The specified log group already exists');
    return toGroup(rows[0]);
  }

  async deleteGroup(name: string): Promise<void> {
    await this.flush();
    await this.tx(async (c) => {
      const g = (await c.query<GroupRow>('SELECT * FROM log_groups WHERE name = $1 FOR UPDATE', [name]))
        .rows[0];
      if (!g) throw new NotFoundError('logGroup', name, LOG_GROUP_NOT_FOUND);
      await c.query(
        'DELETE FROM log_events WHERE stream_id IN (SELECT id FROM log_streams WHERE group_id = $1)',
        [g.id],
      );
      await c.query('DELETE FROM log_streams WHERE group_id = $1', [g.id]);
      await c.query('DELETE FROM log_groups WHERE id = $1', [g.id]);
    });
  }

  async getGroup(name: string): Promise<LogGroupRecord | undefined> {
    await this.flush();
    const g = await this.groupRow(name);
    return g ? toGroup(g) : undefined;
  }

  async listGroups(q: ListGroupsQuery): Promise<LogGroupRecord[]> {
    await this.flush();
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown): string => {
      params.push(v);
      return `$${params.length}`;
    };
    if (q.prefix !== undefined) where.push(`starts_with(name, ${p(q.prefix)})`);
    if (q.contains !== undefined && q.contains !== '') where.push(`strpos(name, ${p(q.contains)}) > 0`);
    if (q.names) {
      if (q.names.length === 0) return [];
      where.push(`name = ANY(${p([...q.names])}::text[])`);
    }
    if (q.logGroupClass !== undefined) where.push(`log_group_class = ${p(q.logGroupClass)}`);
    if (q.afterName !== undefined) where.push(`name > ${p(q.afterName)}`);
    const sql = `SELECT * FROM log_groups ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY name LIMIT ${p(q.limit)}`;
    return (await this.pool.query<GroupRow>(sql, params)).rows.map(toGroup);
  }

  async setRetention(name: string, days: number | undefined): Promise<void> {
    await this.flush();
    const res = await this.pool.query('UPDATE log_groups SET retention_days = $2 WHERE name = $1', [
      name,
      days ?? null,
    ]);
    if (res.rowCount !== 1) throw new NotFoundError('logGroup', name, LOG_GROUP_NOT_FOUND);
  }

  async updateTags(
    name: string,
    set: Record<string, string>,
    remove: readonly string[],
  ): Promise<Record<string, string>> {
    await this.flush();
    return this.tx(async (c) => {
      const g = (await c.query<GroupRow>('SELECT * FROM log_groups WHERE name = $1 FOR UPDATE', [name]))
        .rows[0];
      if (!g) throw new NotFoundError('logGroup', name, LOG_GROUP_NOT_FOUND);
      const tags = { ...(JSON.parse(g.tags) as Record<string, string>), ...set };
      for (const k of remove) delete tags[k];
      await c.query('UPDATE log_groups SET tags = $2 WHERE id = $1', [g.id, JSON.stringify(tags)]);
      return tags;
    });
  }

  // ------------------------------------------------------------------------------------------
  // Streams

  async createStream(group: string, stream: string, now: number): Promise<LogStreamRecord> {
    await this.flush();
    const g = await this.requireGroup(group);
    const { rows } = await this.pool.query<StreamRow>(
      'INSERT INTO log_streams (group_id, name, creation_time) VALUES ($1, $2, $3) ON CONFLICT (group_id, name) DO NOTHING RETURNING *',
      [g.id, stream, now],
    );
    if (!rows[0]) throw new ConflictError('The specified log stream already exists');
    return toStream(group, rows[0]);
  }

  async deleteStream(group: string, stream: string): Promise<void> {
    await this.flush();
    await this.tx(async (c) => {
      const g = await this.requireGroup(group, c);
      const s = (
        await c.query<StreamRow>('SELECT * FROM log_streams WHERE group_id = $1 AND name = $2 FOR UPDATE', [
          g.id,
          stream,
        ])
      ).rows[0];
      if (!s) throw new NotFoundError('logStream', stream, LOG_STREAM_NOT_FOUND);
      await c.query('DELETE FROM log_events WHERE stream_id = $1', [s.id]);
      await c.query('DELETE FROM log_streams WHERE id = $1', [s.id]);
      await c.query('UPDATE log_groups SET stored_bytes = stored_bytes - $2 WHERE id = $1', [
        g.id,
        s.stored_bytes,
      ]);
    });
  }

  async getStream(group: string, stream: string): Promise<LogStreamRecord | undefined> {
    await this.flush();
    const { rows } = await this.pool.query<StreamRow>(
      'SELECT s.* FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = $1 AND s.name = $2',
      [group, stream],
    );
    return rows[0] ? toStream(group, rows[0]) : undefined;
  }

  async listStreams(group: string, q: ListStreamsQuery): Promise<LogStreamRecord[]> {
    await this.flush();
    const g = await this.requireGroup(group);
    const params: unknown[] = [g.id];
    const p = (v: unknown): string => {
      params.push(v);
      return `$${params.length}`;
    };
    const where = ['group_id = $1'];
    if (q.prefix !== undefined) where.push(`starts_with(name, ${p(q.prefix)})`);
    const cmp = q.descending ? '<' : '>';
    const dir = q.descending ? 'DESC' : 'ASC';
    let order: string;
    if (q.orderBy === 'LastEventTime') {
      if (q.after)
        where.push(
          `(coalesce(last_ts, -1), name) ${cmp} (${p(q.after.lastEventTimestamp)}::int8, ${p(q.after.name)}::text)`,
        );
      order = `coalesce(last_ts, -1) ${dir}, name ${dir}`;
    } else {
      if (q.after) where.push(`name ${cmp} ${p(q.after.name)}`);
      order = `name ${dir}`;
    }
    const sql = `SELECT * FROM log_streams WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${p(q.limit)}`;
    return (await this.pool.query<StreamRow>(sql, params)).rows.map((r) => toStream(group, r));
  }

  // ------------------------------------------------------------------------------------------
  // Events

  async putEvents(
    group: string,
    stream: string,
    events: readonly LogEventInput[],
    ingestionTime: number,
  ): Promise<PutEventsResult> {
    await this.flush();
    return this.tx(async (c) => {
      const { g, s } = await this.requireStream(group, stream, c);
      if (events.length === 0) return { lastSeq: s.last_seq };
      const lastSeq = await this.insertEvents(c, [
        {
          groupId: g.id,
          streamId: s.id,
          events: events.map((e) => ({
            ts: Math.trunc(e.timestamp),
            ingestion: ingestionTime,
            message: e.message,
          })),
        },
      ]);
      return { lastSeq };
    });
  }

  async readStream(group: string, stream: string, q: ReadStreamQuery): Promise<StoredLogEvent[]> {
    await this.flush();
    const { s } = await this.requireStream(group, stream);
    let lower: EventCursor = { ts: q.startTime ?? MIN_TS, seq: -1 };
    let upper: EventCursor = { ts: q.endTime ?? MAX_TS, seq: -1 };
    if (q.cursor) {
      if (q.direction === 'forward') lower = cmpCursor(lower, q.cursor) >= 0 ? lower : q.cursor;
      else upper = cmpCursor(upper, q.cursor) <= 0 ? upper : q.cursor;
    }
    const forward = q.direction === 'forward';
    const out: StoredLogEvent[] = [];
    let bytes = 0;
    let chunk = Math.min(q.limit, 2_500);
    while (out.length < q.limit && cmpCursor(lower, upper) < 0) {
      const n = Math.min(chunk, q.limit - out.length);
      const { rows } = await this.pool.query<EventRow>({
        name: forward ? 'oblog_read_fwd' : 'oblog_read_bwd',
        text: `SELECT seq, ts, ingestion_time, message FROM log_events
               WHERE stream_id = $1 AND (ts, seq) > ($2::int8, $3::int8) AND (ts, seq) < ($4::int8, $5::int8)
               ORDER BY ts ${forward ? 'ASC' : 'DESC'}, seq ${forward ? 'ASC' : 'DESC'} LIMIT $6`,
        values: [s.id, lower.ts, lower.seq, upper.ts, upper.seq, n],
      });
      for (const r of rows) {
        bytes += Buffer.byteLength(r.message, 'utf8') + EVENT_OVERHEAD;
        if (bytes > q.maxBytes && out.length > 0) {
          if (!forward) out.reverse();
          return out;
        }
        out.push({ seq: r.seq, timestamp: r.ts, ingestionTime: r.ingestion_time, message: r.message });
      }
      if (rows.length < n) break;
      const last = rows[rows.length - 1]!;
      if (forward) lower = { ts: last.ts, seq: last.seq };
      else upper = { ts: last.ts, seq: last.seq };
      chunk = Math.min(chunk * 2, 10_000);
    }
    if (!forward) out.reverse();
    return out;
  }

  async filterEvents(group: string, q: FilterQuery): Promise<FilterResult> {
    await this.flush();
    const g = await this.requireGroup(group);
    const names = q.streamNames ? new Set(q.streamNames) : undefined;
    let lower: EventCursor = { ts: q.startTime ?? MIN_TS, seq: -1 };
    if (q.after && cmpCursor(q.after, lower) > 0) lower = q.after;
    const upper: EventCursor = { ts: q.endTime ?? MAX_TS - 1, seq: MAX_TS };
    const streams = (
      await this.pool.query<StreamRow>('SELECT * FROM log_streams WHERE group_id = $1', [g.id])
    ).rows.filter(
      (s) =>
        (!names || names.has(s.name)) &&
        (q.streamNamePrefix === undefined || s.name.startsWith(q.streamNamePrefix)) &&
        s.first_ts !== null &&
        s.last_ts !== null &&
        s.last_ts >= lower.ts &&
        s.first_ts <= upper.ts,
    );
    if (streams.length === 0) return { events: [] };
    const nameOf = new Map(streams.map((s) => [s.id, s.name]));
    const ids = streams.map((s) => s.id);
    const events: FilteredStoredLogEvent[] = [];
    let bytes = 0;
    let scanned = 0;
    let last: EventCursor | undefined;
    let chunk = 256;
    for (;;) {
      const { rows } = await this.pool.query<EventRow>(
        `SELECT stream_id, seq, ts, ingestion_time, message FROM log_events
         WHERE stream_id = ANY($1::int8[]) AND (ts, seq) > ($2::int8, $3::int8) AND (ts, seq) <= ($4::int8, $5::int8)
         ORDER BY ts, seq LIMIT $6`,
        [ids, lower.ts, lower.seq, upper.ts, upper.seq, chunk],
      );
      for (const r of rows) {
        if (events.length >= q.limit || scanned >= q.scanBudget) return { events, resumeAfter: last! };
        if (q.predicate(r.message)) {
          const size = Buffer.byteLength(r.message, 'utf8') + EVENT_OVERHEAD;
          if (bytes + size > q.maxBytes && events.length > 0) return { events, resumeAfter: last! };
          bytes += size;
          events.push({
            seq: r.seq,
            timestamp: r.ts,
            ingestionTime: r.ingestion_time,
            message: r.message,
            streamName: nameOf.get(r.stream_id!)!,
          });
        }
        scanned++;
        last = { ts: r.ts, seq: r.seq };
      }
      if (rows.length < chunk) return { events };
      lower = last!;
      chunk = Math.min(chunk * 2, 4096);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Retention

  async deleteExpired(now: number): Promise<RetentionResult> {
    await this.flush();
    let deletedEvents = 0;
    let deletedBytes = 0;
    const groups = (
      await this.pool.query<{ id: number; retention_days: number }>(
        'SELECT id, retention_days FROM log_groups WHERE retention_days IS NOT NULL',
      )
    ).rows;
    for (const grp of groups) {
      const cutoff = now - grp.retention_days * DAY_MS;
      const streams = (
        await this.pool.query<{ id: number }>(
          'SELECT id FROM log_streams WHERE group_id = $1 AND first_ts < $2',
          [grp.id, cutoff],
        )
      ).rows;
      for (const s of streams) {
        for (;;) {
          const r = await this.tx((c) => this.deleteUpTo(c, s.id, grp.id, cutoff - 1, MAX_TS, DELETE_CHUNK));
          deletedEvents += r.n;
          deletedBytes += r.bytes;
          if (r.n < DELETE_CHUNK) break;
        }
      }
    }
    return { deletedEvents, deletedBytes };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.pool.end();
  }
}

/** Connects, migrates (safe with several nodes starting at once) and returns the store. */
export async function createPostgresLogStore(opts: PostgresLogStoreOptions): Promise<PostgresLogStore> {
  const s = new PostgresLogStore(opts);
  try {
    await s.migrate();
  } catch (err) {
    await s.close();
    throw err;
  }
  return s;
}
