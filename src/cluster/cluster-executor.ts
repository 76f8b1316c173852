/**
 * @module cluster/cluster-executor
 * The leader's `process` executor in cluster mode: places each attempt on a live node (fewest running
 * attempts, itself included) and drives that node's agent over HTTP (in-process for itself).
 *
 * Dispatch happens only after the engine has PERSISTED the attempt's handle (the cluster wiring calls
 * `afterWrite()` with every committed fenced write). So a leader that dies between placement and the
 * handle write has started nothing: its successor sees a STARTING attempt without a handle, treats it
 * as lost and retries it, and no process runs twice. A deposed leader cannot dispatch either, because
 * its handle write is fenced by the scheduler lease.
 *
 * `close()` only stops dispatching: attempts keep running on their nodes and the next leader adopts
 * them through `recover()`.
 */
import type {
  AttemptHandle,
  AttemptSpec,
  Executor,
  ExecutorEvents,
  ExitOutcome,
  RecoveredAttempt,
} from '../executors/executor.js';
import type { JobUpdate } from '../store/store.js';
import type { Agent } from './agent.js';
import { postJson, RemoteError, sleep } from './http-json.js';
import {
  AGENT_PREFIX,
  type AgentEvent,
  type AttemptState,
  type LeaderEpoch,
  type RecoverResponse,
  type RemoteHandle,
  type WireSpec,
} from './protocol.js';

export interface LiveNode {
  nodeId: string;
  url: string;
  boot: string;
  accepting: boolean;
}

export interface ClusterExecutorOptions {
  selfId: string;
  epoch: LeaderEpoch;
  events: ExecutorEvents;
  /** Live nodes from the last membership read (database clock). */
  nodes: () => readonly LiveNode[];
  localAgent: Agent;
  /**
   * Whether a job write containing this job (or, without an id, any job write) is in flight. Engine
   * events for a job are held back until its in-flight write has committed and the engine has
   * recorded it: the engine decides what to keep after a write from the job's CURRENT status, so a
   * job that turns terminal while its previous write is in flight would lose its terminal write.
   */
  writing?: (jobId?: string) => boolean;
  warn?: (m: string) => void;
}

interface Pending {
  spec: AttemptSpec;
  handle: RemoteHandle;
}

function jobOf(attemptKey: string): string {
  return attemptKey.slice(0, attemptKey.lastIndexOf('#'));
}

function isRemoteHandle(h: AttemptHandle): h is RemoteHandle {
  return typeof h['node'] === 'string' && typeof h['attemptKey'] === 'string';
}

export class ClusterExecutor implements Executor {
  readonly kind = 'process';
  private readonly pending = new Map<string, Pending>();
  private readonly inflight = new Map<string, Promise<void>>();
  /** attemptKey → node, for attempts placed or adopted by this leader and not yet exited. */
  private readonly placed = new Map<string, string>();
  private readonly perNode = new Map<string, number>();
  private readonly greeted = new Map<string, Promise<void>>();
  private closed = false;
  private rr = 0;
  private readonly held: { jobId: string | undefined; fn: () => void }[] = [];
  /** Nodes that refused connections recently: not picked until then (their lease may not have expired yet). */
  private readonly suspect = new Map<string, number>();
  private readonly warn: (m: string) => void;

  constructor(private readonly opts: ClusterExecutorOptions) {
    this.warn = opts.warn ?? ((m) => process.stderr.write(`openbatch: cluster executor: ${m}\n`));
  }

  /** Run an engine callback now, or once no in-flight write involves its job. */
  emit(jobId: string | undefined, fn: () => void): void {
    const w = this.opts.writing;
    if ((!w || !w(jobId)) && !this.held.some((h) => h.jobId === jobId)) {
      fn();
      return;
    }
    this.held.push({ jobId, fn });
  }

  /** Called after every job write settles (and the engine recorded it). */
  drain(): void {
    if (this.held.length === 0) return;
    const w = this.opts.writing;
    const blocked = new Set<string | undefined>();
    const keep: { jobId: string | undefined; fn: () => void }[] = [];
    for (const h of this.held.splice(0)) {
      if (blocked.has(h.jobId) || (w && w(h.jobId))) {
        blocked.add(h.jobId);
        keep.push(h);
      } else h.fn();
    }
    this.held.push(...keep);
  }

  stats(): Record<string, number> {
    return Object.fromEntries(this.perNode);
  }

  // --- placement -----------------------------------------------------------------------------

  private pick(): LiveNode {
    const now = Date.now();
    const nodes = this.opts
      .nodes()
      .filter((n) => n.accepting && (this.suspect.get(`${n.nodeId}@${n.boot}`) ?? 0) < now);
    if (nodes.length === 0) {
      const self = this.opts.nodes().find((n) => n.nodeId === this.opts.selfId);
      if (self) return self;
      throw new Error('no live cluster node accepts work');
    }
    let best: LiveNode | undefined;
    let bestN = Infinity;
    const off = this.rr++;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[(i + off) % nodes.length]!;
      const c = this.perNode.get(n.nodeId) ?? 0;
      if (c < bestN) {
        best = n;
        bestN = c;
      }
    }
    return best!;
  }

  private track(key: string, node: string): void {
    if (this.placed.has(key)) return;
    this.placed.set(key, node);
    this.perNode.set(node, (this.perNode.get(node) ?? 0) + 1);
  }

  private untrack(key: string): void {
    const node = this.placed.get(key);
    if (node === undefined) return;
    this.placed.delete(key);
    this.perNode.set(node, Math.max(0, (this.perNode.get(node) ?? 1) - 1));
  }

  async start(spec: AttemptSpec): Promise<AttemptHandle> {
    if (this.closed)
      throw new Error('cluster executor is closed (this node is no longer the scheduler leader)');
    const node = this.pick();
    const handle: RemoteHandle = {
      executor: 'process',
      node: node.nodeId,
      boot: node.boot,
      attemptKey: spec.attemptKey,
    };
    this.pending.set(spec.jobId, { spec, handle });
    this.track(spec.attemptKey, node.nodeId);
    return handle;
  }

  /** Called with every job write that committed under the scheduler lease. */
  afterWrite(updates: readonly JobUpdate[]): void {
    if (this.pending.size === 0 || this.closed) return;
    for (const u of updates) {
      const p = this.pending.get(u.row.jobId);
      if (!p) continue;
      if (u.row.status !== 'STARTING' && u.row.status !== 'RUNNING') {
        this.pending.delete(u.row.jobId);
        this.untrack(p.spec.attemptKey);
        continue;
      }
      const doc = JSON.parse(u.row.data) as { x?: { attempt?: number; handle?: { attemptKey?: unknown } } };
      if (doc.x?.handle?.attemptKey === p.spec.attemptKey) {
        this.pending.delete(u.row.jobId);
        this.dispatch(p);
      } else if (doc.x?.attempt !== undefined && doc.x.attempt !== p.spec.attempt) {
        this.pending.delete(u.row.jobId);
        this.untrack(p.spec.attemptKey);
      }
    }
  }

  private node(id: string): LiveNode | undefined {
    return this.opts.nodes().find((n) => n.nodeId === id);
  }

  private dispatch(p: Pending): void {
    const key = p.spec.attemptKey;
    const { log, ...rest } = p.spec;
    const wire: WireSpec = { ...rest, log: { group: log.group, stream: log.stream } };
    const run = (async () => {
      for (let attempt = 0; ; attempt++) {
        const n = this.node(p.handle.node);
        if (!n || n.boot !== p.handle.boot) return; // the node died: the membership loop reports the loss
        try {
          await this.hello(n);
          if (n.nodeId === this.opts.selfId)
            await this.opts.localAgent.start({ epoch: this.opts.epoch, spec: wire });
          else await postJson(n.url, `${AGENT_PREFIX}/start`, { epoch: this.opts.epoch, spec: wire }, 15_000);
          return;
        } catch (err) {
          if (!(err instanceof RemoteError)) {
            // Unreachable: keep trying while membership still lists the node; when its lease
            // expires, the leader's membership check ends the attempt as a lost host.
            this.suspect.set(`${n.nodeId}@${n.boot}`, Date.now() + 15_000);
            await sleep(Math.min(1000, 100 * (attempt + 1)));
            continue;
          }
          if (err.code === 'fenced' || err.code === 'stale-leader' || err.code === 'closed' || attempt >= 4) {
            this.lost(key, p.handle.node, `dispatch to ${p.handle.node} failed: ${err.message}`);
            return;
          }
          await sleep(200 * (attempt + 1));
        }
      }
    })();
    this.inflight.set(key, run);
    void run.finally(() => {
      if (this.inflight.get(key) === run) this.inflight.delete(key);
    });
  }

  private lost(key: string, node: string, reason: string): void {
    this.untrack(key);
    const at = Date.now();
    this.emit(jobOf(key), () => this.opts.events.onExit(key, { kind: 'hostLost', host: node, reason }, at));
  }

  private running(key: string, at: number, host: string): void {
    this.emit(jobOf(key), () => this.opts.events.onRunning(key, at, { host }));
  }

  private exited(key: string, outcome: ExitOutcome, at: number): void {
    this.untrack(key);
    this.emit(jobOf(key), () => this.opts.events.onExit(key, outcome, at));
  }

  /** Greet a node once per leadership: it then follows this epoch and drops attempts this leader doesn't know. */
  private hello(n: LiveNode, keys: string[] = []): Promise<void> {
    const gk = `${n.nodeId}@${n.boot}`;
    let p = this.greeted.get(gk);
    if (!p) {
      p = this.callRecover(n, keys).then((r) => this.applyRecovered(n.nodeId, r));
      this.greeted.set(gk, p);
      p.catch(() => this.greeted.delete(gk));
    }
    return p;
  }

  private callRecover(n: LiveNode, keys: string[]): Promise<RecoverResponse> {
    const req = { epoch: this.opts.epoch, attemptKeys: keys, reconcile: true };
    if (n.nodeId === this.opts.selfId) return this.opts.localAgent.recover(req);
    return postJson<RecoverResponse>(n.url, `${AGENT_PREFIX}/recover`, req, 15_000);
  }

  private applyRecovered(node: string, r: RecoverResponse): void {
    for (const [key, s] of Object.entries(r.attempts)) this.applyState(key, node, s);
  }

  private applyState(key: string, node: string, s: AttemptState): void {
    switch (s.state) {
      case 'running':
        this.track(key, node);
        if (s.runningAt !== undefined) this.running(key, s.runningAt, node);
        break;
      case 'exited':
        if (s.runningAt !== undefined) this.running(key, s.runningAt, node);
        this.exited(key, s.outcome, s.at);
        break;
      case 'unknown':
        this.lost(key, node, `node ${node} does not know the attempt (it restarted or never received it)`);
        break;
    }
  }

  async stop(
    attemptKey: string,
    handle: AttemptHandle,
    opts: { graceMs: number; reason?: string },
  ): Promise<void> {
    const jobId = attemptKey.slice(0, attemptKey.lastIndexOf('#'));
    const p = this.pending.get(jobId);
    if (p && p.spec.attemptKey === attemptKey) {
      // Never dispatched: nothing runs anywhere.
      this.pending.delete(jobId);
      this.untrack(attemptKey);
      const outcome: ExitOutcome = { kind: 'exited', exitCode: 143, signal: 'SIGTERM' };
      setImmediate(() => this.exited(attemptKey, outcome, Date.now()));
      return;
    }
    await this.inflight.get(attemptKey)?.catch(() => undefined);
    if (!isRemoteHandle(handle)) return;
    const n = this.node(handle.node);
    if (!n || n.boot !== handle.boot) return; // the membership loop reports dead nodes
    const req = {
      epoch: this.opts.epoch,
      attemptKey,
      graceMs: opts.graceMs,
      ...(opts.reason ? { reason: opts.reason } : {}),
    };
    const s =
      n.nodeId === this.opts.selfId
        ? await this.opts.localAgent.stop(req)
        : await postJson<AttemptState>(n.url, `${AGENT_PREFIX}/stop`, req, opts.graceMs + 15_000);
    if (s.state === 'unknown')
      this.lost(attemptKey, handle.node, `node ${handle.node} does not know the attempt`);
  }

  async recover(attempts: readonly RecoveredAttempt[]): Promise<void> {
    const byNode = new Map<string, RecoveredAttempt[]>();
    for (const a of attempts) {
      const h = a.handle;
      const node = isRemoteHandle(h) ? h.node : '';
      const list = byNode.get(node) ?? [];
      list.push(a);
      byNode.set(node, list);
    }
    await Promise.all(
      [...byNode].map(async ([nodeId, list]) => {
        const n = nodeId ? this.node(nodeId) : undefined;
        const alive = list.filter((a) => n && isRemoteHandle(a.handle) && a.handle.boot === n.boot);
        for (const a of list)
          if (!alive.includes(a))
            this.lost(a.attemptKey, nodeId || 'unknown', `node ${nodeId || '?'} is gone`);
        if (!n || alive.length === 0) return;
        for (const a of alive) this.track(a.attemptKey, nodeId);
        const keys = alive.map((a) => a.attemptKey);
        let lastErr: unknown;
        for (let i = 0; i < 5; i++) {
          try {
            const p = this.callRecover(n, keys);
            const greeting = p.then(() => undefined);
            greeting.catch(() => undefined);
            this.greeted.set(`${nodeId}@${n.boot}`, greeting);
            const r = await p;
            this.applyRecovered(nodeId, r);
            return;
          } catch (err) {
            this.greeted.delete(`${nodeId}@${n.boot}`);
            lastErr = err;
            if (!(err instanceof RemoteError)) {
              // Unreachable (typically the previous leader's own node, whose lease has not expired yet):
              // don't hold up the takeover. The membership check ends its attempts when the lease
              // expires; if it comes back instead, its agent keeps reporting to us.
              this.suspect.set(`${nodeId}@${n.boot}`, Date.now() + 15_000);
              this.warn(
                `node ${nodeId} is unreachable; its ${keys.length} attempts end when its lease expires`,
              );
              return;
            }
            if (err.code === 'stale-leader') break;
            await sleep(500 * (i + 1));
          }
        }
        this.warn(
          `could not reach node ${nodeId} to recover ${keys.length} attempts: ${String(lastErr)}; treating them as lost`,
        );
        for (const k of keys) this.lost(k, nodeId, `node ${nodeId} did not answer`);
      }),
    );
  }

  /** Greet every live node not greeted yet (drops orphans there). */
  async greetAll(): Promise<void> {
    await Promise.all(this.opts.nodes().map((n) => this.hello(n).catch(() => undefined)));
  }

  /** Events from an agent (HTTP or in-process). */
  acceptEvents(node: string, events: readonly AgentEvent[]): void {
    for (const e of events) {
      if (e.type === 'running') this.running(e.attemptKey, e.at, e.host ?? node);
      else this.exited(e.attemptKey, e.outcome, e.at);
    }
  }

  /** A node died: forget its counters (the engine ends its attempts through loseAttempts). */
  forgetNode(nodeId: string): void {
    for (const [k, n] of this.placed) if (n === nodeId) this.placed.delete(k);
    this.perNode.delete(nodeId);
    for (const k of [...this.greeted.keys()]) if (k.startsWith(`${nodeId}@`)) this.greeted.delete(k);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pending.clear();
    this.held.length = 0;
  }
}
