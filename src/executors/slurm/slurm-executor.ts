/**
 * @module executors/slurm/slurm-executor
 * Runs each attempt as one Slurm job (`--no-requeue`: retries stay openbatch's decision) on the
 * partition bound to the attempt's compute environment. See docs/architecture/executors.md
 * "Slurm executor" and distributed.md Part A.
 *
 *  - start(): writes the job script (env exported inside it, then `exec ob-shim`), submits it
 *    through the CE's `SlurmClient` (a few submissions in parallel), returns `{slurmJobId, dir…}`.
 *  - A tail loop (every `tailIntervalMs`) reads the shim's files in the attempt directory on the
 *    shared filesystem: start marker → onRunning (the job's own timestamp), output lines → the
 *    LogSink, exit record → onExit.
 *  - One poller per compute environment (every `pollIntervalMs`, one squeue / GET /jobs for all its
 *    attempts) supplies Slurm's view: pending, OOM, node failure, cancellation, vanished records.
 *  - stop(): TERM to the shim (`scancel --batch`, or the shim's control file over REST), KILL after
 *    the grace, then `scancel` as the last resort. Jobs still pending are just cancelled.
 *  - recover(): re-adopts the attempts Slurm still runs, settles the others from their exit records
 *    (else hostLost), and cancels this service's `ob-*` jobs that no attempt claims.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, chmod, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { LogEventInput, LogSink } from '../../logs/log-sink.js';
import type {
  AttemptHandle,
  AttemptSpec,
  Executor,
  ExecutorEvents,
  ExecutorFactoryContext,
  ExitOutcome,
  RecoveredAttempt,
  ResourceAmounts,
} from '../executor.js';
import { CliSlurmClient } from './cli-slurm-client.js';
import {
  buildJobScript,
  parseSlurmComment,
  slurmComment,
  slurmJobName,
  timeLimitMinutes,
} from './job-script.js';
import { JOB_SHIM } from './job-shim.js';
import { RestSlurmClient } from './rest-slurm-client.js';
import type { SlurmClient, SlurmConfigInfo, SlurmJobRecord } from './slurm-client.js';
import { decideOutcome, isTerminal, parseExitRecord, type ShimExitRecord } from './slurm-outcome.js';

export interface SlurmRestOptions {
  /** `unix:/path/rest.sock` (rest_auth/local) or `http://host:6820` (rest_auth/jwt). */
  url: string;
  apiVersion?: string;
  user?: string;
  token?: string;
}

/** How one compute environment is bound to Slurm. */
export interface SlurmBindingOptions {
  transport: 'cli' | 'rest';
  partition: string;
  /** Directory on a filesystem shared by this host and the compute nodes (attempt files, the shim). */
  workRoot: string;
  rest?: SlurmRestOptions;
  /** slurm.conf for the CLI transport (SLURM_CONF). */
  slurmConf?: string;
  /** Squeue / GET /jobs interval (default 1000 ms). */
  pollIntervalMs?: number;
}

export interface SlurmExecutorOptions extends SlurmBindingOptions {
  /** Per compute environment (by name) overrides; CEs not listed use the top-level binding. */
  computeEnvironments?: Record<string, Partial<SlurmBindingOptions>>;
  /** Output/exit-record tail interval (default 250 ms). */
  tailIntervalMs?: number;
  /** Parallel sbatch / submit calls (default 4). */
  submitConcurrency?: number;
  /** Scopes the orphan sweep of recover(); default: derived from workRoot. */
  serviceId?: string;
  /** close() cancels the jobs still running (default true, as the executor port requires). */
  cancelOnClose?: boolean;
  /** Keep attempt directories after the exit was reported (debugging). */
  keepFiles?: boolean;
  /** Injected clients (tests); default: built from the binding. */
  clientFor?: (binding: SlurmBindingOptions) => SlurmClient;
  warn?: (msg: string) => void;
}

export interface SlurmAttemptHandle extends AttemptHandle {
  executor: 'slurm';
  slurmJobId: string;
  ce: string;
  partition: string;
  dir: string;
  logGroup: string;
  logStream: string;
}

interface Binding {
  key: string;
  opts: SlurmBindingOptions;
  client: SlurmClient;
  timer?: NodeJS.Timeout;
  polling?: Promise<void>;
  pollSoon: boolean;
  shimPath?: Promise<string>;
}

interface Attempt {
  key: string;
  binding: Binding;
  slurmJobId?: string;
  dir: string;
  group: string;
  stream: string;
  sink?: LogSink;
  started: boolean;
  done: boolean;
  finishing: boolean;
  offsets: { out: number; err: number };
  cursorDirty: boolean;
  lastTs: number;
  stop?: { at: number; graceMs: number; phase: 'term' | 'kill' | 'cancel' };
  slurm?: SlurmJobRecord;
  terminalSince?: number;
  exitRecord?: ShimExitRecord;
  exitRecordSince?: number;
  misses: number;
  vanished: boolean;
}

const SIGNALS_WITH_BATCH = { TERM: 'TERM', KILL: 'USR2' } as const;

export function createSlurmExecutor(ctx: ExecutorFactoryContext, opts: SlurmExecutorOptions): Executor {
  return new SlurmExecutor(ctx, opts);
}

function defaultClient(b: SlurmBindingOptions): SlurmClient {
  if (b.transport === 'rest') {
    if (!b.rest) throw new Error('slurm executor: transport rest needs rest.url');
    return new RestSlurmClient({
      url: b.rest.url,
      ...(b.rest.apiVersion !== undefined ? { apiVersion: b.rest.apiVersion } : {}),
      ...(b.rest.user !== undefined ? { user: b.rest.user } : {}),
      ...(b.rest.token !== undefined ? { token: b.rest.token } : {}),
    });
  }
  return new CliSlurmClient(b.slurmConf !== undefined ? { slurmConf: b.slurmConf } : {});
}

class SlurmExecutor implements Executor {
  readonly kind = 'slurm';
  private readonly events: ExecutorEvents;
  private readonly bindings = new Map<string, Binding>();
  private readonly attempts = new Map<string, Attempt>();
  private readonly tailTimer: NodeJS.Timeout;
  private tailing = false;
  private closed = false;
  private lastSink: LogSink | undefined;
  private readonly serviceId: string;
  private inflightSubmits = 0;
  private readonly submitWaiters: (() => void)[] = [];
  private readonly configCache = new Map<string, Promise<SlurmConfigInfo>>();

  constructor(
    private readonly ctx: ExecutorFactoryContext,
    private readonly opts: SlurmExecutorOptions,
  ) {
    this.events = ctx.events;
    this.serviceId =
      opts.serviceId ?? createHash('sha256').update(path.resolve(opts.workRoot)).digest('hex').slice(0, 10);
    this.tailTimer = setInterval(() => void this.tail(), opts.tailIntervalMs ?? 250);
    this.tailTimer.unref();
  }

  // ---------------------------------------------------------------------------------------------
  // Bindings (one per compute environment: client + poller)
  // ---------------------------------------------------------------------------------------------

  private bindingOptions(ce: string): SlurmBindingOptions {
    const o = this.opts;
    const over = o.computeEnvironments?.[ce] ?? {};
    const b: SlurmBindingOptions = {
      transport: over.transport ?? o.transport,
      partition: over.partition ?? o.partition,
      workRoot: over.workRoot ?? o.workRoot,
    };
    const rest = over.rest ?? o.rest;
    if (rest) b.rest = rest;
    const conf = over.slurmConf ?? o.slurmConf;
    if (conf !== undefined) b.slurmConf = conf;
    const poll = over.pollIntervalMs ?? o.pollIntervalMs;
    if (poll !== undefined) b.pollIntervalMs = poll;
    return b;
  }

  private binding(ce: string): Binding {
    let b = this.bindings.get(ce);
    if (!b) {
      const opts = this.bindingOptions(ce);
      b = { key: ce, opts, client: (this.opts.clientFor ?? defaultClient)(opts), pollSoon: false };
      this.bindings.set(ce, b);
    }
    return b;
  }

  private ensurePoller(b: Binding): void {
    if (b.timer || this.closed) return;
    b.timer = setInterval(() => void this.poll(b), b.opts.pollIntervalMs ?? 1000);
    b.timer.unref();
  }

  /** Installs the shim (content-addressed, so running jobs keep their version) under workRoot. */
  private shimPath(b: Binding): Promise<string> {
    b.shimPath ??= (async () => {
      const root = b.opts.workRoot;
      const hash = createHash('sha256').update(JOB_SHIM).digest('hex').slice(0, 12);
      const file = path.join(root, 'bin', `ob-shim-${hash}.sh`);
      await mkdir(path.join(root, 'bin'), { recursive: true });
      await mkdir(path.join(root, 'attempts'), { recursive: true });
      // the job may run as another user (slurmrestd local auth runs jobs as its own uid)
      await chmod(path.join(root, 'attempts'), 0o1777);
      try {
        await access(file, fsConstants.R_OK);
      } catch {
        const tmp = `${file}.${randomBytes(4).toString('hex')}`;
        await writeFile(tmp, JOB_SHIM, { mode: 0o755 });
        await rename(tmp, file);
      }
      return file;
    })();
    b.shimPath.catch(() => {
      b.shimPath = undefined;
    });
    return b.shimPath;
  }

  private async withSubmitSlot<T>(fn: () => Promise<T>): Promise<T> {
    const limit = this.opts.submitConcurrency ?? 4;
    while (this.inflightSubmits >= limit) await new Promise<void>((r) => this.submitWaiters.push(r));
    this.inflightSubmits++;
    try {
      return await fn();
    } finally {
      this.inflightSubmits--;
      this.submitWaiters.shift()?.();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Executor port
  // ---------------------------------------------------------------------------------------------

  async start(spec: AttemptSpec): Promise<AttemptHandle> {
    if (this.closed) throw new Error('slurm executor is closed');
    const b = this.binding(spec.computeEnvironment.name);
    const shim = await this.shimPath(b);
    const dir = path.join(b.opts.workRoot, 'attempts', spec.taskId);
    this.lastSink = spec.log.sink;
    const timeout = spec.timeoutSeconds && spec.timeoutSeconds > 0 ? spec.timeoutSeconds : 0;
    const graceSeconds = Math.max(1, Math.ceil(this.ctx.killGraceMs / 1000));
    const script = buildJobScript({
      environment: spec.environment,
      shimPath: shim,
      attemptDir: dir,
      // the engine's own timeout stop is the main path; the shim is the backstop when openbatch is away
      timeoutSeconds: timeout > 0 ? timeout + 5 : 0,
      killGraceSeconds: graceSeconds,
      command: spec.command,
    });
    const a: Attempt = {
      key: spec.attemptKey,
      binding: b,
      dir,
      group: spec.log.group,
      stream: spec.log.stream,
      sink: spec.log.sink,
      started: false,
      done: false,
      finishing: false,
      offsets: { out: 0, err: 0 },
      cursorDirty: false,
      lastTs: 0,
      misses: 0,
      vanished: false,
    };
    this.attempts.set(spec.attemptKey, a);
    const limit = timeLimitMinutes(timeout);
    let id: string;
    try {
      id = await this.withSubmitSlot(() =>
        b.client.submit({
          script,
          name: slurmJobName(spec.jobId, spec.attempt),
          comment: slurmComment(spec.attemptKey, spec.computeEnvironment.name, this.serviceId),
          partition: b.opts.partition,
          cpusPerTask: Math.max(1, Math.ceil(spec.resources.vcpus)),
          memoryMiB: Math.ceil(spec.resources.memoryMiB),
          gpus: spec.resources.gpus,
          ...(limit !== undefined ? { timeLimitMinutes: limit } : {}),
          stdoutPath: `${dir}.slurm.out`,
          workingDirectory: path.join(b.opts.workRoot, 'attempts'),
        }),
      );
    } catch (err) {
      this.attempts.delete(spec.attemptKey);
      throw err;
    }
    a.slurmJobId = id;
    this.ensurePoller(b);
    const handle: SlurmAttemptHandle = {
      executor: 'slurm',
      slurmJobId: id,
      ce: spec.computeEnvironment.name,
      partition: b.opts.partition,
      dir,
      logGroup: spec.log.group,
      logStream: spec.log.stream,
    };
    return handle;
  }

  async stop(
    attemptKey: string,
    handle: AttemptHandle,
    opts: { graceMs: number; reason?: string },
  ): Promise<void> {
    const a = this.attempts.get(attemptKey);
    const h = handle as Partial<SlurmAttemptHandle>;
    if (!a) {
      // not (or no longer) tracked: make sure Slurm forgets it
      if (typeof h.slurmJobId === 'string')
        await this.binding(h.ce ?? '')
          .client.cancel([h.slurmJobId])
          .catch(() => undefined);
      return;
    }
    if (a.done || a.stop) return;
    a.stop = { at: Date.now(), graceMs: opts.graceMs, phase: 'term' };
    const id = a.slurmJobId ?? h.slurmJobId;
    if (id === undefined) return;
    if (!a.started && !(await this.exists(path.join(a.dir, 'start')))) {
      // still pending (or launching): Slurm cancels it; the shim, if it got going, records TERM
      a.stop.phase = 'cancel';
      await a.binding.client.cancel([id]);
      return;
    }
    await this.sendToShim(a, 'TERM');
    const escalate = (): void => {
      if (a.done || this.closed || !a.stop) return;
      if (a.stop.phase === 'term') {
        a.stop.phase = 'kill';
        void this.sendToShim(a, 'KILL').catch((e: unknown) =>
          this.warn(`slurm: KILL ${id}: ${(e as Error).message}`),
        );
        setTimeout(escalate, 5000).unref();
      } else if (a.stop.phase === 'kill') {
        a.stop.phase = 'cancel';
        void a.binding.client.cancel([id]).catch(() => undefined);
      }
    };
    setTimeout(escalate, Math.max(0, opts.graceMs)).unref();
  }

  private async sendToShim(a: Attempt, what: 'TERM' | 'KILL'): Promise<void> {
    const id = a.slurmJobId;
    if (id !== undefined && a.binding.client.canSignalBatchShell) {
      try {
        await a.binding.client.signal(id, SIGNALS_WITH_BATCH[what], { batchShellOnly: true });
        return;
      } catch (err) {
        this.warn(`slurm: scancel --batch ${id}: ${(err as Error).message}; using the control file`);
      }
    }
    const tmp = path.join(a.dir, `.ctl.${randomBytes(4).toString('hex')}`);
    await writeFile(tmp, `${what}\n`);
    await rename(tmp, path.join(a.dir, 'ctl'));
  }

  async recover(list: readonly RecoveredAttempt[]): Promise<void> {
    const byBinding = new Map<Binding, Attempt[]>();
    for (const r of list) {
      const h = r.handle as Partial<SlurmAttemptHandle>;
      if (typeof h.slurmJobId !== 'string' || typeof h.dir !== 'string') {
        this.events.onExit(
          r.attemptKey,
          { kind: 'hostLost', host: h.partition ?? 'slurm', reason: 'no Slurm job id in the handle' },
          Date.now(),
        );
        continue;
      }
      const b = this.binding(h.ce ?? '');
      const a: Attempt = {
        key: r.attemptKey,
        binding: b,
        slurmJobId: h.slurmJobId,
        dir: h.dir,
        group: h.logGroup ?? '',
        stream: h.logStream ?? '',
        started: false,
        done: false,
        finishing: false,
        offsets: await this.readCursor(h.dir),
        cursorDirty: false,
        lastTs: 0,
        misses: 0,
        vanished: false,
      };
      if (this.lastSink) a.sink = this.lastSink;
      this.attempts.set(r.attemptKey, a);
      const l = byBinding.get(b) ?? [];
      l.push(a);
      byBinding.set(b, l);
    }
    // every CE we know of: sweep jobs of this service that no attempt claims
    for (const ce of Object.keys(this.opts.computeEnvironments ?? {})) this.binding(ce);
    const claimed = new Set(list.map((r) => (r.handle as Partial<SlurmAttemptHandle>).slurmJobId));
    const seenClients = new Set<SlurmClient>();
    for (const b of new Set([...this.bindings.values(), ...byBinding.keys()])) {
      let jobs: SlurmJobRecord[];
      try {
        jobs = await b.client.listJobs({ partition: b.opts.partition });
      } catch (err) {
        this.warn(`slurm: recover: listing ${b.opts.partition} failed: ${(err as Error).message}`);
        continue;
      }
      const byId = new Map(jobs.map((j) => [j.id, j]));
      for (const a of byBinding.get(b) ?? []) {
        const rec = a.slurmJobId !== undefined ? byId.get(a.slurmJobId) : undefined;
        if (rec) a.slurm = rec;
        else a.misses = 2; // vanished while we were away: settle from the exit record
        if (rec && isTerminal(rec.state)) a.terminalSince = 0;
      }
      if (seenClients.has(b.client)) continue;
      seenClients.add(b.client);
      const orphans = jobs.filter((j) => {
        const c = parseSlurmComment(j.comment);
        return c?.svc === this.serviceId && !claimed.has(j.id) && !isTerminal(j.state);
      });
      if (orphans.length > 0) {
        this.warn(
          `slurm: cancelling ${orphans.length} unclaimed openbatch job(s): ${orphans.map((j) => j.id).join(' ')}`,
        );
        await b.client
          .cancel(orphans.map((j) => j.id))
          .catch((e: unknown) => this.warn(`slurm: scancel: ${(e as Error).message}`));
      }
    }
    for (const b of byBinding.keys()) this.ensurePoller(b);
    await this.tail();
  }

  async capacity(): Promise<ResourceAmounts | undefined> {
    const b = this.binding('');
    return this.partitionCapacity(b);
  }

  /** Free capacity of a CE's partition: idle CPUs, unallocated memory and free GPUs of usable nodes. */
  async capacityOf(ceName: string): Promise<ResourceAmounts> {
    return this.partitionCapacity(this.binding(ceName));
  }

  private async partitionCapacity(b: Binding): Promise<ResourceAmounts> {
    const nodes = await b.client.nodes(b.opts.partition);
    const cap = { vcpus: 0, memoryMiB: 0, gpus: 0 };
    for (const n of nodes) {
      if (/down|drain|fail|inval|unk|maint|reboot|power|future|\*/.test(n.state)) continue;
      cap.vcpus += n.cpusIdle;
      cap.memoryMiB += Math.max(0, n.memoryMiB - n.allocMemoryMiB);
      cap.gpus += Math.max(0, n.gpus - n.gpusUsed);
    }
    return cap;
  }

  /** Cluster limits (MaxArraySize, MaxJobCount, KillWait…) for a CE, cached. */
  clusterConfig(ceName: string): Promise<SlurmConfigInfo> {
    let p = this.configCache.get(ceName);
    if (!p) {
      p = this.binding(ceName).client.config();
      this.configCache.set(ceName, p);
    }
    return p;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.tailTimer);
    for (const b of this.bindings.values()) if (b.timer) clearInterval(b.timer);
    if (this.opts.cancelOnClose ?? true) {
      const byClient = new Map<SlurmClient, string[]>();
      for (const a of this.attempts.values()) {
        if (a.done || a.slurmJobId === undefined) continue;
        const l = byClient.get(a.binding.client) ?? [];
        l.push(a.slurmJobId);
        byClient.set(a.binding.client, l);
      }
      for (const [c, ids] of byClient)
        await c
          .cancel(ids)
          .catch((e: unknown) => this.warn(`slurm: close: scancel: ${(e as Error).message}`));
    }
    for (const b of this.bindings.values()) await b.polling?.catch(() => undefined);
    for (const b of this.bindings.values()) (b.client as Partial<RestSlurmClient>).close?.();
  }

  // ---------------------------------------------------------------------------------------------
  // Poller: one list call per compute environment
  // ---------------------------------------------------------------------------------------------

  private async poll(b: Binding): Promise<void> {
    if (b.polling || this.closed) return;
    const mine = [...this.attempts.values()].filter(
      (a) => a.binding === b && !a.done && a.slurmJobId !== undefined,
    );
    if (mine.length === 0) return;
    b.polling = (async () => {
      let jobs: SlurmJobRecord[];
      try {
        jobs = await b.client.listJobs({ partition: b.opts.partition });
      } catch (err) {
        this.warn(`slurm: poll ${b.opts.partition}: ${(err as Error).message}`);
        return;
      }
      const byId = new Map(jobs.map((j) => [j.id, j]));
      const now = Date.now();
      for (const a of mine) {
        const rec = byId.get(a.slurmJobId as string);
        if (rec) {
          a.slurm = rec;
          a.misses = 0;
          if (isTerminal(rec.state)) a.terminalSince ??= now;
        } else if (++a.misses >= 2 && !a.vanished) {
          a.vanished = true;
          a.terminalSince ??= now;
        }
      }
    })();
    try {
      await b.polling;
    } finally {
      b.polling = undefined;
    }
    for (const a of mine) await this.evaluate(a);
  }

  // ---------------------------------------------------------------------------------------------
  // Tail: start markers, output, exit records
  // ---------------------------------------------------------------------------------------------

  private async tail(): Promise<void> {
    if (this.tailing) return;
    this.tailing = true;
    try {
      const list = [...this.attempts.values()].filter((a) => !a.done && !a.finishing);
      const batch = 64;
      for (let i = 0; i < list.length; i += batch) {
        await Promise.all(list.slice(i, i + batch).map((a) => this.tailOne(a)));
      }
      for (const b of this.bindings.values()) {
        if (b.pollSoon) {
          b.pollSoon = false;
          void this.poll(b);
        }
      }
    } finally {
      this.tailing = false;
    }
  }

  private async tailOne(a: Attempt): Promise<void> {
    try {
      if (!a.started) {
        const text = await readFile(path.join(a.dir, 'start'), 'utf8').catch(() => undefined);
        if (text !== undefined && text.trim() !== '') {
          const [ms, host] = text.trim().split(/\s+/);
          a.started = true;
          const at = Number(ms) || Date.now();
          this.events.onRunning(a.key, at, host ? { host } : undefined);
        }
      }
      await this.readOutput(a);
      if (!a.exitRecord) {
        const text = await readFile(path.join(a.dir, 'exit.json'), 'utf8').catch(() => undefined);
        const rec = text !== undefined ? parseExitRecord(text) : undefined;
        if (rec) {
          a.exitRecord = rec;
          a.exitRecordSince = Date.now();
          if (rec.exitCode === 137) a.binding.pollSoon = true;
        }
      }
      await this.evaluate(a);
    } catch (err) {
      this.warn(`slurm: tail ${a.key}: ${(err as Error).message}`);
    }
  }

  private async readOutput(a: Attempt): Promise<void> {
    if (!a.sink) {
      if (!this.lastSink) return;
      a.sink = this.lastSink; // recovered attempt: the engine's sink, known from any later start()
    }
    const events: (LogEventInput & { seq: number })[] = [];
    let seq = 0;
    for (const which of ['out', 'err'] as const) {
      const file = path.join(a.dir, which);
      let size: number;
      try {
        size = (await stat(file)).size;
      } catch {
        continue;
      }
      if (size <= a.offsets[which]) continue;
      const fh = await open(file, 'r');
      try {
        const len = Math.min(size - a.offsets[which], 4 << 20);
        const buf = Buffer.alloc(len);
        const { bytesRead } = await fh.read(buf, 0, len, a.offsets[which]);
        const chunk = buf.subarray(0, bytesRead);
        const lastNl = chunk.lastIndexOf(0x0a);
        if (lastNl < 0) continue; // the shim writes whole lines; wait for the rest
        for (const line of chunk.subarray(0, lastNl).toString('utf8').split('\n')) {
          const sp = line.indexOf(' ');
          const us = sp > 0 ? Number(line.slice(0, sp)) : NaN;
          events.push({
            timestamp: Number.isFinite(us) ? Math.floor(us / 1000) : Date.now(),
            message: sp > 0 ? line.slice(sp + 1) : line,
            seq: seq++,
          });
        }
        a.offsets[which] += lastNl + 1;
        a.cursorDirty = true;
      } finally {
        await fh.close();
      }
    }
    if (events.length === 0) return;
    events.sort((x, y) => x.timestamp - y.timestamp || x.seq - y.seq);
    const out: LogEventInput[] = events.map((e) => {
      a.lastTs = Math.max(a.lastTs, e.timestamp);
      return { timestamp: a.lastTs, message: e.message };
    });
    a.sink.append(a.group, a.stream, out);
    if (a.cursorDirty) {
      a.cursorDirty = false;
      await writeFile(path.join(a.dir, '.ob-cursor'), `${a.offsets.out} ${a.offsets.err}\n`).catch(
        () => undefined,
      );
    }
  }

  private async readCursor(dir: string): Promise<{ out: number; err: number }> {
    const text = await readFile(path.join(dir, '.ob-cursor'), 'utf8').catch(() => '');
    const [o, e] = text.trim().split(/\s+/).map(Number);
    return { out: Number.isFinite(o) ? (o as number) : 0, err: Number.isFinite(e) ? (e as number) : 0 };
  }

  private async evaluate(a: Attempt): Promise<void> {
    if (a.done || a.finishing) return;
    const now = Date.now();
    const d = decideOutcome({
      ...(a.slurm && !a.vanished ? { slurm: a.slurm } : {}),
      vanished: a.vanished,
      ...(a.exitRecord ? { exitRecord: a.exitRecord } : {}),
      stopRequested: a.stop !== undefined,
      started: a.started,
      terminalForMs: a.terminalSince === undefined ? 0 : now - a.terminalSince,
      exitRecordForMs: a.exitRecordSince === undefined ? 0 : now - a.exitRecordSince,
      fallbackHost: a.slurm?.node || a.exitRecord?.host || a.binding.opts.partition,
    });
    if (d.kind === 'wait') return;
    await this.finish(a, d.outcome, d.at ?? now);
  }

  private async finish(a: Attempt, outcome: ExitOutcome, at: number): Promise<void> {
    a.finishing = true;
    try {
      await this.readOutput(a); // the last lines land before onExit
    } catch {
      // output is best effort; the outcome is not
    }
    if (a.done) return;
    a.done = true;
    this.attempts.delete(a.key);
    if (outcome.kind === 'hostLost' && a.slurmJobId !== undefined && a.slurm && !isTerminal(a.slurm.state)) {
      await a.binding.client.cancel([a.slurmJobId]).catch(() => undefined);
    }
    if (outcome.kind === 'hostLost' && a.slurm?.state === 'REQUEUED' && a.slurmJobId !== undefined) {
      // Slurm would run it again (requeue could not be disabled): retries are openbatch's
      await a.binding.client.cancel([a.slurmJobId]).catch(() => undefined);
    }
    this.events.onExit(a.key, outcome, at);
    if (!this.opts.keepFiles) {
      await rm(a.dir, { recursive: true, force: true }).catch(() => undefined);
      await rm(`${a.dir}.slurm.out`, { force: true }).catch(() => undefined);
    }
  }

  private async exists(file: string): Promise<boolean> {
    try {
      await access(file);
      return true;
    } catch {
      return false;
    }
  }

  private warn(msg: string): void {
    (this.opts.warn ?? ((m: string) => console.warn(m)))(msg);
  }
}
