/**
 * @module store/store
 * The persistence port. The domain talks to storage only through this interface; the SQLite
 * adapter (`store/sqlite/`) is the default and a PostgreSQL adapter implements the same contract.
 * Every mutation of a versioned record is a compare-and-set on `version`.
 */

/** Control-plane resource kinds kept as versioned documents. */
export type ResourceKind =
  | 'compute-environment'
  | 'job-queue'
  | 'job-definition'
  | 'scheduling-policy'
  | 'consumable-resource'
  | 'service-environment'
  | 'quota-share'
  | 'service-job'
  | 'stack'
  | 'idempotency';

export interface ResourceRecord<T = unknown> {
  readonly kind: ResourceKind;
  /** Unique key within the kind: the name, or `name:revision` for job definitions. */
  readonly key: string;
  readonly arn: string;
  readonly data: T;
  /** Incremented by every write; used for compare-and-set. */
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ListResourcesQuery {
  /** Only keys starting with this prefix. */
  keyPrefix?: string;
  /** Exclusive lower bound on key (for pagination). */
  afterKey?: string;
  limit: number;
}

/** A job row. `data` is the full job document; the other fields are indexed copies. */
export interface JobRow {
  readonly jobId: string;
  readonly jobQueueArn: string;
  readonly status: string;
  readonly jobName: string;
  readonly jobDefinitionArn: string;
  readonly parentId: string | null;
  readonly shareIdentifier: string | null;
  readonly createdAt: number;
  readonly version: number;
  readonly data: string;
}

export interface ListJobsQuery {
  jobQueueArn?: string;
  parentId?: string;
  /** Status to match; omitted = any status. */
  statuses?: readonly string[];
  /** Case-insensitive name; trailing `*` is a prefix match. */
  jobName?: string;
  /** Exact job definition ARN, or `name` which matches every revision (`arn:...:job-definition/name:*`). */
  jobDefinitionArn?: string;
  jobDefinitionArnPrefix?: string;
  createdBefore?: number;
  createdAfter?: number;
  shareIdentifier?: string;
  /** Sort: 'createdDesc' (AWS filter order) or 'createdAsc'. */
  order: 'createdDesc' | 'createdAsc';
  /** Opaque cursor from a previous page: [createdAt, jobId]. */
  after?: readonly [number, string];
  limit: number;
}

export interface JobUpdate {
  row: JobRow;
  /** The version the writer read; the write fails if the stored version differs. */
  expectedVersion: number;
}

export interface LeaseInfo {
  holder: string;
  term: string;
  expiresAt: number;
}

export interface NodeInfo {
  nodeId: string;
  startedAt: number;
  heartbeatAt: number;
  leaseUntil: number;
  url?: string;
  meta?: Record<string, unknown>;
}

export interface StoreCapabilities {
  readonly skipLocked: boolean;
  readonly listenNotify: boolean;
  readonly transactionalDdl: boolean;
  /** Several server processes may share this store. */
  readonly multipleWriters: boolean;
}

export interface Store {
  readonly capabilities: StoreCapabilities;

  // --- control-plane resources -------------------------------------------------------------
  getResource<T>(kind: ResourceKind, key: string): Promise<ResourceRecord<T> | undefined>;
  getResourceByArn<T>(kind: ResourceKind, arn: string): Promise<ResourceRecord<T> | undefined>;
  listResources<T>(kind: ResourceKind, query: ListResourcesQuery): Promise<ResourceRecord<T>[]>;
  countResources(kind: ResourceKind): Promise<number>;
  /**
   * Create or replace. `expectedVersion` null = must not exist; a number = must match the stored
   * version. Throws VersionConflictError (or ConflictError for create-on-existing). Returns the new record.
   */
  putResource<T>(
    kind: ResourceKind,
    key: string,
    arn: string,
    data: T,
    expectedVersion: number | null,
  ): Promise<ResourceRecord<T>>;
  deleteResource(kind: ResourceKind, key: string, expectedVersion?: number): Promise<boolean>;
  /** Next job-definition revision for a name (monotonic, never reused). */
  nextRevision(name: string): Promise<number>;

  // --- jobs ----------------------------------------------------------------------------------
  insertJobs(rows: readonly JobRow[]): Promise<void>;
  /** Apply several CAS updates in one transaction; all or nothing. */
  updateJobs(updates: readonly JobUpdate[]): Promise<void>;
  getJobs(ids: readonly string[]): Promise<JobRow[]>;
  /** Every job that is not SUCCEEDED or FAILED. Used to rebuild the in-memory state at start. */
  loadActiveJobs(): Promise<JobRow[]>;
  listJobs(query: ListJobsQuery): Promise<JobRow[]>;
  countJobs(): Promise<number>;
  /** Remove terminal jobs created before `before` (retention). Returns how many were removed. */
  purgeJobs(before: number, limit: number): Promise<number>;

  // --- cluster (used by multi-node stores; single-node stores keep them in one process) --------
  tryAcquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseInfo | undefined>;
  renewLease(name: string, holder: string, term: string, ttlMs: number): Promise<boolean>;
  heartbeatNode(node: NodeInfo): Promise<void>;
  listNodes(): Promise<NodeInfo[]>;

  close(): Promise<void>;
}
