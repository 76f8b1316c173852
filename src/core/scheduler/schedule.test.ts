import { describe, expect, it } from 'vitest';

import type { Requirements } from '../jobs/job.js';
import {
  REASON_CE_MAX_RESOURCE,
  REASON_JOB_RESOURCE_REQUIREMENT,
  compareWithinShare,
  neverFitReason,
  orderCandidates,
  reservedFraction,
  schedule,
  type CandidateJob,
  type ComputeEnvironmentView,
  type FairshareView,
  type QueueView,
  type SchedulerSnapshot,
} from './schedule.js';
import { createRandom, planViolations } from './scheduler-harness.js';

const CE = (
  name: string,
  o: Partial<ComputeEnvironmentView> & { vcpus?: number } = {},
): ComputeEnvironmentView => {
  const v = o.vcpus ?? 16;
  const total = o.total ?? { vcpus: v, memoryMiB: v * 2048, gpus: 0 };
  return {
    arn: `ce/${name}`,
    name,
    usable: true,
    total,
    used: { vcpus: 0, memoryMiB: 0, gpus: 0 },
    maxJob: total,
    freeGpuIds: Array.from({ length: total.gpus }, (_, i) => i),
    ...o,
  };
};

let seq = 0;
const job = (id: string, req: Partial<Requirements> = {}, o: Partial<CandidateJob> = {}): CandidateJob => ({
  jobId: id,
  req: { vcpus: 1, memoryMiB: 128, gpus: 0, ...req },
  consumables: [],
  schedulingPriority: 0,
  createdAt: 1000 + seq,
  seq: seq++,
  ...o,
});

const Q = (
  name: string,
  ces: string[],
  candidates: CandidateJob[],
  o: Partial<QueueView> = {},
): QueueView => ({
  arn: `q/${name}`,
  name,
  priority: 1,
  usable: true,
  computeEnvironmentArns: ces.map((c) => `ce/${c}`),
  candidates,
  ...o,
});

const snap = (
  queues: QueueView[],
  ces: ComputeEnvironmentView[],
  consumables: [string, number][] = [],
): SchedulerSnapshot => ({
  queues,
  computeEnvironments: new Map(ces.map((c) => [c.arn, c])),
  consumables: new Map(consumables),
});

const fsView = (o: Partial<FairshareView> = {}, weights: Record<string, number> = {}): FairshareView => ({
  usage: new Map(),
  weightOf: (s) => weights[s] ?? 1,
  computeReservation: 0,
  activeShares: new Set(),
  ...o,
});

// ------------------------------------------------------------------------------------------------
// Properties over random snapshots
// ------------------------------------------------------------------------------------------------

function randomSnapshot(r: ReturnType<typeof createRandom>): SchedulerSnapshot {
  const ces: ComputeEnvironmentView[] = [];
  const nCe = r.int(1, 4);
  for (let i = 0; i < nCe; i++) {
    const vcpus = r.int(1, 64);
    const gpus = r.chance(0.4) ? r.int(1, 8) : 0;
    const total = { vcpus, memoryMiB: vcpus * r.pick([1024, 2048, 4096]), gpus };
    const usedGpus = r.int(0, gpus);
    const used = { vcpus: r.int(0, vcpus), memoryMiB: r.int(0, total.memoryMiB), gpus: usedGpus };
    const shapes = r.chance(0.5)
      ? [
          { vcpus: 2, memoryMiB: 4096, gpus: 0 },
          { vcpus: 8, memoryMiB: 16384, gpus: Math.min(gpus, 1) },
          { vcpus: 16, memoryMiB: 65536, gpus: Math.min(gpus, 4) },
        ]
      : undefined;
    const ids = Array.from({ length: gpus }, (_, k) => k).filter((k) => k >= usedGpus);
    ces.push({
      arn: `ce/${i}`,
      name: `ce${i}`,
      usable: r.chance(0.85),
      total,
      used,
      maxJob: shapes ? { vcpus: 16, memoryMiB: 65536, gpus: Math.min(gpus, 4) } : total,
      ...(shapes ? { shapes } : {}),
      freeGpuIds: ids,
    });
  }
  const consumables: [string, number][] = [
    ['cr/licence', r.int(0, 6)],
    ['cr/db', r.int(0, 20)],
  ];
  const queues: QueueView[] = [];
  const nQ = r.int(1, 4);
  let n = 0;
  for (let qi = 0; qi < nQ; qi++) {
    const fair = r.chance(0.5);
    const cand: CandidateJob[] = [];
    const count = r.int(0, 60);
    for (let k = 0; k < count; k++) {
      const consumablesNeed = r.chance(0.3)
        ? [{ arn: r.pick(['cr/licence', 'cr/db']), quantity: r.int(1, 4) }]
        : [];
      cand.push({
        jobId: `j${n++}`,
        req: {
          vcpus: r.chance(0.1) ? r.int(17, 200) : r.pick([0.25, 0.5, 1, 2, 4, 8]),
          memoryMiB: r.pick([128, 512, 2048, 8192, 70000]),
          gpus: r.chance(0.15) ? r.int(1, 5) : 0,
        },
        consumables: consumablesNeed,
        ...(fair ? { shareIdentifier: r.pick(['a', 'b', 'c', 'd']) } : {}),
        schedulingPriority: r.int(0, 3),
        createdAt: 1000 + n,
        seq: n,
      });
    }
    // Some candidate lists repeat a job (a re-queued job seen twice): the plan must place it once.
    if (cand.length > 0 && r.chance(0.2)) cand.push({ ...cand[0]! });
    const order = [...ces].sort(() => r.next() - 0.5).slice(0, r.int(1, Math.min(3, ces.length)));
    queues.push({
      arn: `q/${qi}`,
      name: `q${qi}`,
      priority: r.int(0, 3),
      usable: r.chance(0.9),
      computeEnvironmentArns: order.map((c) => c.arn),
      candidates: cand,
      ...(fair
        ? {
            fairshare: fsView(
              {
                usage: new Map([
                  ['a', r.int(0, 1000)],
                  ['b', r.int(0, 1000)],
                ]),
                computeReservation: r.pick([0, 0, 25, 50, 90]),
                activeShares: new Set(r.chance(0.5) ? ['a'] : []),
              },
              { a: 1, b: 0.5, c: 2 },
            ),
          }
        : {}),
    });
  }
  return snap(queues, ces, consumables);
}

describe('schedule: properties over 2,000 random snapshots (seed 7)', () => {
  it('never over-commits vCPU, memory, GPUs or consumables, never places a job twice, never places a never-fit job', () => {
    const r = createRandom(7);
    let placed = 0;
    let blocked = 0;
    for (let i = 0; i < 2000; i++) {
      const s = randomSnapshot(r);
      const plan = schedule(s, { maxScanPerQueue: r.int(0, 50) });
      const v = planViolations(s, plan);
      expect(v, `snapshot #${i}`).toEqual([]);
      for (const b of plan.blocked) {
        const q = s.queues.find((qq) => [...qq.candidates].some((c) => c.jobId === b.jobId))!;
        const c = [...q.candidates].find((cc) => cc.jobId === b.jobId)!;
        const ces = q.computeEnvironmentArns.map((a) => s.computeEnvironments.get(a)!);
        expect(neverFitReason(c.req, ces)).toBe(b.reason);
      }
      placed += plan.placements.length;
      blocked += plan.blocked.length;
    }
    // The generator exercises both outcomes (a test that can fail, not a vacuous one).
    expect(placed).toBeGreaterThan(2000);
    expect(blocked).toBeGreaterThan(100);
  });

  it('the invariant checker catches a bad plan', () => {
    const s = snap(
      [Q('q', ['a'], [job('x', { vcpus: 10 }), job('y', { vcpus: 10 })])],
      [CE('a', { vcpus: 16 })],
    );
    const bad = {
      placements: [
        { jobId: 'x', queueArn: 'q/q', computeEnvironmentArn: 'ce/a', gpuIds: [] },
        { jobId: 'y', queueArn: 'q/q', computeEnvironmentArn: 'ce/a', gpuIds: [] },
        { jobId: 'y', queueArn: 'q/q', computeEnvironmentArn: 'ce/a', gpuIds: [] },
      ],
      blocked: [],
      scanned: 0,
    };
    const v = planViolations(s, bad);
    expect(v.some((m) => m.includes('placed twice'))).toBe(true);
    expect(v.some((m) => m.includes('over-committed'))).toBe(true);
  });

  it('lazy per-share lists and the flat fallback give the same dispatch order', () => {
    const r = createRandom(11);
    for (let i = 0; i < 300; i++) {
      const cands: CandidateJob[] = [];
      for (let k = 0; k < r.int(0, 80); k++) {
        cands.push(
          job(
            `o${i}-${k}`,
            { vcpus: r.pick([1, 2, 4]) },
            { shareIdentifier: r.pick(['a', 'b', 'c']), schedulingPriority: r.int(0, 2) },
          ),
        );
      }
      const view = fsView(
        { usage: new Map([['a', r.int(0, 20)]]), projectionSeconds: r.pick([1, 10]) },
        { b: 0.5 },
      );
      const groups = new Map<string, CandidateJob[]>();
      for (const c of cands) groups.set(c.shareIdentifier!, [...(groups.get(c.shareIdentifier!) ?? []), c]);
      for (const g of groups.values()) g.sort(compareWithinShare);
      const flat = [...orderCandidates(Q('q', [], cands, { fairshare: view }))].map((c) => c.jobId);
      const lazy = [...orderCandidates(Q('q', [], [], { fairshare: view, shares: groups }))].map(
        (c) => c.jobId,
      );
      expect(lazy).toEqual(flat);
      expect(new Set(flat).size).toBe(cands.length);
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Fair share
// ------------------------------------------------------------------------------------------------

describe('fair share', () => {
  it('computeReservation holds back (r/100)^activeShares of capacity: 50%, 25%, 12.5%', () => {
    expect(reservedFraction(50, 1)).toBe(0.5);
    expect(reservedFraction(50, 2)).toBe(0.25);
    expect(reservedFraction(50, 3)).toBe(0.125);
    expect(reservedFraction(0, 3)).toBe(0);
    for (const [active, allowed] of [
      [['a'], 8],
      [['a', 'b'], 12],
      [['a', 'b', 'c'], 14],
    ] as const) {
      const jobs = Array.from({ length: 20 }, (_, i) => job(`a${i}`, {}, { shareIdentifier: 'a' }));
      const q = Q('q', ['ce'], jobs, {
        fairshare: fsView({ computeReservation: 50, activeShares: new Set(active) }),
      });
      const plan = schedule(snap([q], [CE('ce', { vcpus: 16 })]), { maxScanPerQueue: 100 });
      expect(plan.placements.length, `${active.length} active shares`).toBe(allowed);
    }
  });

  it('a share that is not active yet may use the reserved capacity (and then counts as active)', () => {
    const jobs = [
      ...Array.from({ length: 16 }, (_, i) => job(`a${i}`, {}, { shareIdentifier: 'a' })),
      job('new0', {}, { shareIdentifier: 'new' }),
      job('new1', {}, { shareIdentifier: 'new' }),
    ];
    // 'a' has used a lot, so 'new' comes first; 'new' is inactive → may use everything; after its
    // first job it is active (2 active → 25% held back).
    const view = fsView({
      usage: new Map([['a', 1e6]]),
      computeReservation: 50,
      activeShares: new Set(['a']),
    });
    const plan = schedule(
      snap(
        [Q('q', ['ce'], jobs, { fairshare: view })],
        [CE('ce', { vcpus: 16, used: { vcpus: 8, memoryMiB: 0, gpus: 0 } })],
      ),
      {
        maxScanPerQueue: 100,
      },
    );
    const ids = plan.placements.map((p) => p.jobId);
    expect(ids[0]).toBe('new0');
    // 8 free; 25% of 16 = 4 held back once two shares are active: 'new0' + 3 more (new1 and 2 of a's… or a's).
    expect(plan.placements.length).toBe(4);
  });

  it('inside a share: higher schedulingPriority first, then FIFO; shares interleave by weighted usage', () => {
    const jobs = [
      job('a-low-old', {}, { shareIdentifier: 'a', schedulingPriority: 1 }),
      job('a-high', {}, { shareIdentifier: 'a', schedulingPriority: 9 }),
      job('a-low-new', {}, { shareIdentifier: 'a', schedulingPriority: 1 }),
      job('b1', {}, { shareIdentifier: 'b' }),
      job('b2', {}, { shareIdentifier: 'b' }),
      job('b3', {}, { shareIdentifier: 'b' }),
      job('b4', {}, { shareIdentifier: 'b' }),
    ];
    // b has weight 0.5: each b job costs half as much, so b gets two turns per turn of a.
    const order = [...orderCandidates(Q('q', [], jobs, { fairshare: fsView({}, { a: 1, b: 0.5 }) }))].map(
      (c) => c.jobId,
    );
    expect(order.filter((id) => id.startsWith('a'))).toEqual(['a-high', 'a-low-old', 'a-low-new']);
    expect(order).toEqual(['a-high', 'b1', 'b2', 'a-low-old', 'b3', 'b4', 'a-low-new']);
  });

  it('the share with the lowest weighted usage is served first', () => {
    const jobs = [job('a1', {}, { shareIdentifier: 'a' }), job('b1', {}, { shareIdentifier: 'b' })];
    const usage = new Map([
      ['a', 50],
      ['b', 10],
    ]);
    const order = [...orderCandidates(Q('q', [], jobs, { fairshare: fsView({ usage }) }))].map(
      (c) => c.jobId,
    );
    expect(order).toEqual(['b1', 'a1']);
  });
});

// ------------------------------------------------------------------------------------------------
// Priorities and placement
// ------------------------------------------------------------------------------------------------

describe('priorities and placement', () => {
  it('queues sharing an environment are served in descending priority, whatever the submission order', () => {
    const lo = Q('lo', ['ce'], [job('lo1'), job('lo2'), job('lo3')], { priority: 1 });
    const hi = Q('hi', ['ce'], [job('hi1'), job('hi2'), job('hi3')], { priority: 10 });
    const plan = schedule(snap([lo, hi], [CE('ce', { vcpus: 4 })]), { maxScanPerQueue: 10 });
    expect(plan.placements.map((p) => p.jobId)).toEqual(['hi1', 'hi2', 'hi3', 'lo1']);
  });

  it('priority is not preemptive: a full environment places nothing, even for the high-priority queue', () => {
    const hi = Q('hi', ['ce'], [job('hi1')], { priority: 10 });
    const plan = schedule(snap([hi], [CE('ce', { vcpus: 4, used: { vcpus: 4, memoryMiB: 512, gpus: 0 } })]), {
      maxScanPerQueue: 10,
    });
    expect(plan.placements).toEqual([]);
  });

  it('environments in computeEnvironmentOrder: next when DISABLED, full, or unable to host the job', () => {
    const spot = CE('spot', { vcpus: 4 });
    const od = CE('od', { vcpus: 64 });
    // First choice when it fits.
    let plan = schedule(snap([Q('q', ['spot', 'od'], [job('a')])], [spot, od]), { maxScanPerQueue: 10 });
    expect(plan.placements[0]!.computeEnvironmentArn).toBe('ce/spot');
    // DISABLED first environment.
    plan = schedule(snap([Q('q', ['spot', 'od'], [job('a')])], [{ ...spot, usable: false }, od]), {
      maxScanPerQueue: 10,
    });
    expect(plan.placements[0]!.computeEnvironmentArn).toBe('ce/od');
    // Full first environment: jobs overflow to the second.
    plan = schedule(
      snap([Q('q', ['spot', 'od'], [job('a', { vcpus: 3 }), job('b', { vcpus: 3 })])], [spot, od]),
      { maxScanPerQueue: 10 },
    );
    expect(plan.placements.map((p) => p.computeEnvironmentArn)).toEqual(['ce/spot', 'ce/od']);
    // Too big for the first one's instances.
    plan = schedule(snap([Q('q', ['spot', 'od'], [job('big', { vcpus: 8 })])], [spot, od]), {
      maxScanPerQueue: 10,
    });
    expect(plan.placements[0]!.computeEnvironmentArn).toBe('ce/od');
  });

  it('back-fills smaller jobs behind one waiting for busy capacity', () => {
    const ce = CE('ce', { vcpus: 8, used: { vcpus: 6, memoryMiB: 0, gpus: 0 } });
    const plan = schedule(
      snap([Q('q', ['ce'], [job('big', { vcpus: 4 }), job('small', { vcpus: 1 })])], [ce]),
      { maxScanPerQueue: 10 },
    );
    expect(plan.placements.map((p) => p.jobId)).toEqual(['small']);
    expect(plan.blocked).toEqual([]);
  });

  it('never-fit jobs get a MISCONFIGURATION reason once, and do not block the jobs behind them', () => {
    const ce = CE('ce', {
      total: { vcpus: 8, memoryMiB: 65536, gpus: 0 },
      maxJob: { vcpus: 16, memoryMiB: 65536, gpus: 0 },
      shapes: [{ vcpus: 16, memoryMiB: 65536, gpus: 0 }],
    });
    const jobs = [
      job('over-max', { vcpus: 12 }), // an instance could host it, maxvCpus can't
      job('too-big', { vcpus: 32 }), // no instance type can
      job('gpu', { gpus: 1 }), // no GPU instances
      job('fits', { vcpus: 2 }),
    ];
    const plan = schedule(snap([Q('q', ['ce'], jobs)], [ce]), { maxScanPerQueue: 0 });
    expect(plan.blocked).toEqual([
      { jobId: 'over-max', reason: REASON_CE_MAX_RESOURCE },
      { jobId: 'too-big', reason: REASON_JOB_RESOURCE_REQUIREMENT },
      { jobId: 'gpu', reason: REASON_JOB_RESOURCE_REQUIREMENT },
    ]);
    expect(plan.placements.map((p) => p.jobId)).toEqual(['fits']);
    // Already reported: not reported again.
    const again = schedule(
      snap([Q('q', ['ce'], [{ ...jobs[0]!, statusReason: REASON_CE_MAX_RESOURCE }])], [ce]),
      { maxScanPerQueue: 0 },
    );
    expect(again.blocked).toEqual([]);
    expect(REASON_CE_MAX_RESOURCE.startsWith('MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE - ')).toBe(
      true,
    );
    expect(REASON_JOB_RESOURCE_REQUIREMENT.startsWith('MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - ')).toBe(
      true,
    );
  });

  it('a job that only a DISABLED environment could host waits without a reason', () => {
    const small = CE('small', { vcpus: 2 });
    const big = CE('big', { vcpus: 64, usable: false });
    const plan = schedule(snap([Q('q', ['small', 'big'], [job('j', { vcpus: 32 })])], [small, big]), {
      maxScanPerQueue: 10,
    });
    expect(plan.blocked).toEqual([]);
    expect(plan.placements).toEqual([]);
  });

  it('consumable resources: jobs wait until the quantity is free; smaller needs back-fill', () => {
    const need = (n: number) => [{ arn: 'cr/lic', quantity: n }];
    const jobs = [
      job('a', {}, { consumables: need(2) }),
      job('b', {}, { consumables: need(2) }),
      job('c', {}, { consumables: need(1) }),
    ];
    const plan = schedule(snap([Q('q', ['ce'], jobs)], [CE('ce')], [['cr/lic', 3]]), { maxScanPerQueue: 10 });
    expect(plan.placements.map((p) => p.jobId)).toEqual(['a', 'c']);
  });

  it('GPUs: distinct ids per job, never more than the environment has', () => {
    const ce = CE('g4dn', {
      total: { vcpus: 16, memoryMiB: 65536, gpus: 4 },
      freeGpuIds: [1, 2, 3],
      used: { vcpus: 4, memoryMiB: 16384, gpus: 1 },
    });
    const jobs = [job('g2', { gpus: 2 }), job('g2b', { gpus: 2 }), job('g1', { gpus: 1 })];
    const plan = schedule(snap([Q('q', ['g4dn'], jobs)], [ce]), { maxScanPerQueue: 10 });
    expect(plan.placements.map((p) => [p.jobId, p.gpuIds])).toEqual([
      ['g2', [1, 2]],
      ['g1', [3]],
    ]);
  });
});
