/**
 * The PostgreSQL log store against a real server (test/helpers/postgres.ts), one schema per test:
 * the CloudWatch Logs API behaviours of logs-api.test.ts that depend on the store (GetLogEvents
 * tokens, FilterLogEvents), store-level append/read/retention/cap, and what only a shared store must
 * show: two stores ("nodes") on one database see each other's lines, with unique increasing seqs.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { findPostgresBinaries, startPostgres, type RunningPostgres } from '../../../test/helpers/postgres.js';
import type { JsonHandler } from '../../api/http-server.js';
import { createLogsHandlers, toLogsWireError } from '../../api/logs/logs-api.js';
import type { RequestContext } from '../../api/request-context.js';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import {
  createPostgresLogStore,
  type PostgresLogStore,
  type PostgresLogStoreOptions,
} from './postgres-log-store.js';

const binaries = findPostgresBinaries();
const required = Boolean(process.env.CI || process.env.OPENBATCH_REQUIRE_POSTGRES);
if (!binaries && required) {
  it('PostgreSQL binaries are available (required in CI)', () => {
    expect.fail('initdb/pg_ctl not found');
  });
}

const DAY = 86_400_000;
const ctx: RequestContext = {
  region: 'eu-west-1',
  accountId: '111122223333',
  requestId: 'r-1',
  bodyBytes: 0,
};
const all = (): boolean => true;

let server: RunningPostgres;
let admin: pg.Pool;
let schemaSeq = 0;
let now = 1_700_000_000_000;
let store: PostgresLogStore;
let handlers: Map<string, JsonHandler>;
const extra: PostgresLogStore[] = [];
let schema = '';

async function open(opts: Partial<PostgresLogStoreOptions> = {}): Promise<PostgresLogStore> {
  const s = await createPostgresLogStore({ url: server.url, schema, now: () => now, ...opts });
  extra.push(s);
  return s;
}

async function call<T = Record<string, unknown>>(op: string, input: Record<string, unknown>): Promise<T> {
  const h = handlers.get(op);
  if (!h) throw new Error(`no handler ${op}`);
  return (await h(input, ctx)) as T;
}

async function callError(
  op: string,
  input: Record<string, unknown>,
): Promise<{ status: number; type: string; message: string }> {
  try {
    await call(op, input);
  } catch (err) {
    return toLogsWireError(err);
  }
  throw new Error(`${op} did not fail`);
}

interface GetOut {
  events: Array<{ timestamp: number; message: string; ingestionTime: number }>;
  nextForwardToken: string;
  nextBackwardToken: string;
}

describe.skipIf(!binaries)('PostgresLogStore (real PostgreSQL)', () => {
  beforeAll(async () => {
    server = await startPostgres();
    admin = new pg.Pool({ connectionString: server.url, max: 2 });
    admin.on('error', () => undefined);
  }, 120_000);
  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  });
  beforeEach(async () => {
    now = 1_700_000_000_000;
    schema = `l_${process.pid}_${++schemaSeq}`;
    store = await createPostgresLogStore({ url: server.url, schema, now: () => now });
    handlers = createLogsHandlers(store, { clock: () => now });
  });
  afterEach(async () => {
    await store.close();
    for (const s of extra.splice(0)) await s.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });

  describe('GetLogEvents tokens', () => {
    beforeEach(() => {
      store.append(
        '/aws/batch/job',
        's',
        Array.from({ length: 25 }, (_, i) => ({ timestamp: now - 1000 + i, message: `m${i}` })),
      );
    });

    it('reads forward from the head until the forward token repeats (boto3/CLI loop)', async () => {
      const seen: string[] = [];
      let token: string | undefined;
      let calls = 0;
      for (;;) {
        const out = await call<GetOut>('GetLogEvents', {
          logGroupName: '/aws/batch/job',
          logStreamName: 's',
          startFromHead: true,
          limit: 10,
          ...(token ? { nextToken: token } : {}),
        });
        calls++;
        expect(out.nextForwardToken).toMatch(/^f\/\d{56}$/);
        expect(out.nextBackwardToken).toMatch(/^b\/\d{56}$/);
        seen.push(...out.events.map((e) => e.message));
        if (out.nextForwardToken === token) {
          expect(out.events).toEqual([]);
          break;
        }
        token = out.nextForwardToken;
        if (calls > 10) throw new Error('did not terminate');
      }
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
      expect(calls).toBe(4);
    });

    it('defaults to the newest page, ascending, and pages backward until the backward token repeats', async () => {
      const first = await call<GetOut>('GetLogEvents', {
        logGroupName: '/aws/batch/job',
        logStreamName: 's',
        limit: 10,
      });
      expect(first.events.map((e) => e.message)).toEqual(Array.from({ length: 10 }, (_, i) => `m${15 + i}`));
      const pages: string[][] = [first.events.map((e) => e.message)];
      let token = first.nextBackwardToken;
      for (;;) {
        const out = await call<GetOut>('GetLogEvents', {
          logGroupName: '/aws/batch/job',
          logStreamName: 's',
          limit: 10,
          nextToken: token,
        });
        if (out.nextBackwardToken === token) {
          expect(out.events).toEqual([]);
          // From the start, the forward token leads back to the first event.
          const again = await call<GetOut>('GetLogEvents', {
            logGroupName: '/aws/batch/job',
            logStreamName: 's',
            limit: 1,
            nextToken: out.nextForwardToken,
          });
          expect(again.events.map((e) => e.message)).toEqual(['m0']);
          break;
        }
        pages.unshift(out.events.map((e) => e.message));
        token = out.nextBackwardToken;
      }
      expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
    });

    it('a follower at the end sees new events on the same forward token', async () => {
      const head = await call<GetOut>('GetLogEvents', { logGroupName: '/aws/batch/job', logStreamName: 's' });
      expect(head.events).toHaveLength(25);
      const idle = await call<GetOut>('GetLogEvents', {
        logGroupName: '/aws/batch/job',
        logStreamName: 's',
        nextToken: head.nextForwardToken,
      });
      expect(idle.events).toEqual([]);
      expect(idle.nextForwardToken).toBe(head.nextForwardToken);
      store.append('/aws/batch/job', 's', [{ timestamp: now, message: 'late' }]);
      const more = await call<GetOut>('GetLogEvents', {
        logGroupName: '/aws/batch/job',
        logStreamName: 's',
        nextToken: idle.nextForwardToken,
      });
      expect(more.events.map((e) => e.message)).toEqual(['late']);
      expect(more.events[0]!.ingestionTime).toBe(now);
    });

    it('an empty stream returns both tokens and no events', async () => {
      await call('CreateLogStream', { logGroupName: '/aws/batch/job', logStreamName: 'empty' });
      const out = await call<GetOut>('GetLogEvents', {
        logGroupIdentifier: 'arn:aws:logs:eu-west-1:111122223333:log-group:/aws/batch/job',
        logStreamName: 'empty',
      });
      expect(out.events).toEqual([]);
      const again = await call<GetOut>('GetLogEvents', {
        logGroupName: '/aws/batch/job',
        logStreamName: 'empty',
        nextToken: out.nextForwardToken,
      });
      expect(again.nextForwardToken).toBe(out.nextForwardToken);
    });

    it('rejects bad tokens and unknown streams', async () => {
      expect(
        await callError('GetLogEvents', {
          logGroupName: '/aws/batch/job',
          logStreamName: 's',
          nextToken: 'x/123',
        }),
      ).toMatchObject({
        status: 400,
        type: 'InvalidParameterException',
      });
      expect(
        await callError('GetLogEvents', { logGroupName: '/aws/batch/job', logStreamName: 'nope' }),
      ).toEqual({
        status: 400,
        type: 'ResourceNotFoundException',
        message: 'The specified log stream does not exist.',
      });
      expect(await callError('GetLogEvents', { logGroupName: '/nope', logStreamName: 's' })).toMatchObject({
        type: 'ResourceNotFoundException',
        message: 'The specified log group does not exist.',
      });
      expect(await callError('GetLogEvents', { logStreamName: 's' })).toMatchObject({
        type: 'InvalidParameterException',
      });
      expect(
        await callError('GetLogEvents', {
          logGroupName: '/aws/batch/job',
          logStreamName: 's',
          limit: 10_001,
        }),
      ).toMatchObject({
        type: 'InvalidParameterException',
      });
    });
  });

  describe('FilterLogEvents', () => {
    it('filters a group with patterns, eventIds and nextToken paging', async () => {
      store.append('g', 'a', [
        { timestamp: now - 50, message: 'ERROR one' },
        { timestamp: now - 30, message: '{"level":"ERROR","ms":120}' },
      ]);
      store.append('g', 'b', [
        { timestamp: now - 40, message: 'INFO two' },
        { timestamp: now - 20, message: 'ERROR three' },
      ]);
      const out = await call<{ events: Array<Record<string, unknown>>; nextToken?: string }>(
        'FilterLogEvents',
        { logGroupName: 'g', filterPattern: 'ERROR' },
      );
      expect(out.events.map((e) => [e.logStreamName, e.message])).toEqual([
        ['a', 'ERROR one'],
        ['a', '{"level":"ERROR","ms":120}'],
        ['b', 'ERROR three'],
      ]);
      for (const e of out.events) {
        expect(e.eventId).toMatch(/^\d{56}$/);
        expect(typeof e.ingestionTime).toBe('number');
      }
      expect(new Set(out.events.map((e) => e.eventId)).size).toBe(3);
      const json = await call<{ events: Array<{ message: string }> }>('FilterLogEvents', {
        logGroupName: 'g',
        filterPattern: '{ $.ms > 100 }',
      });
      expect(json.events.map((e) => e.message)).toEqual(['{"level":"ERROR","ms":120}']);

      const paged: string[] = [];
      let token: string | undefined;
      do {
        const p = await call<{ events: Array<{ message: string }>; nextToken?: string }>('FilterLogEvents', {
          logGroupName: 'g',
          limit: 1,
          interleaved: true,
          ...(token ? { nextToken: token } : {}),
        });
        paged.push(...p.events.map((e) => e.message));
        token = p.nextToken;
      } while (token);
      expect(paged).toHaveLength(4);

      expect(await callError('FilterLogEvents', { logGroupName: 'g', filterPattern: '{ $.x = ' })).toEqual({
        status: 400,
        type: 'InvalidParameterException',
        message: 'Invalid filter pattern',
      });
      expect(
        await callError('FilterLogEvents', {
          logGroupName: 'g',
          logStreamNames: ['a'],
          logStreamNamePrefix: 'a',
        }),
      ).toMatchObject({
        type: 'InvalidParameterException',
      });
      expect(await callError('FilterLogEvents', { logGroupName: 'nope' })).toMatchObject({
        type: 'ResourceNotFoundException',
      });
    });
  });

  describe('store', () => {
    const lines = (n: number, from = 0, ts = now): Array<{ timestamp: number; message: string }> =>
      Array.from({ length: n }, (_, i) => ({ timestamp: ts + from + i, message: `line ${from + i}` }));

    it('append creates group and stream lazily; reads see buffered lines; counters are exact', async () => {
      store.append('/aws/batch/job', 'jd/default/abc', lines(3));
      const evs = await store.readStream('/aws/batch/job', 'jd/default/abc', {
        direction: 'forward',
        limit: 10,
        maxBytes: 1 << 20,
      });
      expect(evs.map((e) => e.message)).toEqual(['line 0', 'line 1', 'line 2']);
      expect((await store.getGroup('/aws/batch/job'))?.storedBytes).toBe(18);
      expect(await store.getStream('/aws/batch/job', 'jd/default/abc')).toMatchObject({
        firstEventTimestamp: now,
        lastEventTimestamp: now + 2,
        lastIngestionTime: now,
        storedBytes: 18,
      });
      const back = await store.readStream('/aws/batch/job', 'jd/default/abc', {
        direction: 'backward',
        limit: 2,
        maxBytes: 1 << 20,
      });
      expect(back.map((e) => e.message)).toEqual(['line 1', 'line 2']);
    });

    it('drops lines for a missing group when createGroup is false, and reports it', async () => {
      const errors: unknown[] = [];
      const s = await open({ onError: (e) => errors.push(e) });
      s.append('missing', 's', lines(1), { createGroup: false });
      await s.flush();
      expect(await s.getGroup('missing')).toBeUndefined();
      expect(errors[0]).toBeInstanceOf(NotFoundError);
    });

    it('two nodes on one database: each sees the other, seqs are unique and increasing', async () => {
      const other = await open();
      for (let i = 0; i < 5; i++) {
        store.append('g', 'a', [{ timestamp: now + i, message: `a${i}` }]);
        other.append('g', 'b', [{ timestamp: now + i, message: `b${i}` }]);
        await Promise.all([store.flush(), other.flush()]);
      }
      const fromOther = await other.readStream('g', 'a', {
        direction: 'forward',
        limit: 100,
        maxBytes: 1 << 20,
      });
      expect(fromOther.map((e) => e.message)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
      const res = await store.filterEvents('g', {
        predicate: all,
        limit: 100,
        maxBytes: 1 << 20,
        scanBudget: 1000,
      });
      expect(res.events).toHaveLength(10);
      const seqs = res.events.map((e) => e.seq);
      expect(new Set(seqs).size).toBe(10);
      expect((await store.getGroup('g'))?.storedBytes).toBe(20);
      const a = await store.getStream('g', 'a');
      expect(a!.lastSeq).toBe(Math.max(...fromOther.map((e) => e.seq)));
    });

    it('rejects duplicates and missing parents; deleting a group removes its events', async () => {
      await store.createGroup({ name: 'g', now });
      await expect(store.createGroup({ name: 'g', now })).rejects.toBeInstanceOf(ConflictError);
      await expect(store.createStream('nope', 's', now)).rejects.toBeInstanceOf(NotFoundError);
      await store.createStream('g', 's', now);
      await expect(store.createStream('g', 's', now)).rejects.toBeInstanceOf(ConflictError);
      await store.putEvents('g', 's', lines(4), now);
      await store.deleteGroup('g');
      expect(await store.getGroup('g')).toBeUndefined();
      store.append('g', 's', lines(1));
      expect(
        (await store.readStream('g', 's', { direction: 'forward', limit: 10, maxBytes: 1 << 20 })).map(
          (e) => e.message,
        ),
      ).toEqual(['line 0']);
    });

    it('lists streams by name and by last event time, with keyset paging', async () => {
      store.append('g', 'b', [{ timestamp: now + 5, message: 'x' }]);
      store.append('g', 'a', [{ timestamp: now + 9, message: 'x' }]);
      store.append('g', 'c', [{ timestamp: now + 1, message: 'x' }]);
      await store.flush();
      const byName = await store.listStreams('g', { orderBy: 'LogStreamName', descending: false, limit: 2 });
      expect(byName.map((s) => s.name)).toEqual(['a', 'b']);
      const next = await store.listStreams('g', {
        orderBy: 'LogStreamName',
        descending: false,
        limit: 2,
        after: { name: 'b', lastEventTimestamp: 0 },
      });
      expect(next.map((s) => s.name)).toEqual(['c']);
      const byTime = await store.listStreams('g', { orderBy: 'LastEventTime', descending: true, limit: 10 });
      expect(byTime.map((s) => s.name)).toEqual(['a', 'b', 'c']);
    });

    it('retention deletes events older than the group policy and updates stored bytes', async () => {
      store.append('g', 'old', lines(10, 0, now - 10 * DAY));
      store.append('g', 'new', lines(3, 0, now));
      await store.flush();
      await store.setRetention('g', 7);
      const r = await store.deleteExpired(now);
      expect(r.deletedEvents).toBe(10);
      expect(r.deletedBytes).toBe(60);
      expect((await store.getGroup('g'))?.storedBytes).toBe(18);
      expect(
        await store.readStream('g', 'old', { direction: 'forward', limit: 10, maxBytes: 1 << 20 }),
      ).toEqual([]);
      expect(
        await store.readStream('g', 'new', { direction: 'forward', limit: 10, maxBytes: 1 << 20 }),
      ).toHaveLength(3);
      expect((await store.deleteExpired(now)).deletedEvents).toBe(0);
    });

    it('caps a stream by deleting its oldest events', async () => {
      const s = await open({ maxStreamBytes: 100 });
      s.append('g', 's', lines(30));
      await s.flush();
      const st = await s.getStream('g', 's');
      expect(st!.storedBytes).toBeLessThanOrEqual(90);
      const evs = await s.readStream('g', 's', { direction: 'forward', limit: 100, maxBytes: 1 << 20 });
      expect(evs[evs.length - 1]!.message).toBe('line 29');
      expect(evs.reduce((n, e) => n + Buffer.byteLength(e.message), 0)).toBe(st!.storedBytes);
    });
  });
});
