import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { ConflictError, NotFoundError } from '../../core/errors.js';
import { SqliteLogStore, type SqliteLogStoreOptions } from './sqlite-log-store.js';

const DAY = 86_400_000;
const T0 = 1_700_000_000_000;
const all = (): boolean => true;

let stores: SqliteLogStore[] = [];
afterEach(async () => {
  for (const s of stores) await s.close();
  stores = [];
});

function open(opts: Partial<SqliteLogStoreOptions> = {}): SqliteLogStore {
  const s = new SqliteLogStore({ path: ':memory:', now: () => T0, ...opts });
  stores.push(s);
  return s;
}

const lines = (n: number, from = 0, ts = T0): Array<{ timestamp: number; message: string }> =>
  Array.from({ length: n }, (_, i) => ({ timestamp: ts + from + i, message: `line ${from + i}` }));

describe('SqliteLogStore append', () => {
  it('buffers, then creates the group and stream lazily on flush', async () => {
    const s = open();
    s.append('/aws/batch/job', 'jd/default/abc', lines(3));
    await s.flush();
    const g = await s.getGroup('/aws/batch/job');
    expect(g?.storedBytes).toBe(18);
    const st = await s.getStream('/aws/batch/job', 'jd/default/abc');
    expect(st).toMatchObject({
      firstEventTimestamp: T0,
      lastEventTimestamp: T0 + 2,
      lastIngestionTime: T0,
      storedBytes: 18,
    });
    const evs = await s.readStream('/aws/batch/job', 'jd/default/abc', {
      direction: 'forward',
      limit: 10,
      maxBytes: 1 << 20,
    });
    expect(evs.map((e) => e.message)).toEqual(['line 0', 'line 1', 'line 2']);
  });

  it('reads see buffered appends without an explicit flush', async () => {
    const s = open({ flushIntervalMs: 60_000 });
    s.append('g', 's', lines(2));
    const evs = await s.readStream('g', 's', { direction: 'forward', limit: 10, maxBytes: 1 << 20 });
    expect(evs).toHaveLength(2);
  });

  it('flushes synchronously when the buffer is full', async () => {
    const s = open({ flushIntervalMs: 60_000, maxBufferedEvents: 10 });
    s.append('g', 's', lines(6));
    s.append('g', 's', lines(6, 6));
    // No flush() and no read: the second append crossed the cap and wrote both.
    const raw = (s as unknown as { pending: unknown[] }).pending;
    expect(raw).toHaveLength(0);
    expect((await s.getStream('g', 's'))?.lastEventTimestamp).toBe(T0 + 11);
  });

  it('drops events for a missing group when createGroup is false, and reports it', async () => {
    const errors: unknown[] = [];
    const s = open({ onError: (e) => errors.push(e) });
    expect(await s.ensureGroup('custom', false)).toBe(false);
    s.append('custom', 'p/default/1', lines(2), { createGroup: false });
    await s.flush();
    expect(await s.getGroup('custom')).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(NotFoundError);

    expect(await s.ensureGroup('custom', true)).toBe(true);
    s.append('custom', 'p/default/1', lines(2), { createGroup: false });
    await s.flush();
    expect((await s.getStream('custom', 'p/default/1'))?.storedBytes).toBe(12);
  });

  it('assigns unique increasing seqs that survive reopening', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'oblogs-'));
    try {
      const file = path.join(dir, 'logs.db');
      const a = new SqliteLogStore({ path: file });
      a.append('g', 's', lines(3));
      await a.close();
      const b = new SqliteLogStore({ path: file });
      b.append('g', 's', lines(3, 3));
      const evs = await b.readStream('g', 's', { direction: 'forward', limit: 10, maxBytes: 1 << 20 });
      await b.close();
      const seqs = evs.map((e) => e.seq);
      expect(new Set(seqs).size).toBe(6);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('caps a stream by deleting its oldest events', async () => {
    const s = open({ maxStreamBytes: 1000 });
    // 200 events of 10 bytes = 2000 bytes; trimming keeps at most 900.
    s.append(
      'g',
      's',
      Array.from({ length: 200 }, (_, i) => ({
        timestamp: T0 + i,
        message: `msg-${String(i).padStart(6, '0')}`,
      })),
    );
    await s.flush();
    const st = await s.getStream('g', 's');
    expect(st!.storedBytes).toBeLessThanOrEqual(900);
    expect(st!.storedBytes).toBeGreaterThan(0);
    const evs = await s.readStream('g', 's', { direction: 'forward', limit: 1000, maxBytes: 1 << 20 });
    expect(evs[evs.length - 1]!.message).toBe('msg-000199');
    expect(evs[0]!.timestamp).toBe(st!.firstEventTimestamp);
    expect(evs.length * 10).toBe(st!.storedBytes);
    expect((await s.getGroup('g'))!.storedBytes).toBe(st!.storedBytes);
  });
});

describe('SqliteLogStore groups and streams', () => {
  it('rejects duplicates and missing parents', async () => {
    const s = open();
    await s.createGroup({ name: 'g', now: T0, tags: { a: '1' } });
    await expect(s.createGroup({ name: 'g', now: T0 })).rejects.toBeInstanceOf(ConflictError);
    await s.createStream('g', 's', T0);
    await expect(s.createStream('g', 's', T0)).rejects.toBeInstanceOf(ConflictError);
    await expect(s.createStream('nope', 's', T0)).rejects.toThrow('The specified log group does not exist.');
    await expect(s.deleteStream('g', 'nope')).rejects.toThrow('The specified log stream does not exist.');
    expect((await s.getGroup('g'))!.tags).toEqual({ a: '1' });
  });

  it('deleting a group removes its events; appends recreate it lazily', async () => {
    const s = open();
    s.append('g', 's', lines(5));
    await s.deleteGroup('g');
    expect(await s.getGroup('g')).toBeUndefined();
    s.append('g', 's', lines(1, 10));
    const evs = await s.readStream('g', 's', { direction: 'forward', limit: 10, maxBytes: 1 << 20 });
    expect(evs.map((e) => e.message)).toEqual(['line 10']);
  });

  it('lists streams by name and by last event time, with keyset paging', async () => {
    const s = open();
    s.append('g', 'b', lines(1, 50));
    s.append('g', 'a', lines(1, 99));
    s.append('g', 'c', lines(1, 10));
    await s.flush();
    const byName = await s.listStreams('g', { orderBy: 'LogStreamName', descending: false, limit: 10 });
    expect(byName.map((x) => x.name)).toEqual(['a', 'b', 'c']);
    const recent = await s.listStreams('g', { orderBy: 'LastEventTime', descending: true, limit: 2 });
    expect(recent.map((x) => x.name)).toEqual(['a', 'b']);
    const next = await s.listStreams('g', {
      orderBy: 'LastEventTime',
      descending: true,
      limit: 2,
      after: { name: 'b', lastEventTimestamp: recent[1]!.lastEventTimestamp! },
    });
    expect(next.map((x) => x.name)).toEqual(['c']);
  });
});

describe('SqliteLogStore reads', () => {
  it('reads pages forward and backward within [startTime, endTime)', async () => {
    const s = open();
    s.append('g', 's', lines(10));
    const fwd = await s.readStream('g', 's', {
      direction: 'forward',
      startTime: T0 + 2,
      endTime: T0 + 6,
      limit: 10,
      maxBytes: 1 << 20,
    });
    expect(fwd.map((e) => e.message)).toEqual(['line 2', 'line 3', 'line 4', 'line 5']);
    const newest = await s.readStream('g', 's', { direction: 'backward', limit: 3, maxBytes: 1 << 20 });
    expect(newest.map((e) => e.message)).toEqual(['line 7', 'line 8', 'line 9']);
    const before = await s.readStream('g', 's', {
      direction: 'backward',
      cursor: { ts: newest[0]!.timestamp, seq: newest[0]!.seq },
      limit: 3,
      maxBytes: 1 << 20,
    });
    expect(before.map((e) => e.message)).toEqual(['line 4', 'line 5', 'line 6']);
  });

  it('stops a page at the byte budget (26 bytes overhead per event)', async () => {
    const s = open();
    s.append('g', 's', lines(10));
    const evs = await s.readStream('g', 's', { direction: 'forward', limit: 10, maxBytes: 3 * 32 });
    expect(evs).toHaveLength(3);
  });

  it('filters across streams in timestamp order and resumes after a budget stop', async () => {
    const s = open();
    s.append('g', 'x', [
      { timestamp: T0 + 1, message: 'x1 hit' },
      { timestamp: T0 + 4, message: 'x4 hit' },
      { timestamp: T0 + 5, message: 'x5' },
    ]);
    s.append('g', 'y', [
      { timestamp: T0 + 2, message: 'y2 hit' },
      { timestamp: T0 + 3, message: 'y3' },
      { timestamp: T0 + 6, message: 'y6 hit' },
    ]);
    const hit = (m: string): boolean => m.includes('hit');
    const first = await s.filterEvents('g', { predicate: hit, limit: 100, maxBytes: 1 << 20, scanBudget: 3 });
    expect(first.events.map((e) => `${e.streamName}:${e.message}`)).toEqual(['x:x1 hit', 'y:y2 hit']);
    expect(first.resumeAfter).toBeDefined();
    const rest = await s.filterEvents('g', {
      predicate: hit,
      limit: 100,
      maxBytes: 1 << 20,
      scanBudget: 100,
      after: first.resumeAfter!,
    });
    expect(rest.events.map((e) => e.message)).toEqual(['x4 hit', 'y6 hit']);
    expect(rest.resumeAfter).toBeUndefined();

    const onlyY = await s.filterEvents('g', {
      streamNames: ['y', 'zz'],
      predicate: all,
      limit: 100,
      maxBytes: 1 << 20,
      scanBudget: 100,
    });
    expect(onlyY.events.map((e) => e.message)).toEqual(['y2 hit', 'y3', 'y6 hit']);
    const ranged = await s.filterEvents('g', {
      startTime: T0 + 3,
      endTime: T0 + 5,
      predicate: all,
      limit: 100,
      maxBytes: 1 << 20,
      scanBudget: 100,
    });
    expect(ranged.events.map((e) => e.message)).toEqual(['y3', 'x4 hit', 'x5']);
    const limited = await s.filterEvents('g', {
      predicate: all,
      limit: 2,
      maxBytes: 1 << 20,
      scanBudget: 100,
    });
    expect(limited.events).toHaveLength(2);
    expect(limited.resumeAfter).toEqual({ ts: T0 + 2, seq: limited.events[1]!.seq });
  });
});

describe('SqliteLogStore retention', () => {
  it('deletes events older than the group retention at the given now, and updates storedBytes', async () => {
    const s = open();
    s.append('keep', 's', [{ timestamp: T0 - 10 * DAY, message: 'old' }]);
    s.append('short', 's', [
      { timestamp: T0 - 3 * DAY, message: 'old-1' },
      { timestamp: T0 - 2 * DAY, message: 'old-2' },
      { timestamp: T0 - DAY / 2, message: 'new-1' },
    ]);
    await s.setRetention('short', 1);
    const r = await s.deleteExpired(T0);
    expect(r).toEqual({ deletedEvents: 2, deletedBytes: 10 });
    const evs = await s.readStream('short', 's', { direction: 'forward', limit: 10, maxBytes: 1 << 20 });
    expect(evs.map((e) => e.message)).toEqual(['new-1']);
    expect(await s.getStream('short', 's')).toMatchObject({
      storedBytes: 5,
      firstEventTimestamp: T0 - DAY / 2,
    });
    expect((await s.getGroup('short'))!.storedBytes).toBe(5);
    expect((await s.getGroup('keep'))!.storedBytes).toBe(3);
    // A day later the last event expires as well.
    expect((await s.deleteExpired(T0 + DAY)).deletedEvents).toBe(1);
    expect((await s.getGroup('short'))!.storedBytes).toBe(0);
  });

  it('deletes a large backlog in chunks', async () => {
    const s = open();
    s.append(
      'g',
      's',
      Array.from({ length: 120_000 }, (_, i) => ({ timestamp: T0 - 5 * DAY + i, message: 'x' })),
    );
    s.append('g', 's', [{ timestamp: T0, message: 'y' }]);
    await s.setRetention('g', 3);
    expect((await s.deleteExpired(T0)).deletedEvents).toBe(120_000);
    expect((await s.getStream('g', 's'))!.storedBytes).toBe(1);
  });
});
