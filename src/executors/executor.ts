/**
 * @module executors/executor
 * The executor port: how the engine runs one attempt of a job somewhere (a local process, a
 * container through the Docker Engine API, a Slurm job, a Kubernetes pod).
 *
 * Contract:
 *  - `start()` returns quickly with a serialisable `handle` that survives a server restart
 *    (pid + boot id, container id, Slurm job id...). It does not wait for the attempt to run.
 *  - Progress arrives asynchronously through the `ExecutorEvents` the engine passes at creation:
 *    `onRunning` once the payload really runs (STARTING → RUNNING; sets startedAt), `onExit` exactly
 *    once per attempt with an `ExitOutcome`.
 *  - Output lines go to the `LogSink` given in the spec (group/stream already decided by the engine).
 *  - `stop()` asks the attempt to end: SIGTERM, then SIGKILL after `graceMs`. `onExit` still follows.
 *  - After a restart the engine calls `recover()` with the handles it had persisted; the executor
 *    re-adopts what still runs (and later reports its exit) or reports `hostLost` for what it can't see.
 *  - Capacity may belong to someone else (Slurm, Kubernetes): `capacity()` is optional.
 */
import type { LogSink } from '../logs/log-sink.js';

export interface ResourceAmounts {
  vcpus: number;
  memoryMiB: number;
  gpus: number;
}

export interface AttemptSpec {
  /** Unique attempt key, `<jobId>#<attempt>`; used in every callback. */
  attemptKey: string;
  jobId: string;
  attempt: number;
  /** 32-hex task id of this attempt (the ECS task id in AWS terms). */
  taskId: string;
  /** Compute environment the attempt was placed in. */
  computeEnvironment: { name: string; arn: string };
  /** Final argv after Ref:: substitution and overrides. Non-empty. */
  command: string[];
  /** Full environment for the payload, AWS_BATCH_* variables included. */
  environment: Record<string, string>;
  resources: ResourceAmounts;
  /** GPU indexes assigned by the scheduler (for CUDA_VISIBLE_DEVICES). */
  gpuIds?: number[];
  /** Container image (recorded by the process executor, run by container executors). */
  image?: string;
  /** containerProperties as resolved for this job (user, privileged, ulimits, linuxParameters, volumes, mountPoints...). */
  container: Record<string, unknown>;
  /** Where output lines go. */
  log: { group: string; stream: string; sink: LogSink };
  /** A directory the executor may use for this attempt (working dir for processes). */
  workDir: string;
  /** attemptDurationSeconds, if any; executors may enforce it themselves, the engine enforces it too. */
  timeoutSeconds?: number;
}

/** Serialisable reference to a running attempt. Stored with the job; must survive restarts. */
export type AttemptHandle = Record<string, unknown> & { executor: string };

export type ExitOutcome =
  /** The payload exited on its own (or after a signal), with a code. `signal` when killed by one. */
  | { kind: 'exited'; exitCode: number; signal?: string; startedAt?: number; stoppedAt?: number }
  /** Killed for exceeding its memory limit. */
  | { kind: 'oomKilled'; exitCode: number; stoppedAt?: number }
  /** The image could not be pulled: the reason starts with `CannotPullContainerError:`. */
  | { kind: 'cannotPull'; reason: string }
  /** The payload could not be started (bad command, missing binary...). */
  | { kind: 'failedToStart'; reason: string; exitCode?: number }
  /** The host (or node, or executor daemon) went away; `host` names it. */
  | { kind: 'hostLost'; host: string; reason?: string };

export interface ExecutorEvents {
  onRunning(attemptKey: string, at: number, info?: { host?: string }): void;
  onExit(attemptKey: string, outcome: ExitOutcome, at: number): void;
}

export interface RecoveredAttempt {
  attemptKey: string;
  handle: AttemptHandle;
}

export interface Executor {
  readonly kind: string;
  start(spec: AttemptSpec): Promise<AttemptHandle>;
  stop(attemptKey: string, handle: AttemptHandle, opts: { graceMs: number; reason?: string }): Promise<void>;
  /** Re-adopt attempts that survived a server restart; report the rest through onExit(hostLost). */
  recover(attempts: readonly RecoveredAttempt[]): Promise<void>;
  /** Capacity the executor can offer, when it owns its own view of it (remote clusters). */
  capacity?(): Promise<ResourceAmounts | undefined>;
  /** Stop accepting work; kill and reap everything still running. */
  close(): Promise<void>;
}

export interface ExecutorFactoryContext {
  events: ExecutorEvents;
  /** Data dir of the server, for executor state (sockets, spool files). */
  dataDir: string;
  /** Grace between SIGTERM and SIGKILL. */
  killGraceMs: number;
}
