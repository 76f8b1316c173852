/**
 * @module core/scheduler/schedule
 * The scheduler's decision step: a pure function from a snapshot of state to a plan. No I/O, no
 * clock reads (time comes in the snapshot), so it is tested without a server.
 *
 * Phases per cycle:
 *  1. Queues are visited in descending priority (ties: name). Capacity is shared: a placement made
 *     for a higher-priority queue reduces what lower-priority queues see in the same cycle.
 *     Priority is not preemptive: running jobs are never stopped for it.
 *  2. Inside a queue, candidates come in dispatch order (FIFO by submission, or fair-share order
 *     computed by `orderCandidates`).
 *  3. For each candidate, compute environments are tried in `computeEnvironmentOrder`; the first
 *     usable one with free vCPU, memory, GPUs (and free consumable resources) gets it.
 *  4. A candidate that can never fit any usable environment of its queue gets a MISCONFIGURATION
 *     reason and is skipped; one that only waits for busy capacity lets smaller jobs behind it
 *     back-fill, up to `maxScanPerQueue` candidates that didn't fit.
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
  /** The largest single job the environment can ever run (its largest instance type). */
  maxJob: Capacity;
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
  /** Weighted usage so far per share (lower is served first). */
  usage: ReadonlyMap<string, number>;
  weightOf(share: string): number;
  /** 0–99: percentage of capacity held back for shares without running jobs. */
  computeReservation: number;
  /** Shares with STARTING/RUNNING jobs now. */
  activeShares: ReadonlySet<string>;
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
}

export const REASON_JOB_RESOURCE_REQUIREMENT =
  'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement (vCPU/memory/GPU) is higher than that can be met by the CE(s) attached to the job queue.';
export const REASON_CE_MAX_RESOURCE =
  'MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE - CE(s) associated with the job queue cannot meet the CPU requirement of the job.';

const EPS = 1e-9;

function fits(req: Requirements, free: Capacity): boolean {
  return req.vcpus <= free.vcpus + EPS && req.memoryMiB <= free.memoryMiB + EPS && req.gpus <= free.gpus + EPS;
}

function within(req: Requirements, cap: Capacity): boolean {
  return req.vcpus <= cap.vcpus + EPS && req.memoryMiB <= cap.memoryMiB + EPS && req.gpus <= cap.gpus + EPS;
}

/** Why a job can never run in this queue, or undefined when some usable environment could run it. */
export function neverFitReason(req: Requirements, ces: readonly ComputeEnvironmentView[]): string | undefined {
  const usable = ces.filter((c) => c.usable);
  if (usable.length === 0) return undefined; // disabled environments may come back: just wait
  if (usable.some((c) => within(req, c.maxJob) && within(req, c.total))) return undefined;
  if (usable.some((c) => within(req, c.maxJob))) return REASON_CE_MAX_RESOURCE;
  return REASON_JOB_RESOURCE_REQUIREMENT;
}

/** Dispatch order inside a queue: FIFO, or fair share (lowest weighted usage first, then priority, then FIFO). */
export function orderCandidates(q: QueueView): Iterable<CandidateJob> {
  const fs = q.fairshare;
  if (!fs) return q.candidates;
  // Group per share (each group already FIFO), order each group by schedulingPriority desc (stable).
  const groups = new Map<string, CandidateJob[]>();
  for (const c of q.candidates) {
    const share = c.shareIdentifier ?? '';
    let g = groups.get(share);
    if (!g) groups.set(share, (g = []));
    g.push(c);
  }
  for (const g of groups.values()) g.sort((a, b) => b.schedulingPriority - a.schedulingPriority || a.createdAt - b.createdAt || a.seq - b.seq);
  // Interleave: repeatedly take from the share with the lowest projected weighted usage.
  const usage = new Map<string, number>();
  for (const s of groups.keys()) usage.set(s, fs.usage.get(s) ?? 0);
  const idx = new Map<string, number>();
  const out: CandidateJob[] = [];
  const shares = [...groups.keys()];
  for (;;) {
    let best: string | undefined;
    let bestUsage = Infinity;
    for (const s of shares) {
      const g = groups.get(s)!;
      if ((idx.get(s) ?? 0) >= g.length) continue;
      const u = usage.get(s)!;
      if (u < bestUsage - EPS || (Math.abs(u - bestUsage) <= EPS && best !== undefined && s < best)) {
        best = s;
        bestUsage = u;
      }
    }
    if (best === undefined) break;
    const g = groups.get(best)!;
    const i = idx.get(best) ?? 0;
    const job = g[i]!;
    out.push(job);
    idx.set(best, i + 1);
    // Projected usage grows with the job's size, weighted: a lower weight gets more capacity.
    usage.set(best, bestUsage + job.req.vcpus * fs.weightOf(best));
    if (out.length >= 5000) break; // a cycle never needs more than this
  }
  return out;
}

export function schedule(snapshot: SchedulerSnapshot, opts: ScheduleOptions): Plan {
  const placements: Placement[] = [];
  const blocked: BlockedJob[] = [];
  let scanned = 0;

  // Mutable free-capacity view shared by all queues in this cycle.
  const free = new Map<string, Capacity & { gpuIds: number[] }>();
  for (const ce of snapshot.computeEnvironments.values()) {
    free.set(ce.arn, {
      vcpus: ce.total.vcpus - ce.used.vcpus,
      memoryMiB: ce.total.memoryMiB - ce.used.memoryMiB,
      gpus: ce.total.gpus - ce.used.gpus,
      gpuIds: [...ce.freeGpuIds],
    });
  }
  const consumables = new Map(snapshot.consumables);

  const queues = [...snapshot.queues].sort((a, b) => b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const q of queues) {
    if (!q.usable) continue;
    const ces = q.computeEnvironmentArns
      .map((arn) => snapshot.computeEnvironments.get(arn))
      .filter((c): c is ComputeEnvironmentView => c !== undefined);
    const usableCes = ces.filter((c) => c.usable);
    if (usableCes.length === 0) continue;
    // Nothing can start while every environment of the queue is full: skip the scan.
    if (usableCes.every((c) => isFull(c, free.get(c.arn)!))) continue;

    // Fair share: hold back computeReservation for shares that are not active yet.
    let reserveFor: ((share: string) => number) | undefined;
    if (q.fairshare && q.fairshare.computeReservation > 0) {
      const fsv = q.fairshare;
      const fraction = Math.pow(fsv.computeReservation / 100, Math.max(1, fsv.activeShares.size));
      const totalV = usableCes.reduce((s, c) => s + c.total.vcpus, 0);
      const reserved = totalV * fraction;
      reserveFor = (share) => (fsv.activeShares.has(share) ? reserved : 0);
    }

    let misses = 0;
    for (const job of orderCandidates(q)) {
      scanned++;
      const reason = neverFitReason(job.req, ces);
      if (reason) {
        if (job.statusReason !== reason) blocked.push({ jobId: job.jobId, reason });
        else if (++misses > opts.maxScanPerQueue) break; // reported already: counts as a miss
        continue;
      }
      if (!consumablesFree(job.consumables, consumables)) {
        if (++misses > opts.maxScanPerQueue) break;
        continue;
      }
      let placed = false;
      for (const ce of usableCes) {
        const f = free.get(ce.arn)!;
        const hold = reserveFor ? reserveFor(job.shareIdentifier ?? '') : 0;
        const avail = { vcpus: f.vcpus - hold, memoryMiB: f.memoryMiB, gpus: f.gpus };
        if (!within(job.req, ce.maxJob) || !fits(job.req, avail)) continue;
        f.vcpus -= job.req.vcpus;
        f.memoryMiB -= job.req.memoryMiB;
        f.gpus -= job.req.gpus;
        const gpuIds = f.gpuIds.splice(0, Math.ceil(job.req.gpus));
        for (const c of job.consumables) consumables.set(c.arn, (consumables.get(c.arn) ?? 0) - c.quantity);
        placements.push({ jobId: job.jobId, queueArn: q.arn, computeEnvironmentArn: ce.arn, gpuIds });
        placed = true;
        break;
      }
      if (!placed) {
        if (++misses > opts.maxScanPerQueue) break;
        // Every environment of this queue is full: nothing behind this job can fit either.
        if (usableCes.every((c) => isFull(c, free.get(c.arn)!))) break;
      }
    }
  }
  return { placements, blocked, scanned };
}

function isFull(ce: ComputeEnvironmentView, f: Capacity): boolean {
  return f.vcpus <= EPS || (ce.total.memoryMiB > 0 && f.memoryMiB <= EPS);
}

function consumablesFree(needs: readonly ConsumableNeed[], avail: ReadonlyMap<string, number>): boolean {
  for (const n of needs) if ((avail.get(n.arn) ?? 0) < n.quantity) return false;
  return true;
}
