/**
 * Container executor against a real engine (Podman's Docker API here; see .ci/services-podman.sh) with the
 * local busybox image. Nothing is pulled from a registry. Skipped with a reason when no engine answers.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { AttemptHandle, AttemptSpec, Executor, ExecutorEvents } from '../executor.js';
import {
  CONFORMANCE_TESTS,
  MemoryLogSink,
  RecordingEvents,
  runExecutorConformance,
  SpecFactory,
  waitFor,
} from '../executor.conformance.js';
import {
  containerNameFor,
  LABEL_ATTEMPT,
  LABEL_ATTEMPT_KEY,
  LABEL_CE,
  LABEL_JOB_ID,
  LABEL_TASK_ID,
} from './container-spec.js';
import { DockerApiError, DockerClient } from './docker-client.js';
import { createDockerExecutor, type DockerExecutorOptions } from './docker-executor.js';

const IMAGE = process.env['OPENBATCH_TEST_IMAGE'] ?? 'localhost/openbatch-busybox:latest';
const DOCKER_HOST = process.env['DOCKER_HOST'];

async function probeEngine(): Promise<string | undefined> {
  if (!DOCKER_HOST) return 'DOCKER_HOST is not set (run .ci/services-podman.sh)';
  const client = new DockerClient(DOCKER_HOST);
  try {
    await client.engineInfo();
    if (!(await client.imageExists(IMAGE)))
      return `test image ${IMAGE} is missing (run .ci/services-podman.sh)`;
    return undefined;
  } catch (err) {
    return `no container engine at ${DOCKER_HOST}: ${(err as Error).message}`;
  } finally {
    client.close();
  }
}

const unavailable = await probeEngine();
const quietWarn = (): void => {};
const create = (events: ExecutorEvents, dataDir: string, extra: DockerExecutorOptions = {}): Executor =>
  createDockerExecutor(
    { events, dataDir, killGraceMs: 1000 },
    { dockerHost: DOCKER_HOST, warn: quietWarn, ...extra },
  );

// Leak guard for the whole file (the conformance suite's own guard checks pids, which containers don't have).
afterAll(async () => {
  if (unavailable) return;
  const client = new DockerClient(DOCKER_HOST);
  try {
    const left = await client.listContainers([`${LABEL_CE}=conformance-ce`]);
    for (const c of left) await client.removeContainer(c.Id);
    expect(
      left.map((c) => `${c.Names.join(',')}:${c.State}`),
      'containers left behind by the suite',
    ).toEqual([]);
  } finally {
    client.close();
  }
});

runExecutorConformance({
  name: 'docker',
  shellImage: IMAGE,
  manyJobs: 16,
  create: async (events, dataDir) => create(events, dataDir),
  skip: [
    ...(unavailable ? [{ reason: unavailable, tests: [...CONFORMANCE_TESTS] }] : []),
    {
      reason:
        'in a container the command is PID 1, and the kernel drops SIGTERM for a PID 1 without a handler (as on ECS ' +
        'without initProcessEnabled): `exec sleep` ends by SIGKILL (137). Covered below with and without initProcessEnabled',
      tests: ['stop() of a job that honours SIGTERM reports 143'],
    },
    {
      reason:
        'containers survive a server restart, so the docker executor re-adopts them; covered below (recover re-adopts)',
      tests: ['recover() reports hostLost and leaves nothing running'],
    },
  ],
});

describe.skipIf(unavailable !== undefined)(
  `docker executor specifics${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    let dataDir = '';
    let events: RecordingEvents;
    let sink: MemoryLogSink;
    let specs: SpecFactory;
    let client: DockerClient;
    const executors: Executor[] = [];
    const names: string[] = [];

    beforeEach(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'ob-docker-'));
      events = new RecordingEvents();
      sink = new MemoryLogSink();
      specs = new SpecFactory(dataDir, sink, IMAGE);
      client = new DockerClient(DOCKER_HOST);
      names.length = 0;
    });

    afterEach(async () => {
      for (const e of executors.splice(0)) await e.close();
      // leak guard: no container of this test may survive
      const left: string[] = [];
      for (const n of names) {
        try {
          const info = await client.inspectContainer(n);
          left.push(`${n}:${info.State.Status}`);
          await client.removeContainer(n);
        } catch (err) {
          if (!(err instanceof DockerApiError && err.statusCode === 404)) throw err;
        }
      }
      client.close();
      await rm(dataDir, { recursive: true, force: true });
      expect(left, 'containers left behind').toEqual([]);
    });

    const newExecutor = (opts: DockerExecutorOptions = {}, ev: ExecutorEvents = events): Executor => {
      const e = create(ev, dataDir, opts);
      executors.push(e);
      return e;
    };
    const make = (
      command: string[],
      container: Record<string, unknown> = {},
      memoryMiB?: number,
    ): AttemptSpec => {
      const spec = specs.make(memoryMiB !== undefined ? { command, memoryMiB } : { command });
      spec.container = container;
      names.push(containerNameFor(spec.taskId));
      return spec;
    };
    const lines = (spec: AttemptSpec, s: MemoryLogSink = sink): string[] =>
      s.events(spec.log.group, spec.log.stream).map((e) => e.message);
    const exists = async (name: string): Promise<boolean> => {
      try {
        await client.inspectContainer(name);
        return true;
      } catch (err) {
        if (err instanceof DockerApiError && err.statusCode === 404) return false;
        throw err;
      }
    };

    it('reports cannotPull with the daemon message for a missing image, without pulling from a public registry', async () => {
      const ex = newExecutor();
      const spec = make(['true']);
      spec.image = 'localhost/does-not-exist:1';
      await ex.start(spec);
      const outcome = await events.waitForExit(spec.attemptKey, 30_000);
      expect(outcome.kind).toBe('cannotPull');
      if (outcome.kind !== 'cannotPull') return;
      expect(outcome.reason).toMatch(/^CannotPullContainerError: \S/);
      expect(outcome.reason).toContain('localhost/does-not-exist');
      expect(events.running.has(spec.attemptKey)).toBe(false);
    }, 40_000);

    it('labels the container and maps the job onto it (resources, user, ulimits, linuxParameters, volumes)', async () => {
      const hostDir = await mkdtemp(join(tmpdir(), 'ob-docker-vol-'));
      await writeFile(join(hostDir, 'input.txt'), 'from-the-host\n');
      await chmod(hostDir, 0o777); // the job runs as nobody; the read-only mount must still refuse writes
      try {
        const ex = newExecutor();
        const spec = make(
          [
            'sh',
            '-c',
            [
              'echo "uid=$(id -u)"',
              'echo "nofile=$(ulimit -n)"',
              'cat /data/input.txt',
              'touch /rootfs-file 2>/dev/null && echo rootfs=rw || echo rootfs=ro',
              'echo x > /scratch/f && echo tmpfs=rw',
              '(echo y > /data/out.txt) 2>/dev/null && echo data=rw || echo data=ro',
              'echo z > /work/f && cat /work/f',
              'echo "limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"',
              'echo ready',
              'exec sleep 30',
            ].join('; '),
          ],
          {
            user: '65534',
            readonlyRootFilesystem: true,
            // nproc too: with explicit ulimits Podman drops its configured defaults, and the host's nproc
            // default exceeds the hard limit here
            ulimits: [
              { name: 'nofile', softLimit: 512, hardLimit: 1024 },
              { name: 'nproc', softLimit: 1024, hardLimit: 1024 },
            ],
            linuxParameters: {
              initProcessEnabled: true,
              sharedMemorySize: 64,
              tmpfs: [{ containerPath: '/scratch', size: 16, mountOptions: ['mode=1777'] }],
            },
            volumes: [{ name: 'in', host: { sourcePath: hostDir } }, { name: 'work' }],
            mountPoints: [
              { sourceVolume: 'in', containerPath: '/data', readOnly: true },
              { sourceVolume: 'work', containerPath: '/work' },
            ],
          },
          64,
        );
        spec.resources.vcpus = 0.5;
        const handle = await ex.start(spec);
        await waitFor(
          () => lines(spec).includes('ready') || events.exits.has(spec.attemptKey),
          15_000,
          'ready',
        );
        expect(events.exits.get(spec.attemptKey)?.outcome).toBeUndefined();
        expect(handle).toMatchObject({ executor: 'docker', container: containerNameFor(spec.taskId) });

        const info = await client.inspectContainer(containerNameFor(spec.taskId));
        expect(info.Config.Labels).toMatchObject({
          [LABEL_JOB_ID]: spec.jobId,
          [LABEL_ATTEMPT]: '1',
          [LABEL_ATTEMPT_KEY]: spec.attemptKey,
          [LABEL_TASK_ID]: spec.taskId,
        });
        expect(info.HostConfig).toMatchObject({
          Memory: 64 * 1024 * 1024,
          MemorySwap: 64 * 1024 * 1024,
          NanoCpus: 500_000_000,
          ReadonlyRootfs: true,
          NetworkMode: 'host',
          ShmSize: 64 * 1024 * 1024,
        });
        expect(lines(spec)).toEqual([
          'uid=65534',
          'nofile=512',
          'from-the-host',
          'rootfs=ro',
          'tmpfs=rw',
          'data=ro',
          'z',
          `limit=${64 * 1024 * 1024}`,
          'ready',
        ]);
        await ex.stop(spec.attemptKey, handle, { graceMs: 5000 });
        // with an init process, `exec sleep` is not PID 1 and honours SIGTERM
        expect(await events.waitForExit(spec.attemptKey)).toMatchObject({
          kind: 'exited',
          exitCode: 143,
          signal: 'SIGTERM',
        });
        await expect(exists(containerNameFor(spec.taskId))).resolves.toBe(false);
        await expect(client.removeVolume(`${containerNameFor(spec.taskId)}-work`)).resolves.toBeUndefined();
      } finally {
        await rm(hostDir, { recursive: true, force: true });
      }
    }, 40_000);

    it('without an init process, PID 1 ignores SIGTERM and is killed after the grace period (as on ECS)', async () => {
      const ex = newExecutor();
      const spec = make(['sh', '-c', 'echo ready; exec sleep 30'], {}, 32);
      const handle = await ex.start(spec);
      await waitFor(() => lines(spec).includes('ready'), 10_000, 'ready');
      const t0 = Date.now();
      await ex.stop(spec.attemptKey, handle, { graceMs: 600 });
      const outcome = await events.waitForExit(spec.attemptKey);
      // a memory-limited container we killed is not an OOM kill
      expect(outcome).toMatchObject({ kind: 'exited', exitCode: 137, signal: 'SIGKILL' });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    });

    it('removes the container after the attempt, or keeps it with keepContainers', async () => {
      const ex = newExecutor();
      const spec = make(['sh', '-c', 'echo bye; exit 4']);
      await ex.start(spec);
      expect(await events.waitForExit(spec.attemptKey)).toMatchObject({ kind: 'exited', exitCode: 4 });
      expect(lines(spec)).toEqual(['bye']);
      expect(await exists(containerNameFor(spec.taskId))).toBe(false);

      const keeper = newExecutor({ keepContainers: true });
      const kept = make(['sh', '-c', 'exit 5']);
      await keeper.start(kept);
      expect(await events.waitForExit(kept.attemptKey)).toMatchObject({ kind: 'exited', exitCode: 5 });
      const info = await client.inspectContainer(containerNameFor(kept.taskId));
      expect(info.State).toMatchObject({ Running: false, ExitCode: 5 });
      await client.removeContainer(info.Id);
    });

    it('uses the image default command when the job has none', async () => {
      const ex = newExecutor();
      // the test image's CMD is ["sh"]: with no stdin it exits 0 at once
      const spec = make([]);
      await ex.start(spec);
      expect(await events.waitForExit(spec.attemptKey)).toMatchObject({ kind: 'exited', exitCode: 0 });
    });

    it('reaches AWS_ENDPOINT_URL on the host loopback (host network by default)', async () => {
      const server: Server = createServer((req, res) => res.end(`pong ${req.url ?? ''}\n`));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const port = (server.address() as AddressInfo).port;
        const ex = newExecutor();
        const spec = make(['sh', '-c', 'wget -q -O- "$AWS_ENDPOINT_URL/ping"']);
        spec.environment['AWS_ENDPOINT_URL'] = `http://127.0.0.1:${port}`;
        await ex.start(spec);
        expect(await events.waitForExit(spec.attemptKey)).toMatchObject({ kind: 'exited', exitCode: 0 });
        expect(lines(spec)).toEqual(['pong /ping']);
      } finally {
        await new Promise((r) => server.close(r));
      }
    });

    it('stop() before the container runs ends the attempt without running it', async () => {
      const ex = newExecutor();
      const spec = make(['sh', '-c', 'echo should-not-run']);
      const handle = await ex.start(spec);
      await ex.stop(spec.attemptKey, handle, { graceMs: 0, reason: 'Terminated by test' });
      const outcome = await events.waitForExit(spec.attemptKey);
      expect(outcome.kind).toBe('failedToStart');
      if (outcome.kind === 'failedToStart') expect(outcome.reason).toContain('Terminated by test');
      expect(lines(spec)).toEqual([]);
      expect(events.running.has(spec.attemptKey)).toBe(false);
    });

    it('recover() re-adopts running containers, reports lost ones, and removes unclaimed ones', async () => {
      const first = newExecutor();
      const spec = make(['sh', '-c', 'echo ready; sleep 2; echo later; while :; do sleep 1; done']);
      const orphan = make(['sh', '-c', 'echo orphan-ready; exec sleep 1000']);
      const handle = await first.start(spec);
      await first.start(orphan);
      await waitFor(
        () => lines(spec).includes('ready') && lines(orphan).includes('orphan-ready'),
        10_000,
        'both ready',
      );
      await new Promise((r) => setTimeout(r, 1200)); // let the log cursor reach disk

      // The restarted server: a new executor on the same data dir, with the server's log store.
      const events2 = new RecordingEvents();
      const sink2 = new MemoryLogSink();
      const second = newExecutor({ logSink: sink2 }, events2);
      const lostKey = `${specs.prefix}-lost#1`;
      const lostHandle: AttemptHandle = {
        ...handle,
        container: containerNameFor('0'.repeat(32)),
        taskId: '0'.repeat(32),
      };
      await second.recover([
        { attemptKey: spec.attemptKey, handle },
        { attemptKey: lostKey, handle: lostHandle },
      ]);

      expect(await events2.waitForExit(lostKey)).toMatchObject({ kind: 'hostLost' });
      await waitFor(() => events2.running.has(spec.attemptKey), 5000, 'the re-adopted attempt to be running');
      // the orphan (no attempt claims it) is gone; the claimed one still runs
      await waitFor(() => events.exits.has(orphan.attemptKey), 10_000, 'the orphan to be killed');
      expect(await exists(containerNameFor(orphan.taskId))).toBe(false);
      expect((await client.inspectContainer(containerNameFor(spec.taskId))).State.Running).toBe(true);
      expect(events2.exits.has(spec.attemptKey)).toBe(false);

      // output after the restart reaches the log store through the new executor, without replaying old lines
      await waitFor(
        () => lines(spec, sink2).includes('later'),
        10_000,
        '"later" through the re-adopted stream',
      );
      expect(lines(spec, sink2)).not.toContain('ready');

      await second.stop(spec.attemptKey, handle, { graceMs: 0 });
      expect(await events2.waitForExit(spec.attemptKey)).toMatchObject({ kind: 'exited', exitCode: 137 });
      await waitFor(() => events.exits.has(spec.attemptKey), 5000, 'the first executor to see the end too');
      expect(await exists(containerNameFor(spec.taskId))).toBe(false);
    }, 40_000);

    it('recover() reports the real exit of a container that ended while the server was down', async () => {
      const first = newExecutor({ keepContainers: true });
      const spec = make(['sh', '-c', 'echo done-before-restart; exit 7']);
      const handle = await first.start(spec);
      expect(await events.waitForExit(spec.attemptKey)).toMatchObject({ kind: 'exited', exitCode: 7 });
      // (keepContainers stands in for "the server died before it could remove the container")
      const events2 = new RecordingEvents();
      const second = newExecutor({ logSink: new MemoryLogSink() }, events2);
      await second.recover([{ attemptKey: spec.attemptKey, handle }]);
      expect(await events2.waitForExit(spec.attemptKey)).toMatchObject({ kind: 'exited', exitCode: 7 });
      expect(await exists(containerNameFor(spec.taskId))).toBe(false);
    });
  },
);
