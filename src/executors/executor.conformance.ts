/**
 * @module executors/executor.conformance
 * The conformance suite every executor adapter runs (house style rule 21). Commands are plain argv
 * (`sh -c '…'`), so container executors reuse it with an image that has `sh` (pass `shellImage`).
 * A gap is declared as an explicit skip with a reason.
 *
 *   runExecutorConformance({ name: 'process', create: async (events, dataDir) => createProcessExecutor(...) })
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { LogEventInput, LogSink } from '../logs/log-sink.js';
import type { AttemptHandle, AttemptSpec, Executor, ExecutorEvents, ExitOutcome } from './executor.js';

export interface ExecutorConformanceOptions {
  name: string;
  create: (events: ExecutorEvents, dataDir: string) => Promise<Executor>;
  skip?: { reason: string; tests: string[] }[];
  /** Image for container executors; recorded in the spec for the process executor. */
  shellImage?: string;
  /** How many trivial jobs the concurrency test runs at once (default 200). */
  manyJobs?: number;
}

export const CONFORMANCE_TESTS = [
  'reports exit code 0',
  'reports a non-zero exit code',
  'passes environment variables',
  'passes argv verbatim',
  'sends stdout and stderr lines to the sink with timestamps',
  'delivers output while the job runs',
  'stop() sends SIGTERM, then SIGKILL after the grace period',
  'stop() of a job that honours SIGTERM reports 143',
  'reports failedToStart for a missing binary',
  'kills a job that exceeds its memory limit',
  'recover() reports hostLost and leaves nothing running',
  'runs many concurrent jobs',
] as const;
export type ConformanceTest = (typeof CONFORMANCE_TESTS)[number];

/** A LogSink that keeps everything in memory. */
export class MemoryLogSink implements LogSink {
  readonly streams = new Map<string, LogEventInput[]>();
  appendCalls = 0;

  append(group: string, stream: string, events: readonly LogEventInput[]): void {
    this.appendCalls++;
    const key = `${group}\u0000${stream}`;
    let list = this.streams.get(key);
    if (!list) {
      list = [];
      this.streams.set(key, list);
    }
    for (const e of events) list.push(e);
  }

  async flush(): Promise<void> {}

  events(group: string, stream: string): LogEventInput[] {
    return this.streams.get(`${group}\u0000${stream}`) ?? [];
  }
}

/** Records executor callbacks and lets tests wait for them. */
export class RecordingEvents implements ExecutorEvents {
  readonly running = new Map<string, { at: number; host?: string }>();
  readonly exits = new Map<string, { outcome: ExitOutcome; at: number; count: number }>();
  readonly order: string[] = [];

  onRunning(attemptKey: string, at: number, info?: { host?: string }): void {
    this.order.push(`running:${attemptKey}`);
    this.running.set(attemptKey, info?.host !== undefined ? { at, host: info.host } : { at });
  }

  onExit(attemptKey: string, outcome: ExitOutcome, at: number): void {
    this.order.push(`exit:${attemptKey}`);
    const prev = this.exits.get(attemptKey);
    this.exits.set(attemptKey, { outcome, at, count: (prev?.count ?? 0) + 1 });
  }

  async waitForExit(attemptKey: string, timeoutMs = 15_000): Promise<ExitOutcome> {
    await waitFor(() => this.exits.has(attemptKey), timeoutMs, `exit of ${attemptKey}`);
    const e = this.exits.get(attemptKey);
    if (!e) throw new Error('unreachable');
    return e.outcome;
  }
}

export async function waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface SpecOverrides {
  command: string[];
  environment?: Record<string, string>;
  memoryMiB?: number;
  vcpus?: number;
}

/** Builds attempt specs for one test's data dir. */
export class SpecFactory {
  private n = 0;
  readonly prefix = randomBytes(4).toString('hex');

  constructor(
    private readonly dataDir: string,
    readonly sink: LogSink,
    private readonly image?: string,
  ) {}

  make(o: SpecOverrides): AttemptSpec {
    const taskId = randomBytes(16).toString('hex');
    const jobId = `${this.prefix}-job-${++this.n}`;
    const spec: AttemptSpec = {
      attemptKey: `${jobId}#1`,
      jobId,
      attempt: 1,
      taskId,
      computeEnvironment: {
        name: 'conformance-ce',
        arn: 'arn:aws:batch:us-east-1:000000000000:compute-environment/conformance-ce',
      },
      command: o.command,
      environment: {
        AWS_BATCH_JOB_ID: jobId,
        AWS_BATCH_JOB_ATTEMPT: '1',
        AWS_BATCH_JQ_NAME: 'conformance-queue',
        AWS_BATCH_CE_NAME: 'conformance-ce',
        ...o.environment,
      },
      resources: { vcpus: o.vcpus ?? 0, memoryMiB: o.memoryMiB ?? 0, gpus: 0 },
      container: {},
      log: { group: '/aws/batch/job', stream: `conformance/default/${taskId}`, sink: this.sink },
      workDir: join(this.dataDir, 'work', taskId),
    };
    if (this.image !== undefined) spec.image = this.image;
    return spec;
  }
}

function pidOf(handle: AttemptHandle): number | undefined {
  const pid = handle['pid'];
  return typeof pid === 'number' && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function runExecutorConformance(opts: ExecutorConformanceOptions): void {
  const skipped = new Map<string, string>();
  for (const s of opts.skip ?? []) for (const t of s.tests) skipped.set(t, s.reason);

  describe(`executor conformance: ${opts.name}`, () => {
    let dataDir = '';
    let events: RecordingEvents;
    let sink: MemoryLogSink;
    let specs: SpecFactory;
    let executor: Executor | undefined;
    const extra: Executor[] = [];
    const handles: AttemptHandle[] = [];

    beforeEach(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'ob-conformance-'));
      events = new RecordingEvents();
      sink = new MemoryLogSink();
      specs = new SpecFactory(dataDir, sink, opts.shellImage);
      executor = await opts.create(events, dataDir);
      handles.length = 0;
    });

    afterEach(async () => {
      await executor?.close();
      for (const e of extra.splice(0)) await e.close();
      executor = undefined;
      // leak guard: nothing the suite started may outlive close()
      const alive = handles.map(pidOf).filter((p): p is number => p !== undefined && isAlive(p));
      await rm(dataDir, { recursive: true, force: true });
      expect(alive, 'processes still alive after close()').toEqual([]);
    });

    const test = (name: ConformanceTest, fn: () => Promise<void>, timeoutMs = 20_000): void => {
      const reason = skipped.get(name);
      if (reason !== undefined) it.skip(`${name} (skipped: ${reason})`, fn);
      else it(name, fn, timeoutMs);
    };
    const ex = (): Executor => {
      if (!executor) throw new Error('executor not created');
      return executor;
    };
    const run = async (
      o: SpecOverrides,
    ): Promise<{ spec: AttemptSpec; handle: AttemptHandle; outcome: ExitOutcome }> => {
      const spec = specs.make(o);
      const handle = await ex().start(spec);
      handles.push(handle);
      const outcome = await events.waitForExit(spec.attemptKey);
      return { spec, handle, outcome };
    };
    const lines = (spec: AttemptSpec): string[] =>
      sink.events(spec.log.group, spec.log.stream).map((e) => e.message);

    test('reports exit code 0', async () => {
      const before = Date.now();
      const { spec, handle, outcome } = await run({ command: ['sh', '-c', 'exit 0'] });
      expect(handle.executor).toBe(ex().kind);
      expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
      expect(outcome).not.toHaveProperty('signal');
      const running = events.running.get(spec.attemptKey);
      expect(running, 'onRunning before onExit').toBeDefined();
      expect(events.order.indexOf(`running:${spec.attemptKey}`)).toBeLessThan(
        events.order.indexOf(`exit:${spec.attemptKey}`),
      );
      expect(running?.at ?? 0).toBeGreaterThanOrEqual(before - 1000);
      expect(events.exits.get(spec.attemptKey)?.count).toBe(1);
    });

    test('reports a non-zero exit code', async () => {
      const { outcome } = await run({ command: ['sh', '-c', 'exit 3'] });
      expect(outcome).toMatchObject({ kind: 'exited', exitCode: 3 });
    });

    test('passes environment variables', async () => {
      const { spec, outcome } = await run({
        command: ['sh', '-c', 'echo "FOO=[$FOO]"; echo "ID=[$AWS_BATCH_JOB_ID]"; echo "EQ=[$WITH_EQUALS]"'],
        environment: { FOO: 'bar  baz', WITH_EQUALS: 'a=b=c' },
      });
      expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
      expect(lines(spec)).toEqual(['FOO=[bar  baz]', `ID=[${spec.jobId}]`, 'EQ=[a=b=c]']);
    });

    test('passes argv verbatim', async () => {
      const args = ['two words', "it's", '"double"', '$HOME', 'back\\slash', 'ünïcødé ✓', '*'];
      const { spec, outcome } = await run({
        command: ['sh', '-c', 'for a in "$@"; do printf "[%s]\\n" "$a"; done', 'sh', ...args],
      });
      expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
      expect(lines(spec)).toEqual(args.map((a) => `[${a}]`));
    });

    test('sends stdout and stderr lines to the sink with timestamps', async () => {
      const before = Date.now();
      const { spec, outcome } = await run({
        command: ['sh', '-c', 'echo out-1; echo err-1 >&2; echo out-2; printf "no-newline" >&2'],
      });
      const after = Date.now();
      expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
      const evs = sink.events(spec.log.group, spec.log.stream);
      expect(evs.map((e) => e.message).sort()).toEqual(['err-1', 'no-newline', 'out-1', 'out-2']);
      const out = evs.map((e) => e.message).filter((m) => m.startsWith('out'));
      expect(out).toEqual(['out-1', 'out-2']);
      for (const e of evs) {
        expect(e.timestamp).toBeGreaterThanOrEqual(before - 1000);
        expect(e.timestamp).toBeLessThanOrEqual(after + 1000);
      }
      for (let i = 1; i < evs.length; i++)
        expect(evs[i]?.timestamp).toBeGreaterThanOrEqual(evs[i - 1]?.timestamp ?? 0);
    });

    test('delivers output while the job runs', async () => {
      const spec = specs.make({ command: ['sh', '-c', 'echo early; exec sleep 30'] });
      handles.push(await ex().start(spec));
      await waitFor(() => lines(spec).includes('early'), 10_000, 'the early line');
      expect(events.exits.has(spec.attemptKey)).toBe(false);
      await ex().stop(spec.attemptKey, handles[0] as AttemptHandle, { graceMs: 0 });
      await events.waitForExit(spec.attemptKey);
    });

    test('stop() sends SIGTERM, then SIGKILL after the grace period', async () => {
      const spec = specs.make({
        command: ['sh', '-c', 'trap "echo got-term" TERM; echo ready; while :; do sleep 0.1; done'],
      });
      const handle = await ex().start(spec);
      handles.push(handle);
      await waitFor(() => lines(spec).includes('ready'), 10_000, 'the job to be ready');
      await ex().stop(spec.attemptKey, handle, { graceMs: 700 });
      const outcome = await events.waitForExit(spec.attemptKey);
      expect(outcome).toMatchObject({ kind: 'exited', exitCode: 137, signal: 'SIGKILL' });
      expect(lines(spec)).toContain('got-term');
    });

    test('stop() of a job that honours SIGTERM reports 143', async () => {
      const spec = specs.make({ command: ['sh', '-c', 'echo ready; exec sleep 30'] });
      const handle = await ex().start(spec);
      handles.push(handle);
      await waitFor(() => lines(spec).includes('ready'), 10_000, 'the job to be ready');
      await ex().stop(spec.attemptKey, handle, { graceMs: 10_000 });
      const outcome = await events.waitForExit(spec.attemptKey);
      expect(outcome).toMatchObject({ kind: 'exited', exitCode: 143, signal: 'SIGTERM' });
    });

    test('reports failedToStart for a missing binary', async () => {
      for (const command of [['ob-definitely-missing-binary'], ['/nonexistent/dir/ob-missing']]) {
        const { outcome } = await run({ command });
        expect(outcome.kind).toBe('failedToStart');
        if (outcome.kind !== 'failedToStart') return;
        expect(outcome.reason).toMatch(/^CannotStartContainerError: /);
        expect(outcome.reason).toContain(command[0]);
        if (outcome.exitCode !== undefined) expect(outcome.exitCode).toBe(127);
      }
    });

    test('kills a job that exceeds its memory limit', async () => {
      // dd's 256 MiB buffer is filled by every read: far over a 48 MiB limit, for as long as it runs
      const spec = specs.make({
        command: ['sh', '-c', 'echo start; exec dd if=/dev/zero of=/dev/null bs=256M count=1000000'],
        memoryMiB: 48,
      });
      const handle = await ex().start(spec);
      handles.push(handle);
      let outcome: ExitOutcome;
      try {
        outcome = await events.waitForExit(spec.attemptKey, 15_000);
      } catch (err) {
        await ex().stop(spec.attemptKey, handle, { graceMs: 0 });
        throw err;
      }
      expect(outcome).toMatchObject({ kind: 'oomKilled', exitCode: 137 });
    });

    test('recover() reports hostLost and leaves nothing running', async () => {
      const spec = specs.make({ command: ['sh', '-c', 'echo ready; sleep 1000 & wait'] });
      const handle = await ex().start(spec);
      handles.push(handle);
      await waitFor(() => lines(spec).includes('ready'), 10_000, 'the job to be ready');
      // A second executor instance plays the restarted server.
      const events2 = new RecordingEvents();
      const second = await opts.create(events2, dataDir);
      extra.push(second);
      await second.recover([{ attemptKey: spec.attemptKey, handle }]);
      const outcome = await events2.waitForExit(spec.attemptKey);
      expect(outcome.kind).toBe('hostLost');
      if (outcome.kind === 'hostLost') expect(outcome.host.length).toBeGreaterThan(0);
      const pid = pidOf(handle);
      if (pid !== undefined) await waitFor(() => !isAlive(pid), 5000, `pid ${pid} to be gone`);
    });

    test('runs many concurrent jobs', async () => {
      const n = opts.manyJobs ?? 200;
      const all = Array.from({ length: n }, () => specs.make({ command: ['true'] }));
      const started = await Promise.all(all.map((s) => ex().start(s)));
      handles.push(...started);
      const outcomes = await Promise.all(all.map((s) => events.waitForExit(s.attemptKey, 30_000)));
      expect(outcomes.filter((o) => o.kind === 'exited' && o.exitCode === 0)).toHaveLength(n);
      expect([...events.exits.values()].every((e) => e.count === 1)).toBe(true);
    }, 40_000);
  });
}
