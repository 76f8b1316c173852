/**
 * @module executors/docker/docker-executor
 * The container executor: each attempt runs as one container through the Docker Engine API (Docker Engine,
 * or `podman system service`), mapped from the job as AWS Batch maps it onto ECS (container-spec.ts).
 *
 * Lifecycle of an attempt (all after `start()` has returned its handle, so a slow pull never blocks the
 * engine): image present? else pull (failure → `cannotPull`) → create (labels `openbatch.*`) → start
 * (failure → `failedToStart`, 127/126 like Docker) → `onRunning` → follow the log stream into the sink
 * while long-polling `wait` → inspect (OOM) → remove the container → `onExit`.
 *
 * Restarts: containers outlive the server, so `recover()` re-adopts them by label (see
 * docs/architecture/executors.md "Container executor"). See that document for networking.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

import type { LogEventInput, LogSink } from '../../logs/log-sink.js';
import type {
  AttemptHandle,
  AttemptSpec,
  Executor,
  ExecutorEvents,
  ExecutorFactoryContext,
  ExitOutcome,
  RecoveredAttempt,
} from '../executor.js';
import { cannotStartOutcome, signalName } from '../exit-outcome.js';
import {
  buildContainerPlan,
  containerNameFor,
  ContainerSpecError,
  LABEL_ATTEMPT_KEY,
  LABEL_OWNER,
  type ContainerPlan,
} from './container-spec.js';
import { DockerApiError, DockerClient, type ContainerInspect, type EngineInfo } from './docker-client.js';
import {
  LineAssembler,
  LogFrameDecoder,
  splitTimestamp,
  type AssembledLine,
  type FrameTimestamp,
} from './log-frames.js';
import { kernelLogShowsOomKill } from './oom-evidence.js';

export interface DockerExecutorOptions {
  /** Engine address with DOCKER_HOST semantics (default: $DOCKER_HOST, else unix:///var/run/docker.sock). */
  dockerHost?: string;
  /** Keep containers after their attempt (debugging). Default false: removed once the exit is known. */
  keepContainers?: boolean;
  /**
   * HostConfig.NetworkMode for job containers. Default `host` when the engine runs on this machine (unix
   * socket or loopback TCP), so AWS_ENDPOINT_URL=http://127.0.0.1:… reaches the server; `bridge` otherwise.
   */
  network?: string;
  /**
   * Where re-adopted attempts write their output after a restart (the server's log store). Attempts
   * started by this instance use the sink in their spec.
   */
  logSink?: LogSink;
  /** Value of the `openbatch.owner` label; recover() only touches containers with the same owner. */
  owner?: string;
  /** Name reported in onRunning/hostLost (default: this machine's host name for a local engine). */
  host?: string;
  /** Longest log line before it is cut (default 256 KiB). */
  maxLineBytes?: number;
  /** Operational warnings (default console.warn). */
  warn?: (message: string) => void;
}

export interface DockerAttemptHandle extends AttemptHandle {
  executor: 'docker';
  /** Container name (`openbatch-<taskId>`); the API accepts it wherever an id goes. */
  container: string;
  taskId: string;
  /** DOCKER_HOST of the engine that runs it. */
  engine: string;
  owner: string;
  logGroup: string;
  logStream: string;
  memoryLimited: boolean;
}

interface StopRequest {
  graceMs: number;
  reason: string | undefined;
}

interface Attempt {
  key: string;
  name: string;
  containerId: string | undefined;
  phase: 'preparing' | 'running' | 'finishing' | 'done';
  sink: LogSink | undefined;
  logGroup: string;
  logStream: string;
  memoryLimited: boolean;
  volumes: string[];
  stop: StopRequest | undefined;
  killTimer: NodeJS.Timeout | undefined;
  killAt: number | undefined;
  pending: LogEventInput[];
  lastTs: number;
  /** Log position for resuming after a restart: frames seen in second `sec`. */
  cursor: { sec: number; n: number };
  cursorWrittenAt: number;
  cursorTimer: NodeJS.Timeout | undefined;
  destroyLogs: (() => void) | undefined;
  done: Promise<void>;
}

const MAX_BATCH = 4096;
const CURSOR_WRITE_INTERVAL_MS = 1000;
const LOG_DRAIN_TIMEOUT_MS = 5000;
const WAIT_RETRIES = 30;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function isDockerHandle(h: AttemptHandle): h is DockerAttemptHandle {
  return h.executor === 'docker' && typeof h['container'] === 'string';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Docker/ECS convention: an exec failure is 127 when the file is missing, else 126. */
function startFailureExitCode(message: string): 126 | 127 {
  return /executable file not found|no such file or directory|not found in \$PATH/i.test(message) ? 127 : 126;
}

/** Exit code → `exited` outcome; codes 129–159 are reported as death by that signal (Docker's 128+N). */
function exitedFromCode(code: number, startedAt?: number, stoppedAt?: number): ExitOutcome {
  const outcome: ExitOutcome = { kind: 'exited', exitCode: code };
  if (code > 128 && code < 160) outcome.signal = signalName(code - 128);
  if (startedAt !== undefined) outcome.startedAt = startedAt;
  if (stoppedAt !== undefined) outcome.stoppedAt = stoppedAt;
  return outcome;
}

function parseTime(s: string | undefined): number | undefined {
  if (!s || s.startsWith('0001-')) return undefined;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A default owner id: this machine + the server's data dir, so two servers sharing an engine stay apart. */
export function defaultOwner(dataDir: string): string {
  return createHash('sha256')
    .update(`${hostname()}\0${resolve(dataDir)}`)
    .digest('hex')
    .slice(0, 16);
}

class DockerExecutor implements Executor {
  readonly kind = 'docker';
  private readonly events: ExecutorEvents;
  private readonly client: DockerClient;
  private readonly owner: string;
  private readonly host: string;
  private readonly warn: (message: string) => void;
  private readonly cursorDir: string;
  private readonly maxLineBytes: number;
  private engineInfo: Promise<EngineInfo> | undefined;
  private readonly byKey = new Map<string, Attempt>();
  private readonly pulls = new Map<string, Promise<void>>();
  private readonly dirty = new Set<Attempt>();
  private flushScheduled = false;
  private closed = false;

  constructor(
    ctx: ExecutorFactoryContext,
    private readonly opts: DockerExecutorOptions,
  ) {
    this.events = ctx.events;
    this.client = new DockerClient(opts.dockerHost ?? process.env['DOCKER_HOST']);
    this.owner = opts.owner ?? defaultOwner(ctx.dataDir);
    this.host =
      opts.host ?? (this.client.endpoint.local ? hostname() : (this.client.endpoint.host ?? hostname()));
    this.warn = opts.warn ?? ((m) => console.warn(`[executor:docker] ${m}`));
    this.cursorDir = join(ctx.dataDir, 'docker-executor');
    this.maxLineBytes = opts.maxLineBytes ?? 256 * 1024;
  }

  /** The network mode job containers get. */
  get networkMode(): string {
    return this.opts.network ?? (this.client.endpoint.local ? 'host' : 'bridge');
  }

  async start(spec: AttemptSpec): Promise<AttemptHandle> {
    if (this.closed) throw new Error('docker executor is closed');
    if (this.byKey.has(spec.attemptKey)) throw new Error(`attempt ${spec.attemptKey} is already running`);
    const name = containerNameFor(spec.taskId);
    const a: Attempt = {
      key: spec.attemptKey,
      name,
      containerId: undefined,
      phase: 'preparing',
      sink: spec.log.sink,
      logGroup: spec.log.group,
      logStream: spec.log.stream,
      memoryLimited: spec.resources.memoryMiB > 0,
      volumes: [],
      stop: undefined,
      killTimer: undefined,
      killAt: undefined,
      pending: [],
      lastTs: 0,
      cursor: { sec: 0, n: 0 },
      cursorWrittenAt: 0,
      cursorTimer: undefined,
      destroyLogs: undefined,
      done: Promise.resolve(),
    };
    this.byKey.set(a.key, a);
    const handle: DockerAttemptHandle = {
      executor: 'docker',
      container: name,
      taskId: spec.taskId,
      engine: this.client.endpoint.url,
      owner: this.owner,
      logGroup: spec.log.group,
      logStream: spec.log.stream,
      memoryLimited: a.memoryLimited,
    };
    // The engine must hold the handle before any event: run the attempt from the next tick on.
    a.done = new Promise<void>((r) => setImmediate(r))
      .then(() => this.runNew(a, spec))
      .catch((err: unknown) =>
        this.finishEarly(a, cannotStartOutcome(`container executor error: ${messageOf(err)}`, 126)),
      );
    return handle;
  }

  async stop(
    attemptKey: string,
    handle: AttemptHandle,
    opts: { graceMs: number; reason?: string },
  ): Promise<void> {
    const a = this.byKey.get(attemptKey);
    if (!a) {
      // Not tracked here (from before a restart and never recovered): make sure nothing is left running.
      if (isDockerHandle(handle) && handle.owner === this.owner) await this.removeQuietly(handle.container);
      return;
    }
    if (a.phase === 'finishing' || a.phase === 'done') return;
    const grace = Math.max(0, opts.graceMs);
    a.stop = { graceMs: Math.min(a.stop?.graceMs ?? grace, grace), reason: opts.reason ?? a.stop?.reason };
    if (a.phase === 'running') this.applyStop(a);
  }

  async recover(attempts: readonly RecoveredAttempt[]): Promise<void> {
    let listed: Awaited<ReturnType<DockerClient['listContainers']>>;
    try {
      listed = await this.client.listContainers([`${LABEL_OWNER}=${this.owner}`]);
    } catch (err) {
      // Engine unreachable: we can't see the containers, which is what a lost host is.
      const now = Date.now();
      for (const { attemptKey } of attempts) {
        if (this.byKey.has(attemptKey)) continue;
        this.events.onExit(
          attemptKey,
          {
            kind: 'hostLost',
            host: this.host,
            reason: `container engine unreachable after restart: ${messageOf(err)}`,
          },
          now,
        );
      }
      return;
    }
    const byName = new Map<string, (typeof listed)[number]>();
    const byAttempt = new Map<string, (typeof listed)[number]>();
    for (const c of listed) {
      for (const n of c.Names) byName.set(n.replace(/^\//, ''), c);
      const k = c.Labels?.[LABEL_ATTEMPT_KEY];
      if (k) byAttempt.set(k, c);
    }
    const claimed = new Set<string>();
    for (const { attemptKey, handle } of attempts) {
      if (this.byKey.has(attemptKey)) {
        claimed.add(this.byKey.get(attemptKey)?.name ?? '');
        continue; // still running under this very executor
      }
      const c =
        (isDockerHandle(handle) ? byName.get(handle.container) : undefined) ?? byAttempt.get(attemptKey);
      if (!c) {
        this.events.onExit(
          attemptKey,
          {
            kind: 'hostLost',
            host: this.host,
            reason: 'the container was not found after the server restarted',
          },
          Date.now(),
        );
        continue;
      }
      const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
      claimed.add(name);
      if (c.State === 'created' || c.State === 'configured') {
        // the server died between create and start: the payload never ran
        await this.removeQuietly(c.Id);
        this.events.onExit(
          attemptKey,
          {
            kind: 'hostLost',
            host: this.host,
            reason: 'the server restarted before the container was started',
          },
          Date.now(),
        );
        continue;
      }
      this.adopt(attemptKey, handle, c.Id, name);
    }
    // Containers of ours that no attempt claims would run unobserved: kill and remove them.
    const tracked = new Set([...this.byKey.values()].map((a) => a.name));
    for (const c of listed) {
      const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
      if (claimed.has(name) || tracked.has(name)) continue;
      this.warn(`removing unclaimed container ${name} (${c.Labels?.[LABEL_ATTEMPT_KEY] ?? 'no attempt'})`);
      await this.removeQuietly(c.Id);
      this.deleteCursor(name);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.byKey.values()];
    for (const a of all) {
      a.stop = { graceMs: 0, reason: 'executor closed' };
      if (a.phase === 'running') this.applyStop(a);
    }
    await Promise.all(all.map((a) => a.done.catch(() => undefined)));
    this.flushAll();
    this.client.close();
  }

  // ---------- attempt lifecycle ----------

  private engine(): Promise<EngineInfo> {
    if (!this.engineInfo) {
      this.engineInfo = this.client.engineInfo();
      this.engineInfo.catch(() => {
        this.engineInfo = undefined; // try again on the next attempt
      });
    }
    return this.engineInfo;
  }

  private async runNew(a: Attempt, spec: AttemptSpec): Promise<void> {
    let engine: EngineInfo;
    try {
      engine = await this.engine();
    } catch (err) {
      return this.finishEarly(a, cannotStartOutcome(`container engine unreachable: ${messageOf(err)}`, 126));
    }
    let plan: ContainerPlan;
    try {
      plan = buildContainerPlan(spec, {
        networkMode: this.networkMode,
        engineKind: engine.kind,
        owner: this.owner,
      });
    } catch (err) {
      if (err instanceof ContainerSpecError) {
        return this.finishEarly(a, {
          kind: 'failedToStart',
          reason: `CannotCreateContainerError: ${err.message}`,
        });
      }
      throw err;
    }
    a.volumes = plan.volumes;
    if (a.stop) return this.finishEarly(a, this.stoppedBeforeStart(a));

    try {
      await this.ensureImage(plan.body.Image);
    } catch (err) {
      return this.finishEarly(a, {
        kind: 'cannotPull',
        reason: `CannotPullContainerError: ${messageOf(err)}`,
      });
    }
    if (a.stop) return this.finishEarly(a, this.stoppedBeforeStart(a));

    try {
      a.containerId = await this.client.createContainer(plan.name, plan.body);
    } catch (err) {
      if (err instanceof DockerApiError && err.statusCode === 404 && /image/i.test(err.message)) {
        // the image vanished between the check and create
        return this.finishEarly(a, {
          kind: 'cannotPull',
          reason: `CannotPullContainerError: ${err.message}`,
        });
      }
      return this.finishEarly(a, {
        kind: 'failedToStart',
        reason: `CannotCreateContainerError: ${messageOf(err)}`,
      });
    }
    if (a.stop) return this.finishEarly(a, this.stoppedBeforeStart(a));

    try {
      await this.client.startContainer(a.containerId);
    } catch (err) {
      const msg = messageOf(err);
      return this.finishEarly(a, cannotStartOutcome(msg, startFailureExitCode(msg)));
    }
    const startedAt = Date.now();
    a.phase = 'running';
    this.events.onRunning(a.key, startedAt, { host: this.host });
    if (a.stop) this.applyStop(a);
    await this.follow(a, a.containerId, undefined);
  }

  private adopt(attemptKey: string, handle: AttemptHandle, containerId: string, name: string): void {
    const h = isDockerHandle(handle) ? handle : undefined;
    const sink = this.opts.logSink;
    if (!sink)
      this.warn(
        `no log sink configured for re-adopted attempts: output of ${attemptKey} after the restart is dropped`,
      );
    const a: Attempt = {
      key: attemptKey,
      name,
      containerId,
      phase: 'running',
      sink,
      logGroup: h?.logGroup ?? '/aws/batch/job',
      logStream: h?.logStream ?? `recovered/default/${h?.taskId ?? name}`,
      memoryLimited: h?.memoryLimited ?? false,
      volumes: [],
      stop: undefined,
      killTimer: undefined,
      killAt: undefined,
      pending: [],
      lastTs: 0,
      cursor: this.readCursor(name),
      cursorWrittenAt: Date.now(),
      cursorTimer: undefined,
      destroyLogs: undefined,
      done: Promise.resolve(),
    };
    this.byKey.set(attemptKey, a);
    a.done = (async () => {
      try {
        const info = await this.client.inspectContainer(containerId);
        a.volumes = ((info.HostConfig['Binds'] as string[] | undefined) ?? [])
          .map((b) => b.split(':')[0] ?? '')
          .filter((v) => v.startsWith(`${name}-`));
        // STARTING → RUNNING if the server died before it heard; ignored by the engine otherwise
        this.events.onRunning(attemptKey, parseTime(info.State.StartedAt) ?? Date.now(), { host: this.host });
      } catch (err) {
        this.warn(`inspect of re-adopted ${name} failed: ${messageOf(err)}`);
      }
      await this.follow(a, containerId, a.cursor.sec > 0 ? { ...a.cursor } : undefined);
    })().catch((err: unknown) =>
      this.finishEarly(a, {
        kind: 'hostLost',
        host: this.host,
        reason: `re-adopting the container failed: ${messageOf(err)}`,
      }),
    );
  }

  /** Streams output while waiting for the exit, then reports it. */
  private async follow(
    a: Attempt,
    id: string,
    resume: { sec: number; n: number } | undefined,
  ): Promise<void> {
    const logsDone = this.streamLogs(a, id, resume).catch((err: unknown) => {
      this.warn(`log stream of ${a.name} failed: ${messageOf(err)}`);
    });
    let code: number | undefined;
    let waitError: unknown;
    for (let i = 0; i < WAIT_RETRIES && code === undefined; i++) {
      try {
        code = await this.client.waitContainer(id);
      } catch (err) {
        waitError = err;
        if (err instanceof DockerApiError && err.statusCode === 404) break;
        await sleep(Math.min(200 * (i + 1), 1000));
      }
    }
    a.phase = 'finishing';
    this.clearKillTimer(a);
    // The log stream ends with the container; don't let a stuck one hold the exit back.
    const drained = await Promise.race([
      logsDone.then(() => true),
      sleep(LOG_DRAIN_TIMEOUT_MS).then(() => false),
    ]);
    if (!drained) a.destroyLogs?.();
    this.flushAttempt(a);

    let outcome: ExitOutcome;
    if (code === undefined) {
      outcome = {
        kind: 'hostLost',
        host: this.host,
        reason: `lost track of the container: ${messageOf(waitError)}`,
      };
    } else {
      let info: ContainerInspect | undefined;
      try {
        info = await this.client.inspectContainer(id);
      } catch {
        /* removed under us (another observer): the wait's code is all we have */
      }
      outcome = this.exitOutcome(a, code, info);
    }
    await this.cleanup(a);
    this.finish(a, outcome);
  }

  private exitOutcome(a: Attempt, waitCode: number, info: ContainerInspect | undefined): ExitOutcome {
    const code = info && !info.State.Running ? info.State.ExitCode : waitCode;
    const startedAt = parseTime(info?.State.StartedAt);
    const stoppedAt = parseTime(info?.State.FinishedAt);
    let oom = info?.State.OOMKilled === true;
    if (!oom && code === 137 && a.memoryLimited && this.client.endpoint.local) {
      // Podman 4 on cgroup v1 doesn't report OOMKilled: ask the kernel log; without it (not root), a
      // SIGKILL we did not send to a memory-limited container is the OOM killer's.
      const evidence = kernelLogShowsOomKill(info?.Id ?? a.containerId ?? '');
      oom = evidence ?? a.stop === undefined;
    }
    if (oom)
      return stoppedAt !== undefined
        ? { kind: 'oomKilled', exitCode: 137, stoppedAt }
        : { kind: 'oomKilled', exitCode: 137 };
    return exitedFromCode(code, startedAt, stoppedAt);
  }

  private stoppedBeforeStart(a: Attempt): ExitOutcome {
    const why = a.stop?.reason ? `: ${a.stop.reason}` : '';
    return {
      kind: 'failedToStart',
      reason: `CannotStartContainerError: the attempt was stopped before its container started${why}`,
    };
  }

  private async finishEarly(a: Attempt, outcome: ExitOutcome): Promise<void> {
    a.phase = 'finishing';
    await this.cleanup(a);
    this.finish(a, outcome);
  }

  private finish(a: Attempt, outcome: ExitOutcome): void {
    if (a.phase === 'done') return;
    a.phase = 'done';
    this.clearKillTimer(a);
    this.flushAttempt(a);
    if (a.cursorTimer) clearTimeout(a.cursorTimer);
    a.cursorTimer = undefined;
    this.byKey.delete(a.key);
    this.deleteCursor(a.name);
    this.events.onExit(a.key, outcome, Date.now());
  }

  private async cleanup(a: Attempt): Promise<void> {
    if (this.opts.keepContainers) return;
    if (a.containerId !== undefined) await this.removeQuietly(a.containerId);
    for (const v of a.volumes) {
      try {
        await this.client.removeVolume(v);
      } catch (err) {
        this.warn(`removing volume ${v} failed: ${messageOf(err)}`);
      }
    }
  }

  private async removeQuietly(idOrName: string): Promise<void> {
    try {
      await this.client.removeContainer(idOrName);
    } catch (err) {
      this.warn(`removing container ${idOrName} failed: ${messageOf(err)}`);
    }
  }

  private async ensureImage(image: string): Promise<void> {
    let p = this.pulls.get(image);
    if (!p) {
      p = (async () => {
        if (await this.client.imageExists(image)) return;
        await this.client.pullImage(image);
      })();
      this.pulls.set(image, p);
      const forget = (): void => {
        if (this.pulls.get(image) === p) this.pulls.delete(image);
      };
      p.then(forget, forget);
    }
    await p;
  }

  // ---------- stop ----------

  private applyStop(a: Attempt): void {
    const id = a.containerId;
    if (!a.stop || id === undefined) return;
    const now = Date.now();
    const killAt = now + a.stop.graceMs;
    if (a.killAt !== undefined && a.killAt <= killAt) return; // an earlier deadline is already set
    const firstRequest = a.killAt === undefined;
    a.killAt = killAt;
    this.clearKillTimer(a);
    const kill = (signal: string): void => {
      this.client.killContainer(id, signal).catch((err: unknown) => {
        // 404/409/500 "not running": it ended meanwhile; the wait reports the exit
        if (!(err instanceof DockerApiError) || err.statusCode === 0)
          this.warn(`kill ${signal} ${a.name}: ${messageOf(err)}`);
      });
    };
    if (a.stop.graceMs <= 0) {
      kill('SIGKILL');
      return;
    }
    if (firstRequest) kill('SIGTERM');
    a.killTimer = setTimeout(() => {
      a.killTimer = undefined;
      if (a.phase === 'running') kill('SIGKILL');
    }, a.stop.graceMs);
  }

  private clearKillTimer(a: Attempt): void {
    if (a.killTimer) clearTimeout(a.killTimer);
    a.killTimer = undefined;
  }

  // ---------- output ----------

  private async streamLogs(
    a: Attempt,
    id: string,
    resume: { sec: number; n: number } | undefined,
  ): Promise<void> {
    const { res, req } = await this.client.logs(
      id,
      resume ? { follow: true, since: resume.sec } : { follow: true },
    );
    a.destroyLogs = () => req.destroy();
    const decoder = new LogFrameDecoder();
    const lines = new LineAssembler(this.maxLineBytes);
    let skipping = resume ? resume.n : 0;
    const emit = (line: AssembledLine): void => this.addLine(a, line);
    await new Promise<void>((resolveStream) => {
      const done = (): void => {
        lines.end(emit);
        this.scheduleFlush(a);
        resolveStream();
      };
      res.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) {
          const { ts, content } = splitTimestamp(frame.payload);
          if (ts) {
            const sec = Math.floor(ts.ms / 1000);
            if (resume && skipping > 0) {
              // frames already delivered before the restart: everything before the cursor, and the
              // first `n` frames of the cursor's second
              if (sec < resume.sec) continue;
              if (sec === resume.sec) {
                skipping--;
                this.advanceCursor(a, sec);
                continue;
              }
              skipping = 0;
            }
            this.advanceCursor(a, sec);
          }
          lines.push(frame.stream, content, ts, emit);
        }
        this.scheduleFlush(a);
      });
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    a.destroyLogs = undefined;
  }

  private advanceCursor(a: Attempt, sec: number): void {
    if (sec === a.cursor.sec) a.cursor.n++;
    else a.cursor = { sec, n: 1 };
  }

  /** Line time: the engine's timestamp, sharpened by the arrival time when the engine only gives seconds. */
  private stamp(ts: FrameTimestamp | undefined): number {
    const now = Date.now();
    if (!ts) return now;
    if (ts.precise) return ts.ms;
    // whole seconds: a line received within that second (live) gets its arrival time
    return now >= ts.ms && now < ts.ms + 1500 ? now : ts.ms;
  }

  private addLine(a: Attempt, line: AssembledLine): void {
    const ts = Math.max(this.stamp(line.ts), a.lastTs);
    a.lastTs = ts;
    a.pending.push({ timestamp: ts, message: line.message });
    if (a.pending.length >= MAX_BATCH) this.flushAttempt(a);
  }

  private scheduleFlush(a: Attempt): void {
    this.dirty.add(a);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushAll();
    });
  }

  private flushAll(): void {
    for (const a of [...this.dirty]) this.flushAttempt(a);
  }

  private flushAttempt(a: Attempt): void {
    this.dirty.delete(a);
    if (a.pending.length > 0) {
      const batch = a.pending;
      a.pending = [];
      if (a.sink) a.sink.append(a.logGroup, a.logStream, batch);
    }
    if (a.phase === 'running' && a.cursor.sec > 0 && !a.cursorTimer) {
      // at most one write per interval, and never later than one interval after the output
      const delay = Math.max(0, a.cursorWrittenAt + CURSOR_WRITE_INTERVAL_MS - Date.now());
      a.cursorTimer = setTimeout(() => {
        a.cursorTimer = undefined;
        if (a.phase !== 'running') return;
        a.cursorWrittenAt = Date.now();
        this.writeCursor(a);
      }, delay);
      a.cursorTimer.unref();
    }
  }

  // ---------- log cursors (resume output after a restart) ----------

  private cursorFile(name: string): string {
    return join(this.cursorDir, `${name}.json`);
  }

  private writeCursor(a: Attempt): void {
    try {
      mkdirSync(this.cursorDir, { recursive: true });
      writeFileSync(this.cursorFile(a.name), JSON.stringify(a.cursor));
    } catch (err) {
      this.warn(`writing the log cursor of ${a.name} failed: ${messageOf(err)}`);
    }
  }

  private readCursor(name: string): { sec: number; n: number } {
    try {
      const j = JSON.parse(readFileSync(this.cursorFile(name), 'utf8')) as { sec?: unknown; n?: unknown };
      if (typeof j.sec === 'number' && typeof j.n === 'number') return { sec: j.sec, n: j.n };
    } catch {
      /* no cursor: replay everything */
    }
    return { sec: 0, n: 0 };
  }

  private deleteCursor(name: string): void {
    try {
      rmSync(this.cursorFile(name), { force: true });
    } catch {
      /* best effort */
    }
  }
}

/** Creates the container executor (kind `docker`). */
export function createDockerExecutor(
  ctx: ExecutorFactoryContext,
  opts: DockerExecutorOptions = {},
): Executor {
  return new DockerExecutor(ctx, opts);
}
