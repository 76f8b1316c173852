/**
 * @module engine/job-engine
 * The job engine: holds every unfinished job in memory, persists each change (compare-and-set on
 * the row version) before acting on it, runs the scheduler (pure `schedule()` → plan → apply),
 * drives executors, and turns their exit outcomes into AWS Batch statuses, retries and reasons.
 *
 * Ordering rule: a transition is written to the store before its side effect happens (an attempt
 * is persisted as STARTING, with its task id, before the executor is asked to start it). After a
 * crash, STARTING/RUNNING attempts are handed to the executor's `recover()`, which either
 * re-adopts them or reports them as lost hosts; lost attempts retry per the job's strategy.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { JobService } from '../api/batch/job-service.js';
import type { RequestContext } from '../api/request-context.js';
import { batchArn, isArn, parseArn, type AccountScope } from '../core/arns.js';
import type { Clock } from '../core/clock.js';
import type { ComputeEnvironmentDoc } from '../core/compute-environments/compute-environment.js';
import { isUsable as isCeUsable } from '../core/compute-environments/compute-environment.js';
import { instanceCapacity } from './capacity.js';
import { LimitExceededError, NotFoundError, ValidationError, invariant } from '../core/errors.js';
import type { EventBus } from '../core/events.js';
import {
  findJobDefinition,
  type JobDefinitionDoc,
  type RetryStrategy,
} from '../core/job-definitions/job-definition.js';
import type { JobQueueDoc } from '../core/job-queues/job-queue.js';
import {
  applyContainerOverrides,
  requirementsOf,
  validateCommand,
  type ContainerOverrides,
} from '../core/jobs/container.js';
import type { AttemptDetail, ConsumableNeed, JobDependency, JobDoc, StopKind } from '../core/jobs/job.js';
import { JobStatus, isTerminal, canTransition, isJobStatus } from '../core/jobs/job-status.js';
import { shouldRetry, validateRetryStrategy } from '../core/jobs/retry-strategy.js';
import { StatusReason, hostTerminated, timeLimitCancelled } from '../core/jobs/status-reasons.js';
import {
  orderCandidates,
  schedule,
  type CandidateJob,
  type ComputeEnvironmentView,
  type FairshareView,
  type QueueView,
} from '../core/scheduler/schedule.js';
import type { Executor, ExecutorEvents, ExitOutcome } from '../executors/executor.js';
import { newJobId, newTaskId } from '../lib/ids.js';
import type { LogSink } from '../logs/log-sink.js';
import type { JobRow, JobUpdate, ListJobsQuery, ResourceRecord, Store } from '../store/store.js';
import { toJobDetail, toJobSummary } from './job-views.js';
import { FairshareUsage } from './fairshare-usage.js';

export interface EngineLogSink extends LogSink {
  /** Whether a group exists (creating it when `create`); optional. */
  ensureGroup?(group: string, create: boolean): Promise<boolean>;
}

export interface JobEngineOptions {
  store: Store;
  clock: Clock;
  events: EventBus;
  logs: EngineLogSink;
  dataDir: string;
  killGraceMs: number;
  host: { vcpus: number; memoryMiB: number; gpus: number };
  defaultExecutor: string;
  schedulerIntervalMs: number;
  verbose?: boolean;
  createExecutors: (events: ExecutorEvents) => Promise<Map<string, Executor>> | Map<string, Executor>;
  /** Scheduler: candidates that don't fit before a queue's turn ends. */
  maxScanPerQueue?: number;
  /**
   * Cluster mode: every job write goes through this instead of `store.updateJobs`, e.g. a write fenced
   * by the scheduler lease (`updateJobsFenced`) so a deposed leader cannot change anything.
   */
  writeJobs?: (updates: readonly JobUpdate[]) => Promise<void>;
  /** Cluster mode: called when a fenced write is refused (the lease is lost); the engine stops acting. */
  onFenceLost?: (err: unknown) => void;
}

interface JobState {
  doc: JobDoc;
  /** Version of the stored row. */
  version: number;
  /** Not yet in the store (inserted on the next flush). */
  isNew?: boolean;
}

const MAX_DEPENDENCIES = 20;
const MAX_SUBMIT_BYTES = 30 * 1024;
const MAX_ARRAY = 10_000;
const DEFAULT_LOG_GROUP = '/aws/batch/job';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

interface RunnableEntry {
  createdAt: number;
  seq: number;
  jobId: string;
}

/** Per-queue FIFO of RUNNABLE jobs: sorted by (createdAt, seq); removals are lazy. */
class RunnableList {
  entries: RunnableEntry[] = [];
  live = 0;
  add(e: RunnableEntry): void {
    const a = this.entries;
    const last = a[a.length - 1];
    if (!last || last.createdAt < e.createdAt || (last.createdAt === e.createdAt && last.seq <= e.seq))
      a.push(e);
    else {
      let lo = 0;
      let hi = a.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const m = a[mid]!;
        if (m.createdAt < e.createdAt || (m.createdAt === e.createdAt && m.seq <= e.seq)) lo = mid + 1;
        else hi = mid;
      }
      a.splice(lo, 0, e);
    }
    this.live++;
  }
}

export class JobEngine implements JobService {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly events: EventBus;
  private readonly logs: EngineLogSink;
  private readonly opts: JobEngineOptions;

  private readonly jobs = new Map<string, JobState>();
  private readonly runnable = new Map<string, RunnableList>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly running = new Set<string>();
  private readonly attemptIndex = new Map<string, string>();
  private readonly ces = new Map<string, ResourceRecord<ComputeEnvironmentDoc>>();
  private readonly queues = new Map<string, ResourceRecord<JobQueueDoc>>();
  private readonly policies = new Map<string, Record<string, unknown>>();
  private readonly consumableTotals = new Map<string, { total: number; type: string }>();
  private readonly used = new Map<
    string,
    { vcpus: number; memoryMiB: number; gpus: number; gpuIds: Set<number> }
  >();
  private readonly consumableUsed = new Map<string, number>();
  private readonly jdCache = new Map<string, ResourceRecord<JobDefinitionDoc>>();
  private readonly fairshare = new FairshareUsage();

  private dirty = new Set<string>();
  private submittedIds: string[] = [];
  private executors = new Map<string, Executor>();
  private seq = 0;
  private cycleScheduled = false;
  private cycleRunning = false;
  private cycleAgain = false;
  private flushChain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private reaper: NodeJS.Timeout | undefined;
  private stopped = false;
  private started = false;
  private endpointUrl = '';
  private readonly unsubscribe: (() => void)[] = [];
  private readonly counters = { submitted: 0, succeeded: 0, failed: 0, attempts: 0 };
  private lastCycleMs = 0;

  constructor(opts: JobEngineOptions) {
    this.opts = opts;
    this.store = opts.store;
    this.clock = opts.clock;
    this.events = opts.events;
    this.logs = opts.logs;
  }

  setEndpointUrl(url: string): void {
    this.endpointUrl = url;
  }

  // ------------------------------------------------------------------------------------------
  // Start / stop
  // ------------------------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.reloadResources();
    this.unsubscribe.push(
      this.events.on('resource:changed', (e) => {
        if (e.kind === 'job-definition') this.jdCache.clear();
        void this.reloadResource(e.kind, e.key).then(() => this.kick());
      }),
    );
    const execEvents: ExecutorEvents = {
      // Timestamps come from the engine's clock so that every time in a job is on one clock.
      onRunning: (key, _at, info) => this.onRunning(key, this.clock.now(), info),
      onExit: (key, outcome, _at) => this.onExit(key, outcome, this.clock.now()),
    };
    this.executors = await this.opts.createExecutors(execEvents);

    // Rebuild in-memory state from the store.
    const rows = await this.store.loadActiveJobs();
    const toRecover = new Map<
      string,
      { attemptKey: string; handle: Record<string, unknown> & { executor: string } }[]
    >();
    const lost: JobState[] = [];
    const resumeSpawn: JobState[] = [];
    const loaded = rows.map((row) => ({ doc: JSON.parse(row.data) as JobDoc, version: row.version }));
    // Parents first, so children can be filled in from them.
    for (const st of loaded) if (st.doc.x.parentId === undefined) this.jobs.set(st.doc.jobId, st);
    for (const st of loaded) if (st.doc.x.parentId !== undefined) this.jobs.set(st.doc.jobId, st);
    await this.hydrate(loaded.map((l) => l.doc));
    for (const st of loaded) st.doc.x.seq = this.seq++;
    // Dependencies that finished before the restart: learn their final status from the store.
    const depIds = new Set<string>();
    for (const st of loaded) {
      const d = st.doc;
      if (d.status !== 'SUBMITTED' && d.status !== 'PENDING') continue;
      for (const id of d.x.waitingOn ?? []) depIds.add(id);
      for (const dep of d.dependsOn) if (dep.jobId) depIds.add(dep.jobId);
      if (d.x.parentId !== undefined && d.x.index !== undefined && d.x.index > 0)
        depIds.add(`${d.x.parentId}:${d.x.index - 1}`);
      for (const dep of d.dependsOn)
        if (dep.type === 'N_TO_N' && dep.jobId && d.x.index !== undefined)
          depIds.add(`${dep.jobId}:${d.x.index}`);
    }
    for (const id of [...depIds]) if (this.jobs.has(id)) depIds.delete(id);
    const depList = [...depIds];
    for (let i = 0; i < depList.length; i += 500) {
      for (const row of await this.store.getJobs(depList.slice(i, i + 500))) {
        if (isTerminal(row.status)) this.terminalStatusCache.set(row.jobId, row.status);
      }
    }
    const resolveAfterLoad: JobState[] = [];
    for (const st of this.jobs.values()) {
      const d = st.doc;
      switch (d.status) {
        case 'SUBMITTED':
          this.submittedIds.push(d.jobId);
          break;
        case 'PENDING':
          if (isArrayParent(d)) {
            if ((d.x.spawned ?? 0) < (d.arrayProperties?.size ?? 0)) {
              d.x.spawnResumed = true;
              resumeSpawn.push(st);
            }
            break;
          }
          resolveAfterLoad.push(st);
          break;
        case 'RUNNABLE':
          this.addRunnable(st);
          break;
        case 'STARTING':
        case 'RUNNING': {
          this.reserve(st);
          const key = attemptKey(d);
          this.attemptIndex.set(key, d.jobId);
          this.running.add(d.jobId);
          const ex = d.x.handle?.executor ?? d.x.executor ?? this.opts.defaultExecutor;
          if (d.x.handle && this.executors.has(ex)) {
            const list = toRecover.get(ex) ?? [];
            list.push({ attemptKey: key, handle: d.x.handle });
            toRecover.set(ex, list);
          } else lost.push(st);
          break;
        }
        default:
          break;
      }
    }
    // PENDING jobs: drop dependencies that succeeded meanwhile, fail those whose dependency failed.
    for (const st of resolveAfterLoad) {
      const d = st.doc;
      if (d.status !== 'PENDING') continue;
      const waits = (d.x.waitingOn ?? []).filter(
        (id) => this.jobs.has(id) || this.terminalStatusCache.get(id) !== 'SUCCEEDED',
      );
      if (waits.some((id) => !this.jobs.has(id) && this.terminalStatusCache.get(id) === 'FAILED')) {
        this.moveToFinal(st, 'FAILED', StatusReason.DEPENDENT_JOB_FAILED);
        continue;
      }
      // A dependency id neither active nor known as finished can only be an array child not spawned yet.
      d.x.waitingOn = waits;
      if (waits.length === 0) {
        delete d.x.waitingOn;
        if (d.x.parentId !== undefined) this.submittedIds.push(d.jobId);
        else this.pendingReady(st);
      } else this.registerWaits(st);
    }
    for (const st of resumeSpawn) {
      void this.spawnChildren(st).catch((err: unknown) => {
        process.stderr.write(`openbatch: creating children of ${st.doc.jobId} failed: ${String(err)}\n`);
      });
    }
    for (const st of lost) {
      this.finishAttempt(
        st,
        { kind: 'hostLost', host: st.doc.x.instanceId ?? os.hostname() },
        this.clock.now(),
      );
    }
    for (const [kind, list] of toRecover) await this.executors.get(kind)!.recover(list);

    this.timer = setInterval(() => this.kick(), this.opts.schedulerIntervalMs);
    this.timer.unref();
    this.reaper = setInterval(() => this.reap(), 250);
    this.reaper.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.reaper) clearInterval(this.reaper);
    for (const u of this.unsubscribe) u();
    await this.flush();
    // Executors kill what still runs; the attempts stay STARTING/RUNNING in the store and are
    // treated as lost hosts (and retried per their strategy) on the next start.
    const execs = [...this.executors.values()];
    this.executors = new Map();
    for (const e of execs) await e.close();
    await this.logs.flush();
  }

  stats(): Record<string, unknown> {
    let runnable = 0;
    for (const l of this.runnable.values()) runnable += l.live;
    return {
      active: this.jobs.size,
      runnable,
      running: this.running.size,
      ...this.counters,
      lastCycleMs: Math.round(this.lastCycleMs * 1000) / 1000,
    };
  }

  // ------------------------------------------------------------------------------------------
  // Resource cache
  // ------------------------------------------------------------------------------------------

  private async reloadResources(): Promise<void> {
    this.ces.clear();
    this.queues.clear();
    for (const r of await this.store.listResources<ComputeEnvironmentDoc>('compute-environment', {
      limit: 100_000,
    })) {
      this.ces.set(r.arn, r);
    }
    for (const r of await this.store.listResources<JobQueueDoc>('job-queue', { limit: 100_000 }))
      this.queues.set(r.arn, r);
    for (const r of await this.store.listResources<Record<string, unknown>>('scheduling-policy', {
      limit: 100_000,
    })) {
      this.policies.set(r.arn, r.data);
    }
    for (const r of await this.store.listResources<Record<string, unknown>>('consumable-resource', {
      limit: 100_000,
    })) {
      this.consumableTotals.set(r.arn, consumableInfo(r.data));
    }
  }

  private async reloadResource(kind: string, key: string): Promise<void> {
    if (
      kind === 'compute-environment' ||
      kind === 'job-queue' ||
      kind === 'scheduling-policy' ||
      kind === 'consumable-resource'
    ) {
      const rec = await this.store.getResource<Record<string, unknown>>(kind, key);
      const map: Map<string, unknown> =
        kind === 'compute-environment'
          ? this.ces
          : kind === 'job-queue'
            ? this.queues
            : kind === 'scheduling-policy'
              ? this.policies
              : this.consumableTotals;
      // Remove entries for this key (the ARN may be unknown once deleted).
      for (const [arn] of map) {
        const name = parseArn(arn)?.resourceId;
        if (name === key) map.delete(arn);
      }
      if (!rec) return;
      if (kind === 'compute-environment')
        this.ces.set(rec.arn, rec as unknown as ResourceRecord<ComputeEnvironmentDoc>);
      else if (kind === 'job-queue') this.queues.set(rec.arn, rec as unknown as ResourceRecord<JobQueueDoc>);
      else if (kind === 'scheduling-policy') this.policies.set(rec.arn, rec.data);
      else this.consumableTotals.set(rec.arn, consumableInfo(rec.data));
    }
  }

  private findQueue(ref: string): ResourceRecord<JobQueueDoc> | undefined {
    if (isArn(ref)) return this.queues.get(ref);
    for (const q of this.queues.values()) if (q.data.detail.jobQueueName === ref) return q;
    return undefined;
  }

  private async jobDefinition(ref: string): Promise<ResourceRecord<JobDefinitionDoc> | undefined> {
    const cached = this.jdCache.get(ref);
    if (cached) return cached;
    const rec = await findJobDefinition(this.store, ref);
    if (rec) this.jdCache.set(ref, rec);
    return rec;
  }

  // ------------------------------------------------------------------------------------------
  // SubmitJob
  // ------------------------------------------------------------------------------------------

  async submitJob(
    input: Record<string, unknown>,
    ctx: RequestContext,
  ): Promise<{ jobArn: string; jobName: string; jobId: string }> {
    if (ctx.bodyBytes > MAX_SUBMIT_BYTES) {
      throw new ValidationError(
        `Error executing request, Exception : SubmitJob request size exceeds the limit of 30 KiB, RequestId: ${ctx.requestId}`,
      );
    }
    const jobName = input.jobName as string;
    if (!NAME_RE.test(jobName)) {
      throw new ValidationError(
        `Error executing request, Exception : Job name should match valid pattern, RequestId: ${ctx.requestId}`,
        'jobName',
      );
    }
    const queueRec = this.findQueue(input.jobQueue as string);
    if (
      !queueRec ||
      queueRec.data.detail.status === 'DELETING' ||
      queueRec.data.detail.status === 'DELETED'
    ) {
      throw new ValidationError(`Job queue ${String(input.jobQueue)} does not exist`, 'jobQueue');
    }
    const queue = queueRec.data.detail;
    if (queue.state !== 'ENABLED') {
      throw new ValidationError(`Job queue ${queue.jobQueueName} is not in ENABLED state`, 'jobQueue');
    }
    const jdRef = input.jobDefinition as string;
    const jdRec = await this.jobDefinition(jdRef);
    if (!jdRec || jdRec.data.detail.status !== 'ACTIVE') {
      throw new ValidationError(
        `JobDefinition ${jdRef} does not exist or is not in ACTIVE status`,
        'jobDefinition',
      );
    }
    const jd = jdRec.data.detail;
    if (jd.type === 'multinode' || !jd.containerProperties) {
      throw new ValidationError(
        `Job definition ${jd.jobDefinitionName} of type ${jd.type}${jd.containerProperties ? '' : ' without containerProperties'} is not supported by openbatch yet (see docs/compatibility.md)`,
        'jobDefinition',
      );
    }

    // Fair share: a policy on the queue requires a share id; FIFO queues refuse one.
    const share = input.shareIdentifier as string | undefined;
    if (queue.schedulingPolicyArn) {
      if (share === undefined) {
        throw new ValidationError(
          `ShareIdentifier is required for job queue ${queue.jobQueueName} with a fair share scheduling policy`,
          'shareIdentifier',
        );
      }
    } else if (share !== undefined) {
      throw new ValidationError(
        `ShareIdentifier is not supported for job queue ${queue.jobQueueName} without a scheduling policy`,
        'shareIdentifier',
      );
    }
    const prioOverride = input.schedulingPriorityOverride as number | undefined;
    if (prioOverride !== undefined && (prioOverride < 0 || prioOverride > 9999)) {
      throw new ValidationError(
        'schedulingPriorityOverride must be between 0 and 9999',
        'schedulingPriorityOverride',
      );
    }

    // Parameters, overrides, container.
    const parameters: Record<string, string> = {
      ...(jd.parameters ?? {}),
      ...((input.parameters as Record<string, string> | undefined) ?? {}),
    };
    const overrides = input.containerOverrides as ContainerOverrides | undefined;
    if (overrides && JSON.stringify(overrides).length > 8192) {
      throw new ValidationError('Container Overrides length must be at most 8192', 'containerOverrides');
    }
    validateCommand(overrides?.command);
    const container = applyContainerOverrides(jd.containerProperties, overrides, parameters);
    const req = requirementsOf(container);
    if (req.vcpus <= 0)
      throw new ValidationError('vCPU requirement must be greater than 0', 'containerOverrides');
    if (
      (container.command as string[]).length === 0 &&
      !(jd.containerProperties.command as string[] | undefined)?.length
    ) {
      // An empty command runs the image's default; the process executor has no image, so it needs one.
      const execKind = this.executorKindForQueue(
        queue.computeEnvironmentOrder.map((o) => o.computeEnvironment),
      );
      if (execKind === 'process') {
        throw new ValidationError(
          'Job has no command: set containerProperties.command or containerOverrides.command',
          'containerOverrides.command',
        );
      }
    }

    // Retry strategy and timeout (SubmitJob values replace the job definition's).
    const retryStrategy = (input.retryStrategy as RetryStrategy | undefined) ?? jd.retryStrategy;
    validateRetryStrategy(input.retryStrategy as RetryStrategy | undefined);
    const timeout = (input.timeout as { attemptDurationSeconds?: number } | undefined) ?? jd.timeout;
    if (
      input.timeout &&
      ((input.timeout as { attemptDurationSeconds?: number }).attemptDurationSeconds ?? 60) < 60
    ) {
      throw new ValidationError('timeout.attemptDurationSeconds must be at least 60 seconds', 'timeout');
    }

    // Tags and propagation.
    const tags = (input.tags as Record<string, string> | undefined) ?? {};
    const propagateTags = (input.propagateTags as boolean | undefined) ?? jd.propagateTags;
    const effectiveTags = propagateTags ? { ...(jd.tags ?? {}), ...tags } : { ...tags };
    if (Object.keys(tags).length > 50) throw new LimitExceededError('A job can have at most 50 tags');

    // Consumable resources.
    const crList =
      (
        input.consumableResourcePropertiesOverride as
          { consumableResourceList?: { consumableResource: string; quantity: number }[] } | undefined
      )?.consumableResourceList ??
      jd.consumableResourceProperties?.consumableResourceList ??
      [];
    const consumables: ConsumableNeed[] = [];
    for (const c of crList) {
      const arn = isArn(c.consumableResource)
        ? c.consumableResource
        : batchArn(ctx, 'consumable-resource', c.consumableResource);
      const known = [...this.consumableTotals.keys()].find(
        (k) => k === arn || parseArn(k)?.resourceId === c.consumableResource,
      );
      if (!known)
        throw new ValidationError(
          `Consumable resource ${c.consumableResource} does not exist`,
          'consumableResourceProperties',
        );
      consumables.push({ arn: known, quantity: c.quantity });
    }

    // Array properties.
    const arraySize = (input.arrayProperties as { size?: number } | undefined)?.size;
    if (
      input.arrayProperties !== undefined &&
      (arraySize === undefined || arraySize < 2 || arraySize > MAX_ARRAY)
    ) {
      throw new ValidationError('Array job size must be between 2 and 10000', 'arrayProperties.size');
    }

    // Dependencies.
    const dependsOn = ((input.dependsOn as JobDependency[] | undefined) ?? []).map((d) => ({ ...d }));
    if (dependsOn.length > MAX_DEPENDENCIES) {
      throw new LimitExceededError(`A job can have at most ${MAX_DEPENDENCIES} dependencies`);
    }
    const depStatus = new Map<string, { status: string; arraySize?: number }>();
    for (const d of dependsOn) {
      if (d.type !== undefined && d.type !== 'N_TO_N' && d.type !== 'SEQUENTIAL') {
        throw new ValidationError(`Invalid dependency type ${String(d.type)}`, 'dependsOn');
      }
      if (d.type === 'SEQUENTIAL') {
        if (arraySize === undefined)
          throw new ValidationError('SEQUENTIAL dependencies are only valid for array jobs', 'dependsOn');
        if (d.jobId !== undefined)
          throw new ValidationError('A SEQUENTIAL dependency must not name a jobId', 'dependsOn');
        continue;
      }
      if (!d.jobId) throw new ValidationError('dependsOn entries need a jobId', 'dependsOn');
      const mem = this.jobs.get(d.jobId);
      if (mem) {
        depStatus.set(d.jobId, {
          status: mem.doc.status,
          ...(mem.doc.arrayProperties?.size !== undefined ? { arraySize: mem.doc.arrayProperties.size } : {}),
        });
      } else {
        const [row] = await this.store.getJobs([d.jobId]);
        if (!row) throw new ValidationError(`Job ${d.jobId} not found (dependsOn)`, 'dependsOn');
        const doc = JSON.parse(row.data) as JobDoc;
        if (isTerminal(row.status)) this.terminalStatusCache.set(d.jobId, row.status);
        depStatus.set(d.jobId, {
          status: row.status,
          ...(doc.arrayProperties?.size !== undefined ? { arraySize: doc.arrayProperties.size } : {}),
        });
      }
      if (d.type === 'N_TO_N') {
        if (arraySize === undefined)
          throw new ValidationError('N_TO_N dependencies are only valid for array jobs', 'dependsOn');
        const s = depStatus.get(d.jobId)!;
        if (s.arraySize !== arraySize) {
          throw new ValidationError(
            `N_TO_N dependency ${d.jobId} must be an array job of the same size (${arraySize})`,
            'dependsOn',
          );
        }
      }
    }

    // Logging.
    const logCfg = container.logConfiguration as
      { logDriver?: string; options?: Record<string, string> } | undefined;
    const logGroup =
      logCfg?.logDriver === 'awslogs' && logCfg.options?.['awslogs-group']
        ? logCfg.options['awslogs-group']
        : DEFAULT_LOG_GROUP;
    const streamPrefix =
      logCfg?.logDriver === 'awslogs' && logCfg.options?.['awslogs-stream-prefix']
        ? logCfg.options['awslogs-stream-prefix']
        : jd.jobDefinitionName.slice(0, 200);
    const createGroup =
      logGroup === DEFAULT_LOG_GROUP || logCfg?.options?.['awslogs-create-group'] === 'true';

    const now = this.clock.now();
    const jobId = newJobId();
    const scope: AccountScope = ctx;
    const schedulingPriority = queue.schedulingPolicyArn
      ? (prioOverride ?? jd.schedulingPriority ?? 0)
      : undefined;
    const parent: JobDoc = {
      jobArn: batchArn(scope, 'job', jobId),
      jobName,
      jobId,
      jobQueue: queue.jobQueueArn,
      status: JobStatus.SUBMITTED,
      ...(share !== undefined ? { shareIdentifier: share } : {}),
      ...(schedulingPriority !== undefined ? { schedulingPriority } : {}),
      attempts: [],
      createdAt: now,
      ...(retryStrategy ? { retryStrategy } : {}),
      dependsOn,
      jobDefinition: jd.jobDefinitionArn,
      parameters,
      container,
      ...(arraySize !== undefined ? { arrayProperties: { size: arraySize } } : {}),
      ...(timeout ? { timeout } : {}),
      tags: effectiveTags,
      propagateTags: propagateTags ?? false,
      platformCapabilities: jd.platformCapabilities ?? ['EC2'],
      ...(consumables.length ? { consumableResourceProperties: { consumableResourceList: crList } } : {}),
      x: {
        attempt: 0,
        req,
        consumables,
        logGroup,
        logStreamPrefix: streamPrefix,
        createGroup,
        queueName: queue.jobQueueName,
      },
    };

    if (arraySize !== undefined) {
      parent.x.summary = {
        SUBMITTED: 0,
        PENDING: arraySize,
        RUNNABLE: 0,
        STARTING: 0,
        RUNNING: 0,
        SUCCEEDED: 0,
        FAILED: 0,
      };
      parent.arrayProperties!.statusSummaryLastUpdatedAt = now;
      // Children are created by the scheduler cycle (see spawnChildren): SubmitJob stays O(1).
      parent.x.spawned = 0;
    }
    await this.insertDurably([this.toRow(parent, 1)]);

    // From here on, no awaits: register in memory atomically.
    parent.x.seq = this.seq++;
    this.jobs.set(jobId, { doc: parent, version: 1 });
    this.submittedIds.push(jobId);
    this.counters.submitted++;
    this.events.emit('job:submitted', {
      jobId,
      jobName,
      jobQueueArn: queue.jobQueueArn,
      at: now,
      ...(arraySize ? { arraySize } : {}),
    });
    this.kick();
    return { jobArn: parent.jobArn, jobName, jobId };
  }

  /**
   * Create an array parent's children (`<parentId>:<i>`, PENDING, createdAt = spawn time) in
   * chunks, each chunk durable before its children are evaluated. Resumable after a crash:
   * `x.spawned` counts children already stored.
   */
  private async spawnChildren(p: JobState): Promise<void> {
    const d = p.doc;
    const size = d.arrayProperties?.size ?? 0;
    const CHUNK = 1000;
    while ((d.x.spawned ?? size) < size && !this.stopped && !isTerminal(d.status)) {
      const from = d.x.spawned!;
      const to = Math.min(size, from + CHUNK);
      const now = this.clock.now();
      const children: JobDoc[] = [];
      const x = { ...d.x };
      delete x.summary;
      delete x.spawned;
      for (let i = from; i < to; i++) {
        children.push({
          ...d,
          jobArn: `${d.jobArn}:${i}`,
          jobId: `${d.jobId}:${i}`,
          status: JobStatus.PENDING,
          createdAt: now,
          arrayProperties: { index: i },
          attempts: [],
          x: { ...x, parentId: d.jobId, index: i },
        });
        const c = children[children.length - 1]!;
        delete c.statusReason;
        delete c.isCancelled;
        delete c.isTerminated;
      }
      const existing = d.x.spawnResumed
        ? new Set((await this.store.getJobs(children.map((c) => c.jobId))).map((r) => r.jobId))
        : undefined;
      const fresh = existing ? children.filter((c) => !existing.has(c.jobId)) : children;
      // Decide each child's first status before storing it (one write per child): RUNNABLE when it
      // waits on nothing, else PENDING on its dependencies.
      const ready: JobDoc[] = [];
      const decideLater: JobDoc[] = [];
      if (d.status === 'PENDING') {
        for (const c of fresh) {
          const waits = this.computeWaitsOf(c);
          if (waits === 'failed') decideLater.push(c);
          else if (waits.length > 0) c.x.waitingOn = waits;
          else {
            c.status = JobStatus.RUNNABLE;
            c.x.runnableAt = now;
            ready.push(c);
          }
        }
      } else decideLater.push(...fresh);
      await this.store.insertJobs(fresh.map((c) => this.toRow(c, 1)));
      if (ready.length && d.x.summary) {
        d.x.summary.PENDING = (d.x.summary.PENDING ?? 0) - ready.length;
        d.x.summary.RUNNABLE = (d.x.summary.RUNNABLE ?? 0) + ready.length;
        d.arrayProperties!.statusSummaryLastUpdatedAt = now;
      }
      for (const c of fresh) {
        c.x.seq = this.seq++;
        const cst: JobState = { doc: c, version: 1 };
        this.jobs.set(c.jobId, cst);
        if (c.status === 'RUNNABLE') this.addRunnable(cst);
        else if (c.x.waitingOn) this.registerWaits(cst);
      }
      for (const c of decideLater) this.submittedIds.push(c.jobId);
      d.x.spawned = to;
      delete d.x.spawnResumed;
      this.markDirty(p);
      await this.flush();
      this.kick();
      if (to < size) await new Promise((r) => setImmediate(r));
    }
  }

  private pendingInserts: { rows: JobRow[]; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private insertScheduled = false;

  /**
   * Group commit: submissions that arrive in the same event-loop turn are inserted in one
   * transaction; each caller's promise resolves once its rows are durable.
   */
  private insertDurably(rows: JobRow[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingInserts.push({ rows, resolve, reject });
      if (this.insertScheduled) return;
      this.insertScheduled = true;
      setImmediate(() => void this.flushInserts());
    });
  }

  private async flushInserts(): Promise<void> {
    this.insertScheduled = false;
    const batch = this.pendingInserts;
    this.pendingInserts = [];
    if (batch.length === 0) return;
    try {
      await this.store.insertJobs(batch.length === 1 ? batch[0]!.rows : batch.flatMap((b) => b.rows));
      for (const b of batch) b.resolve();
    } catch {
      // One bad batch member must not fail the others: retry them one by one.
      for (const b of batch) {
        try {
          await this.store.insertJobs(b.rows);
          b.resolve();
        } catch (err) {
          b.reject(err);
        }
      }
    }
  }

  private executorKindForQueue(ceRefs: readonly string[]): string {
    for (const ref of ceRefs) {
      const ce = this.ces.get(ref);
      if (ce) return ce.data.executor ?? this.opts.defaultExecutor;
    }
    return this.opts.defaultExecutor;
  }

  private toRow(d: JobDoc, version: number): JobRow {
    return {
      ...this.rowKeys(d, version),
      data: JSON.stringify(d.x.parentId !== undefined ? this.slimChild(d) : d),
    };
  }

  /**
   * An array child stores only what differs from its parent; the shared parts (container before
   * the first attempt, parameters, tags, retry strategy...) are filled back in by `hydrate()`.
   */
  private slimChild(d: JobDoc): JobDoc {
    const parent = this.jobs.get(d.x.parentId!)?.doc ?? this.finished.get(d.x.parentId!)?.doc;
    if (!parent) return d;
    const slim: Record<string, unknown> = {};
    const omitted: string[] = [];
    for (const [k, v] of Object.entries(d)) {
      if (SHAREABLE.has(k) && v === (parent as unknown as Record<string, unknown>)[k]) omitted.push(k);
      else slim[k] = v;
    }
    if (omitted.length === 0) return d;
    slim.x = { ...d.x, slim: omitted };
    return slim as unknown as JobDoc;
  }

  /** Fill the shared fields of slim array children from their parents. */
  private async hydrate(docs: JobDoc[]): Promise<JobDoc[]> {
    const need = new Set<string>();
    for (const d of docs)
      if (d.x.slim && d.x.parentId && !this.parentDoc(d.x.parentId)) need.add(d.x.parentId);
    const fetched = new Map<string, JobDoc>();
    if (need.size)
      for (const row of await this.store.getJobs([...need]))
        fetched.set(row.jobId, JSON.parse(row.data) as JobDoc);
    for (const d of docs) {
      if (!d.x.slim || !d.x.parentId) continue;
      const p = this.parentDoc(d.x.parentId) ?? fetched.get(d.x.parentId);
      if (!p) continue;
      for (const k of d.x.slim)
        (d as unknown as Record<string, unknown>)[k] = (p as unknown as Record<string, unknown>)[k];
      delete d.x.slim;
    }
    return docs;
  }

  private parentDoc(id: string): JobDoc | undefined {
    return this.jobs.get(id)?.doc ?? this.finished.get(id)?.doc;
  }

  private rowKeys(d: JobDoc, version: number): Omit<JobRow, 'data'> {
    return {
      jobId: d.jobId,
      jobQueueArn: d.jobQueue,
      status: d.status,
      jobName: d.jobName,
      jobDefinitionArn: d.jobDefinition,
      parentId: d.x.parentId ?? null,
      shareIdentifier: d.shareIdentifier ?? null,
      createdAt: d.createdAt,
      version,
    };
  }

  // ------------------------------------------------------------------------------------------
  // Persistence
  // ------------------------------------------------------------------------------------------

  private markDirty(st: JobState): void {
    this.dirty.add(st.doc.jobId);
  }

  /** Write every dirty job (one transaction, compare-and-set on version). */
  flush(): Promise<void> {
    const next = this.flushChain.then(async () => {
      if (this.dirty.size === 0) return;
      const ids = [...this.dirty];
      this.dirty.clear();
      const updates = [];
      // The status each row was written with: the document may move on while the write is in flight.
      const written: { st: JobState; status: string }[] = [];
      for (const id of ids) {
        const st = this.jobs.get(id) ?? this.finished.get(id);
        if (!st) continue;
        updates.push({ row: this.toRow(st.doc, st.version + 1), expectedVersion: st.version });
        written.push({ st, status: st.doc.status });
      }
      if (updates.length === 0) return;
      try {
        if (this.opts.writeJobs) await this.opts.writeJobs(updates);
        else await this.store.updateJobs(updates);
      } catch (err) {
        // Keep them dirty: the next flush retries the write.
        for (const w of written) this.dirty.add(w.st.doc.jobId);
        if (this.opts.onFenceLost && (err as { name?: string }).name === 'LeaseLostError') {
          this.stopped = true;
          this.opts.onFenceLost(err);
        }
        throw err;
      }
      for (const w of written) {
        w.st.version++;
        // Leave memory only once the terminal state itself is stored and nothing newer is pending.
        if (isTerminal(w.status) && !this.dirty.has(w.st.doc.jobId)) this.finished.delete(w.st.doc.jobId);
      }
    });
    this.flushChain = next.catch((err: unknown) => {
      process.stderr.write(`openbatch: failed to persist job changes: ${String(err)}\n`);
    });
    return next;
  }

  /** Terminal jobs waiting for their final write before leaving memory. */
  private readonly finished = new Map<string, JobState>();

  // ------------------------------------------------------------------------------------------
  // Transitions (the only places that change status)
  // ------------------------------------------------------------------------------------------

  private setStatus(st: JobState, to: JobStatus, reason?: string): void {
    const d = st.doc;
    const from = d.status;
    invariant(
      canTransition(from, to),
      `[OBATCH-2001] illegal job transition ${from} -> ${to} for ${d.jobId}`,
    );
    d.status = to;
    if (reason !== undefined) d.statusReason = reason;
    this.markDirty(st);
    const now = this.clock.now();
    if (d.x.parentId !== undefined) this.updateParentSummary(d.x.parentId, from, to, now);
    this.events.emit('job:statusChanged', {
      jobId: d.jobId,
      jobName: d.jobName,
      jobQueueArn: d.jobQueue,
      from,
      to,
      ...(d.statusReason !== undefined ? { statusReason: d.statusReason } : {}),
      at: now,
      attempt: d.x.attempt,
      ...(d.x.parentId !== undefined ? { parentId: d.x.parentId } : {}),
    });
    if (this.opts.verbose)
      process.stderr.write(`job ${d.jobId} ${from} -> ${to}${reason ? ` (${reason})` : ''}\n`);
  }

  private moveToRunnable(st: JobState): void {
    this.setStatus(st, JobStatus.RUNNABLE);
    st.doc.x.runnableAt = this.clock.now();
    this.addRunnable(st);
  }

  private addRunnable(st: JobState): void {
    const q = st.doc.jobQueue;
    let list = this.runnable.get(q);
    if (!list) this.runnable.set(q, (list = new RunnableList()));
    list.add({ createdAt: st.doc.createdAt, seq: st.doc.x.seq ?? 0, jobId: st.doc.jobId });
  }

  private removeRunnable(st: JobState): void {
    const list = this.runnable.get(st.doc.jobQueue);
    if (list) list.live--;
  }

  /** Terminal transition: release everything, notify dependents and the array parent. */
  private moveToFinal(st: JobState, to: 'SUCCEEDED' | 'FAILED', reason: string | undefined): void {
    const d = st.doc;
    if (d.status === 'RUNNABLE') this.removeRunnable(st);
    const now = this.clock.now();
    this.setStatus(st, to, reason);
    d.stoppedAt = now;
    delete d.x.waitingOn;
    this.running.delete(d.jobId);
    if (to === 'SUCCEEDED') this.counters.succeeded++;
    else this.counters.failed++;
    this.jobs.delete(d.jobId);
    this.finished.set(d.jobId, st);
    this.terminalStatusCache.set(d.jobId, to);
    this.resolveDependents(d.jobId, to);
  }

  private resolveDependents(jobId: string, outcome: 'SUCCEEDED' | 'FAILED'): void {
    const deps = this.dependents.get(jobId);
    if (!deps) return;
    this.dependents.delete(jobId);
    for (const depId of deps) {
      const dst = this.jobs.get(depId);
      if (!dst || isTerminal(dst.doc.status)) continue;
      if (outcome === 'FAILED') {
        this.failPendingTree(dst, StatusReason.DEPENDENT_JOB_FAILED);
        continue;
      }
      const w = dst.doc.x.waitingOn;
      if (!w) continue;
      const i = w.indexOf(jobId);
      if (i >= 0) w.splice(i, 1);
      this.markDirty(dst);
      if (w.length === 0) {
        delete dst.doc.x.waitingOn;
        if (dst.doc.status === 'PENDING' && !isArrayParent(dst.doc)) this.pendingReady(dst);
      }
    }
  }

  /** A PENDING job whose dependencies are all satisfied. */
  private pendingReady(st: JobState): void {
    this.moveToRunnable(st);
  }

  /** Fail a not-yet-running job (and, for an array parent, all its unfinished children). */
  private failPendingTree(st: JobState, reason: string, flags?: { cancelled?: boolean }): void {
    const d = st.doc;
    if (isTerminal(d.status)) return;
    if (isArrayParent(d)) {
      for (const child of this.childrenOf(d.jobId)) {
        if (child.doc.status === 'STARTING' || child.doc.status === 'RUNNING') continue;
        if (flags?.cancelled) child.doc.isCancelled = true;
        this.moveToFinal(child, 'FAILED', reason);
      }
      if (flags?.cancelled) d.isCancelled = true;
      this.abandonUnspawned(st);
      // The parent ends when its last child does (see updateParentSummary).
      d.statusReason = reason;
      this.markDirty(st);
      this.maybeFinishParent(st);
      return;
    }
    if (flags?.cancelled) d.isCancelled = true;
    this.moveToFinal(st, 'FAILED', reason);
  }

  /** Children not created yet of a cancelled/terminated parent are never created: count them FAILED. */
  private abandonUnspawned(p: JobState): void {
    const d = p.doc;
    const size = d.arrayProperties?.size ?? 0;
    const spawned = d.x.spawned ?? size;
    if (spawned >= size || !d.x.summary) return;
    const n = size - spawned;
    d.x.summary.PENDING = (d.x.summary.PENDING ?? n) - n;
    d.x.summary.FAILED = (d.x.summary.FAILED ?? 0) + n;
    d.x.spawned = size;
    this.markDirty(p);
  }

  private childrenOf(parentId: string): JobState[] {
    const parent = this.jobs.get(parentId);
    const size = parent?.doc.arrayProperties?.size ?? 0;
    const out: JobState[] = [];
    for (let i = 0; i < size; i++) {
      const c = this.jobs.get(`${parentId}:${i}`);
      if (c) out.push(c);
    }
    return out;
  }

  private updateParentSummary(parentId: string, from: string, to: string, now: number): void {
    const p = this.jobs.get(parentId);
    if (!p || !p.doc.x.summary) return;
    const s = p.doc.x.summary;
    s[from] = (s[from] ?? 1) - 1;
    s[to] = (s[to] ?? 0) + 1;
    p.doc.arrayProperties!.statusSummary = s;
    p.doc.arrayProperties!.statusSummaryLastUpdatedAt = now;
    if (to === 'RUNNING' && p.doc.startedAt === undefined) p.doc.startedAt = now;
    this.markDirty(p);
    if (isTerminal(to)) this.maybeFinishParent(p);
  }

  private maybeFinishParent(p: JobState): void {
    const s = p.doc.x.summary;
    const size = p.doc.arrayProperties?.size ?? 0;
    if (!s || isTerminal(p.doc.status)) return;
    if ((s.SUCCEEDED ?? 0) + (s.FAILED ?? 0) < size) return;
    if (p.doc.status === 'SUBMITTED') this.setStatus(p, JobStatus.PENDING);
    if ((s.FAILED ?? 0) > 0)
      this.moveToFinal(
        p,
        'FAILED',
        p.doc.isCancelled || p.doc.isTerminated ? p.doc.statusReason : StatusReason.ARRAY_CHILD_FAILED,
      );
    else this.moveToFinal(p, 'SUCCEEDED', undefined);
  }

  // ------------------------------------------------------------------------------------------
  // The scheduling cycle
  // ------------------------------------------------------------------------------------------

  /** Ask for a cycle soon (coalesced). */
  kick(): void {
    if (this.stopped) return;
    if (this.cycleRunning) {
      this.cycleAgain = true;
      return;
    }
    if (this.cycleScheduled) return;
    this.cycleScheduled = true;
    setImmediate(() => {
      this.cycleScheduled = false;
      void this.cycle();
    });
  }

  private async cycle(): Promise<void> {
    if (this.stopped || this.cycleRunning) return;
    this.cycleRunning = true;
    try {
      const t0 = performance.now();
      // Phase 1: evaluate newly submitted jobs.
      this.evaluateSubmitted();
      // Phase 2: time-limit actions on stuck RUNNABLE jobs.
      this.applyTimeLimitActions();
      // Phase 3: plan.
      const snapshot = this.snapshot();
      const plan = schedule(snapshot, { maxScanPerQueue: this.opts.maxScanPerQueue ?? 200 });
      // Phase 4: apply the plan in memory (RUNNABLE → STARTING, capacity reserved).
      const now = this.clock.now();
      for (const b of plan.blocked) {
        const st = this.jobs.get(b.jobId);
        if (!st || st.doc.status !== 'RUNNABLE') continue;
        st.doc.statusReason = b.reason;
        st.doc.x.blockedSince = now;
        this.markDirty(st);
        this.events.emit('queue:blocked', {
          jobQueueArn: st.doc.jobQueue,
          jobId: st.doc.jobId,
          reason: b.reason,
          at: now,
        });
      }
      const toStart: JobState[] = [];
      for (const p of plan.placements) {
        const st = this.jobs.get(p.jobId);
        if (!st || st.doc.status !== 'RUNNABLE') continue;
        this.placeAttempt(st, p.computeEnvironmentArn, p.gpuIds, now);
        toStart.push(st);
      }
      this.lastCycleMs = performance.now() - t0;
      // Phase 5: persist, then act.
      await this.flush();
      for (const st of toStart) void this.startAttempt(st);
    } catch (err) {
      process.stderr.write(
        `openbatch: scheduler cycle failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    } finally {
      this.cycleRunning = false;
      if (this.cycleAgain) {
        this.cycleAgain = false;
        this.kick();
      }
    }
  }

  private evaluateSubmitted(): void {
    if (this.submittedIds.length === 0) return;
    const ids = this.submittedIds;
    this.submittedIds = [];
    for (const id of ids) {
      const st = this.jobs.get(id);
      if (!st) continue;
      const d = st.doc;
      if (d.status === 'SUBMITTED') {
        if (isArrayParent(d)) {
          this.setStatus(st, JobStatus.PENDING);
          void this.spawnChildren(st).catch((err: unknown) => {
            process.stderr.write(`openbatch: creating children of ${d.jobId} failed: ${String(err)}\n`);
          });
          continue;
        }
        const waits = this.computeWaits(st);
        if (waits === 'failed') {
          this.moveToFinal(st, 'FAILED', StatusReason.DEPENDENT_JOB_FAILED);
          continue;
        }
        if (waits.length > 0) {
          this.setStatus(st, JobStatus.PENDING);
          d.x.waitingOn = waits;
          this.registerWaits(st);
        } else this.moveToRunnable(st);
      } else if (d.status === 'PENDING' && d.x.parentId !== undefined) {
        // Array child: starts PENDING; becomes RUNNABLE once its dependencies are met.
        const waits = this.computeWaits(st);
        if (waits === 'failed') {
          this.moveToFinal(st, 'FAILED', StatusReason.DEPENDENT_JOB_FAILED);
          continue;
        }
        if (waits.length > 0) {
          d.x.waitingOn = waits;
          this.registerWaits(st);
        } else this.pendingReady(st);
      }
    }
  }

  /** Dependencies still outstanding, or 'failed' when one already failed. */
  private computeWaits(st: JobState): string[] | 'failed' {
    return this.computeWaitsOf(st.doc);
  }

  private computeWaitsOf(d: JobDoc): string[] | 'failed' {
    const ids = new Set<string>();
    const parentDeps =
      d.x.parentId !== undefined ? (this.jobs.get(d.x.parentId)?.doc.dependsOn ?? d.dependsOn) : d.dependsOn;
    for (const dep of parentDeps) {
      if (dep.type === 'SEQUENTIAL') {
        if (d.x.index !== undefined && d.x.index > 0) ids.add(`${d.x.parentId}:${d.x.index - 1}`);
      } else if (dep.type === 'N_TO_N') {
        if (d.x.index !== undefined && dep.jobId) ids.add(`${dep.jobId}:${d.x.index}`);
      } else if (dep.jobId) ids.add(dep.jobId);
    }
    const waits: string[] = [];
    for (const id of ids) {
      if (this.jobs.has(id)) {
        waits.push(id);
        continue;
      }
      const status = this.finished.get(id)?.doc.status ?? this.terminalStatusCache.get(id);
      if (status === 'FAILED') return 'failed';
      if (status === 'SUCCEEDED') continue;
      // An array child that its (active) parent has not created yet: wait for it.
      const colon = id.lastIndexOf(':');
      if (colon > 0 && this.jobs.has(id.slice(0, colon))) waits.push(id);
    }
    return waits;
  }

  /** Final statuses of jobs that left memory (bounded), for dependency checks. */
  private readonly terminalStatusCache = new Map<string, string>();

  private registerWaits(st: JobState): void {
    for (const id of st.doc.x.waitingOn ?? []) {
      let set = this.dependents.get(id);
      if (!set) this.dependents.set(id, (set = new Set()));
      set.add(st.doc.jobId);
    }
  }

  private snapshot(): {
    queues: QueueView[];
    computeEnvironments: Map<string, ComputeEnvironmentView>;
    consumables: Map<string, number>;
  } {
    const now = this.clock.now();
    const ceViews = new Map<string, ComputeEnvironmentView>();
    for (const [arn, rec] of this.ces) {
      const cap = this.capacityOf(rec.data);
      const used = this.used.get(arn) ?? { vcpus: 0, memoryMiB: 0, gpus: 0, gpuIds: new Set<number>() };
      const freeGpuIds: number[] = [];
      for (let i = 0; i < cap.total.gpus; i++) if (!used.gpuIds.has(i)) freeGpuIds.push(i);
      ceViews.set(arn, {
        arn,
        name: rec.data.detail.computeEnvironmentName,
        usable: isCeUsable(rec.data.detail),
        total: cap.total,
        used: { vcpus: used.vcpus, memoryMiB: used.memoryMiB, gpus: used.gpus },
        maxJob: cap.maxJob,
        ...(cap.shapes ? { shapes: cap.shapes } : {}),
        freeGpuIds,
      });
    }
    const queues: QueueView[] = [];
    for (const [arn, rec] of this.queues) {
      const q = rec.data.detail;
      const list = this.runnable.get(arn);
      const liveOf = (id: string): JobState | undefined => {
        const st = this.jobs.get(id);
        return st !== undefined && st.doc.status === 'RUNNABLE' && st.doc.jobQueue === arn ? st : undefined;
      };
      // Compact lazily-removed entries when they dominate; drop duplicates left by re-queued jobs.
      if (list && list.entries.length > 2 * list.live + 64) {
        const seen = new Set<string>();
        list.entries = list.entries.filter((e) => {
          if (seen.has(e.jobId) || !liveOf(e.jobId)) return false;
          seen.add(e.jobId);
          return true;
        });
        list.live = list.entries.length;
      }
      const policy = q.schedulingPolicyArn ? this.policies.get(q.schedulingPolicyArn) : undefined;
      let fairshare: FairshareView | undefined;
      let shares: ReadonlyMap<string, Iterable<CandidateJob>> | undefined;
      if (policy) {
        fairshare = this.fairshare.view(arn, policy, now);
        // Per-share lists, kept incrementally and read lazily: a cycle never sorts the queue.
        const index = this.fairshare.indexFor(arn);
        if (list) {
          index.sync(list.entries, (id) => {
            const st = liveOf(id);
            return st
              ? { share: st.doc.shareIdentifier ?? '', priority: st.doc.schedulingPriority ?? 0 }
              : undefined;
          });
        }
        const candidate = (id: string): CandidateJob | undefined => {
          const st = liveOf(id);
          if (!st) return undefined;
          const d = st.doc;
          return {
            jobId: d.jobId,
            req: d.x.req,
            consumables: d.x.consumables,
            ...(d.shareIdentifier !== undefined ? { shareIdentifier: d.shareIdentifier } : {}),
            schedulingPriority: d.schedulingPriority ?? 0,
            createdAt: d.createdAt,
            seq: d.x.seq ?? 0,
            ...(d.statusReason !== undefined ? { statusReason: d.statusReason } : {}),
          };
        };
        shares = index.lists(candidate);
      } else this.fairshare.dropIndex(arn);
      queues.push({
        arn,
        name: q.jobQueueName,
        priority: q.priority,
        usable: q.state === 'ENABLED' && (q.status === 'VALID' || q.status === 'UPDATING'),
        computeEnvironmentArns: [...q.computeEnvironmentOrder]
          .sort((a, b) => a.order - b.order)
          .map((o) => o.computeEnvironment),
        candidates: this.candidatesOf(arn, list, Infinity),
        ...(fairshare ? { fairshare } : {}),
        ...(shares ? { shares } : {}),
      });
    }
    // Available = total − held by STARTING/RUNNING jobs (NON_REPLENISHABLE totals shrink at job end).
    const consumables = new Map<string, number>();
    for (const [arn, info] of this.consumableTotals)
      consumables.set(arn, info.total - (this.consumableUsed.get(arn) ?? 0));
    return { queues, computeEnvironments: ceViews, consumables };
  }

  /** RUNNABLE jobs of a queue in FIFO order, produced lazily (the scheduler stops early). */
  private *candidatesOf(
    queueArn: string,
    list: RunnableList | undefined,
    limit: number,
  ): Generator<CandidateJob> {
    if (!list || list.live <= 0) return;
    // A re-queued job can sit in the list twice until the next compaction (in `snapshot`): yield it once.
    const yielded = new Set<string>();
    for (const e of list.entries) {
      const st = this.jobs.get(e.jobId);
      if (!st || st.doc.status !== 'RUNNABLE' || st.doc.jobQueue !== queueArn || yielded.has(e.jobId))
        continue;
      yielded.add(e.jobId);
      yield {
        jobId: e.jobId,
        req: st.doc.x.req,
        consumables: st.doc.x.consumables,
        ...(st.doc.shareIdentifier !== undefined ? { shareIdentifier: st.doc.shareIdentifier } : {}),
        schedulingPriority: st.doc.schedulingPriority ?? 0,
        createdAt: e.createdAt,
        seq: e.seq,
        ...(st.doc.statusReason !== undefined ? { statusReason: st.doc.statusReason } : {}),
      };
      if (yielded.size >= limit) return;
    }
  }

  private capacityOf(ce: ComputeEnvironmentDoc): ReturnType<typeof instanceCapacity> {
    if (ce.capacity?.source === 'host') {
      // The host environment: the machine's real vCPUs, memory and GPUs (/dev/nvidiaN).
      const total = { vcpus: ce.capacity.vcpus, memoryMiB: ce.capacity.memoryMiB, gpus: ce.capacity.gpus };
      return { total, maxJob: total };
    }
    return instanceCapacity(ce);
  }

  private reserve(st: JobState): void {
    const d = st.doc;
    if (!d.x.ce) return;
    let u = this.used.get(d.x.ce.arn);
    if (!u) this.used.set(d.x.ce.arn, (u = { vcpus: 0, memoryMiB: 0, gpus: 0, gpuIds: new Set() }));
    u.vcpus += d.x.req.vcpus;
    u.memoryMiB += d.x.req.memoryMiB;
    u.gpus += d.x.req.gpus;
    for (const g of d.x.gpuIds ?? []) u.gpuIds.add(g);
    for (const c of d.x.consumables)
      this.consumableUsed.set(c.arn, (this.consumableUsed.get(c.arn) ?? 0) + c.quantity);
    if (d.shareIdentifier !== undefined)
      this.fairshare.started(d.jobQueue, d.shareIdentifier, d.x.req.vcpus, d.startedAt ?? this.clock.now());
  }

  private release(st: JobState): void {
    const d = st.doc;
    if (!d.x.ce) return;
    const u = this.used.get(d.x.ce.arn);
    if (u) {
      u.vcpus -= d.x.req.vcpus;
      u.memoryMiB -= d.x.req.memoryMiB;
      u.gpus -= d.x.req.gpus;
      for (const g of d.x.gpuIds ?? []) u.gpuIds.delete(g);
    }
    for (const c of d.x.consumables) {
      this.consumableUsed.set(c.arn, (this.consumableUsed.get(c.arn) ?? 0) - c.quantity);
      const info = this.consumableTotals.get(c.arn);
      if (info && info.type === 'NON_REPLENISHABLE') {
        // Consumed for good: the total shrinks, in memory now and in the stored resource
        // (compare-and-set, retried), so DescribeConsumableResource shows it too.
        info.total = Math.max(0, info.total - c.quantity);
        const key = parseArn(c.arn)?.resourceId ?? c.arn;
        const store = this.store;
        const events = this.events;
        void (async () => {
          for (let attempt = 0; attempt < 10; attempt++) {
            const rec = await store.getResource<{ detail: { totalQuantity: number } }>(
              'consumable-resource',
              key,
            );
            if (!rec) return;
            const next = {
              ...rec.data,
              detail: {
                ...rec.data.detail,
                totalQuantity: Math.max(0, rec.data.detail.totalQuantity - c.quantity),
              },
            };
            try {
              await store.putResource('consumable-resource', key, rec.arn, next, rec.version);
              events.emit('resource:changed', {
                kind: 'consumable-resource',
                key,
                arn: rec.arn,
                change: 'updated',
              });
              return;
            } catch {
              // version conflict: read again
            }
          }
        })().catch((err: unknown) =>
          process.stderr.write(`openbatch: consuming ${c.arn} failed: ${String(err)}\n`),
        );
      }
    }
    if (d.shareIdentifier !== undefined)
      this.fairshare.stopped(d.jobQueue, d.shareIdentifier, d.x.req.vcpus, this.clock.now());
  }

  private placeAttempt(st: JobState, ceArn: string, gpuIds: number[], now: number): void {
    const d = st.doc;
    const ce = this.ces.get(ceArn)!;
    this.removeRunnable(st);
    d.x.attempt += 1;
    d.x.ce = { arn: ceArn, name: ce.data.detail.computeEnvironmentName };
    d.x.taskId = newTaskId();
    d.x.instanceId = `i-${d.x.taskId.slice(0, 17)}`;
    d.x.gpuIds = gpuIds;
    d.x.startingAt = now;
    d.x.executor = ce.data.executor ?? this.opts.defaultExecutor;
    delete d.x.handle;
    delete d.x.stopping;
    delete d.x.deadline;
    delete d.x.blockedSince;
    if (d.statusReason?.startsWith('MISCONFIGURATION:') || d.statusReason?.startsWith('CAPACITY:'))
      delete d.statusReason;
    const region = parseArn(d.jobArn)?.region ?? 'us-east-1';
    const account = parseArn(d.jobArn)?.accountId ?? '123456789012';
    const cluster = `openbatch-${ce.data.detail.computeEnvironmentName}`;
    // Array children share the parent's container object until they run: copy before writing.
    const c = { ...(d.container as Record<string, unknown>) };
    d.container = c;
    c.taskArn = `arn:aws:ecs:${region}:${account}:task/${cluster}/${d.x.taskId}`;
    c.containerInstanceArn = `arn:aws:ecs:${region}:${account}:container-instance/${cluster}/${d.x.instanceId}`;
    delete c.exitCode;
    delete c.reason;
    delete c.logStreamName;
    this.reserve(st);
    this.setStatus(st, JobStatus.STARTING);
    this.attemptIndex.set(attemptKey(d), d.jobId);
    this.running.add(d.jobId);
    this.counters.attempts++;
  }

  private async startAttempt(st: JobState): Promise<void> {
    const d = st.doc;
    const key = attemptKey(d);
    const kind = d.x.executor ?? this.opts.defaultExecutor;
    const executor = this.executors.get(kind);
    const ceName = d.x.ce!.name;
    if (!executor) {
      this.finishAttempt(
        st,
        {
          kind: 'failedToStart',
          reason: `CannotStartContainerError: no '${kind}' executor is configured on this server`,
        },
        this.clock.now(),
      );
      return;
    }
    if (d.x.createGroup === false && this.logs.ensureGroup) {
      const ok = await this.logs.ensureGroup(d.x.logGroup, false);
      if (!ok) {
        this.finishAttempt(
          st,
          {
            kind: 'failedToStart',
            reason: `ResourceInitializationError: failed to validate logger args: The specified log group does not exist. : ResourceNotFoundException: The specified log group does not exist. (${d.x.logGroup})`,
          },
          this.clock.now(),
        );
        return;
      }
    }
    const workDir = path.join(this.opts.dataDir, 'work', d.x.taskId!);
    const env = this.attemptEnvironment(d, ceName, kind);
    const container = d.container as Record<string, unknown>;
    try {
      const handle = await executor.start({
        attemptKey: key,
        jobId: d.jobId,
        attempt: d.x.attempt,
        taskId: d.x.taskId!,
        computeEnvironment: { name: ceName, arn: d.x.ce!.arn },
        command: container.command as string[],
        environment: env,
        resources: d.x.req,
        ...(d.x.gpuIds && d.x.gpuIds.length ? { gpuIds: d.x.gpuIds } : {}),
        ...(typeof container.image === 'string' ? { image: container.image } : {}),
        container,
        log: { group: d.x.logGroup, stream: `${d.x.logStreamPrefix}/default/${d.x.taskId}`, sink: this.logs },
        workDir,
        ...(d.timeout?.attemptDurationSeconds ? { timeoutSeconds: d.timeout.attemptDurationSeconds } : {}),
      });
      // The attempt may already have ended (fast jobs): only record the handle if it is current.
      if (this.attemptIndex.get(key) === d.jobId && (d.status === 'STARTING' || d.status === 'RUNNING')) {
        d.x.handle = handle;
        this.markDirty(st);
        this.scheduleFlush();
      }
    } catch (err) {
      this.finishAttempt(
        st,
        {
          kind: 'failedToStart',
          reason: `CannotStartContainerError: ${(err as Error).message}`.slice(0, 255),
        },
        this.clock.now(),
      );
    }
  }

  private attemptEnvironment(d: JobDoc, ceName: string, executorKind: string): Record<string, string> {
    const env: Record<string, string> = {};
    if (executorKind === 'process') {
      for (const k of [
        'PATH',
        'HOME',
        'LANG',
        'LC_ALL',
        'TZ',
        'TMPDIR',
        'USER',
        'LOGNAME',
        'SHELL',
        'PYTHONPATH',
        'NODE_PATH',
        'VIRTUAL_ENV',
      ]) {
        const v = process.env[k];
        if (v !== undefined) env[k] = v;
      }
    }
    const region = parseArn(d.jobArn)?.region ?? 'us-east-1';
    if (this.endpointUrl) env.AWS_ENDPOINT_URL = this.endpointUrl;
    env.AWS_REGION = region;
    env.AWS_DEFAULT_REGION = region;
    env.AWS_ACCESS_KEY_ID = 'openbatch';
    env.AWS_SECRET_ACCESS_KEY = 'openbatch';
    for (const e of ((d.container as Record<string, unknown>).environment as
      { name: string; value: string }[] | undefined) ?? []) {
      env[e.name] = e.value;
    }
    env.AWS_BATCH_JOB_ID = d.jobId;
    env.AWS_BATCH_JOB_ATTEMPT = String(d.x.attempt);
    env.AWS_BATCH_JQ_NAME = d.x.queueName;
    env.AWS_BATCH_CE_NAME = ceName;
    if (d.x.index !== undefined && d.x.parentId !== undefined) {
      env.AWS_BATCH_JOB_ARRAY_INDEX = String(d.x.index);
      const size = this.jobs.get(d.x.parentId)?.doc.arrayProperties?.size;
      if (size !== undefined) env.AWS_BATCH_JOB_ARRAY_SIZE = String(size);
    }
    if (d.x.gpuIds && d.x.gpuIds.length > 0) {
      env.CUDA_VISIBLE_DEVICES = d.x.gpuIds.join(',');
      env.NVIDIA_VISIBLE_DEVICES = d.x.gpuIds.join(',');
    }
    return env;
  }

  private flushScheduled = false;
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  // ------------------------------------------------------------------------------------------
  // Executor events
  // ------------------------------------------------------------------------------------------

  private onRunning(key: string, at: number, _info?: { host?: string }): void {
    if (this.stopped) return;
    const id = this.attemptIndex.get(key);
    const st = id ? this.jobs.get(id) : undefined;
    if (!st || st.doc.status !== 'STARTING') return;
    const d = st.doc;
    d.startedAt = at;
    const c = d.container as Record<string, unknown>;
    c.logStreamName = `${d.x.logStreamPrefix}/default/${d.x.taskId}`;
    if (d.timeout?.attemptDurationSeconds) d.x.deadline = at + d.timeout.attemptDurationSeconds * 1000;
    this.setStatus(st, JobStatus.RUNNING);
    this.events.emit('job:attemptStarted', {
      jobId: d.jobId,
      attempt: d.x.attempt,
      taskId: d.x.taskId!,
      computeEnvironmentArn: d.x.ce!.arn,
      at,
    });
    this.scheduleFlush();
  }

  private onExit(key: string, outcome: ExitOutcome, at: number): void {
    // After stop() the attempts stay STARTING/RUNNING in the store; the next start treats them as lost hosts.
    if (this.stopped) return;
    const id = this.attemptIndex.get(key);
    const st = id ? this.jobs.get(id) : undefined;
    if (!st || (st.doc.status !== 'STARTING' && st.doc.status !== 'RUNNING')) return;
    this.attemptIndex.delete(key);
    this.finishAttempt(st, outcome, at);
  }

  /** End the current attempt with an outcome: record it, then retry or finish the job. */
  private finishAttempt(st: JobState, outcome: ExitOutcome, at: number): void {
    const d = st.doc;
    this.attemptIndex.delete(attemptKey(d));
    this.release(st);
    this.running.delete(d.jobId);
    const c = d.container as Record<string, unknown>;
    const stop = d.x.stopping;
    let statusReason: string;
    let exitCode: number | undefined;
    let reason: string | undefined;
    let retryable = true;
    switch (outcome.kind) {
      case 'exited':
        exitCode = outcome.exitCode;
        statusReason = StatusReason.ESSENTIAL_CONTAINER_EXITED;
        break;
      case 'oomKilled':
        exitCode = outcome.exitCode;
        reason = StatusReason.OOM;
        statusReason = StatusReason.ESSENTIAL_CONTAINER_EXITED;
        break;
      case 'cannotPull':
        reason = outcome.reason.slice(0, 255);
        statusReason = StatusReason.TASK_FAILED_TO_START;
        break;
      case 'failedToStart':
        reason = outcome.reason.slice(0, 255);
        if (outcome.exitCode !== undefined) exitCode = outcome.exitCode;
        statusReason = StatusReason.TASK_FAILED_TO_START;
        break;
      case 'hostLost':
        // A cluster node (handle.node) is named as the instance; a single node's attempts keep their i-… id.
        statusReason = hostTerminated(
          (d.x.handle as { node?: string } | undefined)?.node !== undefined
            ? outcome.host
            : (d.x.instanceId ?? outcome.host),
        );
        break;
      default: {
        const never: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(never)}`);
      }
    }
    if (stop) {
      switch (stop.kind) {
        case 'timeout':
          statusReason = StatusReason.TIMEOUT;
          retryable = false;
          break;
        case 'terminate':
          statusReason = stop.reason;
          retryable = false;
          d.isTerminated = true;
          break;
        case 'queueDeleted':
          statusReason = StatusReason.QUEUE_DELETED;
          retryable = false;
          break;
        case 'interrupt':
          statusReason = hostTerminated(stop.instanceId ?? d.x.instanceId ?? 'i-unknown');
          exitCode = undefined;
          reason = undefined;
          break;
      }
    }
    const attempt: AttemptDetail = {
      container: {
        ...(typeof c.containerInstanceArn === 'string'
          ? { containerInstanceArn: c.containerInstanceArn }
          : {}),
        ...(typeof c.taskArn === 'string' ? { taskArn: c.taskArn } : {}),
        ...(exitCode !== undefined ? { exitCode } : {}),
        ...(reason !== undefined ? { reason } : {}),
        ...(d.startedAt !== undefined && d.status === 'RUNNING'
          ? { logStreamName: `${d.x.logStreamPrefix}/default/${d.x.taskId}` }
          : {}),
        networkInterfaces: [],
      },
      ...(d.status === 'RUNNING' && d.startedAt !== undefined ? { startedAt: d.startedAt } : {}),
      stoppedAt: at,
      statusReason,
    };
    d.attempts.push(attempt);
    if (exitCode !== undefined) c.exitCode = exitCode;
    else delete c.exitCode;
    if (reason !== undefined) c.reason = reason;
    else delete c.reason;
    if (attempt.container.logStreamName) c.logStreamName = attempt.container.logStreamName;
    delete d.x.handle;
    delete d.x.deadline;
    delete d.x.stopping;
    this.events.emit('job:attemptEnded', {
      jobId: d.jobId,
      attempt: d.x.attempt,
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(reason !== undefined ? { reason } : {}),
      statusReason,
      at,
    });
    this.removeWorkDir(d.x.taskId);

    // A job that was being terminated, timed out or interrupted never counts as succeeded.
    const succeeded = outcome.kind === 'exited' && outcome.exitCode === 0 && !stop;
    if (succeeded) {
      this.moveToFinal(st, 'SUCCEEDED', statusReason);
    } else if (
      retryable &&
      shouldRetry(d.retryStrategy, d.x.attempt, {
        statusReason,
        ...(reason !== undefined ? { reason } : {}),
        ...(exitCode !== undefined ? { exitCode } : {}),
      })
    ) {
      this.setStatus(st, JobStatus.RUNNABLE, statusReason);
      d.x.runnableAt = at;
      this.addRunnable(st);
    } else {
      this.moveToFinal(st, 'FAILED', statusReason);
    }
    this.scheduleFlush();
    this.kick();
  }

  private removeWorkDir(taskId: string | undefined): void {
    if (!taskId) return;
    fs.rm(path.join(this.opts.dataDir, 'work', taskId), { recursive: true, force: true }, () => undefined);
  }

  // ------------------------------------------------------------------------------------------
  // Time-based rules
  // ------------------------------------------------------------------------------------------

  private reap(): void {
    const now = this.clock.now();
    for (const id of this.running) {
      const st = this.jobs.get(id);
      if (!st) continue;
      const d = st.doc;
      if (d.status === 'RUNNING' && d.x.deadline !== undefined && now >= d.x.deadline && !d.x.stopping) {
        this.requestStop(st, 'timeout', StatusReason.TIMEOUT);
      }
    }
    // Flush pending writes regularly and evict tiny caches.
    if (this.terminalStatusCache.size > 200_000) this.terminalStatusCache.clear();
  }

  private applyTimeLimitActions(): void {
    const now = this.clock.now();
    for (const [arn, rec] of this.queues) {
      const actions = (rec.data.detail.jobStateTimeLimitActions ?? []).filter((a) => a.state === 'RUNNABLE');
      if (actions.length === 0) continue;
      const list = this.runnable.get(arn);
      if (!list || list.live === 0) continue;
      for (const e of list.entries) {
        const st = this.jobs.get(e.jobId);
        // Only jobs with a reason can match (cheap skip for the common case).
        if (
          !st ||
          st.doc.statusReason === undefined ||
          st.doc.status !== 'RUNNABLE' ||
          st.doc.jobQueue !== arn
        )
          continue;
        const d = st.doc;
        const reason = d.statusReason!;
        // The action names the code (`MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT`); the job's reason
        // is the code, or the code followed by " - <explanation>".
        const a = actions.find((x) => reason === x.reason || reason.startsWith(`${x.reason} - `));
        if (!a) continue;
        const since = d.x.blockedSince ?? d.x.runnableAt ?? d.createdAt;
        if (now - since >= a.maxTimeSeconds * 1000) {
          d.isCancelled = true;
          this.moveToFinal(st, 'FAILED', timeLimitCancelled(a.reason));
        }
      }
    }
  }

  private requestStop(st: JobState, kind: StopKind, reason: string, instanceId?: string): void {
    const d = st.doc;
    d.x.stopping = { kind, reason, at: this.clock.now(), ...(instanceId ? { instanceId } : {}) };
    this.markDirty(st);
    this.scheduleFlush();
    const key = attemptKey(d);
    const executor = this.executors.get(d.x.executor ?? this.opts.defaultExecutor);
    const grace = kind === 'interrupt' ? Math.min(this.opts.killGraceMs, 2000) : this.opts.killGraceMs;
    if (executor && d.x.handle) {
      const handle = d.x.handle;
      // Write the stop request first, then act on it.
      void this.flush()
        .catch(() => undefined)
        .then(() => executor.stop(key, handle, { graceMs: grace, reason }))
        .catch(() => undefined);
    } else if (executor) {
      // The executor has not returned a handle yet: stop as soon as it does.
      const wait = setInterval(() => {
        if (d.x.handle || !this.attemptIndex.has(key)) {
          clearInterval(wait);
          if (d.x.handle)
            void executor.stop(key, d.x.handle, { graceMs: grace, reason }).catch(() => undefined);
        }
      }, 20);
      wait.unref();
    } else {
      this.finishAttempt(st, { kind: 'hostLost', host: 'unknown' }, this.clock.now());
    }
  }

  // ------------------------------------------------------------------------------------------
  // Cancel / terminate / interrupt
  // ------------------------------------------------------------------------------------------

  async cancelJob(jobId: string, reason: string): Promise<void> {
    if (reason.length > 1024) throw new ValidationError('reason must be at most 1024 characters', 'reason');
    const st = this.jobs.get(jobId);
    if (!st) {
      await this.assertJobExists(jobId);
      return; // finished: no effect
    }
    const d = st.doc;
    switch (d.status) {
      case 'SUBMITTED':
      case 'PENDING': // AWS waits for the dependencies to finish first; openbatch fails it now (ADR 0005)
      case 'RUNNABLE':
        this.failPendingTree(st, reason, { cancelled: true });
        break;
      case 'STARTING':
      case 'RUNNING':
        break; // AWS: CancelJob does not stop a started job
      default:
        break;
    }
    await this.flush();
    this.kick();
  }

  async terminateJob(jobId: string, reason: string): Promise<void> {
    if (reason.length > 1024) throw new ValidationError('reason must be at most 1024 characters', 'reason');
    const st = this.jobs.get(jobId);
    if (!st) {
      await this.assertJobExists(jobId);
      return;
    }
    const d = st.doc;
    if (isArrayParent(d)) {
      d.isTerminated = true;
      d.statusReason = reason;
      this.abandonUnspawned(st);
      for (const child of this.childrenOf(d.jobId)) this.terminateOne(child, reason);
      this.markDirty(st);
      this.maybeFinishParent(st);
    } else this.terminateOne(st, reason);
    await this.flush();
    this.kick();
  }

  private terminateOne(st: JobState, reason: string): void {
    const d = st.doc;
    switch (d.status) {
      case 'SUBMITTED':
      case 'PENDING':
      case 'RUNNABLE':
        d.isTerminated = true;
        this.moveToFinal(st, 'FAILED', reason);
        break;
      case 'STARTING':
      case 'RUNNING':
        if (!d.x.stopping) this.requestStop(st, 'terminate', reason);
        else if (d.x.stopping.kind !== 'terminate')
          d.x.stopping = { kind: 'terminate', reason, at: this.clock.now() };
        break;
      default:
        break;
    }
  }

  private async assertJobExists(jobId: string): Promise<void> {
    if (this.finished.has(jobId)) return;
    const [row] = await this.store.getJobs([jobId]);
    if (!row) throw new ValidationError(`Job ${jobId} does not exist`, 'jobId');
  }

  /**
   * Spot-interruption drill: end running attempts exactly as a Spot reclaim does
   * (`Host EC2 (instance i-…) terminated.`, no exit code), then retry per evaluateOnExit.
   */
  interrupt(sel: {
    computeEnvironment?: string;
    jobQueue?: string;
    jobIds?: string[];
    fraction?: number;
    count?: number;
  }): { interrupted: { jobId: string; instanceId: string }[] } {
    let pool: JobState[] = [];
    for (const id of this.running) {
      const st = this.jobs.get(id);
      if (!st || st.doc.status !== 'RUNNING' || st.doc.x.stopping) continue;
      const d = st.doc;
      if (sel.jobIds && !sel.jobIds.includes(d.jobId)) continue;
      if (sel.computeEnvironment) {
        const ce = d.x.ce;
        if (!ce || (ce.arn !== sel.computeEnvironment && ce.name !== sel.computeEnvironment)) continue;
      }
      if (sel.jobQueue) {
        if (d.jobQueue !== sel.jobQueue && d.x.queueName !== sel.jobQueue) continue;
      }
      pool.push(st);
    }
    let n = pool.length;
    if (sel.count !== undefined) n = Math.min(n, sel.count);
    else if (sel.fraction !== undefined) n = Math.min(n, Math.ceil(pool.length * sel.fraction));
    // Pick randomly, as Spot does.
    pool = pool.sort(() => Math.random() - 0.5).slice(0, n);
    const out: { jobId: string; instanceId: string }[] = [];
    for (const st of pool) {
      const instanceId = st.doc.x.instanceId ?? 'i-unknown';
      this.requestStop(st, 'interrupt', hostTerminated(instanceId), instanceId);
      out.push({ jobId: st.doc.jobId, instanceId });
    }
    return { interrupted: out };
  }

  // ------------------------------------------------------------------------------------------
  // Reads
  // ------------------------------------------------------------------------------------------

  async describeJobs(jobIds: readonly string[], _ctx: RequestContext): Promise<Record<string, unknown>[]> {
    if (jobIds.length > 100)
      throw new ValidationError(
        'Error executing request, Exception : Maximum number of jobs supported is  100',
      );
    const out: Record<string, unknown>[] = [];
    const missing: string[] = [];
    const found = new Map<string, JobDoc>();
    for (const id of jobIds) {
      const st = this.jobs.get(id) ?? this.finished.get(id);
      if (st) found.set(id, st.doc);
      else missing.push(id);
    }
    if (missing.length) {
      const docs = await this.hydrate(
        (await this.store.getJobs(missing)).map((row) => JSON.parse(row.data) as JobDoc),
      );
      for (const d of docs) found.set(d.jobId, d);
    }
    const seen = new Set<string>();
    for (const id of jobIds) {
      const d = found.get(id);
      if (!d || seen.has(id)) continue;
      seen.add(id);
      out.push(toJobDetail(d));
    }
    return out;
  }

  async listJobs(
    input: Record<string, unknown>,
    _ctx: RequestContext,
  ): Promise<{ jobSummaryList: Record<string, unknown>[]; nextToken?: string }> {
    const jobQueue = input.jobQueue as string | undefined;
    const arrayJobId = input.arrayJobId as string | undefined;
    const multiNodeJobId = input.multiNodeJobId as string | undefined;
    const selectors = [jobQueue, arrayJobId, multiNodeJobId].filter((v) => v !== undefined).length;
    if (selectors !== 1) {
      throw new ValidationError('Exactly one of jobQueue, arrayJobId or multiNodeJobId must be specified');
    }
    const filters = (input.filters as { name?: string; values?: string[] }[] | undefined) ?? [];
    let status = input.jobStatus as string | undefined;
    if (status !== undefined && !isJobStatus(status))
      throw new ValidationError(`Invalid jobStatus ${status}`, 'jobStatus');
    const hasFilters = filters.length > 0;
    const maxAllowed = hasFilters ? 100 : 1000;
    const maxResults = (input.maxResults as number | undefined) ?? maxAllowed;
    if (maxResults < 1 || maxResults > maxAllowed) {
      throw new ValidationError(`maxResults must be between 1 and ${maxAllowed}`, 'maxResults');
    }
    const q: ListJobsQuery = { order: hasFilters ? 'createdDesc' : 'createdAsc', limit: maxResults + 1 };
    if (jobQueue !== undefined) {
      const rec = this.findQueue(jobQueue);
      q.jobQueueArn = rec?.arn ?? (isArn(jobQueue) ? jobQueue : `__none__:${jobQueue}`);
      q.parentId = undefined;
    } else if (arrayJobId !== undefined) {
      q.parentId = arrayJobId;
    } else {
      // Multi-node parallel jobs are not supported: no node jobs exist.
      return { jobSummaryList: [] };
    }
    if (hasFilters && !filters.some((f) => f.name === 'SHARE_IDENTIFIER')) status = undefined;
    else if (status === undefined && !hasFilters) status = 'RUNNING';
    if (status !== undefined) q.statuses = [status];
    let jdName: string | undefined;
    let jdPrefix = false;
    if (arrayJobId === undefined && jobQueue !== undefined) {
      // Array children are listed through arrayJobId only.
      q.parentId = undefined;
    }
    for (const f of filters) {
      const v = f.values?.[0];
      if (!f.name || v === undefined || (f.values?.length ?? 0) !== 1)
        throw new ValidationError('Each filter needs a name and exactly one value', 'filters');
      switch (f.name) {
        case 'JOB_NAME':
          q.jobName = v;
          break;
        case 'JOB_DEFINITION':
          if (isArn(v)) {
            if (v.includes('*'))
              throw new ValidationError(
                'Wildcards are not allowed in a job definition ARN filter',
                'filters',
              );
            if (/:\d+$/.test(parseArn(v)?.resourceId ?? '')) q.jobDefinitionArn = v;
            else q.jobDefinitionArnPrefix = `${v}:`;
          } else {
            jdName = v.endsWith('*') ? v.slice(0, -1) : v;
            jdPrefix = v.endsWith('*');
          }
          break;
        case 'BEFORE_CREATED_AT':
          q.createdBefore = Number(v);
          if (!Number.isFinite(q.createdBefore))
            throw new ValidationError('BEFORE_CREATED_AT takes epoch milliseconds', 'filters');
          break;
        case 'AFTER_CREATED_AT':
          q.createdAfter = Number(v);
          if (!Number.isFinite(q.createdAfter))
            throw new ValidationError('AFTER_CREATED_AT takes epoch milliseconds', 'filters');
          break;
        case 'SHARE_IDENTIFIER':
          q.shareIdentifier = v;
          break;
        default:
          throw new ValidationError(`Unknown filter name ${f.name}`, 'filters');
      }
    }
    const token = input.nextToken as string | undefined;
    if (token) q.after = decodeToken(token);

    const summaries: Record<string, unknown>[] = [];
    let lastKey: [number, string] | undefined;
    let more = false;
    // JOB_DEFINITION by name is matched here (the store filters by ARN only).
    for (let guard = 0; guard < 50 && summaries.length <= maxResults; guard++) {
      const rows = await this.store.listJobs(q);
      for (const row of rows) {
        lastKey = [row.createdAt, row.jobId];
        if (jobQueue !== undefined && row.parentId !== null) continue;
        if (jdName !== undefined) {
          const name = (parseArn(row.jobDefinitionArn)?.resourceId ?? '').replace(/:\d+$/, '');
          if (jdPrefix ? !name.startsWith(jdName) : name !== jdName) continue;
        }
        const mem = this.jobs.get(row.jobId) ?? this.finished.get(row.jobId);
        const doc = mem?.doc ?? (await this.hydrate([JSON.parse(row.data) as JobDoc]))[0]!;
        if (status !== undefined && doc.status !== status) continue;
        if (summaries.length === maxResults) {
          more = true;
          break;
        }
        summaries.push(toJobSummary(doc));
      }
      if (more || rows.length < q.limit) break;
      q.after = lastKey;
    }
    const last = summaries[summaries.length - 1];
    return {
      jobSummaryList: summaries,
      ...(more && last ? { nextToken: encodeToken([last.createdAt as number, last.jobId as string]) } : {}),
    };
  }

  async getJobQueueSnapshot(jobQueueRef: string): Promise<Record<string, unknown>> {
    const rec = this.findQueue(jobQueueRef);
    if (!rec) throw new ValidationError(`Job queue ${jobQueueRef} does not exist`, 'jobQueue');
    const now = this.clock.now();
    const snap = this.snapshot();
    const qv = snap.queues.find((q) => q.arn === rec.arn);
    // Front of queue: the first 100 RUNNABLE jobs in dispatch order (FIFO, or fair-share order).
    const jobs: { jobArn: string; earliestTimeAtPosition: number }[] = [];
    if (qv) {
      for (const c of orderCandidates(qv)) {
        const st = this.jobs.get(c.jobId);
        if (!st) continue;
        jobs.push({ jobArn: st.doc.jobArn, earliestTimeAtPosition: st.doc.x.runnableAt ?? c.createdAt });
        if (jobs.length >= 100) break;
      }
    }
    let vcpus = 0;
    const perShare = new Map<string, number>();
    for (const id of this.running) {
      const st = this.jobs.get(id);
      if (!st || st.doc.jobQueue !== rec.arn) continue;
      vcpus += st.doc.x.req.vcpus;
      if (st.doc.shareIdentifier !== undefined)
        perShare.set(
          st.doc.shareIdentifier,
          (perShare.get(st.doc.shareIdentifier) ?? 0) + st.doc.x.req.vcpus,
        );
    }
    const utilization: Record<string, unknown> = {
      totalCapacityUsage: [{ capacityUnit: 'VCPU', quantity: vcpus }],
      lastUpdatedAt: now,
    };
    if (rec.data.detail.schedulingPolicyArn) {
      utilization.fairshareUtilization = {
        activeShareCount: perShare.size,
        topCapacityUtilization: [...perShare]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, 20)
          .map(([shareIdentifier, q]) => ({
            shareIdentifier,
            capacityUsage: [{ capacityUnit: 'VCPU', quantity: q }],
          })),
      };
    }
    return { frontOfQueue: { jobs, lastUpdatedAt: now }, queueUtilization: utilization };
  }

  consumableInUse(arn: string): number {
    return this.consumableUsed.get(arn) ?? 0;
  }

  async listJobsByConsumableResource(
    arn: string,
    input: Record<string, unknown>,
  ): Promise<{ jobs: Record<string, unknown>[]; nextToken?: string }> {
    const max = (input.maxResults as number | undefined) ?? 100;
    const filters = (input.filters as { name?: string; values?: string[] }[] | undefined) ?? [];
    const statusFilter = filters.find((f) => f.name === 'JOB_STATUS')?.values;
    const nameFilter = filters.find((f) => f.name === 'JOB_NAME')?.values?.[0];
    const all: Record<string, unknown>[] = [];
    for (const st of this.jobs.values()) {
      const d = st.doc;
      const need = d.x.consumables.find((c) => c.arn === arn);
      if (!need) continue;
      if (statusFilter && !statusFilter.includes(d.status)) continue;
      if (
        nameFilter &&
        !(nameFilter.endsWith('*') ? d.jobName.startsWith(nameFilter.slice(0, -1)) : d.jobName === nameFilter)
      )
        continue;
      all.push({
        jobArn: d.jobArn,
        jobQueueArn: d.jobQueue,
        jobName: d.jobName,
        jobDefinitionArn: d.jobDefinition,
        ...(d.shareIdentifier !== undefined ? { shareIdentifier: d.shareIdentifier } : {}),
        jobStatus: d.status,
        quantity: need.quantity,
        ...(d.statusReason !== undefined ? { statusReason: d.statusReason } : {}),
        ...(d.startedAt !== undefined ? { startedAt: d.startedAt } : {}),
        createdAt: d.createdAt,
        consumableResourceProperties: {
          consumableResourceList: [{ consumableResource: arn, quantity: need.quantity }],
        },
      });
    }
    all.sort((a, b) => (a.createdAt as number) - (b.createdAt as number));
    const start = input.nextToken
      ? Number(Buffer.from(input.nextToken as string, 'base64url').toString()) || 0
      : 0;
    const page = all.slice(start, start + max);
    return {
      jobs: page,
      ...(start + max < all.length
        ? { nextToken: Buffer.from(String(start + max)).toString('base64url') }
        : {}),
    };
  }

  async getJobTags(jobArn: string): Promise<Record<string, string> | undefined> {
    const id = parseArn(jobArn)?.resourceId;
    if (!id || id.includes(':')) return undefined;
    const st = this.jobs.get(id) ?? this.finished.get(id);
    if (st) return { ...st.doc.tags };
    const [row] = await this.store.getJobs([id]);
    return row ? { ...(JSON.parse(row.data) as JobDoc).tags } : undefined;
  }

  async setJobTags(jobArn: string, tags: Record<string, string>): Promise<void> {
    const id = parseArn(jobArn)?.resourceId;
    if (!id) throw new NotFoundError('job', jobArn);
    const st = this.jobs.get(id) ?? this.finished.get(id);
    if (st) {
      st.doc.tags = { ...tags };
      this.markDirty(st);
      await this.flush();
      return;
    }
    const [row] = await this.store.getJobs([id]);
    if (!row) throw new NotFoundError('job', jobArn);
    const doc = JSON.parse(row.data) as JobDoc;
    doc.tags = { ...tags };
    await this.store.updateJobs([{ row: this.toRow(doc, row.version + 1), expectedVersion: row.version }]);
  }

  async onJobQueueDeleted(jobQueueArn: string): Promise<void> {
    for (const st of [...this.jobs.values()]) {
      const d = st.doc;
      if (d.jobQueue !== jobQueueArn || isTerminal(d.status)) continue;
      if (d.status === 'STARTING' || d.status === 'RUNNING')
        this.requestStop(st, 'queueDeleted', StatusReason.QUEUE_DELETED);
      else if (!isArrayParent(d)) this.moveToFinal(st, 'FAILED', StatusReason.QUEUE_DELETED);
    }
    for (const st of [...this.jobs.values()]) {
      if (st.doc.jobQueue !== jobQueueArn || !isArrayParent(st.doc)) continue;
      st.doc.statusReason = StatusReason.QUEUE_DELETED;
      this.abandonUnspawned(st);
      this.maybeFinishParent(st);
    }
    await this.flush();
  }

  activeJobCount(jobQueueArn: string): number {
    let n = 0;
    for (const st of this.jobs.values()) if (st.doc.jobQueue === jobQueueArn) n++;
    return n;
  }

  /**
   * End every STARTING/RUNNING attempt whose executor handle matches, as a lost host
   * (`Host EC2 (instance <host>) terminated.`), then retry per strategy. Used when a cluster node's
   * heartbeat lease expires. Returns the job ids affected.
   */
  loseAttempts(
    match: (handle: Record<string, unknown> & { executor: string }) => boolean,
    host: string,
  ): string[] {
    const out: string[] = [];
    for (const id of [...this.running]) {
      const st = this.jobs.get(id);
      if (!st || !st.doc.x.handle || !match(st.doc.x.handle)) continue;
      st.doc.x.instanceId = host;
      this.finishAttempt(st, { kind: 'hostLost', host }, this.clock.now());
      out.push(id);
    }
    return out;
  }
}

/** JobDoc fields an array child may share with its parent (by reference). */
const SHAREABLE = new Set([
  'container',
  'parameters',
  'tags',
  'dependsOn',
  'retryStrategy',
  'timeout',
  'platformCapabilities',
  'jobDefinition',
  'consumableResourceProperties',
]);

function attemptKey(d: JobDoc): string {
  return `${d.jobId}#${d.x.attempt}`;
}

function isArrayParent(d: JobDoc): boolean {
  return d.x.parentId === undefined && d.arrayProperties?.size !== undefined;
}

function consumableInfo(data: Record<string, unknown>): { total: number; type: string } {
  const detail = (data.detail as Record<string, unknown> | undefined) ?? data;
  return {
    total: Number(detail.totalQuantity ?? 0),
    type: String(detail.resourceType ?? 'REPLENISHABLE'),
  };
}

function encodeToken(key: readonly [number, string]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeToken(token: string): [number, string] {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString()) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new ValidationError('Invalid nextToken', 'nextToken');
}
