/**
 * @module cluster/cluster-node
 * Membership and leadership of one node in a cluster sharing a PostgreSQL store.
 *
 * - Heartbeat: every `heartbeatMs` (2 s) the node upserts its row (url, boot id, capacity, whether it
 *   accepts work, its leader epoch if it leads) with `leaseUntil = db now + nodeTtlMs` (10 s), then reads
 *   every node row and the database clock. A node is live while `leaseUntil >= db now`.
 * - Self-fencing: when no heartbeat has succeeded for `nodeTtlMs − fenceMarginMs` (local monotonic time,
 *   measured from the START of the last successful heartbeat), `onFenced(true)` stops local work.
 * - Leadership: the `scheduler` lease (uuid term, database clock). Non-leaders try to take it every
 *   `electionMs`; the leader renews every `renewMs` and trusts its leadership only until
 *   `renew start + leaseTtlMs − fenceMarginMs`; past that, or on a refused renewal, it steps down
 *   (stops its engine) before anyone else can be elected.
 * - Leader discovery: the leader advertises its epoch in its node row; the live node with the newest
 *   epoch is the leader others forward to.
 */
import { performance } from 'node:perf_hooks';

import type { LeaseInfo, NodeInfo, Store } from '../store/store.js';
import type { LeaderEpoch } from './protocol.js';

export const SCHEDULER_LEASE = 'scheduler';

export interface ClusterStoreOps extends Store {
  now(): Promise<number>;
  releaseLease(name: string, holder: string, term: string): Promise<boolean>;
}

export interface ClusterTimings {
  heartbeatMs: number;
  nodeTtlMs: number;
  leaseTtlMs: number;
  renewMs: number;
  electionMs: number;
  fenceMarginMs: number;
}

export const DEFAULT_TIMINGS: ClusterTimings = {
  heartbeatMs: 2000,
  nodeTtlMs: 10_000,
  leaseTtlMs: 7000,
  renewMs: 1500,
  electionMs: 500,
  fenceMarginMs: 2000,
};

export interface LeaderSession {
  stop(): Promise<void>;
}

export interface MemberView {
  nodeId: string;
  url?: string;
  live: boolean;
  leader: boolean;
  startedAt: number;
  heartbeatAt: number;
  leaseUntil: number;
  meta: Record<string, unknown>;
}

export interface ClusterNodeOptions {
  store: ClusterStoreOps;
  nodeId: string;
  boot: string;
  startedAt: number;
  timings?: Partial<ClusterTimings>;
  /** Extra fields for this node's row (capacity, running attempts, accepting). */
  meta: () => Record<string, unknown>;
  /** Became leader: start the engine. Resolves once it serves. */
  onElected: (epoch: LeaderEpoch) => Promise<LeaderSession>;
  onFenced: (fenced: boolean) => void;
  log: (message: string) => void;
}

export class ClusterNode {
  readonly timings: ClusterTimings;
  private url = '';
  private hbTimer: NodeJS.Timeout | undefined;
  private electTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private lastHeartbeatOk = performance.now();
  private fenced = false;
  private members: MemberView[] = [];
  private dbNow = 0;
  private epoch: LeaderEpoch | undefined;
  private trustUntil = 0;
  private session: LeaderSession | undefined;
  /** Serialises become-leader / step-down transitions. */
  private transition: Promise<void> = Promise.resolve();
  private closed = false;
  private heartbeating: Promise<void> | undefined;
  private readonly membershipListeners: (() => void)[] = [];

  constructor(private readonly opts: ClusterNodeOptions) {
    this.timings = { ...DEFAULT_TIMINGS, ...opts.timings };
  }

  get nodeId(): string {
    return this.opts.nodeId;
  }

  get isLeader(): boolean {
    return this.epoch !== undefined;
  }

  get leaderEpoch(): LeaderEpoch | undefined {
    return this.epoch;
  }

  /** Called after every membership read; returns an unsubscribe function. */
  onMembership(fn: () => void): () => void {
    this.membershipListeners.push(fn);
    return () => {
      const i = this.membershipListeners.indexOf(fn);
      if (i >= 0) this.membershipListeners.splice(i, 1);
    };
  }

  /** Starts heartbeating (once, awaited) and the election loop. */
  async start(url: string): Promise<void> {
    this.url = url;
    await this.heartbeat();
    this.hbTimer = setInterval(() => void this.heartbeat(), this.timings.heartbeatMs);
    this.watchdog = setInterval(() => this.checkTrust(), 200);
    const elect = (): void => {
      if (this.closed) return;
      void this.electOrRenew().finally(() => {
        if (this.closed) return;
        this.electTimer = setTimeout(elect, this.isLeader ? this.timings.renewMs : this.timings.electionMs);
      });
    };
    elect();
  }

  // --- membership ----------------------------------------------------------------------------

  /** One heartbeat + membership read. Concurrent calls share one round. */
  heartbeat(): Promise<void> {
    this.heartbeating ??= this.doHeartbeat().finally(() => (this.heartbeating = undefined));
    return this.heartbeating;
  }

  private async doHeartbeat(): Promise<void> {
    if (this.closed) return;
    const t0 = performance.now();
    try {
      const node: NodeInfo = {
        nodeId: this.opts.nodeId,
        startedAt: this.opts.startedAt,
        heartbeatAt: 0,
        leaseUntil: this.timings.nodeTtlMs,
        url: this.url,
        meta: { ...this.opts.meta(), boot: this.opts.boot, ...(this.epoch ? { leader: this.epoch } : {}) },
      };
      await this.opts.store.heartbeatNode(node);
      if (t0 > this.lastHeartbeatOk) this.lastHeartbeatOk = t0;
      if (this.fenced) {
        this.fenced = false;
        this.opts.onFenced(false);
      }
    } catch (err) {
      this.opts.log(`heartbeat failed: ${(err as Error).message}`);
    }
    await this.refreshMembers();
  }

  async refreshMembers(): Promise<void> {
    try {
      const [rows, now] = await Promise.all([this.opts.store.listNodes(), this.opts.store.now()]);
      this.dbNow = now;
      this.members = rows.map((r) => ({
        nodeId: r.nodeId,
        ...(r.url ? { url: r.url } : {}),
        live: r.leaseUntil >= now,
        leader: false,
        startedAt: r.startedAt,
        heartbeatAt: r.heartbeatAt,
        leaseUntil: r.leaseUntil,
        meta: r.meta ?? {},
      }));
      const l = this.currentLeaderRow();
      if (l) l.leader = true;
      for (const fn of this.membershipListeners) fn();
    } catch (err) {
      this.opts.log(`reading cluster membership failed: ${(err as Error).message}`);
    }
  }

  private currentLeaderRow(): MemberView | undefined {
    if (this.epoch) return this.members.find((m) => m.nodeId === this.opts.nodeId);
    let best: MemberView | undefined;
    let bestAt = -Infinity;
    for (const m of this.members) {
      const e = m.meta['leader'] as LeaderEpoch | undefined;
      if (!m.live || !e || typeof e.electedAt !== 'number') continue;
      if (e.electedAt > bestAt) {
        best = m;
        bestAt = e.electedAt;
      }
    }
    return best;
  }

  /** Members as of the last read, with `live` judged on the database clock. */
  membership(): { nodes: MemberView[]; leader?: string; dbNow: number } {
    const leader = this.currentLeaderRow()?.nodeId;
    return { nodes: this.members, ...(leader ? { leader } : {}), dbNow: this.dbNow };
  }

  /** The node requests must be forwarded to (undefined: none known, or this node itself leads). */
  leader(): { nodeId: string; url: string } | undefined {
    const l = this.currentLeaderRow();
    return l?.url ? { nodeId: l.nodeId, url: l.url } : undefined;
  }

  // --- leadership ----------------------------------------------------------------------------

  private async electOrRenew(): Promise<void> {
    const t = this.timings;
    const t0 = performance.now();
    if (this.epoch) {
      const epoch = this.epoch;
      let ok = false;
      try {
        ok = await this.opts.store.renewLease(SCHEDULER_LEASE, this.opts.nodeId, epoch.term, t.leaseTtlMs);
      } catch (err) {
        this.opts.log(`renewing the scheduler lease failed: ${(err as Error).message}`);
        return; // the watchdog steps down when the trust window ends
      }
      if (this.epoch !== epoch) return;
      if (ok) this.trustUntil = t0 + t.leaseTtlMs - t.fenceMarginMs;
      else this.stepDown('the scheduler lease was taken over or expired');
      return;
    }
    if (this.fenced) return;
    let info: LeaseInfo | undefined;
    try {
      info = await this.opts.store.tryAcquireLease(SCHEDULER_LEASE, this.opts.nodeId, t.leaseTtlMs);
    } catch (err) {
      this.opts.log(`acquiring the scheduler lease failed: ${(err as Error).message}`);
      return;
    }
    if (!info || info.holder !== this.opts.nodeId || this.closed) return;
    const epoch: LeaderEpoch = {
      term: info.term,
      electedAt: info.expiresAt - t.leaseTtlMs,
      leader: this.opts.nodeId,
    };
    this.epoch = epoch;
    this.trustUntil = t0 + t.leaseTtlMs - t.fenceMarginMs;
    this.opts.log(`elected scheduler leader (term ${epoch.term})`);
    this.transition = this.transition.then(async () => {
      if (this.epoch !== epoch) return;
      try {
        const s = await this.opts.onElected(epoch);
        if (this.epoch === epoch) this.session = s;
        else await s.stop();
      } catch (err) {
        this.opts.log(`starting the scheduler failed: ${(err as Error).stack ?? String(err)}`);
        if (this.epoch === epoch) this.stepDown('the scheduler failed to start', true);
      }
    });
    void this.heartbeat(); // advertise the new epoch right away
  }

  private checkTrust(): void {
    const now = performance.now();
    if (this.epoch && now > this.trustUntil)
      this.stepDown('the scheduler lease could not be renewed within its trust window');
    if (
      !this.fenced &&
      !this.closed &&
      now - this.lastHeartbeatOk > this.timings.nodeTtlMs - this.timings.fenceMarginMs
    ) {
      this.fenced = true;
      this.opts.onFenced(true);
    }
  }

  /** Stop acting as leader now (engine stopped; attempts keep running on their nodes). */
  stepDown(reason: string, release = false): Promise<void> {
    const epoch = this.epoch;
    if (!epoch) return this.transition;
    this.epoch = undefined;
    this.opts.log(`stepping down as scheduler leader: ${reason}`);
    this.transition = this.transition.then(async () => {
      const s = this.session;
      this.session = undefined;
      try {
        await s?.stop();
      } catch (err) {
        this.opts.log(`stopping the scheduler failed: ${String(err)}`);
      }
      if (release)
        await this.opts.store.releaseLease(SCHEDULER_LEASE, this.opts.nodeId, epoch.term).catch(() => false);
    });
    void this.heartbeat();
    return this.transition;
  }

  /** Graceful stop: give up leadership (released at once so another node takes over) and membership. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.stepDown('shutting down', true);
    this.closed = true;
    if (this.hbTimer) clearInterval(this.hbTimer);
    if (this.electTimer) clearTimeout(this.electTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    await this.heartbeating?.catch(() => undefined);
  }

  /** Mark this node dead right away (lease 0), so the leader ends its attempts without waiting. */
  async leave(): Promise<void> {
    await this.opts.store
      .heartbeatNode({
        nodeId: this.opts.nodeId,
        startedAt: this.opts.startedAt,
        heartbeatAt: 0,
        leaseUntil: 0,
        url: this.url,
        meta: { boot: this.opts.boot, left: true },
      })
      .catch(() => undefined);
  }
}
