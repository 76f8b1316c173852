/**
 * The PostgreSQL store against a real server started for this file (test/helpers/postgres.ts): the
 * shared conformance suite (one schema per test), then what only a multi-writer store must prove:
 * several stores on one database racing, concurrent migrations, fencing and SKIP LOCKED claims.
 * Without PostgreSQL binaries the file is skipped with a reason, unless CI / OPENBATCH_REQUIRE_POSTGRES
 * is set, where a missing server is a failure.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findPostgresBinaries, type RunningPostgres, startPostgres } from '../../../test/helpers/postgres.js';
import { ConflictError, VersionConflictError } from '../../core/errors.js';
import { isClusterStore, LeaseLostError } from '../cluster-store.js';
import type { JobRow } from '../store.js';
import { makeJobRow, runStoreConformance } from '../store.conformance.js';
import { SchemaTooNewError } from './migrate.js';
import { MIGRATIONS } from './migrations.js';
import type { PostgresStore } from './postgres-store.js';
import { createPostgresStore } from './postgres-store.js';

const binaries = findPostgresBinaries();
const required = Boolean(process.env.CI || process.env.OPENBATCH_REQUIRE_POSTGRES);

if (!binaries && required) {
  it('PostgreSQL binaries are available (required in CI)', () => {
    expect.fail(
      'initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin; run .ci/services-postgres.sh',
    );
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!binaries)('PostgresStore (real PostgreSQL)', () => {
  let server: RunningPostgres;
  let admin: pg.Pool;
  let schemaSeq = 0;
  const freshSchema = (): string => `t_${process.pid}_${++schemaSeq}`;
  const schemaOf = new WeakMap<object, string>();

  beforeAll(async () => {
    server = await startPostgres();
    admin = new pg.Pool({ connectionString: server.url, max: 2 });
    admin.on('error', () => undefined); // idle admin connections see the server's shutdown at teardown
  }, 120_000);

  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  });

  runStoreConformance({
    name: 'postgres',
    create: async () => {
      const schema = freshSchema();
      const store = await createPostgresStore({ url: server.url, schema });
      schemaOf.set(store, schema);
      return store;
    },
    cleanup: async (store) => {
      await store.close();
      const schema = schemaOf.get(store);
      if (schema) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  });

  describe('several nodes on one database', () => {
    /** N independent stores (each its own pool, like N nodes) on one fresh schema. */
    async function nodes(n: number): Promise<{ stores: PostgresStore[]; close: () => Promise<void> }> {
      const schema = freshSchema();
      const stores = await Promise.all(
        Array.from({ length: n }, () => createPostgresStore({ url: server.url, schema, poolSize: 4 })),
      );
      return {
        stores,
        close: async () => {
          await Promise.all(stores.map((s) => s.close()));
          await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        },
      };
    }

    it('is a cluster store with the multi-writer capabilities', async () => {
      const { stores, close } = await nodes(1);
      try {
        expect(stores[0]!.capabilities).toEqual({
          skipLocked: true,
          listenNotify: true,
          transactionalDdl: true,
          multipleWriters: true,
        });
        expect(isClusterStore(stores[0]!)).toBe(true);
        const dbNow = await stores[0]!.now();
        expect(Math.abs(dbNow - Date.now())).toBeLessThan(5_000);
      } finally {
        await close();
      }
    });

    it('sets statement, idle-in-transaction and connection-check limits on every session', async () => {
      const schema = freshSchema();
      const store = await createPostgresStore({ url: server.url, schema, statementTimeoutMs: 12_345 });
      try {
        const d = await store.diagnostics();
        expect(d.statementTimeout).toBe('12345ms');
        expect(d.idleInTransactionSessionTimeout).toBe('1min');
        expect(d.clientConnectionCheckInterval).toBe('1s');
        expect(d.oldestTransactionAgeMs).toBeGreaterThanOrEqual(0);
      } finally {
        await store.close();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    });

    it('a statement running past statement_timeout is cancelled', async () => {
      const schema = freshSchema();
      const store = await createPostgresStore({ url: server.url, schema, statementTimeoutMs: 200 });
      try {
        // Hold a row lock from outside so the store's CAS update has to wait past its timeout.
        await store.insertJobs([makeJobRow('locked')]);
        const c = await admin.connect();
        try {
          await c.query('BEGIN');
          await c.query(`SELECT 1 FROM ${schema}.jobs WHERE job_id = 'locked' FOR UPDATE`);
          const t = Date.now();
          await expect(
            store.updateJobs([{ row: makeJobRow('locked', { version: 2 }), expectedVersion: 1 }]),
          ).rejects.toThrow(/statement timeout/);
          expect(Date.now() - t).toBeLessThan(5_000);
        } finally {
          await c.query('ROLLBACK');
          c.release();
        }
      } finally {
        await store.close();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    });

    it('six nodes starting at once migrate the schema exactly once', async () => {
      const schema = freshSchema();
      const stores = await Promise.all(
        Array.from({ length: 6 }, () => createPostgresStore({ url: server.url, schema, poolSize: 2 })),
      );
      try {
        const { rows } = await admin.query<{ id: number; n: string }>(
          `SELECT id, count(*) AS n FROM ${schema}.schema_migrations GROUP BY id ORDER BY id`,
        );
        expect(rows.map((r) => [r.id, Number(r.n)])).toEqual(MIGRATIONS.map((m) => [m.id, 1]));
        // Each store works against the one schema.
        await stores[0]!.insertJobs([makeJobRow('j1')]);
        expect((await stores[5]!.getJobs(['j1'])).length).toBe(1);
        // A restart migrates nothing.
        expect(await stores[1]!.migrate()).toEqual([]);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    });

    it('refuses a database that a newer server migrated with a breaking change', async () => {
      const schema = freshSchema();
      const store = await createPostgresStore({ url: server.url, schema });
      await store.close();
      try {
        await admin.query(
          `INSERT INTO ${schema}.schema_migrations (id, name, breaking) VALUES (9999, 'future', true)`,
        );
        await expect(createPostgresStore({ url: server.url, schema })).rejects.toBeInstanceOf(
          SchemaTooNewError,
        );
        await admin.query(`UPDATE ${schema}.schema_migrations SET breaking = false WHERE id = 9999`);
        const ok = await createPostgresStore({ url: server.url, schema });
        await ok.close();
      } finally {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    });

    it('racing putResource(null) from four nodes: exactly one create wins', async () => {
      const { stores, close } = await nodes(4);
      try {
        for (let round = 0; round < 10; round++) {
          const results = await Promise.allSettled(
            stores.map((s, i) => s.putResource('job-queue', `q${round}`, `arn:q${round}`, { by: i }, null)),
          );
          expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
          for (const r of results)
            if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
        }
        expect(await stores[2]!.countResources('job-queue')).toBe(10);
      } finally {
        await close();
      }
    });

    it('racing updateJobs CAS from four nodes: exactly one wins each round, nothing partial', async () => {
      const { stores, close } = await nodes(4);
      try {
        const ids = Array.from({ length: 50 }, (_, i) => `j${i}`);
        await stores[0]!.insertJobs(ids.map((id) => makeJobRow(id)));
        for (let v = 1; v <= 10; v++) {
          const results = await Promise.allSettled(
            stores.map((s, n) =>
              s.updateJobs(
                ids.map((id) => ({
                  row: makeJobRow(id, { status: `N${n}`, version: v + 1 }),
                  expectedVersion: v,
                })),
              ),
            ),
          );
          const winners = results.flatMap((r, n) => (r.status === 'fulfilled' ? [n] : []));
          expect(winners).toHaveLength(1);
          for (const r of results)
            if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(VersionConflictError);
          const rows = await stores[3]!.getJobs(ids);
          expect(new Set(rows.map((r) => `${r.status}@${r.version}`))).toEqual(
            new Set([`N${winners[0]}@${v + 1}`]),
          );
        }
      } finally {
        await close();
      }
    });

    it('racing single-row CAS (the per-job path) from four nodes: exactly one wins', async () => {
      const { stores, close } = await nodes(4);
      try {
        await stores[0]!.insertJobs([makeJobRow('solo')]);
        let version = 1;
        for (let round = 0; round < 20; round++) {
          const results = await Promise.allSettled(
            stores.map((s, n) =>
              s.updateJobs([
                {
                  row: makeJobRow('solo', { status: `N${n}`, version: version + 1 }),
                  expectedVersion: version,
                },
              ]),
            ),
          );
          expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
          version++;
        }
        expect((await stores[1]!.getJobs(['solo']))[0]!.version).toBe(21);
      } finally {
        await close();
      }
    });

    it('racing nextRevision from four nodes: every revision handed out exactly once', async () => {
      const { stores, close } = await nodes(4);
      try {
        const got = (
          await Promise.all(
            stores.map((s) => Promise.all(Array.from({ length: 25 }, () => s.nextRevision('jd')))),
          )
        ).flat();
        expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      } finally {
        await close();
      }
    });

    it('racing lease acquisition from four nodes: exactly one leader per term, failover after expiry', async () => {
      const { stores, close } = await nodes(4);
      try {
        const results = await Promise.all(
          stores.map((s, i) => s.tryAcquireLease('scheduler', `node-${i}`, 300)),
        );
        const leaders = results.flatMap((r, i) => (r ? [{ i, lease: r }] : []));
        expect(leaders).toHaveLength(1);
        const first = leaders[0]!;
        // while live, nobody else gets it, and renewals by the leader work
        expect(await stores[first.i]!.renewLease('scheduler', `node-${first.i}`, first.lease.term, 300)).toBe(
          true,
        );
        await sleep(600);
        // expired: the others race; exactly one wins with a new term; the old leader's term is dead
        const others = stores.map((s, i) => ({ s, i })).filter((x) => x.i !== first.i);
        const second = await Promise.all(
          others.map(({ s, i }) => s.tryAcquireLease('scheduler', `node-${i}`, 10_000)),
        );
        const newLeaders = second.filter((r) => r !== undefined);
        expect(newLeaders).toHaveLength(1);
        expect(newLeaders[0]!.term).not.toBe(first.lease.term);
        expect(
          await stores[first.i]!.renewLease('scheduler', `node-${first.i}`, first.lease.term, 10_000),
        ).toBe(false);
        // graceful resignation hands over immediately
        const holder = Number(newLeaders[0]!.holder.slice('node-'.length));
        expect(await stores[holder]!.releaseLease('scheduler', `node-${holder}`, first.lease.term)).toBe(
          false,
        );
        expect(await stores[holder]!.releaseLease('scheduler', `node-${holder}`, newLeaders[0]!.term)).toBe(
          true,
        );
        expect((await stores[first.i]!.tryAcquireLease('scheduler', `node-${first.i}`, 10_000))?.holder).toBe(
          `node-${first.i}`,
        );
      } finally {
        await close();
      }
    });

    it('fenced writes commit only while the writer still holds the lease term', async () => {
      const { stores, close } = await nodes(2);
      const [a, b] = stores as [PostgresStore, PostgresStore];
      try {
        await a.insertJobs([makeJobRow('j1'), makeJobRow('j2')]);
        const lease = (await a.tryAcquireLease('scheduler', 'node-a', 300))!;
        const fenceA = { name: 'scheduler', holder: 'node-a', term: lease.term };
        await a.updateJobsFenced(
          [{ row: makeJobRow('j1', { status: 'RUNNABLE', version: 2 }), expectedVersion: 1 }],
          fenceA,
        );
        expect((await b.getJobs(['j1']))[0]?.status).toBe('RUNNABLE');
        // a CAS conflict inside a fenced write is still a VersionConflictError, and nothing is written
        await expect(
          a.updateJobsFenced(
            [
              { row: makeJobRow('j2', { status: 'RUNNABLE', version: 2 }), expectedVersion: 1 },
              { row: makeJobRow('j1', { status: 'STARTING', version: 3 }), expectedVersion: 1 },
            ],
            fenceA,
          ),
        ).rejects.toBeInstanceOf(VersionConflictError);
        expect((await b.getJobs(['j2']))[0]?.version).toBe(1);
        // the lease expires and node-b takes over: node-a's plan must not commit
        await sleep(600);
        const lb = (await b.tryAcquireLease('scheduler', 'node-b', 10_000))!;
        await expect(
          a.updateJobsFenced(
            [{ row: makeJobRow('j2', { status: 'STARTING', version: 2 }), expectedVersion: 1 }],
            fenceA,
          ),
        ).rejects.toBeInstanceOf(LeaseLostError);
        expect((await b.getJobs(['j2']))[0]).toMatchObject({ status: 'SUBMITTED', version: 1 });
        await b.updateJobsFenced(
          [{ row: makeJobRow('j2', { status: 'STARTING', version: 2 }), expectedVersion: 1 }],
          { name: 'scheduler', holder: 'node-b', term: lb.term },
        );
        expect((await a.getJobs(['j2']))[0]?.status).toBe('STARTING');
      } finally {
        await close();
      }
    });

    it('a fenced write blocks a takeover until it commits (the lease row is share-locked)', async () => {
      const { stores, close } = await nodes(2);
      const [a, b] = stores as [PostgresStore, PostgresStore];
      try {
        await a.insertJobs([makeJobRow('j1')]);
        const lease = (await a.tryAcquireLease('scheduler', 'node-a', 200))!;
        // Hold j1's row lock from outside so the fenced write is stuck after its lease check.
        const c = await admin.connect();
        await c.query('BEGIN');
        await c.query(`SELECT 1 FROM ${a.schema}.jobs WHERE job_id = 'j1' FOR UPDATE`);
        const write = a.updateJobsFenced(
          [{ row: makeJobRow('j1', { status: 'RUNNABLE', version: 2 }), expectedVersion: 1 }],
          {
            name: 'scheduler',
            holder: 'node-a',
            term: lease.term,
          },
        );
        await sleep(400); // lease has expired on the clock, but the fenced transaction still holds it
        let takenAt = 0;
        const takeover = b.tryAcquireLease('scheduler', 'node-b', 10_000).then((r) => {
          takenAt = Date.now();
          return r;
        });
        await sleep(300);
        expect(takenAt).toBe(0); // blocked behind the fenced transaction
        const releasedAt = Date.now();
        await c.query('ROLLBACK');
        c.release();
        await write; // committed under the old term: it checked the lease before the takeover
        const got = await takeover;
        expect(got?.holder).toBe('node-b');
        expect(takenAt).toBeGreaterThanOrEqual(releasedAt);
      } finally {
        await close();
      }
    });

    it('claimJobs with SKIP LOCKED: concurrent claimers on four nodes never claim a job twice', async () => {
      const { stores, close } = await nodes(4);
      try {
        const q = 'arn:aws:batch:us-east-1:123456789012:job-queue/shared';
        const ids = Array.from({ length: 400 }, (_, i) => `j${String(i).padStart(3, '0')}`);
        await stores[0]!.insertJobs(
          ids.map((id, i) => makeJobRow(id, { status: 'RUNNABLE', jobQueueArn: q, createdAt: 1000 + i })),
        );
        await stores[0]!.insertJobs([makeJobRow('other-queue', { status: 'RUNNABLE' })]);
        const claimedBy = new Map<string, number>();
        let lockedOverlap = 0;
        await Promise.all(
          stores.map(async (s, n) => {
            for (;;) {
              const won = await s.claimJobs(
                { statuses: ['RUNNABLE'], jobQueueArn: q, limit: 7 },
                async (locked: JobRow[]) => {
                  for (const r of locked) if (claimedBy.has(r.jobId)) lockedOverlap++;
                  await sleep(2); // hold the locks a little so claimers really overlap
                  return locked.map((r) => ({
                    ...r,
                    status: 'STARTING',
                    version: r.version + 1,
                    data: JSON.stringify({ node: n }),
                  }));
                },
              );
              if (won.length === 0) break;
              for (const r of won) {
                expect(claimedBy.has(r.jobId)).toBe(false);
                claimedBy.set(r.jobId, n);
              }
            }
          }),
        );
        expect(lockedOverlap).toBe(0);
        expect([...claimedBy.keys()].sort()).toEqual(ids);
        expect(new Set(claimedBy.values()).size).toBeGreaterThan(1); // the work really was shared
        const rows = await stores[1]!.getJobs(ids);
        for (const r of rows) {
          expect(r.status).toBe('STARTING');
          expect(JSON.parse(r.data)).toEqual({ node: claimedBy.get(r.jobId) });
        }
        expect((await stores[1]!.getJobs(['other-queue']))[0]?.status).toBe('RUNNABLE');
        // decide() may skip rows: they stay claimable
        const skipped = await stores[2]!.claimJobs({ statuses: ['RUNNABLE'], limit: 5 }, () => []);
        expect(skipped).toEqual([]);
        expect((await stores[2]!.getJobs(['other-queue']))[0]?.status).toBe('RUNNABLE');
      } finally {
        await close();
      }
    });

    it('a claim that throws rolls back and releases its locks', async () => {
      const { stores, close } = await nodes(1);
      const s = stores[0]!;
      try {
        await s.insertJobs([makeJobRow('a', { status: 'RUNNABLE' })]);
        await expect(
          s.claimJobs({ statuses: ['RUNNABLE'], limit: 1 }, () => Promise.reject(new Error('boom'))),
        ).rejects.toThrow('boom');
        const again = await s.claimJobs({ statuses: ['RUNNABLE'], limit: 1 }, (l) =>
          l.map((r) => ({ ...r, status: 'STARTING', version: 2 })),
        );
        expect(again.map((r) => r.jobId)).toEqual(['a']);
      } finally {
        await close();
      }
    });

    it('notify/listen wakes another node, is scoped by schema, and survives a dropped listener connection', async () => {
      const { stores, close } = await nodes(2);
      const other = await nodes(1);
      const [a, b] = stores as [PostgresStore, PostgresStore];
      try {
        const got: string[] = [];
        const crossTalk: string[] = [];
        const unlisten = await b.listen('sched', (p) => got.push(p));
        await other.stores[0]!.listen('sched', (p) => crossTalk.push(p));
        const waitFor = async (n: number): Promise<void> => {
          for (let i = 0; i < 200 && got.length < n; i++) await sleep(25);
        };
        await a.notify('sched', 'job-1');
        await waitFor(1);
        expect(got).toEqual(['job-1']);
        await expect(a.notify('sched', 'x'.repeat(8000))).rejects.toThrow(/8000/);
        // kill the listener's backend: it reconnects and re-LISTENs
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'openbatch-listener'`,
        );
        for (let i = 0; i < 100 && got.length < 2; i++) {
          await a.notify('sched', 'after-reconnect');
          await sleep(100);
        }
        expect(got).toContain('after-reconnect');
        expect(crossTalk).toEqual([]);
        await unlisten();
        const n = got.length;
        await a.notify('sched', 'ignored');
        await sleep(200);
        expect(got.length).toBe(n);
      } finally {
        await close();
        await other.close();
      }
    });

    it('heartbeats use the database clock, visible from every node', async () => {
      const { stores, close } = await nodes(2);
      try {
        const skewed = Date.now() - 3_600_000; // a node whose clock is an hour behind
        await stores[0]!.heartbeatNode({
          nodeId: 'slow-clock',
          startedAt: skewed,
          heartbeatAt: skewed,
          leaseUntil: skewed + 15_000,
        });
        const [n] = await stores[1]!.listNodes();
        const dbNow = await stores[1]!.now();
        expect(n!.nodeId).toBe('slow-clock');
        expect(Math.abs(n!.heartbeatAt - dbNow)).toBeLessThan(2_000);
        expect(n!.leaseUntil).toBeGreaterThan(dbNow); // alive, despite its clock
      } finally {
        await close();
      }
    });
  });
});
