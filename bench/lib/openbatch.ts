/**
 * @module bench/lib/openbatch
 * Start and stop the built server (`bin/openbatch.js server --port 0`) as a child process, plus the
 * resources the figures need (compute environments, queues, job definitions).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import type { ApiClient } from './client.js';
import { BenchError, makeTempDir, run, sleep, spawnTracked, stopChild, waitFor } from './util.js';

export const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

export interface ServerHandle {
  port: number;
  pid: number;
  dataDir: string;
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/**
 * Where the server and the dist modules are loaded from: a private copy of the build taken at the
 * start of the run (bin/, dist/, native/build/, package.json; node_modules linked), so that a
 * rebuild of dist/ in the working tree while the bench runs cannot change or break it halfway.
 */
let BUILD = REPO;

export function buildDir(): string {
  return BUILD;
}

export async function snapshotBuild(): Promise<void> {
  const dir = makeTempDir('build');
  for (let attempt = 1; ; attempt++) {
    for (const d of ['bin', 'dist', 'native/build']) {
      fs.rmSync(path.join(dir, d), { recursive: true, force: true });
      fs.cpSync(path.join(REPO, d), path.join(dir, d), { recursive: true });
    }
    fs.copyFileSync(path.join(REPO, 'package.json'), path.join(dir, 'package.json'));
    if (!fs.existsSync(path.join(dir, 'node_modules'))) fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    // The copy must load as a whole (a rebuild may have been halfway through when we copied).
    const r = await run(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(path.join(dir, 'dist/main.js'))})`], { timeoutMs: 60_000 });
    if (r.code === 0) break;
    if (attempt >= 6) throw new BenchError(`the build in dist/ does not load: ${r.stderr.trim().slice(-500)}`);
    await sleep(5_000);
  }
  BUILD = dir;
}

export function checkBuilt(): string | undefined {
  for (const f of ['dist/main.js', 'bin/openbatch.js', 'dist/core/scheduler/schedule.js', 'dist/store/sqlite/sqlite-store.js']) {
    if (!fs.existsSync(path.join(REPO, f))) return `${f} is missing: run \`npm run build\` first`;
  }
  return undefined;
}

export async function startOpenbatch(dataDir: string, extraArgs: readonly string[] = [], timeoutMs = 120_000): Promise<ServerHandle> {
  // OBBENCH_SERVER_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`): extra node flags for the server, for profiling.
  const nodeArgs = (process.env.OBBENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawnTracked(process.execPath, [...nodeArgs, path.join(BUILD, 'bin/openbatch.js'), 'server', '--port', '0', '--data-dir', dataDir, ...extraArgs], {
    cwd: BUILD,
    env: { ...process.env, OPENBATCH_PORT: '0' },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => {
    if (err.length < 100_000) err += c.toString();
  });
  const port = await waitFor(
    'openbatch to listen',
    () => {
      if (child.exitCode !== null) throw new BenchError(`openbatch server exited with ${child.exitCode}: ${err.slice(-2000)}`);
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      return m ? Number(m[1]) : undefined;
    },
    timeoutMs,
    10,
  );
  return {
    port,
    pid: child.pid!,
    dataDir,
    child,
    stderr: () => err,
    stop: () => stopChild(child, 15_000),
  };
}

export const JD_TRUE = 'bench-true';

export async function registerJobDefinition(c: ApiClient, name: string, command: string[], vcpus = 1, memoryMiB = 64): Promise<string> {
  const r = await c.batch<{ jobDefinitionArn: string }>('RegisterJobDefinition', {
    jobDefinitionName: name,
    type: 'container',
    containerProperties: {
      image: 'public.ecr.aws/docker/library/busybox:latest',
      command,
      resourceRequirements: [
        { type: 'VCPU', value: String(vcpus) },
        { type: 'MEMORY', value: String(memoryMiB) },
      ],
    },
  });
  return r.body.jobDefinitionArn;
}

/** A MANAGED EC2 environment of `maxvCpus` ("optimal") and a queue on it; waits until both are VALID. */
export async function createQueue(c: ApiClient, name: string, maxvCpus: number, state: 'ENABLED' | 'DISABLED' = 'ENABLED'): Promise<string> {
  await c.batch('CreateComputeEnvironment', {
    computeEnvironmentName: `${name}-ce`,
    type: 'MANAGED',
    state,
    computeResources: {
      type: 'EC2',
      minvCpus: 0,
      maxvCpus,
      instanceTypes: ['optimal'],
      subnets: ['subnet-bench'],
      instanceRole: 'ecsInstanceRole',
    },
  });
  await waitFor(
    `compute environment ${name}-ce to be VALID`,
    async () => {
      const r = await c.batch<{ computeEnvironments: { status: string }[] }>('DescribeComputeEnvironments', { computeEnvironments: [`${name}-ce`] });
      return r.body.computeEnvironments[0]?.status === 'VALID' ? true : undefined;
    },
    30_000,
    20,
  );
  const q = await c.batch<{ jobQueueArn: string }>('CreateJobQueue', {
    jobQueueName: name,
    priority: 1,
    computeEnvironmentOrder: [{ order: 1, computeEnvironment: `${name}-ce` }],
  });
  await waitFor(
    `job queue ${name} to be VALID`,
    async () => {
      const r = await c.batch<{ jobQueues: { status: string }[] }>('DescribeJobQueues', { jobQueues: [name] });
      return r.body.jobQueues[0]?.status === 'VALID' ? true : undefined;
    },
    30_000,
    20,
  );
  return q.body.jobQueueArn;
}

export interface EngineStats {
  active: number;
  runnable: number;
  running: number;
  submitted: number;
  succeeded: number;
  failed: number;
  lastCycleMs: number;
}

export function engineStats(c: ApiClient): Promise<EngineStats> {
  return c.get<EngineStats>('/openbatch/v1/stats');
}
