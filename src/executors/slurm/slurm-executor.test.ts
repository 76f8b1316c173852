import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  MemoryLogSink,
  RecordingEvents,
  runExecutorConformance,
  SpecFactory,
  waitFor,
} from '../executor.conformance.js';
import type { AttemptHandle, Executor, ExecutorEvents } from '../executor.js';
import { CliSlurmClient } from './cli-slurm-client.js';
import { RestSlurmClient } from './rest-slurm-client.js';
import type { SlurmClient } from './slurm-client.js';
import { createSlurmExecutor, type SlurmAttemptHandle, type SlurmExecutorOptions } from './slurm-executor.js';
import { freshWorkRoot, slurmCli, slurmEnv, slurmSkipReason, type SlurmTestEnv } from './slurm-test-env.js';

type Transport = 'cli' | 'rest-local' | 'rest-jwt';
const TRANSPORTS: Transport[] = ['cli', 'rest-local', 'rest-jwt'];

function bindingFor(env: SlurmTestEnv, t: Transport, workRoot: string): SlurmExecutorOptions {
  const base = {
    partition: env.partition,
    workRoot,
    pollIntervalMs: 500,
    slurmConf: env.slurmConf,
    warn: () => undefined,
  };
  if (t === 'cli') return { ...base, transport: 'cli' };
  if (t === 'rest-local') return { ...base, transport: 'rest', rest: { url: `unix:${env.restSocket}` } };
  return { ...base, transport: 'rest', rest: { url: env.restUrl, user: env.restUser, token: env.jwt } };
}

function clientFor(env: SlurmTestEnv, t: Transport): SlurmClient {
  if (t === 'cli') return new CliSlurmClient({ slurmConf: env.slurmConf });
  if (t === 'rest-local') return new RestSlurmClient({ url: `unix:${env.restSocket}` });
  return new RestSlurmClient({ url: env.restUrl, user: env.restUser, token: env.jwt });
}

const workRoots: string[] = [];

async function makeExecutor(
  env: SlurmTestEnv,
  t: Transport,
  events: ExecutorEvents,
  extra: Partial<SlurmExecutorOptions> = {},
): Promise<Executor> {
  const workRoot = await freshWorkRoot(env, `ob-${t}`);
  workRoots.push(workRoot);
  return createSlurmExecutor(
    { events, dataDir: workRoot, killGraceMs: 2000 },
    { ...bindingFor(env, t, workRoot), ...extra },
  );
}

/** Slurm's view of one job (scontrol), for assertions. */
function jobState(env: SlurmTestEnv, id: string): string {
  const out = slurmCli(env, 'squeue', ['-h', '-t', 'all', '-j', id, '-o', '%T']).trim();
  return out;
}

if (!slurmEnv) {
  describe('slurm executor', () => {
    it.skip(`all Slurm tests (skipped: ${slurmSkipReason})`, () => undefined);
  });
} else {
  const env = slurmEnv;
  const oomSkip = env.cgroup
    ? []
    : [
        {
          reason: 'the localhost Slurm has no cgroup v1 memory controller, so --mem is not enforced',
          tests: ['kills a job that exceeds its memory limit'],
        },
      ];

  for (const t of TRANSPORTS) {
    runExecutorConformance({
      name: `slurm (${t})`,
      create: async (events) => makeExecutor(env, t, events),
      manyJobs: 100,
      skip: [
        ...oomSkip,
        {
          reason:
            'Slurm jobs outlive the server: recover() re-adopts them (tested below as "recover() re-adopts…")',
          tests: ['recover() reports hostLost and leaves nothing running'],
        },
      ],
    });
  }

  describe('slurm clients', () => {
    for (const t of TRANSPORTS) {
      it(`${t}: lists the partition's nodes, capacity and limits`, async () => {
        const c = clientFor(env, t);
        await c.ping(env.partition);
        await expect(c.ping('ob-no-such-partition')).rejects.toThrow(/partition|not found|Invalid/i);
        const nodes = await c.nodes(env.partition);
        expect(nodes.map((n) => n.name)).toContain(env.node);
        const n = nodes.find((x) => x.name === env.node)!;
        expect(n.cpusTotal).toBeGreaterThan(0);
        expect(n.memoryMiB).toBeGreaterThan(100);
        expect(n.gpus).toBe(2);
        if (t === 'cli') {
          const cfg = await c.config();
          expect(cfg.maxArraySize).toBe(1001);
          expect(cfg.minJobAgeSeconds).toBe(300);
        }
        (c as Partial<RestSlurmClient>).close?.();
      });
    }
  });

  for (const t of TRANSPORTS) {
    describe(`slurm executor specifics (${t})`, () => {
      let events: RecordingEvents;
      let sink: MemoryLogSink;
      let specs: SpecFactory;
      let ex: Executor;
      const others: Executor[] = [];

      beforeEach(async () => {
        events = new RecordingEvents();
        sink = new MemoryLogSink();
        ex = await makeExecutor(env, t, events);
        specs = new SpecFactory(workRoots[workRoots.length - 1]!, sink);
      });

      afterEach(async () => {
        await ex.close();
        for (const o of others.splice(0)) await o.close();
        for (const w of workRoots.splice(0)) await rm(w, { recursive: true, force: true });
      });

      const lines = (s: { log: { group: string; stream: string } }): string[] =>
        sink.events(s.log.group, s.log.stream).map((e) => e.message);

      it('exports env values with commas, spaces, quotes and newlines intact', async () => {
        const values = {
          A: 'a,b,c',
          B: 'x y  z',
          C: `it's "q" \\ $HOME`,
          D: 'line1\nline2',
          E: '',
          AWS_BATCH_JQ_NAME: 'q,1',
        };
        const spec = specs.make({
          command: [
            'sh',
            '-c',
            'for k in A B C D E AWS_BATCH_JQ_NAME AWS_BATCH_JOB_ID; do printf "%s=[%s]\\n" "$k" "$(printenv $k)"; done',
          ],
          environment: values,
        });
        await ex.start(spec);
        expect(await events.waitForExit(spec.attemptKey)).toMatchObject({ kind: 'exited', exitCode: 0 });
        expect(lines(spec)).toEqual([
          'A=[a,b,c]',
          'B=[x y  z]',
          `C=[it's "q" \\ $HOME]`,
          'D=[line1',
          'line2]',
          'E=[]',
          'AWS_BATCH_JQ_NAME=[q,1]',
          `AWS_BATCH_JOB_ID=[${spec.jobId}]`,
        ]);
      });

      it('submits one --no-requeue job per attempt with name, comment, cpus and memory', async () => {
        const spec = specs.make({
          command: ['sh', '-c', 'echo ready; exec sleep 30'],
          vcpus: 2,
          memoryMiB: 300,
        });
        const h = (await ex.start(spec)) as SlurmAttemptHandle;
        await waitFor(() => lines(spec).includes('ready'), 15_000, 'ready');
        const show = slurmCli(env, 'scontrol', ['show', 'job', '-o', h.slurmJobId]);
        expect(show).toContain(`JobName=ob-${spec.jobId}-a1`);
        expect(show).toContain(`Comment=openbatch:${spec.attemptKey} ce=conformance-ce`);
        expect(show).toMatch(/NumCPUs=2 /);
        expect(show).toMatch(/mem=300M/);
        if (t === 'cli') expect(show).toContain('Requeue=0');
        expect(events.running.get(spec.attemptKey)?.host).toBe(env.node);
        await ex.stop(spec.attemptKey, h, { graceMs: 5000 });
        expect(await events.waitForExit(spec.attemptKey)).toMatchObject({
          kind: 'exited',
          exitCode: 143,
          signal: 'SIGTERM',
        });
      });

      it('a scancel outside openbatch is reported as hostLost with the node name', async () => {
        const spec = specs.make({ command: ['sh', '-c', 'echo ready; exec sleep 60'] });
        const h = (await ex.start(spec)) as SlurmAttemptHandle;
        await waitFor(() => lines(spec).includes('ready'), 15_000, 'ready');
        slurmCli(env, 'scancel', [h.slurmJobId]);
        const o = await events.waitForExit(spec.attemptKey, 20_000);
        expect(o).toMatchObject({ kind: 'hostLost', host: env.node });
      });

      it('enforces the attempt timeout in the shim (TERM, grace, KILL) when nobody stops it', async () => {
        const spec = {
          ...specs.make({
            command: ['sh', '-c', 'trap "echo got-term" TERM; echo ready; while :; do sleep 0.1; done'],
          }),
          timeoutSeconds: 1,
        };
        const h = (await ex.start(spec)) as SlurmAttemptHandle;
        const o = await events.waitForExit(spec.attemptKey, 30_000);
        // shim timeout = timeout + 5 s slack, then the 2 s grace: SIGKILL
        expect(o).toMatchObject({ kind: 'exited', exitCode: 137, signal: 'SIGKILL' });
        expect(lines(spec)).toContain('got-term');
        const show = slurmCli(env, 'scontrol', ['show', 'job', '-o', h.slurmJobId]);
        expect(show).toContain('TimeLimit=00:03:00');
      }, 40_000);

      it('recover() re-adopts a running attempt, reports its real exit later and sweeps unclaimed jobs', async () => {
        // the first "server": its jobs must survive it (cancelOnClose: false)
        const first = await makeExecutor(env, t, events, { cancelOnClose: false });
        others.push(first);
        const workRoot = workRoots[workRoots.length - 1]!;
        const spec = specs.make({ command: ['sh', '-c', 'echo ready; sleep 3; echo done; exit 4'] });
        const handle = await first.start(spec);
        await waitFor(() => lines(spec).includes('ready'), 15_000, 'ready');
        const orphan = specs.make({ command: ['sleep', '60'] });
        const oh = (await first.start(orphan)) as SlurmAttemptHandle;
        await first.close();
        // the restarted server knows only `spec`; the orphan is this service's and unclaimed
        const events2 = new RecordingEvents();
        const second = createSlurmExecutor(
          { events: events2, dataDir: workRoot, killGraceMs: 2000 },
          { ...bindingFor(env, t, workRoot) },
        );
        others.push(second);
        const sink2 = new MemoryLogSink();
        const probe = { ...specs.make({ command: ['true'] }), log: { group: 'g', stream: 's', sink: sink2 } };
        await second.start(probe);
        await second.recover([{ attemptKey: spec.attemptKey, handle }]);
        await waitFor(
          () => ['CANCELLED', 'COMPLETING'].includes(jobState(env, oh.slurmJobId)),
          10_000,
          'the orphan to be cancelled',
        );
        const o = await events2.waitForExit(spec.attemptKey, 20_000);
        expect(o).toMatchObject({ kind: 'exited', exitCode: 4 });
        // output after the restart is not duplicated: "ready" came before, "done" after
        expect(sink2.events(spec.log.group, spec.log.stream).map((e) => e.message)).toEqual(['done']);
        await events2.waitForExit(probe.attemptKey);
      }, 40_000);
    });
  }

  describe('slurm executor: node failure (kills slurmd)', () => {
    it('reports hostLost with the node name after SlurmdTimeout, then slurmd comes back', async () => {
      const events = new RecordingEvents();
      const sink = new MemoryLogSink();
      const ex = await makeExecutor(env, 'cli', events);
      const specs = new SpecFactory(workRoots[workRoots.length - 1]!, sink);
      const spec = specs.make({ command: ['sh', '-c', 'echo ready; exec sleep 300'] });
      const pidFile = `${env.dir}/slurmd.pid`;
      try {
        await ex.start(spec);
        await waitFor(
          () => sink.events(spec.log.group, spec.log.stream).some((e) => e.message === 'ready'),
          15_000,
          'ready',
        );
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        process.kill(pid, 'SIGKILL');
        const o = await events.waitForExit(spec.attemptKey, 90_000);
        expect(o).toMatchObject({ kind: 'hostLost', host: env.node });
      } finally {
        spawnSync('slurmd', ['-f', env.slurmConf], { env: { ...process.env, SLURM_CONF: env.slurmConf } });
        await waitFor(
          () => /^(idle|mix|alloc)/.test(slurmCli(env, 'sinfo', ['-h', '-N', '-o', '%t']).trim()),
          60_000,
          'the node to come back',
        );
        await ex.close();
        for (const w of workRoots.splice(0)) await rm(w, { recursive: true, force: true });
      }
    }, 180_000);
  });

  describe('slurm executor: capacity', () => {
    it('reports idle CPUs, free memory and GPUs of the partition', async () => {
      const ex = await makeExecutor(env, 'cli', new RecordingEvents());
      try {
        const cap = await ex.capacity!();
        const total = Number(execFileSync('nproc').toString().trim());
        expect(cap?.gpus).toBeGreaterThanOrEqual(0);
        expect(cap?.vcpus).toBeLessThanOrEqual(total);
        expect(cap?.memoryMiB).toBeGreaterThan(0);
      } finally {
        await ex.close();
      }
    });
  });
}

export type { AttemptHandle };
