import { afterEach, describe, expect, it } from 'vitest';

import { ManualClock } from '../core/clock.js';
import { SqliteLogStore } from '../logs/sqlite/sqlite-log-store.js';
import { startLogRetention } from './log-retention.js';

const DAY = 86_400_000;

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function waitFor(cond: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 5000;
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

describe('startLogRetention', () => {
  it('deletes expired events on each pass, using the injected clock', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const t0 = clock.now();
    const store = new SqliteLogStore({ path: ':memory:', now: () => clock.now() });
    cleanup.push(() => store.close());
    store.append('g', 's', [
      { timestamp: t0 - 2 * DAY, message: 'old' },
      { timestamp: t0 - DAY / 2, message: 'recent' },
    ]);
    await store.setRetention('g', 1);

    const passes: number[] = [];
    const loop = startLogRetention(store, {
      intervalMs: 10,
      clock: () => clock.now(),
      onPass: (r) => passes.push(r.deletedEvents),
    });
    cleanup.push(() => loop.stop());

    await waitFor(() => passes.length >= 1, 'first pass');
    expect(passes[0]).toBe(1);
    const after1 = await store.readStream('g', 's', { direction: 'forward', limit: 10, maxBytes: 1 << 20 });
    expect(after1.map((e) => e.message)).toEqual(['recent']);

    // Nothing more expires until the clock moves.
    const n = passes.length;
    await waitFor(() => passes.length >= n + 2, 'more passes');
    expect((await store.getGroup('g'))!.storedBytes).toBe(6);

    clock.advance(DAY);
    await waitFor(() => passes.some((p, i) => i >= n && p === 1), 'pass after the clock moved');
    expect((await store.getGroup('g'))!.storedBytes).toBe(0);

    await loop.stop();
    const stoppedAt = passes.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(passes.length).toBe(stoppedAt);
  });
});
