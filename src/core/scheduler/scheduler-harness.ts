/**
 * @module core/scheduler/scheduler-harness
 * Test harness for the pure scheduler (after Nomad's `tests.Harness`): a seeded random generator,
 * and a small cluster simulation driven by a manual clock — jobs of fixed duration, a plan applied
 * each tick, capacity returned when jobs end — that checks the plan's invariants on every cycle.
 * Pure: no I/O, no real time. Used by the scheduler's unit and simulation tests.
 */
import type { Requirements } from '../jobs/job.js';
import {
  schedule,
  type CandidateJob,
  type ComputeEnvironmentView,
  type FairshareView,
  type Plan,
  type QueueView,
  type SchedulerSnapshot,
} from './schedule.js';
import { ShareIndex } from './share-index.js';

/** Deterministic PRNG (mulberry32). */
export function createRandom(seed: number): {
  next(): number;
  int(lo: number, hi: number): number;
  pick<T>(a: readonly T[]): T;
  chance(p: number): boolean;
} {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor(next() * arr.length)]!,
    chance: (p) => next() < p,
  };
}

/** Every way a plan can be wrong for its snapshot; empty when the plan is valid. */
export function planViolations(snap: SchedulerSnapshot, plan: Plan): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const use = new Map<string, { vcpus: number; memoryMiB: number; gpus: number; ids: Set<number> }>();
  const consumed = new Map<string, number>();
  const candidates = new Map<string, Map<string, CandidateJob>>();
  const cand = (q: QueueView): Map<string, CandidateJob> => {
    let m = candidates.get(q.arn);
    if (!m) {
      m = new Map();
      for (const c of q.candidates) m.set(c.jobId, c);
      if (q.shares) for (const list of q.shares.values()) for (const c of list) m.set(c.jobId, c);
      candidates.set(q.arn, m);
    }
    return m;
  };
  const blocked = new Set(plan.blocked.map((b) => b.jobId));
  for (const p of plan.placements) {
    if (seen.has(p.jobId)) out.push(`job ${p.jobId} placed twice`);
    seen.add(p.jobId);
    if (blocked.has(p.jobId)) out.push(`job ${p.jobId} both placed and reported as never fitting`);
    const q = snap.queues.find((x) => x.arn === p.queueArn);
    if (!q) {
      out.push(`job ${p.jobId} placed for unknown queue ${p.queueArn}`);
      continue;
    }
    if (!q.usable) out.push(`job ${p.jobId} placed from unusable queue ${q.name}`);
    const job = cand(q).get(p.jobId);
    if (!job) {
      out.push(`job ${p.jobId} is not a candidate of ${q.name}`);
      continue;
    }
    if (!q.computeEnvironmentArns.includes(p.computeEnvironmentArn))
      out.push(`job ${p.jobId} placed on a CE not attached to ${q.name}`);
    const ce = snap.computeEnvironments.get(p.computeEnvironmentArn);
    if (!ce) {
      out.push(`job ${p.jobId} placed on unknown CE`);
      continue;
    }
    if (!ce.usable) out.push(`job ${p.jobId} placed on unusable CE ${ce.name}`);
    const shapes = ce.shapes && ce.shapes.length ? ce.shapes : [ce.maxJob];
    if (!shapes.some((s) => fitsIn(job.req, s)))
      out.push(`job ${p.jobId} fits no instance shape of ${ce.name}`);
    let u = use.get(ce.arn);
    if (!u)
      use.set(
        ce.arn,
        (u = { vcpus: ce.used.vcpus, memoryMiB: ce.used.memoryMiB, gpus: ce.used.gpus, ids: new Set() }),
      );
    u.vcpus += job.req.vcpus;
    u.memoryMiB += job.req.memoryMiB;
    u.gpus += job.req.gpus;
    if (p.gpuIds.length !== Math.ceil(job.req.gpus))
      out.push(`job ${p.jobId} got ${p.gpuIds.length} GPU ids for ${job.req.gpus} GPUs`);
    for (const g of p.gpuIds) {
      if (u.ids.has(g)) out.push(`GPU ${g} of ${ce.name} given twice`);
      if (!ce.freeGpuIds.includes(g)) out.push(`GPU ${g} of ${ce.name} was not free`);
      u.ids.add(g);
    }
    for (const c of job.consumables) consumed.set(c.arn, (consumed.get(c.arn) ?? 0) + c.quantity);
  }
  for (const [arn, u] of use) {
    const ce = snap.computeEnvironments.get(arn)!;
    if (u.vcpus > ce.total.vcpus + 1e-6)
      out.push(`CE ${ce.name} over-committed: ${u.vcpus} > ${ce.total.vcpus} vCPUs`);
    if (u.memoryMiB > ce.total.memoryMiB + 1e-6)
      out.push(`CE ${ce.name} over-committed: ${u.memoryMiB} > ${ce.total.memoryMiB} MiB`);
    if (u.gpus > ce.total.gpus + 1e-6)
      out.push(`CE ${ce.name} over-committed: ${u.gpus} > ${ce.total.gpus} GPUs`);
  }
  for (const [arn, n] of consumed) {
    const avail = snap.consumables.get(arn) ?? 0;
    if (n > avail + 1e-6) out.push(`consumable ${arn} over-committed: ${n} > ${avail}`);
  }
  return out;
}

function fitsIn(req: Requirements, cap: { vcpus: number; memoryMiB: number; gpus: number }): boolean {
  return (
    req.vcpus <= cap.vcpus + 1e-9 && req.memoryMiB <= cap.memoryMiB + 1e-9 && req.gpus <= cap.gpus + 1e-9
  );
}

// ------------------------------------------------------------------------------------------------
// Cluster simulation
// ------------------------------------------------------------------------------------------------

export interface SimJob {
  jobId: string;
  queue: string;
  share?: string;
  priority: number;
  req: Requirements;
  durationMs: number;
  createdAt: number;
  seq: number;
}

interface Running {
  job: SimJob;
  ce: string;
  endsAt: number;
  gpuIds: number[];
}

export interface SimQueue {
  arn: string;
  name: string;
  priority: number;
  ces: string[];
  /** Fair share: how to build the view at `now` (the engine's FairshareUsage in tests). */
  fairshare?: (now: number) => FairshareView;
}

export interface SimHooks {
  onStart?(job: SimJob, now: number): void;
  onStop?(job: SimJob, now: number): void;
}

/** A cluster on a manual clock: `tick()` ends due jobs, plans a cycle, starts the placements. */
export class ClusterSimulation {
  now: number;
  private seq = 0;
  readonly running = new Map<string, Running>();
  /** Per queue: the FIFO list (like the engine's) and, for fair share, the per-share index. */
  private readonly fifo = new Map<string, SimJob[]>();
  private readonly indexes = new Map<string, ShareIndex<CandidateJob>>();
  private readonly jobs = new Map<string, SimJob>();
  private readonly runnable = new Set<string>();
  readonly violations: string[] = [];
  /** vCPU-milliseconds delivered per share (accounted as jobs run). */
  readonly delivered = new Map<string, number>();
  startedCount = 0;

  constructor(
    readonly ces: Map<string, ComputeEnvironmentView>,
    readonly queues: SimQueue[],
    private readonly hooks: SimHooks = {},
    start = 1_700_000_000_000,
  ) {
    this.now = start;
  }

  submit(j: Omit<SimJob, 'createdAt' | 'seq' | 'jobId'> & { jobId?: string }): SimJob {
    const job: SimJob = { ...j, jobId: j.jobId ?? `job-${this.seq}`, createdAt: this.now, seq: this.seq++ };
    this.jobs.set(job.jobId, job);
    this.runnable.add(job.jobId);
    let l = this.fifo.get(job.queue);
    if (!l) this.fifo.set(job.queue, (l = []));
    l.push(job);
    return job;
  }

  backlog(queue: string, share?: string): number {
    let n = 0;
    for (const id of this.runnable) {
      const j = this.jobs.get(id)!;
      if (j.queue === queue && j.share === share) n++;
    }
    return n;
  }

  private candidate(j: SimJob): CandidateJob {
    return {
      jobId: j.jobId,
      req: j.req,
      consumables: [],
      ...(j.share !== undefined ? { shareIdentifier: j.share } : {}),
      schedulingPriority: j.priority,
      createdAt: j.createdAt,
      seq: j.seq,
    };
  }

  snapshot(): SchedulerSnapshot {
    const views = new Map<string, ComputeEnvironmentView>();
    for (const [arn, ce] of this.ces) {
      const used = { vcpus: 0, memoryMiB: 0, gpus: 0 };
      const busy = new Set<number>();
      for (const r of this.running.values()) {
        if (r.ce !== arn) continue;
        used.vcpus += r.job.req.vcpus;
        used.memoryMiB += r.job.req.memoryMiB;
        used.gpus += r.job.req.gpus;
        for (const g of r.gpuIds) busy.add(g);
      }
      const freeGpuIds: number[] = [];
      for (let i = 0; i < ce.total.gpus; i++) if (!busy.has(i)) freeGpuIds.push(i);
      views.set(arn, { ...ce, used, freeGpuIds });
    }
    const queues: QueueView[] = this.queues.map((q) => {
      const list = (this.fifo.get(q.arn) ?? []).filter((j) => this.runnable.has(j.jobId));
      this.fifo.set(q.arn, list);
      const base: QueueView = {
        arn: q.arn,
        name: q.name,
        priority: q.priority,
        usable: true,
        computeEnvironmentArns: q.ces,
        candidates: list.map((j) => this.candidate(j)),
      };
      if (!q.fairshare) return base;
      let index = this.indexes.get(q.arn);
      if (!index) this.indexes.set(q.arn, (index = new ShareIndex<CandidateJob>()));
      const idx = index;
      idx.sync(list, (id) => {
        const j = this.jobs.get(id);
        return j && this.runnable.has(id) ? { share: j.share ?? '', priority: j.priority } : undefined;
      });
      const shares = idx.lists((id) =>
        this.runnable.has(id) ? this.candidate(this.jobs.get(id)!) : undefined,
      );
      return { ...base, fairshare: q.fairshare(this.now), shares };
    });
    return { queues, computeEnvironments: views, consumables: new Map() };
  }

  /** Advance the clock, end due jobs, run one cycle and start its placements. */
  tick(ms: number, maxScanPerQueue = 200): Plan {
    const end = this.now + ms;
    // End jobs in time order, accounting delivered capacity up to their end.
    for (;;) {
      let first: Running | undefined;
      for (const r of this.running.values())
        if (r.endsAt <= end && (!first || r.endsAt < first.endsAt)) first = r;
      if (!first) break;
      this.now = Math.max(this.now, first.endsAt);
      this.running.delete(first.job.jobId);
      this.hooks.onStop?.(first.job, this.now);
    }
    this.now = end;
    const snap = this.snapshot();
    const plan = schedule(snap, { maxScanPerQueue });
    this.violations.push(...planViolations(snap, plan));
    for (const p of plan.placements) {
      const job = this.jobs.get(p.jobId)!;
      if (!this.runnable.delete(p.jobId))
        this.violations.push(`job ${p.jobId} placed again after it started`);
      this.running.set(p.jobId, {
        job,
        ce: p.computeEnvironmentArn,
        endsAt: this.now + job.durationMs,
        gpuIds: p.gpuIds,
      });
      const key = job.share ?? job.queue;
      this.delivered.set(key, (this.delivered.get(key) ?? 0) + job.req.vcpus * job.durationMs);
      this.startedCount++;
      this.hooks.onStart?.(job, this.now);
    }
    return plan;
  }
}
