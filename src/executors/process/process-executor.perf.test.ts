/**
 * Throughput measurements for the process executor. Skipped unless OB_PERF=1 (they take ~1 minute and
 * print numbers rather than assert timings):
 *
 *   OB_PERF=1 npx vitest run src/executors/process/process-executor.perf.test.ts
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RecordingEvents, SpecFactory } from '../executor.conformance.js';
import type { ExecutorEvents } from '../executor.js';
import type { LogEventInput, LogSink } from '../../logs/log-sink.js';
import { createProcessExecutorWithInfo, type ProcessExecutorOptions } from './process-executor.js';
import { readProcStat } from './resources.js';

const RAW_SPAWN_C = `
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
extern char **environ;
int main(int argc, char **argv) {
  int n = atoi(argv[1]), inflight = atoi(argv[2]), running = 0;
  char *args[] = {"true", NULL};
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++) {
    pid_t pid;
    if (running == inflight) { wait(NULL); running--; }
    if (posix_spawnp(&pid, "true", NULL, NULL, args, environ) != 0) return 1;
    running++;
  }
  while (running-- > 0) wait(NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.0f\\n", n / ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9));
  return 0;
}`;

class CountingSink implements LogSink {
  lines = 0;
  calls = 0;
  last = '';
  append(_g: string, _s: string, events: readonly LogEventInput[]): void {
    this.calls++;
    this.lines += events.length;
    this.last = events[events.length - 1]?.message ?? this.last;
  }
  async flush(): Promise<void> {}
}

describe.skipIf(process.env['OB_PERF'] !== '1')('process executor throughput', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ob-perf-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('raw posix_spawn loop (baseline)', async () => {
    await writeFile(join(dir, 'raw.c'), RAW_SPAWN_C);
    const cc = spawnSync('cc', ['-O2', '-o', join(dir, 'raw'), join(dir, 'raw.c')], { stdio: 'inherit' });
    expect(cc.status).toBe(0);
    for (const inflight of [1, 2, 64]) {
      const out = spawnSync(join(dir, 'raw'), ['3000', String(inflight)], { encoding: 'utf8' });
      console.log(`raw posix_spawn+wait, ${inflight} in flight: ${out.stdout.trim()} spawns/s`);
    }
  }, 60_000);

  const trivial = async (
    label: string,
    opts: ProcessExecutorOptions,
    memoryMiB: number,
    n = 3000,
    inFlight = 64,
  ) => {
    const waiters = new Map<string, () => void>();
    let ok = 0;
    const events: ExecutorEvents = {
      onRunning: () => undefined,
      onExit: (key, outcome) => {
        if (outcome.kind === 'exited' && outcome.exitCode === 0) ok++;
        waiters.get(key)?.();
        waiters.delete(key);
      },
    };
    const sink = new CountingSink();
    const ex = createProcessExecutorWithInfo(
      { events, dataDir: dir, killGraceMs: 1000 },
      { warn: () => undefined, ...opts },
    );
    const specs = new SpecFactory(dir, sink);
    const runOne = async (): Promise<void> => {
      const spec = specs.make({ command: ['true'], memoryMiB, vcpus: memoryMiB > 0 ? 1 : 0 });
      const done = new Promise<void>((r) => waiters.set(spec.attemptKey, r));
      await ex.start(spec);
      await done;
    };
    await runOne(); // warm up (launcher start)
    const launcherTicks = (): number => {
      const st = ex.info.launcherPid ? readProcStat(ex.info.launcherPid) : undefined;
      if (!st) return 0;
      const f = readFileSync(`/proc/${st.pid}/stat`, 'utf8')
        .slice(readFileSync(`/proc/${st.pid}/stat`, 'utf8').lastIndexOf(')') + 2)
        .split(' ');
      return Number(f[11]) + Number(f[12]);
    };
    const l0 = launcherTicks();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        next++;
        await runOne();
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const nodeMsPerJob = (cpu.user + cpu.system) / 1000 / n;
    const launcherMsPerJob = ((launcherTicks() - l0) * 10) / n;
    console.log(
      `${label} [${ex.info.launcher}/${ex.info.resources}]: ${(n / secs).toFixed(0)} trivial jobs/s end to end ` +
        `(${ok - 1}/${n} ok; CPU per job: server ${nodeMsPerJob.toFixed(3)} ms, launcher ${launcherMsPerJob.toFixed(3)} ms)`,
    );
    await ex.close();
    expect(ok).toBe(n + 1);
  };

  it(
    'trivial jobs through the executor, native launcher, no limits',
    () => trivial('native', { launcher: 'native', enforceResources: 'off' }, 0),
    120_000,
  );
  it(
    'trivial jobs through the executor, native launcher, cgroup limits',
    () => trivial('native+cgroup', { launcher: 'native' }, 512),
    120_000,
  );
  it(
    'trivial jobs through the executor, Node helper',
    () => trivial('node', { launcher: 'node', enforceResources: 'off' }, 0, 1000),
    120_000,
  );

  for (const launcher of ['native', 'node'] as const) {
    it(`ingests 5,000,000 lines from one job (${launcher})`, async () => {
      const events = new RecordingEvents();
      const sink = new CountingSink();
      const ex = createProcessExecutorWithInfo(
        { events, dataDir: dir, killGraceMs: 1000 },
        { launcher, warn: () => undefined },
      );
      const specs = new SpecFactory(dir, sink);
      const n = 5_000_000;
      const spec = specs.make({ command: ['seq', String(n)] });
      const rss0 = process.memoryUsage().rss;
      let peak = rss0;
      const probe = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
      const t0 = performance.now();
      await ex.start(spec);
      await events.waitForExit(spec.attemptKey, 120_000);
      const secs = (performance.now() - t0) / 1000;
      clearInterval(probe);
      console.log(
        `ingest (${launcher}): ${n} lines in ${secs.toFixed(2)} s = ${(n / secs).toFixed(0)} lines/s, ` +
          `${sink.calls} append calls, peak RSS +${((peak - rss0) / 1048576).toFixed(0)} MiB`,
      );
      await ex.close();
      expect(sink.lines).toBe(n);
      expect(sink.last).toBe(String(n));
    }, 180_000);
  }
});
