/**
 * @module core/scheduler/schedule
 * The scheduler's decision step: a pure function from a snapshot of state to a plan. No I/O, no
 * clock reads (time, usage and capacity come in the snapshot), so it is tested without a server.
 *
 * Phases per cycle:
 *  1. Queues are visited in descending priority (ties: name). Capacity is shared: a placement made
 *     for a higher-priority queue reduces what lower-priority queues see in the same cycle.
 *     Priority is not preemptive: running jobs are never stopped for it.
 *  2. Inside a queue, candidates come in dispatch order: FIFO by submission, or fair share
 *     (`orderCandidates`: per-share lists merged lazily with a heap keyed by weighted usage;
 *     inside a share, schedulingPriority descending, then FIFO).
 *  3. For each candidate, compute environments are tried in `computeEnvironmentOrder`; the first
 *     usable one with free vCPU, memory and GPUs, and an instance shape that can host the job,
 *     gets it. Consumable resources must be free too. Fair share: jobs of shares that already run
 *     something leave (computeReservation/100)^activeShares of each environment idle.
 *  4. A candidate that can never fit any environment of its queue gets a MISCONFIGURATION reason
 *     and is skipped without blocking others; one that only waits for busy capacity (or
 *     consumables) lets smaller jobs behind it back-fill, up to `maxScanPerQueue` candidates that
 *     didn't fit. The queue's turn ends early when all of its environments are full.
 *
 * Work per cycle is bounded by what capacity can take (placements + maxScanPerQueue misses +
 * heap operations over shares), never by the number of RUNNABLE jobs, as long as fair-share queues
 * come with `shares` (per-share lists) rather than one flat candidate list.
 */
import type { ConsumableNeed, Requirements } from '../jobs/job.js';

export interface Capacity {
  vcpus: number;
  memoryMiB: number;
  gpus: number;
}

export interface ComputeEnvironmentView {
  arn: string;
  name: string;
  /** ENABLED and VALID (or UPDATING). */
  usable: boolean;
  total: Capacity;
  used: Capacity;
  /** The largest single job the environment can ever run (per dimension, over its instance types). */
  maxJob: Capacity;
  /** Optional: instance shapes; when given, a job must fit one of them (not just `maxJob`). */
  shapes?: readonly Capacity[];
  /** GPU ids not in use. */
  freeGpuIds: number[];
}

export interface CandidateJob {
  jobId: string;
  req: Requirements;
  consumables: readonly ConsumableNeed[];
  shareIdentifier?: string;
  schedulingPriority: number;
  /** FIFO position: submission time, then a tie-breaker. */
  createdAt: number;
  seq: number;
  statusReason?: string;
}

export interface FairshareView {
  /** Weighted usage so far per share, in weighted vCPU-seconds (lower is served first). */
  usage: ReadonlyMap<string, number>;
  weightOf(share: string): number;
  /** 0–99: percentage of capacity held back for shares without running jobs. */
  computeReservation: number;
  /** Shares with STARTING/RUNNING jobs now. */
  activeShares: ReadonlySet<string>;
  /**
   * Seconds one placed vCPU counts for when projecting usage inside a cycle (so a burst is
   * interleaved by weight). Default 1. The engine passes the decay window's time constant.
   */
  projectionSeconds?: number;
}

export interface QueueView {
  arn: string;
  name: string;
  priority: number;
  /** ENABLED and VALID/UPDATING. A disabled queue places nothing new. */
  usable: boolean;
  computeEnvironmentArns: readonly string[];
  /** RUNNABLE jobs in FIFO order. May be lazy: the scheduler stops reading when the queue's turn ends. */
  candidates: Iterable<CandidateJob>;
  fairshare?: FairshareView;
  /**
   * Fair share, optional but what keeps a cycle cheap: RUNNABLE jobs per share identifier, each
   * list in share order (schedulingPriority descending, then FIFO), read lazily. When present,
   * `candidates` is not read for dispatch; when absent, `candidates` is grouped (O(n)).
   */
  shares?: ReadonlyMap<string, Iterable<CandidateJob>>;
}

export interface SchedulerSnapshot {
  queues: readonly QueueView[];
  computeEnvironments: ReadonlyMap<string, ComputeEnvironmentView>;
  /** Available quantity per consumable resource ARN. */
  consumables: ReadonlyMap<string, number>;
}

export interface Placement {
  jobId: string;
  queueArn: string;
  computeEnvironmentArn: string;
  gpuIds: number[];
}

export interface BlockedJob {
  jobId: string;
  reason: string;
}

export interface Plan {
  placements: Placement[];
  blocked: BlockedJob[];
  /** Candidates looked at (for the timing log). */
  scanned: number;
}

export interface ScheduleOptions {
  /** How many candidates that didn't fit a queue may skip before the queue's turn ends. */
  maxScanPerQueue: number;
  /** How many never-fit candidates a queue may skip per cycle (they don't block others). Default 10,000. */
  maxBlockedScanPerQueue?: number;
}

export const REASON_JOB_RESOURCE_REQUIREMENT =
  'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement (vCPU/memory/GPU) is higher than that can be met by the CE(s) attached to the job queue.';
export const REASON_CE_MAX_RESOURCE =
  'MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE - CE(s) associated with the job queue cannot meet the CPU requirement of the job.';

const EPS = 1e-9;

function within(req: Requirements, cap: Capacity): boolean {
  return req.vcpus <= cap.vcpus + EPS && req.memoryMiB <= cap.memoryMiB + EPS && req.gpus <= cap.gpus + EPS;
}

/** Some single instance of the environment could host the job (ignoring maxvCpus). */
function instanceFits(req: Requirements, ce: ComputeEnvironmentView): boolean {
  if (!within(req, ce.maxJob)) return false;
  return ce.shapes === undefined || ce.shapes.length === 0 || ce.shapes.some((s) => within(req, s));
}

/** The environment could ever run the job: an instance can host it and it is within the totals. */
function canEverHost(req: Requirements, ce: ComputeEnvironmentView): boolean {
  return within(req, ce.total) && instanceFits(req, ce);
}

/**
 * Why a job can never run in this queue, or undefined when some environment could run it once
 * capacity frees up. Every attached environment counts, DISABLED ones too (they may come back).
 * COMPUTE_ENVIRONMENT_MAX_RESOURCE: an instance could host the job but maxvCpus (or the memory/GPUs
 * it implies) is too small; JOB_RESOURCE_REQUIREMENT: no instance type is large enough.
 */
export function neverFitReason(
  req: Requirements,
  ces: readonly ComputeEnvironmentView[],
): string | undefined {
  if (ces.length === 0) return undefined;
  if (ces.some((c) => canEverHost(req, c))) return undefined;
  if (ces.some((c) => instanceFits(req, c))) return REASON_CE_MAX_RESOURCE;
  return REASON_JOB_RESOURCE_REQUIREMENT;
}

// ------------------------------------------------------------------------------------------------
// Fair-share dispatch order
// ------------------------------------------------------------------------------------------------

interface ShareCursor {
  share: string;
  source: Iterable<CandidateJob>;
  /** Opened on the share's first turn (shares that never get a turn cost nothing). */
  it: Iterator<CandidateJob> | undefined;
  head: CandidateJob | undefined;
  /** Weighted usage, projected with what this cycle already gave the share. */
  key: number;
  /** Looked up on the share's first turn. */
  weight: number | undefined;
}

/** Lowest projected weighted usage first; ties by share identifier (deterministic). */
function cursorLess(a: ShareCursor, b: ShareCursor): boolean {
  if (a.key < b.key - EPS) return true;
  if (a.key > b.key + EPS) return false;
  return a.share < b.share;
}

/** A binary min-heap of share cursors. */
class ShareHeap {
  private readonly a: ShareCursor[];
  constructor(items: ShareCursor[]) {
    this.a = items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }
  push(c: ShareCursor): void {
    const a = this.a;
    a.push(c);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!cursorLess(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): ShareCursor | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      this.down(0);
    }
    return top;
  }
  private down(i: number): void {
    const a = this.a;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && cursorLess(a[l]!, a[m]!)) m = l;
      if (r < a.length && cursorLess(a[r]!, a[m]!)) m = r;
      if (m === i) return;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
  }
}

/** Share order inside one share: schedulingPriority descending, then FIFO. */
export function compareWithinShare(a: CandidateJob, b: CandidateJob): number {
  return b.schedulingPriority - a.schedulingPriority || a.createdAt - b.createdAt || a.seq - b.seq;
}

/** Fallback for snapshots without `shares`: group a flat FIFO list per share (reads every candidate). */
function groupByShare(candidates: Iterable<CandidateJob>): Map<string, CandidateJob[]> {
  const groups = new Map<string, CandidateJob[]>();
  for (const c of candidates) {
    const share = c.shareIdentifier ?? '';
    const g = groups.get(share);
    if (g) g.push(c);
    else groups.set(share, [c]);
  }
  for (const g of groups.values()) {
    let sorted = true;
    for (let i = 1; i < g.length && sorted; i++) if (compareWithinShare(g[i - 1]!, g[i]!) > 0) sorted = false;
    if (!sorted) g.sort(compareWithinShare);
  }
  return groups;
}

/**
 * Lazy k-way merge of per-share lists: repeatedly the share with the lowest projected weighted
 * usage gives its next job. `charge(job)` adds the job's projected usage to its share (call it for
 * jobs that were placed; `orderCandidates` charges every job it yields).
 */
export class FairShareMerge {
  private readonly heap: ShareHeap;
  private pending: ShareCursor | undefined;
  private readonly projection: number;

  private readonly fs: FairshareView;

  constructor(q: QueueView) {
    const fs = (this.fs = q.fairshare!);
    this.projection = fs.projectionSeconds ?? 1;
    const sources: ReadonlyMap<string, Iterable<CandidateJob>> = q.shares ?? groupByShare(q.candidates);
    const items: ShareCursor[] = [];
    for (const [share, source] of sources) {
      items.push({
        share,
        source,
        it: undefined,
        head: undefined,
        key: fs.usage.get(share) ?? 0,
        weight: undefined,
      });
    }
    this.heap = new ShareHeap(items);
  }

  next(): CandidateJob | undefined {
    const p = this.pending;
    if (p) {
      this.pending = undefined;
      const n = p.it!.next();
      if (!n.done) {
        p.head = n.value;
        this.heap.push(p);
      }
    }
    for (;;) {
      const c = this.heap.pop();
      if (!c) return undefined;
      if (!c.it) {
        c.it = c.source[Symbol.iterator]();
        const n = c.it.next();
        if (n.done) continue; // an empty share
        c.head = n.value;
      }
      this.pending = c;
      return c.head;
    }
  }

  /** The last job returned by `next()` was dispatched: its share's projected usage grows. */
  charge(job: CandidateJob): void {
    const p = this.pending;
    if (p && p.head === job)
      p.key += job.req.vcpus * (p.weight ??= this.fs.weightOf(p.share)) * this.projection;
  }
}

/**
 * Dispatch order inside a queue: FIFO, or fair share (lowest projected weighted usage first, each
 * share in schedulingPriority-then-FIFO order). Lazy: callers read only as far as they need.
 */
export function* orderCandidates(q: QueueView): Generator<CandidateJob> {
  if (!q.fairshare) {
    yield* q.candidates;
    return;
  }
  const m = new FairShareMerge(q);
  for (let job = m.next(); job; job = m.next()) {
    m.charge(job);
    yield job;
  }
}

/** Fraction of capacity held back for inactive shares: (r/100)^activeShares; 0 with no active share. */
export function reservedFraction(computeReservation: number, activeShares: number): number {
  if (computeReservation <= 0 || activeShares <= 0) return 0;
  return Math.pow(Math.min(99, computeReservation) / 100, activeShares);
}

// ------------------------------------------------------------------------------------------------
// The cycle
// ------------------------------------------------------------------------------------------------

interface Free extends Capacity {
  gpuIds: number[];
}

export function schedule(snapshot: SchedulerSnapshot, opts: ScheduleOptions): Plan {
  const placements: Placement[] = [];
  const blocked: BlockedJob[] = [];
  const placedIds = new Set<string>();
  const maxBlocked = opts.maxBlockedScanPerQueue ?? 10_000;
  let scanned = 0;

  // Phase 0: mutable free-capacity view shared by all queues in this cycle.
  const free = new Map<string, Free>();
  for (const ce of snapshot.computeEnvironments.values()) {
    free.set(ce.arn, {
      vcpus: ce.total.vcpus - ce.used.vcpus,
      memoryMiB: ce.total.memoryMiB - ce.used.memoryMiB,
      gpus: ce.total.gpus - ce.used.gpus,
      gpuIds: [...ce.freeGpuIds],
    });
  }
  const consumables = new Map(snapshot.consumables);

  // Phase 1: queues in descending priority.
  const queues = [...snapshot.queues].sort(
    (a, b) => b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  for (const q of queues) {
    if (!q.usable) continue;
    const ces: ComputeEnvironmentView[] = [];
    for (const arn of q.computeEnvironmentArns) {
      const c = snapshot.computeEnvironments.get(arn);
      if (c) ces.push(c);
    }
    const usableCes = ces.filter((c) => c.usable);
    if (usableCes.length === 0) continue;
    // Nothing can start while every environment of the queue is full: skip the scan.
    const allFull = (): boolean => usableCes.every((c) => isFull(c, free.get(c.arn)!));
    if (allFull()) continue;

    // Fair share: computeReservation holds back part of each environment for inactive shares.
    const fsv = q.fairshare;
    const active = fsv && fsv.computeReservation > 0 ? new Set(fsv.activeShares) : undefined;

    // Phase 2: candidates in dispatch order.
    const merge = fsv ? new FairShareMerge(q) : undefined;
    const fifo = merge ? undefined : q.candidates[Symbol.iterator]();
    const nextJob = (): CandidateJob | undefined => {
      if (merge) return merge.next();
      const n = fifo!.next();
      return n.done ? undefined : n.value;
    };

    let misses = 0;
    let blockedSeen = 0;
    for (let job = nextJob(); job; job = nextJob()) {
      if (placedIds.has(job.jobId)) continue;
      scanned++;
      // Phase 4a: never fits → report once, don't block the queue.
      const reason = neverFitReason(job.req, ces);
      if (reason) {
        if (job.statusReason !== reason) blocked.push({ jobId: job.jobId, reason });
        if (++blockedSeen > maxBlocked) break;
        continue;
      }
      if (!consumablesFree(job.consumables, consumables)) {
        if (++misses > opts.maxScanPerQueue) break;
        continue;
      }
      // Phase 3: environments in order.
      const share = job.shareIdentifier ?? '';
      const holdFraction =
        active && active.has(share) ? reservedFraction(fsv!.computeReservation, active.size) : 0;
      let placedOn: ComputeEnvironmentView | undefined;
      for (const ce of usableCes) {
        const f = free.get(ce.arn)!;
        if (!instanceFits(job.req, ce)) continue;
        const hold = holdFraction * ce.total.vcpus;
        if (
          job.req.vcpus > f.vcpus - hold + EPS ||
          job.req.memoryMiB > f.memoryMiB + EPS ||
          job.req.gpus > f.gpus + EPS
        )
          continue;
        if (job.req.gpus > 0 && f.gpuIds.length < Math.ceil(job.req.gpus)) continue;
        placedOn = ce;
        break;
      }
      if (!placedOn) {
        if (++misses > opts.maxScanPerQueue) break;
        // Every environment of this queue is full: nothing behind this job can fit either.
        if (allFull()) break;
        continue;
      }
      const f = free.get(placedOn.arn)!;
      f.vcpus -= job.req.vcpus;
      f.memoryMiB -= job.req.memoryMiB;
      f.gpus -= job.req.gpus;
      const gpuIds = f.gpuIds.splice(0, Math.ceil(job.req.gpus));
      for (const c of job.consumables) consumables.set(c.arn, (consumables.get(c.arn) ?? 0) - c.quantity);
      placements.push({ jobId: job.jobId, queueArn: q.arn, computeEnvironmentArn: placedOn.arn, gpuIds });
      placedIds.add(job.jobId);
      merge?.charge(job);
      if (active && !active.has(share)) active.add(share);
      if (allFull()) break;
    }
  }
  return { placements, blocked, scanned };
}

function isFull(ce: ComputeEnvironmentView, f: Capacity): boolean {
  return f.vcpus <= EPS || (ce.total.memoryMiB > 0 && f.memoryMiB <= EPS);
}

function consumablesFree(needs: readonly ConsumableNeed[], avail: ReadonlyMap<string, number>): boolean {
  if (needs.length === 0) return true;
  // A job may list one resource twice: add up per resource.
  if (needs.length === 1) return (avail.get(needs[0]!.arn) ?? 0) + EPS >= needs[0]!.quantity;
  const want = new Map<string, number>();
  for (const n of needs) want.set(n.arn, (want.get(n.arn) ?? 0) + n.quantity);
  for (const [arn, q] of want) if ((avail.get(arn) ?? 0) + EPS < q) return false;
  return true;
}
