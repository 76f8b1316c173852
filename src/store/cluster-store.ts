/**
 * @module store/cluster-store
 * Optional extensions of the store port for several server nodes sharing one database. A store that
 * has `capabilities.multipleWriters` implements them (the PostgreSQL store does); single-node stores
 * don't need them. Callers feature-test with `isClusterStore(store)`; no code outside `store/` asks which
 * adapter it has.
 *
 * Clock rule: every time these methods compare or return (lease expiry, node heartbeats, `now()`) is the
 * DATABASE clock in epoch ms. Nodes compare node leases against `store.now()`, never `Date.now()`.
 */
import type { JobRow, JobUpdate, Store } from './store.js';

/** A lease the writer must still hold (same holder, same term, unexpired) for its write to commit. */
export interface LeaseFence {
  readonly name: string;
  readonly holder: string;
  readonly term: string;
}

/** The fenced write was refused: the caller no longer holds the lease (expired, or another term). */
export class LeaseLostError extends Error {
  constructor(
    readonly fence: LeaseFence,
    options?: { cause?: unknown },
  ) {
    super(`lease ${fence.name} is no longer held by ${fence.holder} with term ${fence.term}`, options);
    this.name = 'LeaseLostError';
  }
}

export interface ClaimJobsQuery {
  statuses: readonly string[];
  jobQueueArn?: string;
  limit: number;
}

export interface ClusterStore extends Store {
  /** Current time on the database clock (epoch ms). */
  now?(): Promise<number>;
  /**
   * `updateJobs` that commits only if `fence` is still held: the lease check and the CAS updates run in
   * one transaction, and the lease row is share-locked so no one can take it over mid-write. Throws
   * LeaseLostError (nothing written) or VersionConflictError (nothing written).
   */
  updateJobsFenced?(updates: readonly JobUpdate[], fence: LeaseFence): Promise<void>;
  /**
   * Claim work without double-starts: locks up to `limit` jobs in `statuses` (oldest first), skipping jobs
   * another node is claiming right now (FOR UPDATE SKIP LOCKED), passes them to `decide`, and writes the
   * rows it returns as CAS updates against the locked versions, all in one short transaction. Rows
   * `decide` leaves out are released untouched. Returns the rows written.
   */
  claimJobs?(
    query: ClaimJobsQuery,
    decide: (locked: JobRow[]) => JobRow[] | Promise<JobRow[]>,
  ): Promise<JobRow[]>;
  /**
   * Wake-ups between nodes (a latency optimisation only: keep polling as the correctness path).
   * Channels are scoped to this store's database/schema; payloads are small ids (< 8,000 bytes).
   * Debounce on the sending side: NOTIFY serialises commits (reference B.2, −38% at 8 clients).
   */
  notify?(channel: string, payload?: string): Promise<void>;
  /** Subscribe on a dedicated connection (reconnects with backoff). Returns an unsubscribe function. */
  listen?(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  /** Give up a lease now (graceful shutdown) so another node takes over without waiting for expiry. */
  releaseLease?(name: string, holder: string, term: string): Promise<boolean>;
}

export type FullClusterStore = Store &
  Required<Pick<ClusterStore, 'now' | 'updateJobsFenced' | 'claimJobs' | 'releaseLease'>>;

export function isClusterStore(store: Store): store is FullClusterStore {
  const s = store as ClusterStore;
  return (
    store.capabilities.multipleWriters &&
    typeof s.now === 'function' &&
    typeof s.updateJobsFenced === 'function' &&
    typeof s.claimJobs === 'function' &&
    typeof s.releaseLease === 'function'
  );
}
