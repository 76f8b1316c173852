/**
 * @module loops/resource-lifecycle
 * Drives the asynchronous status transitions of control-plane resources, as AWS does:
 *   compute environments / job queues / service environments / quota shares:
 *     CREATING → VALID, UPDATING → VALID, DELETING → (deleted; Describe returns nothing)
 *   service jobs: SUBMITTED → RUNNABLE (openbatch does not run SageMaker jobs)
 * A transition fires `transitionDelayMs` after the write that started it (record `updatedAt`).
 * On start, transitions left half-done by a crash are finished at once. Every write is a
 * compare-and-set, so a concurrent API update (or a second loop on the same store) is harmless.
 * Resources never become INVALID: roles, subnets and security groups are not checked.
 */
import type { Clock } from '../core/clock.js';
import { VersionConflictError } from '../core/errors.js';
import type { EventBus } from '../core/events.js';
import type { ResourceKind, ResourceRecord, Store } from '../store/store.js';

export interface ResourceLifecycleDeps {
  store: Store;
  events: EventBus;
  clock: Clock;
}

export interface ResourceLifecycleOptions {
  /** Delay of CREATING→VALID, UPDATING→VALID and DELETING→gone. Default 50 ms. */
  transitionDelayMs?: number;
}

export interface ResourceLifecycle {
  stop(): Promise<void>;
}

type Step = { to: string; statusReason?: string } | 'delete';

/** The one transition table of resource statuses (house style rule 8). */
const TRANSITIONS: Partial<Record<ResourceKind, Readonly<Record<string, Step>>>> = {
  'compute-environment': {
    CREATING: { to: 'VALID', statusReason: 'ComputeEnvironment Healthy' },
    UPDATING: { to: 'VALID', statusReason: 'ComputeEnvironment Healthy' },
    DELETING: 'delete',
  },
  'job-queue': {
    CREATING: { to: 'VALID', statusReason: 'JobQueue Healthy' },
    UPDATING: { to: 'VALID', statusReason: 'JobQueue Healthy' },
    DELETING: 'delete',
  },
  'service-environment': {
    CREATING: { to: 'VALID' },
    UPDATING: { to: 'VALID' },
    DELETING: 'delete',
  },
  'quota-share': {
    CREATING: { to: 'VALID' },
    UPDATING: { to: 'VALID' },
    DELETING: 'delete',
  },
  'service-job': {
    SUBMITTED: { to: 'RUNNABLE' },
  },
};

const KINDS = Object.keys(TRANSITIONS) as ResourceKind[];

interface StatusDoc {
  detail: { status?: string; statusReason?: string };
}

function stepFor(kind: ResourceKind, rec: ResourceRecord<StatusDoc>): Step | undefined {
  const status = rec.data?.detail?.status;
  return status === undefined ? undefined : TRANSITIONS[kind]?.[status];
}

class Lifecycle {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly deps: ResourceLifecycleDeps,
    private readonly delayMs: number,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = this.deps.events.on('resource:changed', (e) => {
      if (e.change === 'deleted' || !TRANSITIONS[e.kind]) return;
      this.track(this.check(e.kind, e.key));
    });
    // Crash recovery: finish every transition that was left half-done.
    for (const kind of KINDS) {
      const all = await this.deps.store.listResources<StatusDoc>(kind, { limit: 1_000_000 });
      for (const rec of all) {
        if (stepFor(kind, rec)) this.track(this.apply(kind, rec.key, true));
      }
    }
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Schedule the transition of one record if it is in a transitional status. */
  private async check(kind: ResourceKind, key: string): Promise<void> {
    if (this.stopped) return;
    const rec = await this.deps.store.getResource<StatusDoc>(kind, key);
    if (!rec || !stepFor(kind, rec)) return;
    const wait = Math.max(0, rec.updatedAt + this.delayMs - this.deps.clock.now());
    const id = `${kind}\u0000${key}`;
    const prev = this.timers.get(id);
    if (prev) clearTimeout(prev);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      this.track(this.apply(kind, key, false));
    }, wait);
    timer.unref?.();
    this.timers.set(id, timer);
  }

  private async apply(kind: ResourceKind, key: string, force: boolean): Promise<void> {
    for (let attempt = 0; attempt < 10 && !this.stopped; attempt++) {
      const rec = await this.deps.store.getResource<StatusDoc>(kind, key);
      if (!rec) return;
      const step = stepFor(kind, rec);
      if (!step) return;
      // Written again since the timer was set (e.g. another update): wait for the new due time.
      if (!force && rec.updatedAt + this.delayMs > this.deps.clock.now()) {
        await this.check(kind, key);
        return;
      }
      try {
        if (step === 'delete') {
          if (await this.deps.store.deleteResource(kind, key, rec.version)) {
            this.deps.events.emit('resource:changed', { kind, key, arn: rec.arn, change: 'deleted' });
            return;
          }
          continue; // changed under us: re-read
        }
        const doc = JSON.parse(JSON.stringify(rec.data)) as StatusDoc;
        doc.detail.status = step.to;
        if (step.statusReason !== undefined) doc.detail.statusReason = step.statusReason;
        await this.deps.store.putResource(kind, key, rec.arn, doc, rec.version);
        this.deps.events.emit('resource:changed', { kind, key, arn: rec.arn, change: 'updated' });
        return;
      } catch (err) {
        if (err instanceof VersionConflictError) continue;
        throw err;
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }
}

/** One lifecycle per store: a second start on the same store shares the running one. */
const running = new WeakMap<Store, { lifecycle: Lifecycle; refs: number }>();

export function startResourceLifecycle(
  deps: ResourceLifecycleDeps,
  opts: ResourceLifecycleOptions = {},
): ResourceLifecycle {
  const existing = running.get(deps.store);
  let entry: { lifecycle: Lifecycle; refs: number };
  if (existing) {
    existing.refs++;
    entry = existing;
  } else {
    const lifecycle = new Lifecycle(deps, opts.transitionDelayMs ?? 50);
    entry = { lifecycle, refs: 1 };
    running.set(deps.store, entry);
    lifecycle.start().catch(() => {
      // a failed recovery scan is retried by later events; nothing to surface here
    });
  }
  let stopped = false;
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      entry.refs--;
      if (entry.refs === 0) {
        running.delete(deps.store);
        await entry.lifecycle.stop();
      }
    },
  };
}
