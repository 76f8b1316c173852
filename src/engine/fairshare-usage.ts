/**
 * @module engine/fairshare-usage
 * Usage per share of a fair-share queue: vCPU-seconds of running and recently finished jobs,
 * decayed exponentially with a half-life of shareDecaySeconds (0 → 600 s, the API reference's
 * "default minimum window"), and multiplied by the share's weightFactor (lower weight → lower
 * usage → served earlier → more capacity). The pure scheduler reads it through a `FairshareView`.
 *
 * The key the scheduler compares is `weight × (U + τ·running)` where U is the decayed integral and
 * τ = half-life / ln 2 its time constant: running jobs count as if they ran for one time constant,
 * so a share that just started many jobs doesn't look idle for the next cycles (the integral
 * alone reacts slowly and overshoots). In steady state U ≈ τ·rate, so equal keys mean
 * weight × rate is equal across shares: weight 0.5 gets twice the capacity of weight 1.
 *
 * It also keeps the per-share RUNNABLE index of each fair-share queue (`indexFor`).
 */
import type { CandidateJob, FairshareView } from '../core/scheduler/schedule.js';
import { ShareIndex } from '../core/scheduler/share-index.js';

interface ShareState {
  /** Decayed vCPU-seconds accumulated up to `at`. */
  usage: number;
  at: number;
  /** vCPUs of jobs running now. */
  runningVcpus: number;
}

interface Distribution {
  shareIdentifier: string;
  weightFactor?: number;
}

interface FairsharePolicy {
  shareDecaySeconds?: number;
  computeReservation?: number;
  shareDistribution?: Distribution[];
}

export const DEFAULT_DECAY_SECONDS = 600;

/** Weight of a share under a distribution: exact entry, else the longest matching `prefix*`, else 1. */
export function weightFactorOf(dist: readonly Distribution[], share: string): number {
  let best: Distribution | undefined;
  for (const d of dist) {
    if (d.shareIdentifier === share) return d.weightFactor ?? 1;
    if (d.shareIdentifier.endsWith('*') && share.startsWith(d.shareIdentifier.slice(0, -1))) {
      if (!best || d.shareIdentifier.length > best.shareIdentifier.length) best = d;
    }
  }
  return best?.weightFactor ?? 1;
}

export function policyOf(policy: Record<string, unknown>): FairsharePolicy {
  const detail = (policy.detail as Record<string, unknown> | undefined) ?? policy;
  return (detail.fairsharePolicy as FairsharePolicy | undefined) ?? {};
}

export class FairshareUsage {
  private readonly queues = new Map<string, Map<string, ShareState>>();
  private readonly halfLife = new Map<string, number>();
  private readonly indexes = new Map<string, ShareIndex<CandidateJob>>();
  private readonly weightCache = new WeakMap<object, Map<string, number>>();

  private state(queue: string, share: string, now: number): ShareState {
    let q = this.queues.get(queue);
    if (!q) this.queues.set(queue, (q = new Map()));
    let s = q.get(share);
    if (!s) q.set(share, (s = { usage: 0, at: now, runningVcpus: 0 }));
    this.advance(queue, s, now);
    return s;
  }

  /** Exact integration of dU/dt = running − λU over [at, now] (independent of cycle frequency). */
  private advance(queue: string, s: ShareState, now: number): void {
    if (now <= s.at) return;
    const dt = (now - s.at) / 1000;
    const lambda = Math.LN2 / (this.halfLife.get(queue) ?? DEFAULT_DECAY_SECONDS);
    const decay = Math.exp(-lambda * dt);
    s.usage = s.usage * decay + (s.runningVcpus * (1 - decay)) / lambda;
    s.at = now;
  }

  started(queue: string, share: string, vcpus: number, now: number): void {
    this.state(queue, share, now).runningVcpus += vcpus;
  }

  stopped(queue: string, share: string, vcpus: number, now: number): void {
    const s = this.state(queue, share, now);
    s.runningVcpus = Math.max(0, s.runningVcpus - vcpus);
  }

  /** Decayed (unweighted) vCPU-seconds of a share at `now`. */
  usageOf(queue: string, share: string, now: number): number {
    const s = this.queues.get(queue)?.get(share);
    if (!s) return 0;
    this.advance(queue, s, now);
    return s.usage;
  }

  /** The per-share RUNNABLE index of a fair-share queue. */
  indexFor(queue: string): ShareIndex<CandidateJob> {
    let i = this.indexes.get(queue);
    if (!i) this.indexes.set(queue, (i = new ShareIndex<CandidateJob>()));
    return i;
  }

  /** Forget a queue's index (it lost its policy or was deleted). */
  dropIndex(queue: string): void {
    this.indexes.delete(queue);
  }

  /** Weighted usage and active shares for a queue at `now`. */
  view(queue: string, policy: Record<string, unknown>, now: number): FairshareView {
    const fp = policyOf(policy);
    const half =
      fp.shareDecaySeconds && fp.shareDecaySeconds > 0 ? fp.shareDecaySeconds : DEFAULT_DECAY_SECONDS;
    this.halfLife.set(queue, half);
    const tau = half / Math.LN2;
    const dist = fp.shareDistribution ?? [];
    let cache = this.weightCache.get(policy);
    if (!cache) this.weightCache.set(policy, (cache = new Map()));
    const weights = cache;
    const weightOf = (share: string): number => {
      let w = weights.get(share);
      if (w === undefined) weights.set(share, (w = weightFactorOf(dist, share)));
      return w;
    };
    const usage = new Map<string, number>();
    const active = new Set<string>();
    const q = this.queues.get(queue);
    if (q) {
      for (const [share, s] of q) {
        this.advance(queue, s, now);
        // Forget shares whose usage has decayed away (keeps the map bounded by recent shares).
        if (s.runningVcpus === 0 && s.usage < 1e-6) {
          q.delete(share);
          continue;
        }
        usage.set(share, (s.usage + tau * s.runningVcpus) * weightOf(share));
        if (s.runningVcpus > 0) active.add(share);
      }
    }
    return {
      usage,
      weightOf,
      computeReservation: fp.computeReservation ?? 0,
      activeShares: active,
      projectionSeconds: tau,
    };
  }
}
