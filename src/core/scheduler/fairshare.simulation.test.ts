/**
 * Deterministic simulations of the scheduler with the engine's fair-share usage model, on a
 * manual clock: jobs of fixed duration on a saturated environment.
 */
import { describe, expect, it } from 'vitest';

import { FairshareUsage } from '../../engine/fairshare-usage.js';
import type { ComputeEnvironmentView } from './schedule.js';
import { ClusterSimulation, createRandom } from './scheduler-harness.js';
import { ShareIndex } from './share-index.js';

const QUEUE = 'q/fair';

function saturated(
  weights: Record<string, number>,
  opts: {
    vcpus: number;
    jobMs: number;
    tickMs: number;
    decaySeconds: number;
    jobVcpus?: (share: string) => number;
  },
) {
  const policy = {
    detail: {
      fairsharePolicy: {
        shareDecaySeconds: opts.decaySeconds,
        computeReservation: 0,
        shareDistribution: Object.entries(weights).map(([shareIdentifier, weightFactor]) => ({
          shareIdentifier,
          weightFactor,
        })),
      },
    },
  };
  const usage = new FairshareUsage();
  const ce: ComputeEnvironmentView = {
    arn: 'ce/c',
    name: 'c',
    usable: true,
    total: { vcpus: opts.vcpus, memoryMiB: opts.vcpus * 2048, gpus: 0 },
    used: { vcpus: 0, memoryMiB: 0, gpus: 0 },
    maxJob: { vcpus: opts.vcpus, memoryMiB: opts.vcpus * 2048, gpus: 0 },
    freeGpuIds: [],
  };
  const sim = new ClusterSimulation(
    new Map([[ce.arn, ce]]),
    [
      {
        arn: QUEUE,
        name: 'fair',
        priority: 1,
        ces: [ce.arn],
        fairshare: (now) => usage.view(QUEUE, policy, now),
      },
    ],
    {
      onStart: (j, now) => usage.started(QUEUE, j.share!, j.req.vcpus, now),
      onStop: (j, now) => usage.stopped(QUEUE, j.share!, j.req.vcpus, now),
    },
  );
  const topUp = (): void => {
    for (const share of Object.keys(weights)) {
      const v = opts.jobVcpus?.(share) ?? 1;
      for (let n = sim.backlog(QUEUE, share); n < 80; n++) {
        sim.submit({
          queue: QUEUE,
          share,
          priority: 0,
          req: { vcpus: v, memoryMiB: 256, gpus: 0 },
          durationMs: opts.jobMs,
        });
      }
    }
  };
  return { sim, topUp };
}

function run(
  weights: Record<string, number>,
  hours: number,
  o: Parameters<typeof saturated>[1],
): Map<string, number> {
  const { sim, topUp } = saturated(weights, o);
  const ticks = (hours * 3600_000) / o.tickMs;
  let warm = new Map<string, number>();
  for (let t = 0; t < ticks; t++) {
    topUp();
    sim.tick(o.tickMs);
    if (t === Math.floor(ticks / 4)) warm = new Map(sim.delivered);
  }
  expect(sim.violations).toEqual([]);
  // Saturated: the environment stays (nearly) full.
  const busy = [...sim.running.values()].reduce((s, r) => s + r.job.req.vcpus, 0);
  expect(busy).toBeGreaterThan(o.vcpus * 0.9);
  return new Map([...sim.delivered].map(([k, v]) => [k, v - (warm.get(k) ?? 0)]));
}

describe('fair share simulation (manual clock, fixed-duration jobs, saturated environment)', () => {
  it('weightFactor 1 and 0.5 receive capacity 1:2 within ±10% over a long run', () => {
    const got = run({ one: 1, half: 0.5 }, 24, {
      vcpus: 32,
      jobMs: 60_000,
      tickMs: 5_000,
      decaySeconds: 600,
    });
    const ratio = got.get('half')! / got.get('one')!;
    expect(ratio).toBeGreaterThan(1.8);
    expect(ratio).toBeLessThan(2.2);
  });

  it('holds with 2-vCPU jobs, a short decay window and three shares (weights 1, 0.5, 0.25 → 1:2:4)', () => {
    const got = run({ a: 1, b: 0.5, c: 0.25 }, 12, {
      vcpus: 128,
      jobMs: 120_000,
      tickMs: 10_000,
      decaySeconds: 300,
      jobVcpus: () => 2,
    });
    const a = got.get('a')!;
    expect(got.get('b')! / a).toBeGreaterThan(1.8);
    expect(got.get('b')! / a).toBeLessThan(2.2);
    expect(got.get('c')! / a).toBeGreaterThan(3.6);
    expect(got.get('c')! / a).toBeLessThan(4.4);
  });

  it('equal weights share equally', () => {
    const got = run({ x: 1, y: 1 }, 12, { vcpus: 16, jobMs: 60_000, tickMs: 5_000, decaySeconds: 600 });
    const ratio = got.get('x')! / got.get('y')!;
    expect(ratio).toBeGreaterThan(0.9);
    expect(ratio).toBeLessThan(1.1);
  });
});

describe('FairshareUsage', () => {
  it('decays with a half-life of shareDecaySeconds, and weights usage by weightFactor', () => {
    const u = new FairshareUsage();
    const policy = {
      fairsharePolicy: {
        shareDecaySeconds: 100,
        shareDistribution: [{ shareIdentifier: 'heavy*', weightFactor: 2 }],
      },
    };
    u.view('q', policy, 0);
    u.started('q', 'heavy1', 4, 0);
    u.stopped('q', 'heavy1', 4, 10_000);
    const after = u.usageOf('q', 'heavy1', 10_000);
    // ∫ 4 e^{-λ(10−t)} dt over 10 s, λ = ln2/100: a little under 40 vCPU-seconds.
    expect(after).toBeGreaterThan(38);
    expect(after).toBeLessThan(40);
    expect(u.usageOf('q', 'heavy1', 110_000)).toBeCloseTo(after / 2, 6);
    const v = u.view('q', policy, 110_000);
    expect(v.weightOf('heavy1')).toBe(2);
    expect(v.weightOf('other')).toBe(1);
    expect(v.usage.get('heavy1')).toBeCloseTo(after, 6); // (after/2) × weight 2
    expect(v.activeShares.size).toBe(0);
  });
});

describe('ShareIndex', () => {
  it('follows appends, out-of-order inserts and compaction of the FIFO list; drops stale entries lazily', () => {
    const r = createRandom(3);
    const idx = new ShareIndex();
    const live = new Map<string, { share: string; priority: number }>();
    let entries: { createdAt: number; seq: number; jobId: string }[] = [];
    let seq = 0;
    for (let round = 0; round < 400; round++) {
      // Add (mostly at the end, sometimes in the middle), remove, sometimes compact.
      for (let k = 0; k < r.int(0, 5); k++) {
        const e = { createdAt: r.chance(0.2) ? r.int(0, seq) : seq + 1000, seq: seq++, jobId: `j${seq}` };
        const i = entries.findIndex(
          (x) => x.createdAt > e.createdAt || (x.createdAt === e.createdAt && x.seq > e.seq),
        );
        if (i < 0) entries.push(e);
        else entries.splice(i, 0, e);
        live.set(e.jobId, { share: r.pick(['a', 'b', 'c']), priority: r.int(0, 2) });
      }
      for (const id of [...live.keys()]) if (r.chance(0.1)) live.delete(id);
      if (r.chance(0.1)) entries = entries.filter((e) => live.has(e.jobId));
      idx.sync(entries, (id) => live.get(id));
      for (const share of ['a', 'b', 'c']) {
        const got = [...idx.iterate(share, (id) => (live.has(id) ? id : undefined))];
        const want = entries
          .filter((e) => live.get(e.jobId)?.share === share)
          .sort(
            (x, y) =>
              live.get(y.jobId)!.priority - live.get(x.jobId)!.priority ||
              x.createdAt - y.createdAt ||
              x.seq - y.seq,
          )
          .map((e) => e.jobId);
        expect(got).toEqual(want);
      }
    }
    expect(idx.size).toBeLessThanOrEqual(live.size);
  });
});
