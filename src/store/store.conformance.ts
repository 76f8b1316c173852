/**
 * @module store/store.conformance
 * The one conformance suite of the `Store` port (house style rule 21). Every adapter's test file calls
 * `runStoreConformance({ name, create })`; each test gets a fresh, empty store from `create()`.
 * A behaviour an adapter can't support must be listed in `skip` with a reason, never silently dropped.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ConflictError, VersionConflictError } from '../core/errors.js';
import type { JobRow, ListJobsQuery, ResourceKind, Store } from './store.js';

export interface StoreConformanceOptions {
  name: string;
  /** A fresh, empty, migrated store. */
  create: () => Promise<Store>;
  /** Runs after each test, before the store is closed (drop a schema, delete a file …). */
  cleanup?: (store: Store) => Promise<void>;
  /** Tests this adapter can't pass, each with the reason (shown as a skipped test). */
  skip?: readonly { test: string; reason: string }[];
}

const ARN = 'arn:aws:batch:us-east-1:123456789012';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const byteCompare = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

export function makeJobRow(jobId: string, over: Partial<JobRow> = {}): JobRow {
  return {
    jobId,
    jobQueueArn: `${ARN}:job-queue/q1`,
    status: 'SUBMITTED',
    jobName: `job-${jobId}`,
    jobDefinitionArn: `${ARN}:job-definition/jd:1`,
    parentId: null,
    shareIdentifier: null,
    createdAt: 1_700_000_000_000,
    version: 1,
    data: JSON.stringify({ jobId, payload: 'x' }),
    ...over,
  };
}

/** The reference semantics of `listJobs`, used to check adapters against exact expected pages. */
export function modelListJobs(rows: readonly JobRow[], q: ListJobsQuery): JobRow[] {
  const desc = q.order === 'createdDesc';
  const cmp = (a: JobRow, b: JobRow): number =>
    (a.createdAt - b.createdAt || byteCompare(a.jobId, b.jobId)) * (desc ? -1 : 1);
  return rows
    .filter((r) => q.jobQueueArn === undefined || r.jobQueueArn === q.jobQueueArn)
    .filter((r) => q.parentId === undefined || r.parentId === q.parentId)
    .filter((r) => !q.statuses || q.statuses.length === 0 || q.statuses.includes(r.status))
    .filter((r) => {
      if (q.jobName === undefined) return true;
      const n = r.jobName.toLowerCase();
      return q.jobName.endsWith('*')
        ? n.startsWith(q.jobName.slice(0, -1).toLowerCase())
        : n === q.jobName.toLowerCase();
    })
    .filter((r) => q.jobDefinitionArn === undefined || r.jobDefinitionArn === q.jobDefinitionArn)
    .filter(
      (r) =>
        q.jobDefinitionArnPrefix === undefined || r.jobDefinitionArn.startsWith(q.jobDefinitionArnPrefix),
    )
    .filter((r) => q.createdBefore === undefined || r.createdAt < q.createdBefore)
    .filter((r) => q.createdAfter === undefined || r.createdAt > q.createdAfter)
    .filter((r) => q.shareIdentifier === undefined || r.shareIdentifier === q.shareIdentifier)
    .filter((r) => {
      if (!q.after) return true;
      const [t, id] = q.after;
      const c = r.createdAt - t || byteCompare(r.jobId, id);
      return desc ? c < 0 : c > 0;
    })
    .sort(cmp)
    .slice(0, q.limit);
}

export function runStoreConformance(opts: StoreConformanceOptions): void {
  const skipped = new Map((opts.skip ?? []).map((s) => [s.test, s.reason]));
  const test = (title: string, fn: () => Promise<void>): void => {
    const reason = skipped.get(title);
    if (reason !== undefined) it.skip(`${title} (skipped: ${reason})`, fn);
    else it(title, fn);
  };

  describe(`Store conformance: ${opts.name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await opts.create();
    });
    afterEach(async () => {
      if (opts.cleanup) await opts.cleanup(store);
      await store.close();
    });

    // --- resources ---------------------------------------------------------------------------

    describe('resources', () => {
      const kind: ResourceKind = 'compute-environment';

      test('create, get by key and by arn, missing is undefined', async () => {
        const data = { name: 'ce1', nested: { list: [1, 2, { deep: true }], text: 'ünïcødé ✓ "quoted"' } };
        const rec = await store.putResource(kind, 'ce1', `${ARN}:compute-environment/ce1`, data, null);
        expect(rec).toMatchObject({ kind, key: 'ce1', version: 1, data });
        expect(rec.createdAt).toBe(rec.updatedAt);
        const got = await store.getResource<typeof data>(kind, 'ce1');
        expect(got).toEqual(rec);
        expect(await store.getResourceByArn(kind, `${ARN}:compute-environment/ce1`)).toEqual(rec);
        expect(await store.getResource(kind, 'nope')).toBeUndefined();
        expect(await store.getResourceByArn(kind, `${ARN}:compute-environment/nope`)).toBeUndefined();
        expect(await store.getResource('job-queue', 'ce1')).toBeUndefined();
      });

      test('create on an existing key is a ConflictError and leaves the record unchanged', async () => {
        await store.putResource(kind, 'ce1', 'arn:1', { v: 'first' }, null);
        await expect(store.putResource(kind, 'ce1', 'arn:2', { v: 'second' }, null)).rejects.toBeInstanceOf(
          ConflictError,
        );
        const got = await store.getResource<{ v: string }>(kind, 'ce1');
        expect(got?.data).toEqual({ v: 'first' });
        expect(got?.version).toBe(1);
      });

      test('the same key in two kinds are two records', async () => {
        await store.putResource('job-queue', 'same', 'arn:q', { k: 'q' }, null);
        await store.putResource('compute-environment', 'same', 'arn:c', { k: 'c' }, null);
        expect((await store.getResource<{ k: string }>('job-queue', 'same'))?.data.k).toBe('q');
        expect((await store.getResource<{ k: string }>('compute-environment', 'same'))?.data.k).toBe('c');
        expect(await store.countResources('job-queue')).toBe(1);
        expect(await store.countResources('compute-environment')).toBe(1);
        expect(await store.countResources('job-definition')).toBe(0);
      });

      test('update is a compare-and-set on version', async () => {
        const v1 = await store.putResource(kind, 'ce1', 'arn:1', { n: 1 }, null);
        await sleep(5);
        const v2 = await store.putResource(kind, 'ce1', 'arn:1b', { n: 2 }, 1);
        expect(v2.version).toBe(2);
        expect(v2.createdAt).toBe(v1.createdAt);
        expect(v2.updatedAt).toBeGreaterThanOrEqual(v1.updatedAt);
        expect(await store.getResource(kind, 'ce1')).toEqual(v2);
        expect((await store.getResourceByArn(kind, 'arn:1b'))?.version).toBe(2);
        expect(await store.getResourceByArn(kind, 'arn:1')).toBeUndefined();
        // stale version
        await expect(store.putResource(kind, 'ce1', 'arn:1b', { n: 3 }, 1)).rejects.toBeInstanceOf(
          VersionConflictError,
        );
        expect((await store.getResource<{ n: number }>(kind, 'ce1'))?.data.n).toBe(2);
        // update of a missing record
        await expect(store.putResource(kind, 'ghost', 'arn:g', {}, 1)).rejects.toBeInstanceOf(
          VersionConflictError,
        );
        expect(await store.getResource(kind, 'ghost')).toBeUndefined();
        const v3 = await store.putResource(kind, 'ce1', 'arn:1b', { n: 3 }, 2);
        expect(v3.version).toBe(3);
      });

      test('concurrent creates of one key: exactly one wins', async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => store.putResource(kind, 'race', `arn:race`, { i }, null)),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        for (const l of lost) expect((l as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
      });

      test('concurrent updates from the same version: exactly one wins', async () => {
        await store.putResource(kind, 'race', 'arn:race', { i: -1 }, null);
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => store.putResource(kind, 'race', 'arn:race', { i }, 1)),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const l of results.filter((r) => r.status === 'rejected')) {
          expect((l as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
        }
        expect((await store.getResource(kind, 'race'))?.version).toBe(2);
      });

      test('delete with and without an expected version', async () => {
        await store.putResource(kind, 'a', 'arn:a', {}, null);
        await store.putResource(kind, 'b', 'arn:b', {}, null);
        await store.putResource(kind, 'b', 'arn:b', { x: 1 }, 1);
        expect(await store.deleteResource(kind, 'a')).toBe(true);
        expect(await store.deleteResource(kind, 'a')).toBe(false);
        expect(await store.deleteResource(kind, 'b', 1)).toBe(false);
        expect(await store.getResource(kind, 'b')).toBeDefined();
        expect(await store.deleteResource(kind, 'b', 2)).toBe(true);
        expect(await store.getResource(kind, 'b')).toBeUndefined();
        expect(await store.countResources(kind)).toBe(0);
        // a deleted key can be created again
        expect((await store.putResource(kind, 'a', 'arn:a', {}, null)).version).toBe(1);
      });

      test('listResources: bytewise key order, literal prefix, afterKey pagination', async () => {
        const keys = [
          'b',
          'a',
          'A',
          'a:10',
          'a:2',
          'ab',
          'Zeta',
          'alpha',
          'a_x',
          'a%y',
          'é',
          'jd:1',
          'jd:2',
          'jd2:1',
          'jd:10',
        ];
        for (const k of keys) await store.putResource('job-definition', k, `arn:${k}`, { k }, null);
        await store.putResource('job-queue', 'a-queue', 'arn:q', {}, null);
        const sorted = [...keys].sort(byteCompare);
        const all = await store.listResources<{ k: string }>('job-definition', { limit: 100 });
        expect(all.map((r) => r.key)).toEqual(sorted);
        expect(all.map((r) => r.data.k)).toEqual(sorted);
        // prefix is literal: `a_` does not match `ab`, `a%` does not match everything starting with a
        expect(
          (await store.listResources('job-definition', { keyPrefix: 'a_', limit: 100 })).map((r) => r.key),
        ).toEqual(['a_x']);
        expect(
          (await store.listResources('job-definition', { keyPrefix: 'a%', limit: 100 })).map((r) => r.key),
        ).toEqual(['a%y']);
        expect(
          (await store.listResources('job-definition', { keyPrefix: 'jd:', limit: 100 })).map((r) => r.key),
        ).toEqual(['jd:1', 'jd:10', 'jd:2']);
        expect(await store.listResources('job-definition', { keyPrefix: 'nothing', limit: 100 })).toEqual([]);
        // pagination: every key exactly once, in order
        for (const prefix of [undefined, 'a', 'jd']) {
          const seen: string[] = [];
          let after: string | undefined;
          for (;;) {
            const page = await store.listResources('job-definition', {
              limit: 2,
              ...(prefix !== undefined ? { keyPrefix: prefix } : {}),
              ...(after !== undefined ? { afterKey: after } : {}),
            });
            if (page.length === 0) break;
            expect(page.length).toBeLessThanOrEqual(2);
            seen.push(...page.map((r) => r.key));
            after = page[page.length - 1]!.key;
          }
          expect(seen).toEqual(sorted.filter((k) => prefix === undefined || k.startsWith(prefix)));
        }
        expect(await store.countResources('job-definition')).toBe(keys.length);
      });

      test('nextRevision is per name, monotonic, and never reused under concurrency', async () => {
        expect(await store.nextRevision('jd')).toBe(1);
        expect(await store.nextRevision('jd')).toBe(2);
        expect(await store.nextRevision('other')).toBe(1);
        const got = await Promise.all(Array.from({ length: 40 }, () => store.nextRevision('jd')));
        expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 3));
        expect(await store.nextRevision('jd')).toBe(43);
      });
    });

    // --- jobs --------------------------------------------------------------------------------

    describe('jobs', () => {
      test('insertJobs and getJobs round-trip every field, in the order asked', async () => {
        const a = makeJobRow('a', {
          parentId: 'p',
          shareIdentifier: 'share1',
          data: JSON.stringify({ big: 'x'.repeat(50_000), u: 'ü✓' }),
        });
        const b = makeJobRow('b', { createdAt: 1_700_000_000_001, version: 7, status: 'RUNNABLE' });
        await store.insertJobs([a, b]);
        expect(await store.getJobs(['b', 'missing', 'a'])).toEqual([b, a]);
        expect(await store.getJobs([])).toEqual([]);
        expect(await store.countJobs()).toBe(2);
        await store.insertJobs([]);
        await store.insertJobs([makeJobRow('c')]);
        expect(await store.countJobs()).toBe(3);
      });

      test('insertJobs is all or nothing: a duplicate id inserts none of the batch', async () => {
        await store.insertJobs([makeJobRow('x')]);
        await expect(store.insertJobs([makeJobRow('y'), makeJobRow('x')])).rejects.toThrow();
        await expect(store.insertJobs([makeJobRow('z'), makeJobRow('z')])).rejects.toThrow();
        await expect(store.insertJobs([makeJobRow('x')])).rejects.toThrow();
        expect(await store.getJobs(['x', 'y', 'z'])).toHaveLength(1);
        expect(await store.countJobs()).toBe(1);
      });

      test('insertJobs takes 10,000 array children in one call', async () => {
        const rows = Array.from({ length: 10_000 }, (_, i) =>
          makeJobRow(`parent:${i}`, {
            parentId: 'parent',
            data: JSON.stringify({ arrayIndex: i, env: [{ name: 'A', value: 'b' }] }),
          }),
        );
        await store.insertJobs(rows);
        expect(await store.countJobs()).toBe(10_000);
        expect(await store.getJobs(['parent:0', 'parent:9999'])).toEqual([rows[0], rows[9999]]);
        const page = await store.listJobs({ parentId: 'parent', order: 'createdAsc', limit: 5 });
        expect(page.map((r) => r.jobId)).toEqual(
          modelListJobs(rows, { parentId: 'parent', order: 'createdAsc', limit: 5 }).map((r) => r.jobId),
        );
      });

      test('updateJobs applies a CAS batch and changes status, queue, share, version and data only', async () => {
        await store.insertJobs([makeJobRow('a'), makeJobRow('b')]);
        const a2 = makeJobRow('a', {
          status: 'RUNNABLE',
          jobQueueArn: `${ARN}:job-queue/q2`,
          shareIdentifier: 's',
          version: 2,
          data: '{"a":2}',
          // immutable after insert: ignored
          jobName: 'renamed',
          createdAt: 5,
        });
        const b2 = makeJobRow('b', { status: 'PENDING', version: 2, data: '{"b":2}' });
        await store.updateJobs([
          { row: a2, expectedVersion: 1 },
          { row: b2, expectedVersion: 1 },
        ]);
        const [ga, gb] = await store.getJobs(['a', 'b']);
        expect(ga).toEqual({ ...a2, jobName: 'job-a', createdAt: makeJobRow('a').createdAt });
        expect(gb).toEqual(b2);
        await store.updateJobs([]);
      });

      test('updateJobs is all or nothing: one stale or missing row fails the batch with VersionConflictError', async () => {
        await store.insertJobs([makeJobRow('a'), makeJobRow('b'), makeJobRow('c')]);
        await expect(
          store.updateJobs([
            { row: makeJobRow('a', { status: 'RUNNABLE', version: 2 }), expectedVersion: 1 },
            { row: makeJobRow('b', { status: 'RUNNABLE', version: 3 }), expectedVersion: 2 },
          ]),
        ).rejects.toBeInstanceOf(VersionConflictError);
        await expect(
          store.updateJobs([
            { row: makeJobRow('c', { status: 'RUNNABLE', version: 2 }), expectedVersion: 1 },
            { row: makeJobRow('ghost', { version: 2 }), expectedVersion: 1 },
          ]),
        ).rejects.toBeInstanceOf(VersionConflictError);
        await expect(
          store.updateJobs([{ row: makeJobRow('a', { version: 9 }), expectedVersion: 8 }]),
        ).rejects.toBeInstanceOf(VersionConflictError);
        const rows = await store.getJobs(['a', 'b', 'c']);
        expect(rows.map((r) => [r.status, r.version])).toEqual([
          ['SUBMITTED', 1],
          ['SUBMITTED', 1],
          ['SUBMITTED', 1],
        ]);
      });

      test('updateJobs may name one job twice in a batch (applied in order)', async () => {
        await store.insertJobs([makeJobRow('a'), makeJobRow('b')]);
        await store.updateJobs([
          { row: makeJobRow('a', { status: 'PENDING', version: 2 }), expectedVersion: 1 },
          { row: makeJobRow('b', { status: 'PENDING', version: 2 }), expectedVersion: 1 },
          { row: makeJobRow('a', { status: 'RUNNABLE', version: 3 }), expectedVersion: 2 },
        ]);
        expect((await store.getJobs(['a', 'b'])).map((r) => [r.status, r.version])).toEqual([
          ['RUNNABLE', 3],
          ['PENDING', 2],
        ]);
        await expect(
          store.updateJobs([
            { row: makeJobRow('b', { status: 'RUNNABLE', version: 3 }), expectedVersion: 2 },
            { row: makeJobRow('b', { status: 'STARTING', version: 4 }), expectedVersion: 2 },
          ]),
        ).rejects.toBeInstanceOf(VersionConflictError);
        expect((await store.getJobs(['b']))[0]?.version).toBe(2);
      });

      test('concurrent CAS updates from the same version: exactly one wins', async () => {
        await store.insertJobs([makeJobRow('a'), makeJobRow('b')]);
        const results = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) =>
            store.updateJobs([
              { row: makeJobRow('a', { status: `S${i}`, version: 2 }), expectedVersion: 1 },
              { row: makeJobRow('b', { status: `S${i}`, version: 2 }), expectedVersion: 1 },
            ]),
          ),
        );
        const winners = results.map((r, i) => (r.status === 'fulfilled' ? i : -1)).filter((i) => i >= 0);
        expect(winners).toHaveLength(1);
        for (const l of results.filter((r) => r.status === 'rejected')) {
          expect((l as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
        }
        const rows = await store.getJobs(['a', 'b']);
        expect(rows.map((r) => r.status)).toEqual([`S${winners[0]}`, `S${winners[0]}`]);
      });

      test('loadActiveJobs returns every job that is not SUCCEEDED or FAILED', async () => {
        const statuses = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED'];
        await store.insertJobs(statuses.map((s) => makeJobRow(s.toLowerCase(), { status: s })));
        const active = await store.loadActiveJobs();
        expect(active.map((r) => r.status).sort()).toEqual([
          'PENDING',
          'RUNNABLE',
          'RUNNING',
          'STARTING',
          'SUBMITTED',
        ]);
        await store.updateJobs([
          { row: makeJobRow('running', { status: 'SUCCEEDED', version: 2 }), expectedVersion: 1 },
        ]);
        expect((await store.loadActiveJobs()).map((r) => r.jobId).sort()).toEqual([
          'pending',
          'runnable',
          'starting',
          'submitted',
        ]);
      });

      describe('listJobs', () => {
        const q1 = `${ARN}:job-queue/q1`;
        const q2 = `${ARN}:job-queue/q2`;
        const jd = (n: string): string => `${ARN}:job-definition/${n}`;
        const T = 1_700_000_000_000;
        const names = ['Alpha-1', 'alpha_2', 'ALPHAX', 'beta', 'a%b', 'axb', 'Gamma'];
        const statuses = ['SUBMITTED', 'RUNNABLE', 'RUNNING', 'SUCCEEDED', 'FAILED'];
        const jds = [jd('jd-a:1'), jd('jd-a:2'), jd('jd-ab:1'), jd('jd_a:1')];
        // 60 jobs; createdAt has many ties so the job_id tie-break and cursors are exercised.
        const rows: JobRow[] = Array.from({ length: 60 }, (_, i) =>
          makeJobRow(`job-${String((i * 37) % 60).padStart(2, '0')}${i % 7 === 0 ? 'Z' : ''}`, {
            jobQueueArn: i % 3 === 0 ? q2 : q1,
            status: statuses[i % statuses.length]!,
            jobName: names[i % names.length]!,
            jobDefinitionArn: jds[i % jds.length]!,
            parentId: i % 4 === 0 ? 'parent-1' : i % 4 === 1 ? 'parent-2' : null,
            shareIdentifier: i % 5 === 0 ? 'blue' : i % 5 === 1 ? 'green' : null,
            createdAt: T + Math.floor(i / 4) * 1000,
          }),
        );
        const queries: ListJobsQuery[] = [
          { order: 'createdDesc', limit: 100 },
          { order: 'createdAsc', limit: 100 },
          { order: 'createdDesc', limit: 7 },
          { jobQueueArn: q1, order: 'createdDesc', limit: 100 },
          { jobQueueArn: q2, statuses: ['RUNNABLE'], order: 'createdAsc', limit: 100 },
          { statuses: ['SUCCEEDED', 'FAILED'], order: 'createdDesc', limit: 100 },
          { statuses: [], order: 'createdAsc', limit: 100 },
          { parentId: 'parent-1', order: 'createdAsc', limit: 100 },
          { parentId: 'parent-2', statuses: ['RUNNING'], order: 'createdDesc', limit: 100 },
          { jobName: 'alpha-1', order: 'createdDesc', limit: 100 },
          { jobName: 'ALPHA*', order: 'createdDesc', limit: 100 },
          { jobName: 'alpha_*', order: 'createdDesc', limit: 100 },
          { jobName: 'a%*', order: 'createdDesc', limit: 100 },
          { jobName: 'a*', order: 'createdAsc', limit: 100 },
          { jobName: '*', order: 'createdAsc', limit: 100 },
          { jobName: 'nomatch', order: 'createdAsc', limit: 100 },
          { jobDefinitionArn: jd('jd-a:1'), order: 'createdDesc', limit: 100 },
          { jobDefinitionArnPrefix: jd('jd-a:'), order: 'createdDesc', limit: 100 },
          { jobDefinitionArnPrefix: jd('jd_'), order: 'createdDesc', limit: 100 },
          { jobDefinitionArnPrefix: jd('jd-a'), order: 'createdAsc', limit: 100 },
          { createdBefore: T + 5000, order: 'createdDesc', limit: 100 },
          { createdAfter: T + 5000, order: 'createdAsc', limit: 100 },
          { createdAfter: T + 2000, createdBefore: T + 9000, order: 'createdAsc', limit: 100 },
          { shareIdentifier: 'blue', order: 'createdDesc', limit: 100 },
          {
            jobQueueArn: q1,
            statuses: ['SUBMITTED', 'RUNNING'],
            jobName: 'a*',
            shareIdentifier: 'green',
            order: 'createdDesc',
            limit: 100,
          },
          { order: 'createdDesc', after: [T + 7000, 'job-30'], limit: 100 },
          { order: 'createdAsc', after: [T + 7000, 'job-30'], limit: 5 },
        ];

        test('every filter, both orders, and limits match the reference semantics', async () => {
          await store.insertJobs(rows);
          for (const q of queries) {
            const got = (await store.listJobs(q)).map((r) => r.jobId);
            expect({ q, got }).toEqual({ q, got: modelListJobs(rows, q).map((r) => r.jobId) });
          }
          // sanity: the fixture really exercises the filters
          expect(
            modelListJobs(rows, { jobName: 'alpha_*', order: 'createdAsc', limit: 100 }).length,
          ).toBeGreaterThan(0);
          expect(
            modelListJobs(rows, { jobName: 'alpha_*', order: 'createdAsc', limit: 100 }).every(
              (r) => r.jobName === 'alpha_2',
            ),
          ).toBe(true);
          expect(
            modelListJobs(rows, { jobDefinitionArnPrefix: jd('jd_'), order: 'createdAsc', limit: 100 })
              .length,
          ).toBe(15);
        });

        test('cursor pagination visits every match exactly once, in order, across createdAt ties', async () => {
          await store.insertJobs(rows);
          for (const base of [
            { order: 'createdDesc' as const },
            { order: 'createdAsc' as const },
            { order: 'createdDesc' as const, jobQueueArn: q1 },
            { order: 'createdAsc' as const, statuses: ['RUNNABLE', 'RUNNING'] },
          ]) {
            const seen: string[] = [];
            let after: readonly [number, string] | undefined;
            for (let guard = 0; guard < 100; guard++) {
              const page = await store.listJobs({ ...base, limit: 4, ...(after ? { after } : {}) });
              if (page.length === 0) break;
              seen.push(...page.map((r) => r.jobId));
              const last = page[page.length - 1]!;
              after = [last.createdAt, last.jobId];
            }
            expect(seen).toEqual(modelListJobs(rows, { ...base, limit: 1000 }).map((r) => r.jobId));
            expect(new Set(seen).size).toBe(seen.length);
          }
        });

        test('listJobs returns full rows', async () => {
          await store.insertJobs(rows);
          const [first] = await store.listJobs({ order: 'createdAsc', limit: 1 });
          expect(first).toEqual(modelListJobs(rows, { order: 'createdAsc', limit: 1 })[0]);
        });
      });

      test('purgeJobs removes only terminal jobs created before the cutoff, at most `limit` per call', async () => {
        const T = 1_000_000;
        await store.insertJobs([
          makeJobRow('old-ok-1', { status: 'SUCCEEDED', createdAt: T }),
          makeJobRow('old-ok-2', { status: 'SUCCEEDED', createdAt: T + 1 }),
          makeJobRow('old-fail', { status: 'FAILED', createdAt: T + 2 }),
          makeJobRow('old-running', { status: 'RUNNING', createdAt: T }),
          makeJobRow('new-ok', { status: 'SUCCEEDED', createdAt: T + 100 }),
          makeJobRow('edge-ok', { status: 'SUCCEEDED', createdAt: T + 50 }),
        ]);
        expect(await store.purgeJobs(T + 50, 2)).toBe(2);
        expect(await store.purgeJobs(T + 50, 2)).toBe(1);
        expect(await store.purgeJobs(T + 50, 2)).toBe(0);
        expect(
          (await store.getJobs(['old-ok-1', 'old-ok-2', 'old-fail', 'old-running', 'new-ok', 'edge-ok'])).map(
            (r) => r.jobId,
          ),
        ).toEqual(['old-running', 'new-ok', 'edge-ok']);
        expect(await store.countJobs()).toBe(3);
      });
    });

    // --- leases and nodes ----------------------------------------------------------------------

    describe('leases', () => {
      test('acquire, re-acquire keeps the term, another holder is refused while live', async () => {
        const a = await store.tryAcquireLease('scheduler', 'node-a', 10_000);
        expect(a).toBeDefined();
        expect(a!.holder).toBe('node-a');
        expect(typeof a!.term).toBe('string');
        expect(a!.term.length).toBeGreaterThan(0);
        expect(a!.expiresAt).toBeGreaterThan(Date.now() + 5_000);
        expect(await store.tryAcquireLease('scheduler', 'node-b', 10_000)).toBeUndefined();
        const again = await store.tryAcquireLease('scheduler', 'node-a', 20_000);
        expect(again?.term).toBe(a!.term);
        expect(again!.expiresAt).toBeGreaterThan(a!.expiresAt);
        // leases are independent by name
        const other = await store.tryAcquireLease('slurm:ce1', 'node-b', 10_000);
        expect(other?.holder).toBe('node-b');
        expect(other?.term).not.toBe(a!.term);
      });

      test('renew needs the holder and the current term', async () => {
        const a = (await store.tryAcquireLease('scheduler', 'node-a', 10_000))!;
        expect(await store.renewLease('scheduler', 'node-a', a.term, 10_000)).toBe(true);
        expect(await store.renewLease('scheduler', 'node-b', a.term, 10_000)).toBe(false);
        expect(await store.renewLease('scheduler', 'node-a', 'not-the-term', 10_000)).toBe(false);
        expect(
          await store.renewLease('scheduler', 'node-a', '00000000-0000-4000-8000-000000000000', 10_000),
        ).toBe(false);
        expect(await store.renewLease('no-such-lease', 'node-a', a.term, 10_000)).toBe(false);
        expect(await store.tryAcquireLease('scheduler', 'node-b', 10_000)).toBeUndefined();
      });

      test('an expired lease cannot be renewed; another holder takes it with a NEW term', async () => {
        const a = (await store.tryAcquireLease('scheduler', 'node-a', 150))!;
        expect(await store.tryAcquireLease('scheduler', 'node-b', 10_000)).toBeUndefined();
        await sleep(400);
        expect(await store.renewLease('scheduler', 'node-a', a.term, 10_000)).toBe(false);
        const b = await store.tryAcquireLease('scheduler', 'node-b', 10_000);
        expect(b?.holder).toBe('node-b');
        expect(b!.term).not.toBe(a.term);
        expect(await store.renewLease('scheduler', 'node-a', a.term, 10_000)).toBe(false);
        expect(await store.tryAcquireLease('scheduler', 'node-a', 10_000)).toBeUndefined();
        expect(await store.renewLease('scheduler', 'node-b', b!.term, 10_000)).toBe(true);
      });

      test('the same holder re-acquiring after expiry gets a new term', async () => {
        const a = (await store.tryAcquireLease('scheduler', 'node-a', 100))!;
        await sleep(300);
        const again = (await store.tryAcquireLease('scheduler', 'node-a', 10_000))!;
        expect(again.term).not.toBe(a.term);
        expect(await store.renewLease('scheduler', 'node-a', a.term, 10_000)).toBe(false);
        expect(await store.renewLease('scheduler', 'node-a', again.term, 10_000)).toBe(true);
      });

      test('concurrent acquisition of a free lease: exactly one holder wins', async () => {
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => store.tryAcquireLease('scheduler', `node-${i}`, 10_000)),
        );
        const winners = results.filter((r) => r !== undefined);
        expect(winners).toHaveLength(1);
        for (let i = 0; i < 8; i++) {
          if (`node-${i}` === winners[0]!.holder) continue;
          expect(await store.renewLease('scheduler', `node-${i}`, winners[0]!.term, 10_000)).toBe(false);
        }
      });
    });

    describe('nodes', () => {
      test('heartbeatNode upserts; listNodes is ordered by id and keeps url/meta and the lease TTL', async () => {
        const now = Date.now();
        await store.heartbeatNode({
          nodeId: 'node-b',
          startedAt: now - 1000,
          heartbeatAt: now,
          leaseUntil: now + 15_000,
        });
        await store.heartbeatNode({
          nodeId: 'node-a',
          startedAt: now - 2000,
          heartbeatAt: now,
          leaseUntil: now + 15_000,
          url: 'http://10.0.0.1:8080',
          meta: { vcpus: 4, tags: ['x'] },
        });
        let nodes = await store.listNodes();
        expect(nodes.map((n) => n.nodeId)).toEqual(['node-a', 'node-b']);
        expect(nodes[0]).toMatchObject({
          nodeId: 'node-a',
          startedAt: now - 2000,
          url: 'http://10.0.0.1:8080',
          meta: { vcpus: 4, tags: ['x'] },
        });
        expect(nodes[1]!.url).toBeUndefined();
        expect(nodes[1]!.meta).toBeUndefined();
        for (const n of nodes) {
          expect(n.leaseUntil - n.heartbeatAt).toBe(15_000);
          expect(Math.abs(n.heartbeatAt - now)).toBeLessThan(10_000);
        }
        await sleep(20);
        const later = Date.now();
        await store.heartbeatNode({
          nodeId: 'node-b',
          startedAt: now - 1000,
          heartbeatAt: later,
          leaseUntil: later + 5_000,
          url: 'http://b',
        });
        nodes = await store.listNodes();
        expect(nodes).toHaveLength(2);
        const b = nodes.find((n) => n.nodeId === 'node-b')!;
        expect(b.url).toBe('http://b');
        expect(b.leaseUntil - b.heartbeatAt).toBe(5_000);
        expect(b.heartbeatAt).toBeGreaterThanOrEqual(nodes.find((n) => n.nodeId === 'node-a')!.heartbeatAt);
      });
    });

    test('close is idempotent', async () => {
      await store.close();
      await store.close();
    });
  });
}
