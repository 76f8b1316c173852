/**
 * @module executors/process/process-executor
 * The default executor: each attempt runs as a host process, in its own session/process group, spawned
 * by one long-lived launcher process (native/launcher.c; a Node helper when no C compiler was found), so
 * spawning never blocks the server's event loop. Output is split into lines and batched into the
 * attempt's LogSink; resources are enforced with per-attempt cgroups or by polling RSS (resources.ts).
 * See docs/architecture/executors.md.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { constants as osConstants, hostname } from 'node:os';

import type {
  AttemptHandle,
  AttemptSpec,
  Executor,
  ExecutorEvents,
  ExecutorFactoryContext,
  ExitOutcome,
  RecoveredAttempt,
} from '../executor.js';
import { cannotStartOutcome, execFailureExitCode, exitCodeOf, exitedOutcome } from '../exit-outcome.js';
import { isNativeLauncherAvailable, LauncherClient, type LauncherKind } from './launcher-client.js';
import { SpawnStage, type LauncherReport } from './launcher-protocol.js';
import { LineSplitter, MAX_LINE_BYTES } from './line-splitter.js';
import {
  cgroupSawOomKill,
  createAttemptCgroup,
  destroyCgroupDirs,
  detectCgroupLayout,
  listProcesses,
  RssPoller,
  startTicksToEpochMs,
  type AttemptCgroup,
  type CgroupLayout,
  type EnforceResources,
  type ResourceMode,
} from './resources.js';
import type { LogEventInput } from '../../logs/log-sink.js';

export interface ProcessExecutorOptions {
  /** How to enforce vcpus/memory. `auto`: cgroups when writable (root), else RSS polling. Default `auto`. */
  enforceResources?: EnforceResources;
  /** `auto` (default): the C launcher if built, else the Node helper. */
  launcher?: 'auto' | LauncherKind;
  /** Path of the native launcher binary (default native/build/ob-launcher). */
  nativeLauncherPath?: string;
  /** Host name reported in onRunning and hostLost (default os.hostname()). */
  host?: string;
  /** Poll interval for `poll` enforcement (default 250 ms). */
  pollIntervalMs?: number;
  /** Longest log line before it is cut (default 256 KiB). */
  maxLineBytes?: number;
  /** Called with operational warnings (default console.warn). */
  warn?: (message: string) => void;
}

export interface ProcessAttemptHandle extends AttemptHandle {
  executor: 'process';
  pid: number;
  pgid: number;
  bootId: string;
  startedAt: number;
  host: string;
  cgroupDirs?: string[];
}

/** Defaults the executor adds only when the spec's environment lacks them. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const MAX_BATCH = 4096;
const SIGTERM = osConstants.signals.SIGTERM;
const SIGKILL = osConstants.signals.SIGKILL;

interface Attempt {
  key: string;
  spec: AttemptSpec;
  id: number;
  launcher: LauncherClient;
  pid: number | undefined;
  startedAt: number | undefined;
  cgroup: AttemptCgroup | undefined;
  pollLimitBytes: number | undefined;
  oomByPoll: boolean;
  splitters: [LineSplitter, LineSplitter];
  pending: LogEventInput[];
  lastTs: number;
  killTimer: NodeJS.Timeout | undefined;
  killAt: number | undefined;
  stopGraceMs: number | undefined;
  released: boolean;
  deferred: (() => void)[];
  finished: boolean;
  onStarted: ((r: { pid: number; at: number } | { error: ExitOutcome }) => void) | undefined;
}

let cachedBootId: string | undefined;
export function currentBootId(): string {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      cachedBootId = 'unknown';
    }
  }
  return cachedBootId;
}

const ERRNO_NAMES = new Map<number, string>();
for (const [name, num] of Object.entries(osConstants.errno))
  if (!ERRNO_NAMES.has(num)) ERRNO_NAMES.set(num, name);

function isProcessHandle(h: AttemptHandle): h is ProcessAttemptHandle {
  return h.executor === 'process' && typeof h['pid'] === 'number' && typeof h['pgid'] === 'number';
}

/**
 * Kills whatever is left of an attempt from an earlier server (same boot only): every process in the
 * job's session or process group that started no earlier than the attempt, and its cgroups.
 * Returns how many processes were signalled.
 */
export async function killStrays(handle: AttemptHandle): Promise<number> {
  if (!isProcessHandle(handle) || handle.bootId !== currentBootId()) return 0;
  let killed = 0;
  const id = handle.pgid;
  if (id > 1) {
    for (const p of listProcesses()) {
      if (p.pgrp !== id && p.session !== id) continue;
      // a recycled id would belong to a process started after ours died; ours started at/after startedAt
      if (startTicksToEpochMs(p.startTicks) < handle.startedAt - 2000) continue;
      try {
        process.kill(p.pid, 'SIGKILL');
        killed++;
      } catch {
        /* gone */
      }
    }
  }
  if (Array.isArray(handle.cgroupDirs))
    await destroyCgroupDirs(handle.cgroupDirs.filter((d) => typeof d === 'string'));
  return killed;
}

function spawnErrorOutcome(
  argv0: string,
  stage: number,
  errno: number,
  message: string,
  cwd: string,
): ExitOutcome {
  const name = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
  const text = message.toLowerCase();
  switch (stage) {
    case SpawnStage.EXEC:
      if (name === 'ENOENT' && !argv0.includes('/')) {
        return cannotStartOutcome(`exec: "${argv0}": executable file not found in $PATH`, 127);
      }
      return cannotStartOutcome(`exec: "${argv0}": ${text}`, execFailureExitCode(name));
    case SpawnStage.CHDIR:
      return cannotStartOutcome(`chdir to cwd ("${cwd}") failed: ${text}`, 126);
    case SpawnStage.CGROUP:
      return cannotStartOutcome(`joining the attempt's cgroup failed: ${text}`, 126);
    default:
      return cannotStartOutcome(`starting the process failed: ${text}`, 126);
  }
}

class ProcessExecutor implements Executor {
  readonly kind = 'process';
  private readonly events: ExecutorEvents;
  private readonly host: string;
  private readonly warn: (message: string) => void;
  private readonly launcherKind: LauncherKind;
  private readonly resourceMode: ResourceMode;
  private readonly layout: CgroupLayout | undefined;
  private readonly poller: RssPoller;
  private readonly maxLineBytes: number;
  private launcher: LauncherClient | undefined;
  private launcherReady: Promise<LauncherClient> | undefined;
  private readonly byId = new Map<number, Attempt>();
  private readonly byKey = new Map<string, Attempt>();
  private nextId = 1;
  private readonly dirty = new Set<Attempt>();
  private flushScheduled = false;
  private readonly cleanups = new Set<Promise<void>>();
  private closed = false;

  constructor(
    ctx: ExecutorFactoryContext,
    private readonly opts: ProcessExecutorOptions,
  ) {
    this.events = ctx.events;
    this.host = opts.host ?? hostname();
    this.warn = opts.warn ?? ((m) => console.warn(`[executor:process] ${m}`));
    this.maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
    const wanted = opts.launcher ?? 'auto';
    const nativeOk = isNativeLauncherAvailable(opts.nativeLauncherPath);
    if (wanted === 'native' && !nativeOk) {
      throw new Error(
        `native launcher not found at ${opts.nativeLauncherPath ?? 'native/build/ob-launcher'}`,
      );
    }
    this.launcherKind = wanted === 'auto' ? (nativeOk ? 'native' : 'node') : wanted;
    if (wanted === 'auto' && !nativeOk) {
      this.warn('native launcher not built (no C compiler?); using the slower Node helper');
    }
    const enforce = opts.enforceResources ?? 'auto';
    this.layout = enforce === 'auto' || enforce === 'cgroup' ? detectCgroupLayout() : undefined;
    if (enforce === 'cgroup' && !this.layout) {
      throw new Error('enforceResources=cgroup, but no writable memory cgroup was found (needs root)');
    }
    if (enforce === 'off') this.resourceMode = 'off';
    else if (enforce === 'poll') this.resourceMode = 'poll';
    // The Node helper can only join a cgroup after spawn (racy): under `auto` prefer polling there.
    else if (this.layout && (enforce === 'cgroup' || this.launcherKind === 'native')) {
      this.resourceMode = this.layout.version === 1 ? 'cgroup-v1' : 'cgroup-v2';
    } else this.resourceMode = 'poll';
    this.poller = new RssPoller(opts.pollIntervalMs ?? 250);
  }

  /** For tests and diagnostics. */
  get info(): { launcher: LauncherKind; resources: ResourceMode; launcherPid: number | undefined } {
    return { launcher: this.launcherKind, resources: this.resourceMode, launcherPid: this.launcher?.pid };
  }

  async start(spec: AttemptSpec): Promise<AttemptHandle> {
    if (this.closed) throw new Error('process executor is closed');
    if (this.byKey.has(spec.attemptKey)) throw new Error(`attempt ${spec.attemptKey} is already running`);
    const env = this.buildEnv(spec);
    const bad =
      spec.command.length === 0
        ? 'empty command'
        : spec.command.some((a) => a.includes('\0')) || env.some((e) => e.includes('\0'))
          ? 'command or environment contains a NUL byte'
          : undefined;
    if (bad) return this.failEarly(spec, cannotStartOutcome(bad, 126));
    try {
      await mkdir(spec.workDir, { recursive: true });
    } catch (err) {
      return this.failEarly(
        spec,
        cannotStartOutcome(`creating workDir failed: ${(err as Error).message}`, 126),
      );
    }

    let cgroup: AttemptCgroup | undefined;
    let pollLimitBytes: number | undefined;
    const wantsLimits = spec.resources.memoryMiB > 0 || spec.resources.vcpus > 0;
    if (
      (this.resourceMode === 'cgroup-v1' || this.resourceMode === 'cgroup-v2') &&
      this.layout &&
      wantsLimits
    ) {
      try {
        cgroup = await createAttemptCgroup(this.layout, spec.taskId, spec.resources);
      } catch (err) {
        this.warn(`cgroup for ${spec.attemptKey} failed (${(err as Error).message}); polling RSS instead`);
      }
    }
    if (!cgroup && this.resourceMode !== 'off' && spec.resources.memoryMiB > 0) {
      pollLimitBytes = spec.resources.memoryMiB * 1024 * 1024;
    }

    let launcher: LauncherClient;
    try {
      launcher = await this.ensureLauncher();
    } catch (err) {
      if (cgroup) this.track(destroyCgroupDirs(cgroup.dirs));
      throw err;
    }
    if (this.closed) throw new Error('process executor is closed');
    const a: Attempt = {
      key: spec.attemptKey,
      spec,
      id: this.allocateId(),
      launcher,
      pid: undefined,
      startedAt: undefined,
      cgroup,
      pollLimitBytes,
      oomByPoll: false,
      splitters: [new LineSplitter(this.maxLineBytes), new LineSplitter(this.maxLineBytes)],
      pending: [],
      lastTs: 0,
      killTimer: undefined,
      killAt: undefined,
      stopGraceMs: undefined,
      released: false,
      deferred: [],
      finished: false,
      onStarted: undefined,
    };
    const started = new Promise<{ pid: number; at: number } | { error: ExitOutcome }>((resolve) => {
      a.onStarted = resolve;
    });
    this.byId.set(a.id, a);
    this.byKey.set(a.key, a);
    launcher.start({
      id: a.id,
      argv: spec.command,
      env,
      cwd: spec.workDir,
      cgroupProcs: cgroup?.procsFiles ?? [],
    });
    const result = await started;

    if ('error' in result) {
      const outcome = result.error;
      this.forget(a);
      if (cgroup) this.track(destroyCgroupDirs(cgroup.dirs));
      return this.failEarly(spec, outcome, a);
    }
    const handle: ProcessAttemptHandle = {
      executor: 'process',
      pid: result.pid,
      pgid: result.pid,
      bootId: currentBootId(),
      startedAt: result.at,
      host: this.host,
    };
    if (cgroup) handle.cgroupDirs = [...cgroup.dirs];
    // Events reach the engine only after it has the handle.
    setImmediate(() => this.release(a));
    return handle;
  }

  async stop(
    attemptKey: string,
    handle: AttemptHandle,
    opts: { graceMs: number; reason?: string },
  ): Promise<void> {
    const a = this.byKey.get(attemptKey);
    if (!a) {
      // Not one of ours (e.g. from before a restart and never recovered): make sure nothing is left.
      await killStrays(handle);
      return;
    }
    if (a.finished) return;
    const grace = Math.max(0, opts.graceMs);
    if (a.pid === undefined) {
      a.stopGraceMs = Math.min(a.stopGraceMs ?? grace, grace);
      return;
    }
    this.applyStop(a, grace);
  }

  async recover(attempts: readonly RecoveredAttempt[]): Promise<void> {
    const now = Date.now();
    for (const { attemptKey, handle } of attempts) {
      if (this.byKey.has(attemptKey)) continue; // still running under this very executor
      try {
        await killStrays(handle);
      } catch (err) {
        this.warn(`cleaning up ${attemptKey} failed: ${(err as Error).message}`);
      }
      this.events.onExit(
        attemptKey,
        {
          kind: 'hostLost',
          host: this.host,
          reason: 'the server restarted; its process launcher killed the attempt',
        },
        now,
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const a of this.byId.values()) if (a.killTimer) clearTimeout(a.killTimer);
    const launcher =
      this.launcher ?? (this.launcherReady ? await this.launcherReady.catch(() => undefined) : undefined);
    if (launcher) await launcher.close();
    this.poller.stop();
    this.flushAll();
    while (this.cleanups.size > 0) await Promise.all([...this.cleanups]);
  }

  // ---------- internals ----------

  private buildEnv(spec: AttemptSpec): string[] {
    const env = Object.entries(spec.environment).map(([k, v]) => `${k}=${v}`);
    const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(spec.environment, k);
    if (!has('PATH')) env.push(`PATH=${DEFAULT_PATH}`);
    if (!has('HOME')) env.push(`HOME=${spec.workDir}`);
    if (!has('LANG')) env.push('LANG=C.UTF-8');
    return env;
  }

  private allocateId(): number {
    let id = this.nextId;
    while (this.byId.has(id)) id = id >= 0xffff_fff0 ? 1 : id + 1;
    this.nextId = id >= 0xffff_fff0 ? 1 : id + 1;
    return id;
  }

  /** Resolves start() with a pid-less handle and reports failedToStart right after. */
  private failEarly(spec: AttemptSpec, outcome: ExitOutcome, a?: Attempt): ProcessAttemptHandle {
    const at = Date.now();
    setImmediate(() => {
      if (a) this.flushAttempt(a);
      this.events.onExit(spec.attemptKey, outcome, at);
    });
    return { executor: 'process', pid: 0, pgid: 0, bootId: currentBootId(), startedAt: at, host: this.host };
  }

  private ensureLauncher(): Promise<LauncherClient> {
    if (this.launcher && !this.launcher.isGone && this.launcherReady) return this.launcherReady;
    const client = new LauncherClient({
      kind: this.launcherKind,
      ...(this.opts.nativeLauncherPath !== undefined ? { nativePath: this.opts.nativeLauncherPath } : {}),
      onReport: (r) => this.onReport(r),
      onGone: (reason) => this.onLauncherGone(client, reason),
    });
    this.launcher = client;
    this.launcherReady = client.ready.then(() => client);
    return this.launcherReady;
  }

  private onReport(r: LauncherReport): void {
    switch (r.type) {
      case 'output': {
        const a = this.byId.get(r.id);
        if (!a) return;
        const splitter = a.splitters[r.stream - 1];
        splitter?.push(r.data, (line) => this.addLine(a, line, r.at));
        return;
      }
      case 'started': {
        const a = this.byId.get(r.id);
        if (!a) return;
        a.pid = r.pid;
        a.startedAt = r.at;
        const startedAt = r.at;
        this.emit(a, () => this.events.onRunning(a.key, startedAt, { host: this.host }));
        if (a.pollLimitBytes !== undefined) {
          const limit = a.pollLimitBytes;
          this.poller.watch(r.pid, limit, (rss) => {
            if (a.finished) return;
            a.oomByPoll = true;
            this.warn(
              `${a.key} uses ${Math.round(rss / 1048576)} MiB, over its ${a.spec.resources.memoryMiB} MiB: killing it`,
            );
            a.launcher.signal(a.id, SIGKILL, true);
          });
        }
        a.onStarted?.({ pid: r.pid, at: r.at });
        a.onStarted = undefined;
        if (a.stopGraceMs !== undefined) this.applyStop(a, a.stopGraceMs);
        return;
      }
      case 'exit': {
        const a = this.byId.get(r.id);
        if (!a) return;
        this.finish(a, { signaled: r.signaled, value: r.value }, r.at);
        return;
      }
      case 'spawnError': {
        const a = this.byId.get(r.id);
        if (!a) return;
        a.onStarted?.({
          error: spawnErrorOutcome(a.spec.command[0] ?? '', r.stage, r.errno, r.message, a.spec.workDir),
        });
        a.onStarted = undefined;
        return;
      }
      case 'error':
        this.warn(`launcher reported a protocol error: ${r.message}`);
        return;
      case 'ready':
        return;
    }
  }

  private addLine(a: Attempt, message: string, at: number): void {
    const timestamp = at > a.lastTs ? at : a.lastTs; // keep each stream's events in order
    a.lastTs = timestamp;
    a.pending.push({ timestamp, message });
    if (a.pending.length >= MAX_BATCH) {
      this.flushAttempt(a);
      return;
    }
    this.dirty.add(a);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushAll());
    }
  }

  private flushAttempt(a: Attempt): void {
    this.dirty.delete(a);
    if (a.pending.length === 0) return;
    const batch = a.pending;
    a.pending = [];
    try {
      a.spec.log.sink.append(a.spec.log.group, a.spec.log.stream, batch);
    } catch (err) {
      this.warn(`log sink rejected ${batch.length} lines of ${a.key}: ${(err as Error).message}`);
    }
  }

  private flushAll(): void {
    this.flushScheduled = false;
    for (const a of this.dirty) this.flushAttempt(a);
    this.dirty.clear();
  }

  private emit(a: Attempt, fn: () => void): void {
    if (a.released) fn();
    else a.deferred.push(fn);
  }

  private release(a: Attempt): void {
    a.released = true;
    const fns = a.deferred;
    a.deferred = [];
    for (const fn of fns) fn();
  }

  private applyStop(a: Attempt, graceMs: number): void {
    if (a.finished) return;
    const killAt = Date.now() + graceMs;
    if (a.killAt !== undefined && a.killAt <= killAt) {
      a.launcher.signal(a.id, SIGTERM, true);
      return;
    }
    a.launcher.signal(a.id, SIGTERM, true);
    if (a.killTimer) clearTimeout(a.killTimer);
    a.killAt = killAt;
    a.killTimer = setTimeout(() => {
      a.killTimer = undefined;
      if (!a.finished) a.launcher.signal(a.id, SIGKILL, true);
    }, graceMs);
  }

  private forget(a: Attempt): void {
    a.finished = true;
    this.byId.delete(a.id);
    if (this.byKey.get(a.key) === a) this.byKey.delete(a.key);
    if (a.killTimer) clearTimeout(a.killTimer);
    a.killTimer = undefined;
    if (a.pid !== undefined) this.poller.unwatch(a.pid);
  }

  private finish(a: Attempt, status: { signaled: boolean; value: number }, at: number): void {
    if (a.finished) return;
    this.forget(a);
    for (const s of a.splitters) s.end((line) => this.addLine(a, line, at));
    this.flushAttempt(a);
    const oom = a.oomByPoll || (a.cgroup !== undefined && cgroupSawOomKill(a.cgroup));
    const code = exitCodeOf(status);
    const outcome: ExitOutcome =
      oom && code !== 0
        ? { kind: 'oomKilled', exitCode: code, stoppedAt: at }
        : exitedOutcome(status, a.startedAt, at);
    if (a.cgroup) this.track(destroyCgroupDirs(a.cgroup.dirs));
    this.emit(a, () => this.events.onExit(a.key, outcome, at));
  }

  private onLauncherGone(client: LauncherClient, reason: string): void {
    if (this.launcher === client) {
      this.launcher = undefined;
      this.launcherReady = undefined;
    }
    if (!this.closed) this.warn(reason);
    const now = Date.now();
    for (const a of [...this.byId.values()]) {
      if (a.launcher !== client || a.finished) continue;
      if (a.onStarted) {
        a.onStarted({ error: cannotStartOutcome(`the process launcher went away (${reason})`, 126) });
        a.onStarted = undefined;
        continue;
      }
      this.forget(a);
      for (const s of a.splitters) s.end((line) => this.addLine(a, line, now));
      this.flushAttempt(a);
      const pid = a.pid;
      const strays: AttemptHandle = {
        executor: 'process',
        pid: pid ?? 0,
        pgid: pid ?? 0,
        bootId: currentBootId(),
        startedAt: a.startedAt ?? now,
        ...(a.cgroup ? { cgroupDirs: a.cgroup.dirs } : {}),
      };
      this.track(killStrays(strays).then(() => undefined));
      this.emit(a, () =>
        this.events.onExit(
          a.key,
          { kind: 'hostLost', host: this.host, reason: `process launcher died: ${reason}` },
          now,
        ),
      );
    }
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err: unknown) => this.warn(`cleanup failed: ${(err as Error).message}`))
      .finally(() => this.cleanups.delete(tracked));
    this.cleanups.add(tracked);
  }
}

/** Creates the process executor (kind `process`). */
export function createProcessExecutor(
  ctx: ExecutorFactoryContext,
  opts: ProcessExecutorOptions = {},
): Executor {
  return new ProcessExecutor(ctx, opts);
}

/** Like createProcessExecutor, typed with the diagnostics getter (tests, benchmarks). */
export function createProcessExecutorWithInfo(
  ctx: ExecutorFactoryContext,
  opts: ProcessExecutorOptions = {},
): Executor & {
  readonly info: { launcher: LauncherKind; resources: ResourceMode; launcherPid: number | undefined };
} {
  return new ProcessExecutor(ctx, opts);
}
