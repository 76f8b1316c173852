/**
 * @module store/sqlite/sqlite-store
 * The embedded store: one SQLite database (WAL) in the data dir. better-sqlite3 is synchronous, so
 * every method finishes its write before it returns: a 200 to the client means the row is in the
 * WAL and survives kill -9 of the server.
 */
import { randomUUID } from 'node:crypto';

import Database from 'better-sqlite3';

import { ConflictError, VersionConflictError } from '../../core/errors.js';
import type {
  JobRow,
  JobUpdate,
  LeaseInfo,
  ListJobsQuery,
  ListResourcesQuery,
  NodeInfo,
  ResourceKind,
  ResourceRecord,
  Store,
  StoreCapabilities,
} from '../store.js';
import { MIGRATIONS } from './migrations.js';
import { likeEscape, toJobRow, toResource, type JobSqlRow, type ResourceSqlRow } from '../sql-rows.js';

export interface SqliteStoreOptions {
  /** File path, or ':memory:'. */
  path: string;
  /** Hold an exclusive lock on the database for the life of the store (one server per data dir). */
  exclusive?: boolean;
  now?: () => number;
}

export class DataDirInUseError extends Error {}

export class SqliteStore implements Store {
  readonly capabilities: StoreCapabilities = {
    skipLocked: false,
    listenNotify: false,
    transactionalDdl: true,
    multipleWriters: false,
  };

  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly stmts;

  constructor(opts: SqliteStoreOptions) {
    this.now = opts.now ?? Date.now;
    this.db = new Database(opts.path, { timeout: 0 });
    try {
      if (opts.exclusive && opts.path !== ':memory:') {
        // Hold the lock for the life of the process: a second server on this data dir fails here.
        this.db.pragma('locking_mode = EXCLUSIVE');
        this.db.exec('BEGIN EXCLUSIVE; COMMIT;');
      }
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 0');
      this.db.pragma('cache_size = -65536');
      this.db.pragma('temp_store = MEMORY');
    } catch (err) {
      this.db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        throw new DataDirInUseError(`database ${opts.path} is locked by another process`, { cause: err });
      }
      throw err;
    }
    this.migrate();
    const db = this.db;
    this.stmts = {
      getRes: db.prepare<[string, string], ResourceSqlRow>(
        'SELECT * FROM resources WHERE kind = ? AND key = ?',
      ),
      getResByArn: db.prepare<[string, string], ResourceSqlRow>(
        'SELECT * FROM resources WHERE kind = ? AND arn = ?',
      ),
      listRes: db.prepare<[string, string, string, string, number], ResourceSqlRow>(
        'SELECT * FROM resources WHERE kind = ? AND key > ? AND key >= ? AND key < ? ORDER BY key LIMIT ?',
      ),
      countRes: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM resources WHERE kind = ?'),
      insRes: db.prepare(
        'INSERT INTO resources (kind, key, arn, data, version, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?)',
      ),
      updRes: db.prepare(
        'UPDATE resources SET arn = ?, data = ?, version = version + 1, updated_at = ? WHERE kind = ? AND key = ? AND version = ?',
      ),
      delRes: db.prepare('DELETE FROM resources WHERE kind = ? AND key = ?'),
      delResV: db.prepare('DELETE FROM resources WHERE kind = ? AND key = ? AND version = ?'),
      nextRev: db.prepare<[string], { last: number }>(
        'INSERT INTO revisions (name, last) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET last = last + 1 RETURNING last',
      ),
      insJob: db.prepare(
        'INSERT INTO jobs (job_id, queue_arn, status, job_name, jd_arn, parent_id, share_id, created_at, version, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      updJob: db.prepare(
        'UPDATE jobs SET status = ?, queue_arn = ?, share_id = ?, version = ?, data = ? WHERE job_id = ? AND version = ?',
      ),
      getJob: db.prepare<[string], JobSqlRow>('SELECT * FROM jobs WHERE job_id = ?'),
      active: db.prepare<[], JobSqlRow>("SELECT * FROM jobs WHERE status NOT IN ('SUCCEEDED', 'FAILED')"),
      countJobs: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM jobs'),
      purge: db.prepare(
        "DELETE FROM jobs WHERE job_id IN (SELECT job_id FROM jobs WHERE status IN ('SUCCEEDED', 'FAILED') AND created_at < ? LIMIT ?)",
      ),
      getLease: db.prepare<[string], { holder: string; term: string; expires_at: number }>(
        'SELECT * FROM leases WHERE name = ?',
      ),
      putLease: db.prepare(
        'INSERT OR REPLACE INTO leases (name, holder, term, expires_at) VALUES (?, ?, ?, ?)',
      ),
      renewLease: db.prepare(
        'UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND term = ? AND expires_at >= ?',
      ),
      putNode: db.prepare(
        'INSERT OR REPLACE INTO nodes (node_id, started_at, heartbeat_at, lease_until, url, meta) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      listNodes: db.prepare<
        [],
        {
          node_id: string;
          started_at: number;
          heartbeat_at: number;
          lease_until: number;
          url: string | null;
          meta: string | null;
        }
      >('SELECT * FROM nodes ORDER BY node_id'),
    };
  }

  private migrate(): void {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    const done = new Set(
      this.db
        .prepare<[], { id: number }>('SELECT id FROM schema_migrations')
        .all()
        .map((r) => r.id),
    );
    for (const m of MIGRATIONS) {
      if (done.has(m.id)) continue;
      this.db.transaction(() => {
        this.db
          .prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)')
          .run(m.id, m.name, this.now());
        this.db.exec(m.sql);
      })();
    }
  }

  async getResource<T>(kind: ResourceKind, key: string): Promise<ResourceRecord<T> | undefined> {
    const r = this.stmts.getRes.get(kind, key);
    return r ? toResource<T>(r) : undefined;
  }

  async getResourceByArn<T>(kind: ResourceKind, arn: string): Promise<ResourceRecord<T> | undefined> {
    const r = this.stmts.getResByArn.get(kind, arn);
    return r ? toResource<T>(r) : undefined;
  }

  async listResources<T>(kind: ResourceKind, q: ListResourcesQuery): Promise<ResourceRecord<T>[]> {
    const prefix = q.keyPrefix ?? '';
    const upper = prefix === '' ? '\uffff' : prefix + '\uffff';
    return this.stmts.listRes
      .all(kind, q.afterKey ?? '', prefix, upper, q.limit)
      .map((r) => toResource<T>(r));
  }

  async countResources(kind: ResourceKind): Promise<number> {
    return this.stmts.countRes.get(kind)?.n ?? 0;
  }

  async putResource<T>(
    kind: ResourceKind,
    key: string,
    arn: string,
    data: T,
    expectedVersion: number | null,
  ): Promise<ResourceRecord<T>> {
    const now = this.now();
    const json = JSON.stringify(data);
    if (expectedVersion === null) {
      try {
        this.stmts.insRes.run(kind, key, arn, json, now, now);
      } catch (err) {
        if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) {
          throw new ConflictError(`${kind} ${key} already exists`, { cause: err });
        }
        throw err;
      }
      return { kind, key, arn, data, version: 1, createdAt: now, updatedAt: now };
    }
    const info = this.stmts.updRes.run(arn, json, now, kind, key, expectedVersion);
    if (info.changes !== 1) throw new VersionConflictError(`${kind} ${key} was changed concurrently`);
    const created = this.stmts.getRes.get(kind, key);
    return {
      kind,
      key,
      arn,
      data,
      version: expectedVersion + 1,
      createdAt: created?.created_at ?? now,
      updatedAt: now,
    };
  }

  async deleteResource(kind: ResourceKind, key: string, expectedVersion?: number): Promise<boolean> {
    const info =
      expectedVersion === undefined
        ? this.stmts.delRes.run(kind, key)
        : this.stmts.delResV.run(kind, key, expectedVersion);
    return info.changes === 1;
  }

  async nextRevision(name: string): Promise<number> {
    return this.stmts.nextRev.get(name)!.last;
  }

  async insertJobs(rows: readonly JobRow[]): Promise<void> {
    const ins = this.stmts.insJob;
    this.db.transaction(() => {
      for (const r of rows) {
        ins.run(
          r.jobId,
          r.jobQueueArn,
          r.status,
          r.jobName,
          r.jobDefinitionArn,
          r.parentId,
          r.shareIdentifier,
          r.createdAt,
          r.version,
          r.data,
        );
      }
    })();
  }

  async updateJobs(updates: readonly JobUpdate[]): Promise<void> {
    const upd = this.stmts.updJob;
    this.db.transaction(() => {
      for (const u of updates) {
        const r = u.row;
        const info = upd.run(
          r.status,
          r.jobQueueArn,
          r.shareIdentifier,
          r.version,
          r.data,
          r.jobId,
          u.expectedVersion,
        );
        if (info.changes !== 1) {
          throw new VersionConflictError(
            `job ${r.jobId} changed concurrently (expected version ${u.expectedVersion})`,
          );
        }
      }
    })();
  }

  async getJobs(ids: readonly string[]): Promise<JobRow[]> {
    const out: JobRow[] = [];
    for (const id of ids) {
      const r = this.stmts.getJob.get(id);
      if (r) out.push(toJobRow(r));
    }
    return out;
  }

  async loadActiveJobs(): Promise<JobRow[]> {
    return this.stmts.active.all().map(toJobRow);
  }

  async listJobs(q: ListJobsQuery): Promise<JobRow[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.jobQueueArn !== undefined) {
      where.push('queue_arn = ?');
      args.push(q.jobQueueArn);
    }
    if (q.parentId !== undefined) {
      where.push('parent_id = ?');
      args.push(q.parentId);
    }
    if (q.statuses && q.statuses.length > 0) {
      where.push(`status IN (${q.statuses.map(() => '?').join(',')})`);
      args.push(...q.statuses);
    }
    if (q.jobName !== undefined) {
      if (q.jobName.endsWith('*')) {
        // A range on the indexed expression (jobs_queue_name) instead of LIKE, which can't use it.
        const prefix = q.jobName.slice(0, -1).toLowerCase();
        where.push('lower(job_name) >= ?');
        args.push(prefix);
        if (prefix !== '') {
          where.push('lower(job_name) < ?');
          args.push(prefix + '\uffff');
        }
      } else {
        where.push('lower(job_name) = ?');
        args.push(q.jobName.toLowerCase());
      }
    }
    if (q.jobDefinitionArn !== undefined) {
      where.push('jd_arn = ?');
      args.push(q.jobDefinitionArn);
    }
    if (q.jobDefinitionArnPrefix !== undefined) {
      where.push("jd_arn LIKE ? ESCAPE '\\'");
      args.push(likeEscape(q.jobDefinitionArnPrefix) + '%');
    }
    if (q.createdBefore !== undefined) {
      where.push('created_at < ?');
      args.push(q.createdBefore);
    }
    if (q.createdAfter !== undefined) {
      where.push('created_at > ?');
      args.push(q.createdAfter);
    }
    if (q.shareIdentifier !== undefined) {
      where.push('share_id = ?');
      args.push(q.shareIdentifier);
    }
    const desc = q.order === 'createdDesc';
    if (q.after) {
      where.push(desc ? '(created_at, job_id) < (?, ?)' : '(created_at, job_id) > (?, ?)');
      args.push(q.after[0], q.after[1]);
    }
    const sql =
      `SELECT * FROM jobs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ` +
      `ORDER BY created_at ${desc ? 'DESC' : 'ASC'}, job_id ${desc ? 'DESC' : 'ASC'} LIMIT ?`;
    args.push(q.limit);
    return this.db
      .prepare<(string | number)[], JobSqlRow>(sql)
      .all(...args)
      .map(toJobRow);
  }

  async countJobs(): Promise<number> {
    return this.stmts.countJobs.get()?.n ?? 0;
  }

  async purgeJobs(before: number, limit: number): Promise<number> {
    return this.stmts.purge.run(before, limit).changes;
  }

  async tryAcquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseInfo | undefined> {
    const now = this.now();
    return this.db.transaction(() => {
      const cur = this.stmts.getLease.get(name);
      if (cur && cur.expires_at >= now && cur.holder !== holder) return undefined;
      const term = cur && cur.holder === holder && cur.expires_at >= now ? cur.term : randomUUID();
      this.stmts.putLease.run(name, holder, term, now + ttlMs);
      return { holder, term, expiresAt: now + ttlMs };
    })();
  }

  async renewLease(name: string, holder: string, term: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    return this.stmts.renewLease.run(now + ttlMs, name, holder, term, now).changes === 1;
  }

  async heartbeatNode(node: NodeInfo): Promise<void> {
    this.stmts.putNode.run(
      node.nodeId,
      node.startedAt,
      node.heartbeatAt,
      node.leaseUntil,
      node.url ?? null,
      node.meta ? JSON.stringify(node.meta) : null,
    );
  }

  async listNodes(): Promise<NodeInfo[]> {
    return this.stmts.listNodes.all().map((r) => ({
      nodeId: r.node_id,
      startedAt: r.started_at,
      heartbeatAt: r.heartbeat_at,
      leaseUntil: r.lease_until,
      ...(r.url ? { url: r.url } : {}),
      ...(r.meta ? { meta: JSON.parse(r.meta) as Record<string, unknown> } : {}),
    }));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
