import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  isAlive,
  MemoryLogSink,
  RecordingEvents,
  runExecutorConformance,
  SpecFactory,
  waitFor,
} from '../executor.conformance.js';
import type { AttemptSpec, ExecutorEvents } from '../executor.js';
import { defaultNativeLauncherPath, isNativeLauncherAvailable, LauncherClient } from './launcher-client.js';
import { encodeStart, type LauncherReport } from './launcher-protocol.js';
import {
  createProcessExecutorWithInfo,
  type ProcessAttemptHandle,
  type ProcessExecutorOptions,
} from './process-executor.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'jobs');
const nativeBuilt = isNativeLauncherAvailable();

function make(events: ExecutorEvents, dataDir: string, opts: ProcessExecutorOptions) {
  return createProcessExecutorWithInfo(
    { events, dataDir, killGraceMs: 1000 },
    { warn: () => undefined, ...opts },
  );
}

describe.skipIf(!nativeBuilt)('with the native launcher', () => {
  runExecutorConformance({
    name: 'process (native launcher, resources auto)',
    create: async (events, dataDir) => make(events, dataDir, { launcher: 'native' }),
  });
  runExecutorConformance({
    name: 'process (native launcher, RSS polling)',
    create: async (events, dataDir) =>
      make(events, dataDir, { launcher: 'native', enforceResources: 'poll' }),
    manyJobs: 100,
  });
});

runExecutorConformance({
  name: 'process (Node fallback launcher)',
  create: async (events, dataDir) => make(events, dataDir, { launcher: 'node' }),
  manyJobs: 100,
});

describe('process executor specifics', () => {
  let dataDir = '';
  let events: RecordingEvents;
  let sink: MemoryLogSink;
  let specs: SpecFactory;
  let ex: ReturnType<typeof make>;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ob-process-'));
    events = new RecordingEvents();
    sink = new MemoryLogSink();
    specs = new SpecFactory(dataDir, sink);
    ex = make(events, dataDir, nativeBuilt ? { launcher: 'native' } : { launcher: 'node' });
  });
  afterEach(async () => {
    await ex.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const run = async (spec: AttemptSpec) => {
    const handle = (await ex.start(spec)) as ProcessAttemptHandle;
    const outcome = await events.waitForExit(spec.attemptKey);
    return { handle, outcome, lines: sink.events(spec.log.group, spec.log.stream).map((e) => e.message) };
  };

  it('returns a serialisable handle with pid, pgid, boot id and start time', async () => {
    const spec = specs.make({
      command: ['sh', '-c', 'echo pgid=$(ps -o pgid= -p $$ 2>/dev/null || echo ?)'],
    });
    const before = Date.now();
    const { handle, outcome } = await run(spec);
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(handle).toMatchObject({
      executor: 'process',
      bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    });
    expect(handle.pid).toBeGreaterThan(1);
    expect(handle.pgid).toBe(handle.pid);
    expect(handle.startedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(JSON.parse(JSON.stringify(handle))).toEqual(handle);
    expect(existsSync(spec.workDir)).toBe(true);
  });

  it('runs the fixtures: exit code 3 and a SIGSEGV crash', async () => {
    const a = await run(specs.make({ command: [join(FIXTURES, 'exit-3.sh')] }));
    expect(a.outcome).toMatchObject({ kind: 'exited', exitCode: 3 });
    expect(a.lines.sort()).toEqual(['about to exit 3', 'stderr says bye']);
    const b = await run(specs.make({ command: [join(FIXTURES, 'crash.sh')] }));
    expect(b.outcome).toMatchObject({ kind: 'exited', exitCode: 139, signal: 'SIGSEGV' });
  });

  it('reports failedToStart with 126 for a file that is not executable', async () => {
    const { outcome } = await run(specs.make({ command: [join(FIXTURES, 'not-executable.sh')] }));
    expect(outcome).toMatchObject({ kind: 'failedToStart', exitCode: 126 });
    if (outcome.kind === 'failedToStart')
      expect(outcome.reason).toMatch(/^CannotStartContainerError: .*permission denied/);
  });

  it('adds PATH, HOME and LANG only when the spec lacks them', async () => {
    const a = await run(specs.make({ command: ['sh', '-c', 'echo "$PATH|$HOME|$LANG"'] }));
    expect(a.lines).toEqual([expect.stringMatching(/\/usr\/bin.*\|.*\|C\.UTF-8$/)]);
    const spec = specs.make({
      command: ['/bin/sh', '-c', 'echo "$PATH|$HOME|$LANG"; env | grep -c . '],
      environment: { PATH: '/bin', HOME: '/nowhere', LANG: 'C' },
    });
    const b = await run(spec);
    expect(b.lines[0]).toBe('/bin|/nowhere|C');
    // exactly the spec's variables (PWD and SHLVL are added by sh itself)
    const count = Number(b.lines[1]);
    expect(count).toBeLessThanOrEqual(Object.keys(spec.environment).length + 3);
  });

  it('keeps arbitrary bytes: newlines in env values, CRLF, invalid UTF-8, no trailing newline', async () => {
    const { lines } = await run(
      specs.make({
        command: ['sh', '-c', 'printf "%s\\n" "$MULTI"; printf "crlf\\r\\n\\n\\nbin:\\377\\376\\nend"'],
        environment: { MULTI: 'one\ntwo' },
      }),
    );
    expect(lines).toEqual(['one', 'two', 'crlf', 'bin:\ufffd\ufffd', 'end']);
  });

  it('cuts lines longer than 256 KiB', async () => {
    const { lines } = await run(
      specs.make({ command: ['sh', '-c', "head -c 600000 /dev/zero | tr '\\0' a; echo; echo after"] }),
    );
    expect(lines.map((l) => l.length)).toEqual([262144, 262144, 600000 - 2 * 262144, 5]);
  });

  it('ingests a flood of lines completely and in order, in batches', async () => {
    const n = 200_000;
    const { outcome, lines } = await run(
      specs.make({ command: [join(FIXTURES, 'stderr-flood.sh'), String(n)] }),
    );
    expect(outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(lines).toHaveLength(n + 1);
    const flood = lines.filter((l) => l !== 'done');
    expect(flood[0]).toBe('line 1');
    expect(flood[n - 1]).toBe(`line ${n}`);
    expect(flood.every((l, i) => l === `line ${i + 1}`)).toBe(true);
    expect(sink.appendCalls).toBeLessThan(n / 10);
  });

  it('kills the whole process group when the leader exits', async () => {
    const { lines } = await run(specs.make({ command: ['sh', '-c', 'sleep 1000 & echo child=$!'] }));
    const child = Number(/child=(\d+)/.exec(lines.join('\n'))?.[1]);
    expect(child).toBeGreaterThan(1);
    await waitFor(() => !isAlive(child), 5000, 'the background child to die');
  });

  it('close() kills running jobs and still reports their exit', async () => {
    const spec = specs.make({ command: [join(FIXTURES, 'sleep-forever.sh')] });
    await ex.start(spec);
    await waitFor(() => sink.events(spec.log.group, spec.log.stream).length > 0, 10_000, 'pids');
    const m = /leader=(\d+) child=(\d+)/.exec(sink.events(spec.log.group, spec.log.stream)[0]?.message ?? '');
    await ex.close();
    expect(events.exits.get(spec.attemptKey)?.outcome).toMatchObject({ kind: 'exited', exitCode: 137 });
    expect(isAlive(Number(m?.[1]))).toBe(false);
    expect(isAlive(Number(m?.[2]))).toBe(false);
  });

  it('reports hostLost when the launcher dies, kills the job, and starts a new launcher next time', async () => {
    const spec = specs.make({ command: [join(FIXTURES, 'sleep-forever.sh')] });
    const handle = (await ex.start(spec)) as ProcessAttemptHandle;
    await waitFor(() => sink.events(spec.log.group, spec.log.stream).length > 0, 10_000, 'pids');
    const m = /leader=(\d+) child=(\d+)/.exec(sink.events(spec.log.group, spec.log.stream)[0]?.message ?? '');
    const launcherPid = ex.info.launcherPid;
    expect(launcherPid).toBeGreaterThan(1);
    process.kill(launcherPid ?? 0, 'SIGKILL');
    const outcome = await events.waitForExit(spec.attemptKey);
    expect(outcome).toMatchObject({ kind: 'hostLost' });
    await waitFor(() => !isAlive(handle.pid) && !isAlive(Number(m?.[2])), 5000, 'the job to die');
    const next = await run(specs.make({ command: ['true'] }));
    expect(next.outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(ex.info.launcherPid).not.toBe(launcherPid);
  });

  it('puts each attempt in its own cgroup with its limits, and removes it after exit', async (ctx) => {
    if (ex.info.resources !== 'cgroup-v1' && ex.info.resources !== 'cgroup-v2') {
      ctx.skip();
      return;
    }
    const spec = specs.make({
      command: ['sh', '-c', 'echo ready; exec sleep 30'],
      memoryMiB: 96,
      vcpus: 0.5,
    });
    const handle = (await ex.start(spec)) as ProcessAttemptHandle;
    await waitFor(() => sink.events(spec.log.group, spec.log.stream).length > 0, 10_000, 'ready');
    const dirs = handle.cgroupDirs ?? [];
    expect(dirs.length).toBeGreaterThan(0);
    const mem = dirs[0] ?? '';
    const procsOf = (d: string): string[] => readFileSync(join(d, 'cgroup.procs'), 'utf8').trim().split('\n');
    for (const d of dirs) expect(procsOf(d)).toContain(String(handle.pid));
    if (ex.info.resources === 'cgroup-v1') {
      expect(readFileSync(join(mem, 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(96 * 1024 * 1024));
      const cpu = dirs.find((d) => existsSync(join(d, 'cpu.cfs_quota_us')));
      if (cpu) expect(readFileSync(join(cpu, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('50000');
    } else {
      expect(readFileSync(join(mem, 'memory.max'), 'utf8').trim()).toBe(String(96 * 1024 * 1024));
    }
    await ex.stop(spec.attemptKey, handle, { graceMs: 0 });
    await events.waitForExit(spec.attemptKey);
    await waitFor(() => dirs.every((d) => !existsSync(d)), 5000, 'cgroup removal');
  });
});

describe.skipIf(!nativeBuilt)('native launcher', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ob-launcher-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const pidsFrom = async (file: string): Promise<number[]> => {
    await waitFor(
      () => existsSync(file) && readFileSync(file, 'utf8').trim().split('\n').length >= 2,
      10_000,
      'pid file',
    );
    return (await readFile(file, 'utf8')).trim().split('\n').map(Number);
  };
  const script = (pidFile: string): string[] => [
    'sh',
    '-c',
    `echo $$ > ${pidFile}; sleep 1000 & echo $! >> ${pidFile}; wait`,
  ];

  it('kills every job (whole process group) when its stdin closes', async () => {
    const reports: LauncherReport[] = [];
    let gone = false;
    const client = new LauncherClient({
      kind: 'native',
      onReport: (r) => reports.push(r),
      onGone: () => (gone = true),
    });
    await client.ready;
    const pidFile = join(dir, 'pids');
    client.start({ id: 1, argv: script(pidFile), env: ['PATH=/usr/bin:/bin'], cwd: dir, cgroupProcs: [] });
    client.start({ id: 2, argv: ['sleep', '1000'], env: ['PATH=/usr/bin:/bin'], cwd: '', cgroupProcs: [] });
    const pids = await pidsFrom(pidFile);
    await waitFor(
      () => reports.filter((r) => r.type === 'started').length === 2,
      5000,
      'two started reports',
    );
    const sleeper = reports.find((r) => r.type === 'started' && r.id === 2);
    const all = [...pids, sleeper?.type === 'started' ? sleeper.pid : 0];
    expect(all.every(isAlive)).toBe(true);
    client.closeStdin();
    await client.whenGone();
    expect(gone).toBe(true);
    for (const pid of all) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(reports.filter((r) => r.type === 'exit')).toHaveLength(2);
  });

  it('kills every job when the server is SIGKILLed (parent-death signal)', async () => {
    const pidFile = join(dir, 'pids');
    const frame = encodeStart({
      id: 1,
      argv: script(pidFile),
      env: ['PATH=/usr/bin:/bin'],
      cwd: dir,
      cgroupProcs: [],
    });
    const serverJs = join(dir, 'fake-server.cjs');
    await writeFile(
      serverJs,
      `const { spawn } = require('node:child_process');
       const l = spawn(${JSON.stringify(defaultNativeLauncherPath())}, [String(process.pid)], { stdio: ['pipe', 'pipe', 'inherit'] });
       l.stdout.on('data', () => {});
       l.stdin.write(Buffer.from(${JSON.stringify(frame.toString('base64'))}, 'base64'));
       setInterval(() => {}, 1000);`,
    );
    const server = spawn(process.execPath, [serverJs], { stdio: 'ignore' });
    try {
      const pids = await pidsFrom(pidFile);
      expect(pids.every(isAlive)).toBe(true);
      server.kill('SIGKILL');
      await waitFor(() => pids.every((p) => !isAlive(p)), 5000, 'jobs to die with the server');
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('reports spawn errors without dying, and keeps serving', async () => {
    const reports: LauncherReport[] = [];
    const client = new LauncherClient({
      kind: 'native',
      onReport: (r) => reports.push(r),
      onGone: () => undefined,
    });
    await client.ready;
    client.start({
      id: 5,
      argv: ['ob-missing-binary'],
      env: ['PATH=/usr/bin:/bin'],
      cwd: '',
      cgroupProcs: [],
    });
    client.start({ id: 6, argv: ['true'], env: [], cwd: join(dir, 'missing-dir'), cgroupProcs: [] });
    client.start({ id: 7, argv: ['true'], env: [], cwd: '', cgroupProcs: [] });
    await waitFor(() => reports.some((r) => r.type === 'exit' && r.id === 7), 5000, 'job 7');
    expect(reports.find((r) => r.type === 'spawnError' && r.id === 5)).toMatchObject({ stage: 1, errno: 2 });
    expect(reports.find((r) => r.type === 'spawnError' && r.id === 6)).toMatchObject({ stage: 2, errno: 2 });
    expect(reports.find((r) => r.type === 'exit' && r.id === 7)).toMatchObject({ signaled: false, value: 0 });
    await client.close();
  });
});
