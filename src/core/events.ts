/**
 * @module core/events
 * Every domain event is one entry of this typed map (`noun:verb` keys). Logs, the dashboard's live
 * updates, webhooks and metrics subscribe here.
 */
import type { ResourceKind } from '../store/store.js';

export interface JobStatusChange {
  jobId: string;
  jobName: string;
  jobQueueArn: string;
  from: string | undefined;
  to: string;
  statusReason?: string;
  at: number;
  attempt?: number;
  parentId?: string;
}

export interface DomainEventMap {
  'job:submitted': { jobId: string; jobName: string; jobQueueArn: string; at: number; arraySize?: number };
  'job:statusChanged': JobStatusChange;
  'job:attemptStarted': {
    jobId: string;
    attempt: number;
    taskId: string;
    computeEnvironmentArn: string;
    at: number;
  };
  'job:attemptEnded': {
    jobId: string;
    attempt: number;
    exitCode?: number;
    reason?: string;
    statusReason: string;
    at: number;
  };
  'resource:changed': {
    kind: ResourceKind;
    key: string;
    arn: string;
    change: 'created' | 'updated' | 'deleted';
  };
  'queue:blocked': { jobQueueArn: string; jobId: string; reason: string; at: number };
}

export type DomainEventName = keyof DomainEventMap;
type Listener<K extends DomainEventName> = (payload: DomainEventMap[K]) => void;

export class EventBus {
  private readonly listeners = new Map<DomainEventName, Set<(p: never) => void>>();

  on<K extends DomainEventName>(name: K, fn: Listener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(fn as (p: never) => void);
    return () => set.delete(fn as (p: never) => void);
  }

  emit<K extends DomainEventName>(name: K, payload: DomainEventMap[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const fn of set) {
      try {
        (fn as Listener<K>)(payload);
      } catch {
        // a listener's failure never breaks the emitter
      }
    }
  }

  hasListeners(name: DomainEventName): boolean {
    return (this.listeners.get(name)?.size ?? 0) > 0;
  }
}
