/**
 * @module core/jobs/job
 * The job document openbatch stores. Its wire fields are AWS's JobDetail; `x` holds openbatch's
 * own bookkeeping (never sent on the wire).
 */
import type { RetryStrategy } from '../job-definitions/job-definition.js';
import type { JobStatus } from './job-status.js';

export interface JobDependency {
  jobId?: string;
  type?: 'N_TO_N' | 'SEQUENTIAL';
}

export interface AttemptContainerDetail {
  containerInstanceArn?: string;
  taskArn?: string;
  exitCode?: number;
  reason?: string;
  logStreamName?: string;
  networkInterfaces: unknown[];
}

export interface AttemptDetail {
  container: AttemptContainerDetail;
  startedAt?: number;
  stoppedAt?: number;
  statusReason: string;
}

export interface Requirements {
  vcpus: number;
  memoryMiB: number;
  gpus: number;
}

export interface ConsumableNeed {
  /** Consumable resource ARN. */
  arn: string;
  quantity: number;
}

/** How the current attempt is being ended, when the engine asked for it. */
export type StopKind = 'terminate' | 'timeout' | 'interrupt' | 'queueDeleted';

export interface JobInternal {
  /** Number of the current (or last) attempt, 1-based; 0 before the first. */
  attempt: number;
  req: Requirements;
  consumables: ConsumableNeed[];
  /** When the job last became RUNNABLE (ms). */
  runnableAt?: number;
  /** Dependencies not yet satisfied (job ids). */
  waitingOn?: string[];
  /** Array child: parent id and index. */
  parentId?: string;
  index?: number;
  /** Current placement. */
  ce?: { arn: string; name: string };
  taskId?: string;
  instanceId?: string;
  gpuIds?: number[];
  executor?: string;
  handle?: Record<string, unknown> & { executor: string };
  /** Time the current attempt entered STARTING. */
  startingAt?: number;
  /** Deadline of the current attempt (ms), from attemptDurationSeconds. */
  deadline?: number;
  stopping?: { kind: StopKind; reason: string; at: number; instanceId?: string };
  logGroup: string;
  /** Stream name prefix: `<prefix>/default/`. */
  logStreamPrefix: string;
  createGroup: boolean;
  /** When statusReason was last set for a blocked RUNNABLE job. */
  blockedSince?: number;
  /** Array parent: counts by status. */
  summary?: Record<string, number>;
  /** Executor-specific extra command prefix etc. (reserved). */
  queueName: string;
  /** FIFO tie-breaker assigned in memory. */
  seq?: number;
  /** Array parent: children created so far (they are spawned in chunks after SubmitJob). */
  spawned?: number;
  /** Array parent loaded after a restart with children still to spawn: skip ones already stored. */
  spawnResumed?: boolean;
  /** Stored form of an array child: fields omitted because they equal the parent's. */
  slim?: string[];
}

export interface JobDoc {
  jobArn: string;
  jobName: string;
  jobId: string;
  jobQueue: string;
  status: JobStatus;
  shareIdentifier?: string;
  schedulingPriority?: number;
  attempts: AttemptDetail[];
  statusReason?: string;
  createdAt: number;
  retryStrategy?: RetryStrategy;
  startedAt?: number;
  stoppedAt?: number;
  dependsOn: JobDependency[];
  jobDefinition: string;
  parameters: Record<string, string>;
  container?: Record<string, unknown>;
  nodeProperties?: Record<string, unknown>;
  arrayProperties?: {
    size?: number;
    index?: number;
    statusSummary?: Record<string, number>;
    statusSummaryLastUpdatedAt?: number;
  };
  timeout?: { attemptDurationSeconds?: number };
  tags: Record<string, string>;
  propagateTags?: boolean;
  platformCapabilities?: string[];
  eksProperties?: Record<string, unknown>;
  ecsProperties?: Record<string, unknown>;
  isCancelled?: boolean;
  isTerminated?: boolean;
  consumableResourceProperties?: Record<string, unknown>;
  x: JobInternal;
}
