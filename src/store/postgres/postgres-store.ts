/**
 * @module store/postgres/postgres-store
 * The shared store for several openbatch nodes: one PostgreSQL database (or one schema in it).
 *
 * - Every versioned write is a compare-and-set (`WHERE … AND version = $expected`); a lost race is a
 *   VersionConflictError, a create-on-existing a ConflictError.
 * - Batches are single statements over `unnest(…)` arrays: 10,000 inserted children are two round trips,
 *   a CAS batch is one (a partial match raises inside the statement, so nothing is applied).
 * - Leases and node heartbeats use the database clock and uuid terms (see queries/*-lease.ts).
 * - Session hygiene on every pooled connection: statement_timeout, idle_in_transaction_session_timeout
 *   and client_connection_check_interval, so a dead client can't hold locks or the xmin horizon.
 * - No session state is relied on after connect except the migration advisory lock, which is held on a
 *   dedicated connection only while migrating.
 * Create it with `createPostgresStore(url)` (or `{ url, schema, … }`): that connects and migrates.
 */
import pg from 'pg';

import { ConflictError, VersionConflictError } from '../../core/errors.js';
import type { ClaimJobsQuery, ClusterStore, LeaseFence } from '../cluster-store.js';
import { LeaseLostError } from '../cluster-store.js';
import type {
  JobRow,
  JobUpdate,
  LeaseInfo,
  ListJobsQuery,
  ListResourcesQuery,
  NodeInfo,
  ResourceKind,
  ResourceRecord,
  StoreCapabilities,
} from '../store.js';
import { NotificationListener } from './listener.js';
import { migrate, quoteIdent } from './migrate.js';
import { MIGRATIONS } from './migrations.js';
import { ACQUIRE_LEASE } from './queries/acquire-lease.js';
import { CHECK_LEASE } from './queries/check-lease.js';
import { lockClaimableJobs } from './queries/claim-jobs.js';
import { INSERT_JOBS_CHUNK, insertJobChunk, insertOneJob } from './queries/insert-jobs.js';
import { buildListJobsQuery } from './queries/list-jobs.js';
import { RELEASE_LEASE } from './queries/release-lease.js';
import { RENEW_LEASE } from './queries/renew-lease.js';
import { updateJobBatch, updateOneJob } from './queries/update-jobs.js';
import { toJobRow, toResource, type JobSqlRow, type ResourceSqlRow } from '../sql-rows.js';

export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:port/db`. */
  url: string;
  /** Schema holding the tables (created if missing). Default `public`. Lowercase identifier. */
  schema?: string;
  /** Pool size per node (default 10). Budget: nodes × (pool + 1 listener) < max_connections. */
  poolSize?: number;
  /** Shown in pg_stat_activity (default `openbatch`). */
  applicationName?: string;
  /** Per-session limits in ms (defaults: statement 30 s, idle-in-transaction 60 s, connection check 1 s). */
  statementTimeoutMs?: number;
  idleInTransactionTimeoutMs?: number;
  clientConnectionCheckMs?: number;
  /** Clock for resource createdAt/updatedAt (the application clock, as in the SQLite store). */
  now?: () => number;
  /** Errors of idle pooled connections (e.g. the server restarted). Default: ignored; the pool reconnects. */
  onError?: (err: Error) => void;
}

export interface PostgresDiagnostics {
  serverVersion: string;
  statementTimeout: string;
  idleInTransactionSessionTimeout: string;
  clientConnectionCheckInterval: string;
  /** Age of the oldest transaction holding back the xmin horizon (other sessions); warn above ~60 s. */
  oldestTransactionAgeMs: number;
  jobsDeadTuples: number;
}

interface NodeSqlRow {
  node_id: string;
  started_at: number;
  heartbeat_at: number;
  lease_until: number;
  url: string | null;
  meta: string | null;
}

const SQLSTATE_UNIQUE_VIOLATION = '23505';
const SQLSTATE_CAS_CONFLICT = 'OB409';

function sqlState(err: unknown): string | undefined {
  return (err as { code?: unknown }).code as string | undefined;
}

/** int8 → number (epoch ms and counts stay far below 2^53). */
function typeParsers(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));
  return types;
}

/** Connects, migrates (safe with several nodes starting at once) and returns the store. */
export async function createPostgresStore(opts: PostgresStoreOptions | string): Promise<PostgresStore> {
  const store = new PostgresStore(typeof opts === 'string' ? { url: opts } : opts);
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

export class PostgresStore implements ClusterStore {
  readonly capabilities: StoreCapabilities = {
    skipLocked: true,
    listenNotify: true,
    transactionalDdl: true,
    multipleWriters: true,
  };

  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly clock: () => number;
  private closed = false;
  private listener: NotificationListener | undefined;
  private readonly url: string;
  private readonly onError: (err: Error) => void;

  /** Prefer `createPostgresStore`, which also migrates. */
  constructor(opts: PostgresStoreOptions) {
    this.schema = opts.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.schema)) {
      throw new Error(`invalid schema name ${JSON.stringify(this.schema)} (lowercase letters, digits, _)`);
    }
    this.clock = opts.now ?? Date.now;
    const settings = [
      `search_path=${this.schema}`,
      `statement_timeout=${opts.statementTimeoutMs ?? 30_000}`,
      `idle_in_transaction_session_timeout=${opts.idleInTransactionTimeoutMs ?? 60_000}`,
      `client_connection_check_interval=${opts.clientConnectionCheckMs ?? 1_000}`,
    ];
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      application_name: opts.applicationName ?? 'openbatch',
      options: settings.map((s) => `-c ${s}`).join(' '),
      types: typeParsers(),
      keepAlive: true,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 15_000,
    });
    this.url = opts.url;
    this.onError = opts.onError ?? (() => undefined);
    this.pool.on('error', this.onError);
  }

  /** Applies pending migrations under a cluster-wide advisory lock. Returns the ids applied. */
  async migrate(): Promise<number[]> {
    const client = await this.pool.connect();
    try {
      return await migrate(client, this.schema, MIGRATIONS);
    } finally {
      // Never return the migration session to the pool: its settings were changed, and on failure a
      // still-held session advisory lock must die with the backend.
      client.release(true);
    }
  }

  /** Runs `fn` in a transaction on one pooled connection; a connection that fails to roll back is discarded. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
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
      throw err;
    } finally {
      c.release(broken);
    }
  }

  // --- control-plane resources -------------------------------------------------------------

  async getResource<T>(kind: ResourceKind, key: string): Promise<ResourceRecord<T> | undefined> {
    const { rows } = await this.pool.query<ResourceSqlRow>({
      name: 'ob_get_resource',
      text: 'SELECT * FROM resources WHERE kind = $1 AND key = $2',
      values: [kind, key],
    });
    return rows[0] ? toResource<T>(rows[0]) : undefined;
  }

  async getResourceByArn<T>(kind: ResourceKind, arn: string): Promise<ResourceRecord<T> | undefined> {
    const { rows } = await this.pool.query<ResourceSqlRow>({
      name: 'ob_get_resource_by_arn',
      text: 'SELECT * FROM resources WHERE kind = $1 AND arn = $2',
      values: [kind, arn],
    });
    return rows[0] ? toResource<T>(rows[0]) : undefined;
  }

  async listResources<T>(kind: ResourceKind, q: ListResourcesQuery): Promise<ResourceRecord<T>[]> {
    // Bytewise key order (COLLATE "C" columns); the prefix is a literal, not a LIKE pattern.
    const { rows } = await this.pool.query<ResourceSqlRow>({
      name: 'ob_list_resources',
      text: `SELECT * FROM resources WHERE kind = $1 AND key > $2 AND key >= $3 AND starts_with(key, $3)
             ORDER BY key LIMIT $4`,
      values: [kind, q.afterKey ?? '', q.keyPrefix ?? '', q.limit],
    });
    return rows.map((r) => toResource<T>(r));
  }

  async countResources(kind: ResourceKind): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      'SELECT count(*) AS n FROM resources WHERE kind = $1',
      [kind],
    );
    return rows[0]?.n ?? 0;
  }

  async putResource<T>(
    kind: ResourceKind,
    key: string,
    arn: string,
    data: T,
    expectedVersion: number | null,
  ): Promise<ResourceRecord<T>> {
    const now = this.clock();
    const json = JSON.stringify(data);
    if (expectedVersion === null) {
      try {
        await this.pool.query({
          name: 'ob_insert_resource',
          text: 'INSERT INTO resources (kind, key, arn, data, version, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $5)',
          values: [kind, key, arn, json, now],
        });
      } catch (err) {
        if (sqlState(err) === SQLSTATE_UNIQUE_VIOLATION)
          throw new ConflictError(`${kind} ${key} already exists`, { cause: err });
        throw err;
      }
      return { kind, key, arn, data, version: 1, createdAt: now, updatedAt: now };
    }
    let rows: { created_at: number; version: number }[];
    try {
      ({ rows } = await this.pool.query<{ created_at: number; version: number }>({
        name: 'ob_update_resource',
        text: `UPDATE resources SET arn = $1, data = $2, version = version + 1, updated_at = $3
               WHERE kind = $4 AND key = $5 AND version = $6 RETURNING created_at, version`,
        values: [arn, json, now, kind, key, expectedVersion],
      }));
    } catch (err) {
      if (sqlState(err) === SQLSTATE_UNIQUE_VIOLATION)
        throw new ConflictError(`${kind} with arn ${arn} already exists`, { cause: err });
      throw err;
    }
    const row = rows[0];
    if (!row) throw new VersionConflictError(`${kind} ${key} was changed concurrently`);
    return { kind, key, arn, data, version: row.version, createdAt: row.created_at, updatedAt: now };
  }

  async deleteResource(kind: ResourceKind, key: string, expectedVersion?: number): Promise<boolean> {
    const res =
      expectedVersion === undefined
        ? await this.pool.query('DELETE FROM resources WHERE kind = $1 AND key = $2', [kind, key])
        : await this.pool.query('DELETE FROM resources WHERE kind = $1 AND key = $2 AND version = $3', [
            kind,
            key,
            expectedVersion,
          ]);
    return res.rowCount === 1;
  }

  async nextRevision(name: string): Promise<number> {
    const { rows } = await this.pool.query<{ last: number }>({
      name: 'ob_next_revision',
      text: `INSERT INTO revisions AS r (name, last) VALUES ($1, 1)
             ON CONFLICT (name) DO UPDATE SET last = r.last + 1 RETURNING last`,
      values: [name],
    });
    return rows[0]!.last;
  }

  // --- jobs ----------------------------------------------------------------------------------

  async insertJobs(rows: readonly JobRow[]): Promise<void> {
    try {
      if (rows.length === 0) return;
      if (rows.length === 1) {
        await insertOneJob(this.pool, rows[0]!);
        return;
      }
      await this.tx(async (c) => {
        for (let i = 0; i < rows.length; i += INSERT_JOBS_CHUNK)
          await insertJobChunk(c, rows.slice(i, i + INSERT_JOBS_CHUNK));
      });
    } catch (err) {
      if (sqlState(err) === SQLSTATE_UNIQUE_VIOLATION)
        throw new ConflictError(`job already exists: ${(err as Error).message}`, { cause: err });
      throw err;
    }
  }

  async updateJobs(updates: readonly JobUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    if (updates.length === 1) {
      const u = updates[0]!;
      if (!(await updateOneJob(this.pool, u))) throw casConflict(u);
      return;
    }
    if (distinctJobs(updates)) {
      // One atomic statement; no explicit transaction needed.
      await this.withCasErrors(() => updateJobBatch(this.pool, updates));
      return;
    }
    await this.tx((c) => applySequential(c, updates));
  }

  async updateJobsFenced(updates: readonly JobUpdate[], fence: LeaseFence): Promise<void> {
    await this.tx(async (c) => {
      const held = await c.query({ ...CHECK_LEASE, values: [fence.name, fence.holder, fence.term] });
      if (held.rowCount !== 1) throw new LeaseLostError(fence);
      if (updates.length === 0) return;
      if (distinctJobs(updates)) await this.withCasErrors(() => updateJobBatch(c, updates));
      else await applySequential(c, updates);
    });
  }

  async claimJobs(
    q: ClaimJobsQuery,
    decide: (locked: JobRow[]) => JobRow[] | Promise<JobRow[]>,
  ): Promise<JobRow[]> {
    if (q.limit <= 0 || q.statuses.length === 0) return [];
    return this.tx(async (c) => {
      const locked = (await lockClaimableJobs<JobSqlRow>(c, q.statuses, q.jobQueueArn, q.limit)).map(
        toJobRow,
      );
      if (locked.length === 0) return [];
      const byId = new Map(locked.map((r) => [r.jobId, r]));
      const writes = await decide(locked);
      const updates: JobUpdate[] = writes.map((row) => {
        const was = byId.get(row.jobId);
        if (!was) throw new Error(`claimJobs: decide() returned job ${row.jobId}, which it was not given`);
        return { row, expectedVersion: was.version };
      });
      if (updates.length > 0) {
        if (distinctJobs(updates)) await this.withCasErrors(() => updateJobBatch(c, updates));
        else await applySequential(c, updates);
      }
      return writes;
    });
  }

  private async withCasErrors(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (sqlState(err) === SQLSTATE_CAS_CONFLICT)
        throw new VersionConflictError((err as Error).message, { cause: err });
      throw err;
    }
  }

  async getJobs(ids: readonly string[]): Promise<JobRow[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<JobSqlRow>({
      name: 'ob_get_jobs',
      text: 'SELECT * FROM jobs WHERE job_id = ANY($1::text[])',
      values: [ids],
    });
    const byId = new Map(rows.map((r) => [r.job_id, r]));
    const out: JobRow[] = [];
    for (const id of ids) {
      const r = byId.get(id);
      if (r) out.push(toJobRow(r));
    }
    return out;
  }

  async loadActiveJobs(): Promise<JobRow[]> {
    const { rows } = await this.pool.query<JobSqlRow>(
      "SELECT * FROM jobs WHERE status NOT IN ('SUCCEEDED', 'FAILED')",
    );
    return rows.map(toJobRow);
  }

  async listJobs(q: ListJobsQuery): Promise<JobRow[]> {
    const { rows } = await this.pool.query<JobSqlRow>(buildListJobsQuery(q));
    return rows.map(toJobRow);
  }

  async countJobs(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM jobs');
    return rows[0]?.n ?? 0;
  }

  async purgeJobs(before: number, limit: number): Promise<number> {
    const res = await this.pool.query(
      `DELETE FROM jobs WHERE job_id IN (
         SELECT job_id FROM jobs WHERE status IN ('SUCCEEDED', 'FAILED') AND created_at < $1 LIMIT $2
         FOR UPDATE SKIP LOCKED)`,
      [before, limit],
    );
    return res.rowCount ?? 0;
  }

  // --- cluster -------------------------------------------------------------------------------

  async now(): Promise<number> {
    const { rows } = await this.pool.query<{ now: number }>({
      name: 'ob_now',
      text: 'SELECT (extract(epoch FROM clock_timestamp()) * 1000)::int8 AS now',
    });
    return rows[0]!.now;
  }

  async tryAcquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseInfo | undefined> {
    const { rows } = await this.pool.query<{ holder: string; term: string; expires_at: number }>({
      ...ACQUIRE_LEASE,
      values: [name, holder, Math.round(ttlMs)],
    });
    const r = rows[0];
    return r ? { holder: r.holder, term: r.term, expiresAt: r.expires_at } : undefined;
  }

  async renewLease(name: string, holder: string, term: string, ttlMs: number): Promise<boolean> {
    const res = await this.pool.query({ ...RENEW_LEASE, values: [name, holder, term, Math.round(ttlMs)] });
    return res.rowCount === 1;
  }

  async releaseLease(name: string, holder: string, term: string): Promise<boolean> {
    const res = await this.pool.query({ ...RELEASE_LEASE, values: [name, holder, term] });
    return res.rowCount === 1;
  }

  /**
   * Upsert the node row. The node's own clock is not trusted: heartbeatAt is stamped with the database
   * clock and leaseUntil = that + (node.leaseUntil − node.heartbeatAt), i.e. the caller's TTL.
   */
  async heartbeatNode(node: NodeInfo): Promise<void> {
    const ttl = Math.max(0, Math.round(node.leaseUntil - node.heartbeatAt));
    await this.pool.query({
      name: 'ob_heartbeat_node',
      text: `WITH t AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::int8 AS now)
             INSERT INTO nodes (node_id, started_at, heartbeat_at, lease_until, url, meta)
             SELECT $1, $2, t.now, t.now + $3::int8, $4, $5 FROM t
             ON CONFLICT (node_id) DO UPDATE SET started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
               lease_until = excluded.lease_until, url = excluded.url, meta = excluded.meta`,
      values: [
        node.nodeId,
        node.startedAt,
        ttl,
        node.url ?? null,
        node.meta ? JSON.stringify(node.meta) : null,
      ],
    });
  }

  async listNodes(): Promise<NodeInfo[]> {
    const { rows } = await this.pool.query<NodeSqlRow>('SELECT * FROM nodes ORDER BY node_id');
    return rows.map((r) => ({
      nodeId: r.node_id,
      startedAt: r.started_at,
      heartbeatAt: r.heartbeat_at,
      leaseUntil: r.lease_until,
      ...(r.url ? { url: r.url } : {}),
      ...(r.meta ? { meta: JSON.parse(r.meta) as Record<string, unknown> } : {}),
    }));
  }

  /** `ob:<schema>:<channel>` so several schemas (tests, tenants) on one database don't cross-talk. */
  private channel(name: string): string {
    if (!/^[a-z0-9_:.-]{1,40}$/i.test(name)) throw new Error(`invalid channel name ${JSON.stringify(name)}`);
    const full = `ob:${this.schema}:${name}`;
    if (Buffer.byteLength(full) > 63) throw new Error(`channel name ${full} is longer than 63 bytes`);
    return full;
  }

  async notify(channel: string, payload = ''): Promise<void> {
    if (Buffer.byteLength(payload) >= 8000)
      throw new Error('notify payload must be < 8000 bytes (send ids, not data)');
    await this.pool.query({
      name: 'ob_notify',
      text: 'SELECT pg_notify($1, $2)',
      values: [this.channel(channel), payload],
    });
  }

  async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('store is closed');
    this.listener ??= new NotificationListener(this.url, this.onError);
    return this.listener.subscribe(this.channel(channel), onMessage);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.listener?.close();
    await this.pool.end();
  }

  /**
   * Health facts for /health and startup checks (reference B.4): the session limits really in force,
   * the age of the oldest open transaction in this database (an old one stalls vacuum and SKIP LOCKED
   * claims), and dead tuples in the jobs table.
   */
  async diagnostics(): Promise<PostgresDiagnostics> {
    const { rows } = await this.pool.query<{
      server_version: string;
      statement_timeout: string;
      idle_tx: string;
      check_interval: string;
      oldest_xact_ms: number | null;
      dead: number | null;
    }>(`SELECT current_setting('server_version') AS server_version,
               current_setting('statement_timeout') AS statement_timeout,
               current_setting('idle_in_transaction_session_timeout') AS idle_tx,
               current_setting('client_connection_check_interval') AS check_interval,
               (SELECT (extract(epoch FROM max(clock_timestamp() - xact_start)) * 1000)::int8 FROM pg_stat_activity
                 WHERE datname = current_database() AND backend_xmin IS NOT NULL AND pid <> pg_backend_pid()) AS oldest_xact_ms,
               (SELECT n_dead_tup FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = 'jobs') AS dead`);
    const r = rows[0]!;
    return {
      serverVersion: r.server_version,
      statementTimeout: r.statement_timeout,
      idleInTransactionSessionTimeout: r.idle_tx,
      clientConnectionCheckInterval: r.check_interval,
      oldestTransactionAgeMs: r.oldest_xact_ms ?? 0,
      jobsDeadTuples: r.dead ?? 0,
    };
  }

  /** Drops this store's schema and everything in it (tests; never called by the server). */
  async dropSchema(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(this.schema)} CASCADE`);
  }
}

function distinctJobs(updates: readonly JobUpdate[]): boolean {
  return new Set(updates.map((u) => u.row.jobId)).size === updates.length;
}

function casConflict(u: JobUpdate): VersionConflictError {
  return new VersionConflictError(
    `job ${u.row.jobId} changed concurrently (expected version ${u.expectedVersion})`,
  );
}

/** Row by row in the caller's transaction (a batch that names one job more than once). */
async function applySequential(c: pg.ClientBase, updates: readonly JobUpdate[]): Promise<void> {
  for (const u of updates) {
    if (!(await updateOneJob(c, u))) throw casConflict(u);
  }
}
