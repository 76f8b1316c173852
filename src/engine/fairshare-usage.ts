/**
 * @module engine/fairshare-usage
 * Usage per share of a fair-share queue: vCPU-seconds of running and recently finished jobs,
 * decayed exponentially over shareDecaySeconds (half-life), multiplied by the share's weightFactor.
 * The pure scheduler reads it through a `FairshareView`.
 */
import type { FairshareView } from '../core/scheduler/schedule.js';

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

export class FairshareUsage {
  private readonly queues = new Map<string, Map<string, ShareState>>();
  private decaySeconds = new Map<string, number>();

  private state(queue: string, share: string, now: number): ShareState {
    let q = this.queues.get(queue);
    if (!q) this.queues.set(queue, (q = new Map()));
    let s = q.get(share);
    if (!s) q.set(share, (s = { usage: 0, at: now, runningVcpus: 0 }));
    this.advance(queue, s, now);
    return s;
  }

  private advance(queue: string, s: ShareState, now: number): void {
    if (now <= s.at) return;
    const dt = (now - s.at) / 1000;
    const half = this.decaySeconds.get(queue) ?? 600;
    // Running jobs add usage; everything decays with the configured half-life.
    const decay = Math.pow(0.5, dt / Math.max(1, half));
    s.usage = s.usage * decay + s.runningVcpus * dt;
    s.at = now;
  }

  started(queue: string, share: string, vcpus: number, now: number): void {
    this.state(queue, share, now).runningVcpus += vcpus;
  }

  stopped(queue: string, share: string, vcpus: number, now: number): void {
    const s = this.state(queue, share, now);
    s.runningVcpus = Math.max(0, s.runningVcpus - vcpus);
  }

  /** Weighted usage and active shares for a queue at `now`. */
  view(queue: string, policy: Record<string, unknown>, now: number): FairshareView {
    const detail = (policy.detail as Record<string, unknown> | undefined) ?? policy;
    const fp = (detail.fairsharePolicy as { shareDecaySeconds?: number; computeReservation?: number; shareDistribution?: Distribution[] } | undefined) ?? {};
    this.decaySeconds.set(queue, fp.shareDecaySeconds && fp.shareDecaySeconds > 0 ? fp.shareDecaySeconds : 600);
    const dist = fp.shareDistribution ?? [];
    const weightOf = (share: string): number => {
      let best: Distribution | undefined;
      for (const d of dist) {
        if (d.shareIdentifier === share) return d.weightFactor ?? 1;
        if (d.shareIdentifier.endsWith('*') && share.startsWith(d.shareIdentifier.slice(0, -1))) {
          if (!best || d.shareIdentifier.length > best.shareIdentifier.length) best = d;
        }
      }
      return best?.weightFactor ?? 1;
    };
    const usage = new Map<string, number>();
    const active = new Set<string>();
    const q = this.queues.get(queue);
    if (q) {
      for (const [share, s] of q) {
        this.advance(queue, s, now);
        usage.set(share, (s.usage + s.runningVcpus) * weightOf(share));
        if (s.runningVcpus > 0) active.add(share);
      }
    }
    return { usage, weightOf, computeReservation: fp.computeReservation ?? 0, activeShares: active };
  }
}
