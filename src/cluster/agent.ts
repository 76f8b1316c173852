/**
 * @module cluster/agent
 * The node agent: every cluster node runs attempts the scheduler leader placed on it, with its own
 * local process executor, writing output straight to the shared log store. Progress (running / exit)
 * goes back to whichever node is the leader now, retried with backoff until a leader accepts it.
 *
 * Safety rules:
 *  - Leader epochs: every request carries the leader's (term, electedAt). The agent follows the newest
 *    epoch it has been greeted by (`recover`), and refuses starts/stops from an older one, so a deposed
 *    leader cannot place work after its successor took over.
 *  - Exited attempts are remembered for `retainExitedMs` even after their exit was delivered: a leader
 *    that accepted an exit and died before persisting it is replaced by one whose `recover` learns the
 *    outcome here instead of declaring the attempt lost (which would run it twice).
 *  - Self-fencing: when the node's own heartbeat has not succeeded for (node TTL − margin), the agent
 *    stops every local attempt (reported as a lost host, like the leader will see it) and refuses new
 *    ones until a heartbeat succeeds again.
 */
import fs from 'node:fs';
import path from 'node:path';

import type {
  AttemptHandle,
  AttemptSpec,
  Executor,
  ExecutorEvents,
  ExitOutcome,
} from '../executors/executor.js';
import type { LogSink } from '../logs/log-sink.js';
import { postJson, sleep } from './http-json.js';
import {
  AGENT_PREFIX,
  type AgentEvent,
  type AttemptState,
  type LeaderEpoch,
  type RecoverRequest,
  type RecoverResponse,
  type StartRequest,
  type StopRequest,
} from './protocol.js';

export class AgentRefusal extends Error {
  constructor(
    readonly code: 'stale-leader' | 'fenced' | 'closed',
    message: string,
  ) {
    super(message);
    this.name = 'AgentRefusal';
  }
}

/** The leader side of event delivery when this node is the leader itself (no HTTP hop). */
export interface LocalEventSink {
  acceptEvents(node: string, events: readonly AgentEvent[]): boolean;
}

export interface AgentOptions {
  nodeId: string;
  dataDir: string;
  killGraceMs: number;
  logs: LogSink;
  /** This node's API URL (AWS_ENDPOINT_URL of the payloads). */
  selfUrl: () => string;
  /** The current leader as this node last saw it. */
  leader: () => { nodeId: string; url: string } | undefined;
  /** In-process delivery when this node is the (ready) leader. */
  localLeader: () => LocalEventSink | undefined;
  /** Ask membership to look the leader up again now. */
  refreshLeader: () => void;
  createExecutor: (events: ExecutorEvents) => Executor;
  retainExitedMs?: number;
  warn?: (message: string) => void;
}

interface AgentAttempt {
  key: string;
  started: Promise<void>;
  handle?: AttemptHandle;
  runningAt?: number;
  exit?: { outcome: ExitOutcome; at: number };
  delivered: boolean;
  /** Killed because the node fenced itself or the leader disowned it: report as a lost host. */
  lostReason?: string;
  workDir: string;
}

export class Agent {
  private readonly executor: Executor;
  private readonly attempts = new Map<string, AgentAttempt>();
  private readonly queue: AgentEvent[] = [];
  private epoch: LeaderEpoch | undefined;
  private fenced = false;
  private closed = false;
  private pumping = false;
  private readonly sweeper: NodeJS.Timeout;
  private readonly retainMs: number;
  private readonly warn: (m: string) => void;

  constructor(private readonly opts: AgentOptions) {
    this.retainMs = opts.retainExitedMs ?? 300_000;
    this.warn = opts.warn ?? ((m) => process.stderr.write(`openbatch: agent: ${m}\n`));
    this.executor = opts.createExecutor({
      onRunning: (key, at) => this.onRunning(key, at),
      onExit: (key, outcome, at) => this.onExit(key, outcome, at),
    });
    this.sweeper = setInterval(() => this.sweep(), 10_000);
    this.sweeper.unref();
  }

  get runningCount(): number {
    let n = 0;
    for (const a of this.attempts.values()) if (!a.exit) n++;
    return n;
  }

  get accepting(): boolean {
    return !this.fenced && !this.closed;
  }

  // --- requests from the leader ------------------------------------------------------------

  private checkEpoch(e: LeaderEpoch, greet: boolean): void {
    const cur = this.epoch;
    if (!cur || cur.term === e.term) {
      this.epoch ??= e;
      return;
    }
    if (e.electedAt > cur.electedAt || (greet && e.electedAt === cur.electedAt)) {
      this.epoch = e;
      return;
    }
    throw new AgentRefusal(
      'stale-leader',
      `leader ${e.leader} (term ${e.term}) was superseded by ${cur.leader} (term ${cur.term})`,
    );
  }

  async start(req: StartRequest): Promise<void> {
    if (this.closed) throw new AgentRefusal('closed', `node ${this.opts.nodeId} is shutting down`);
    if (this.fenced)
      throw new AgentRefusal('fenced', `node ${this.opts.nodeId} lost its membership lease and refuses work`);
    this.checkEpoch(req.epoch, false);
    const w = req.spec;
    if (this.attempts.has(w.attemptKey)) return; // a retried dispatch
    const workDir = path.join(this.opts.dataDir, 'work', w.taskId);
    const environment = {
      ...w.environment,
      AWS_ENDPOINT_URL: this.opts.selfUrl(),
      OPENBATCH_NODE_ID: this.opts.nodeId,
    };
    const spec: AttemptSpec = {
      ...w,
      environment,
      workDir,
      log: { group: w.log.group, stream: w.log.stream, sink: this.opts.logs },
    };
    const a: AgentAttempt = { key: w.attemptKey, started: Promise.resolve(), delivered: false, workDir };
    this.attempts.set(a.key, a);
    a.started = (async () => {
      try {
        a.handle = await this.executor.start(spec);
      } catch (err) {
        this.onExit(
          a.key,
          {
            kind: 'failedToStart',
            reason: `CannotStartContainerError: ${(err as Error).message}`.slice(0, 255),
          },
          Date.now(),
        );
      }
    })();
    await a.started;
  }

  async stop(req: StopRequest): Promise<AttemptState> {
    this.checkEpoch(req.epoch, false);
    const a = this.attempts.get(req.attemptKey);
    if (!a) return { state: 'unknown' };
    await a.started;
    if (a.exit) return this.stateOf(a);
    if (a.handle)
      await this.executor.stop(a.key, a.handle, {
        graceMs: req.graceMs,
        ...(req.reason ? { reason: req.reason } : {}),
      });
    return this.stateOf(a);
  }

  async recover(req: RecoverRequest): Promise<RecoverResponse> {
    this.checkEpoch(req.epoch, true);
    const wanted = new Set(req.attemptKeys);
    const out: Record<string, AttemptState> = {};
    for (const key of req.attemptKeys) {
      const a = this.attempts.get(key);
      if (a) await a.started;
      out[key] = a ? this.stateOf(a) : { state: 'unknown' };
    }
    if (req.reconcile) {
      // Attempts the new leader does not know about: their rows moved on (or they were never recorded).
      for (const a of this.attempts.values()) {
        if (wanted.has(a.key) || a.exit) continue;
        a.lostReason = 'the scheduler leader no longer knows this attempt';
        this.warn(`stopping ${a.key}: not known to leader ${req.epoch.leader}`);
        void a.started
          .then(() => (a.handle && !a.exit ? this.executor.stop(a.key, a.handle, { graceMs: 0 }) : undefined))
          .catch(() => undefined);
      }
    }
    return { attempts: out };
  }

  private stateOf(a: AgentAttempt): AttemptState {
    const running = a.runningAt !== undefined ? { runningAt: a.runningAt } : {};
    if (a.exit) return { state: 'exited', ...running, outcome: a.exit.outcome, at: a.exit.at };
    return { state: 'running', ...running };
  }

  // --- local executor events -----------------------------------------------------------------

  private onRunning(key: string, at: number): void {
    const a = this.attempts.get(key);
    if (!a || a.exit || a.runningAt !== undefined) return;
    a.runningAt = at;
    this.enqueue({ type: 'running', attemptKey: key, at, host: this.opts.nodeId });
  }

  private onExit(key: string, outcome: ExitOutcome, at: number): void {
    const a = this.attempts.get(key);
    if (!a || a.exit) return;
    const final: ExitOutcome = a.lostReason
      ? { kind: 'hostLost', host: this.opts.nodeId, reason: a.lostReason }
      : outcome;
    a.exit = { outcome: final, at };
    fs.rm(a.workDir, { recursive: true, force: true }, () => undefined);
    this.enqueue({ type: 'exit', attemptKey: key, at, outcome: final });
  }

  // --- delivery to the leader ----------------------------------------------------------------

  private enqueue(e: AgentEvent): void {
    this.queue.push(e);
    if (!this.pumping) {
      this.pumping = true;
      setImmediate(() => void this.pump().finally(() => (this.pumping = false)));
    }
  }

  private async pump(): Promise<void> {
    let backoff = 50;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, 2000);
      let ok = false;
      try {
        ok = await this.deliver(batch);
      } catch {
        ok = false;
      }
      if (ok) {
        this.queue.splice(0, batch.length);
        for (const e of batch) {
          if (e.type !== 'exit') continue;
          const a = this.attempts.get(e.attemptKey);
          if (a) a.delivered = true;
        }
        backoff = 50;
        continue;
      }
      if (this.closed && backoff >= 800) return;
      this.opts.refreshLeader();
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 2000);
    }
  }

  private async deliver(events: AgentEvent[]): Promise<boolean> {
    const local = this.opts.localLeader();
    if (local) return local.acceptEvents(this.opts.nodeId, events);
    const leader = this.opts.leader();
    if (!leader || leader.nodeId === this.opts.nodeId) return false;
    await postJson(leader.url, `${AGENT_PREFIX}/events`, { node: this.opts.nodeId, events }, 10_000);
    return true;
  }

  // --- fencing, housekeeping -----------------------------------------------------------------

  /** Called by membership: true when the node's own lease can no longer be trusted. */
  setFenced(fenced: boolean): void {
    if (fenced === this.fenced) return;
    this.fenced = fenced;
    if (!fenced) {
      this.warn('membership lease renewed again; accepting work');
      return;
    }
    this.warn('membership lease could not be renewed in time: stopping local attempts and refusing new ones');
    for (const a of this.attempts.values()) {
      if (a.exit) continue;
      a.lostReason = `node ${this.opts.nodeId} lost its membership lease`;
      void a.started
        .then(() =>
          a.handle && !a.exit
            ? this.executor.stop(a.key, a.handle, { graceMs: Math.min(this.opts.killGraceMs, 2000) })
            : undefined,
        )
        .catch(() => undefined);
    }
  }

  private sweep(): void {
    const cutoff = Date.now() - this.retainMs;
    for (const [k, a] of this.attempts)
      if (a.exit && a.delivered && a.exit.at < cutoff) this.attempts.delete(k);
  }

  /** Stop: kill local attempts (reported as lost hosts) and try briefly to deliver what is queued. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    for (const a of this.attempts.values()) if (!a.exit) a.lostReason = `node ${this.opts.nodeId} shut down`;
    await this.executor.close();
    for (const a of this.attempts.values())
      if (!a.exit) this.onExit(a.key, { kind: 'hostLost', host: this.opts.nodeId }, Date.now());
    const deadline = Date.now() + 3000;
    while ((this.queue.length > 0 || this.pumping) && Date.now() < deadline) await sleep(50);
  }
}
