/**
 * @module bench/lib/moto
 * moto's server (`python3 -m moto.server`) as the API baseline: started on a free loopback port,
 * switched to its Docker-free Batch backend, and given a queue and a job definition.
 */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

import { ApiClient } from './client.js';
import type { Signer } from './sigv4.js';
import { BenchError, run, spawnTracked, stopChild, waitFor } from './util.js';

export interface MotoHandle {
  port: number;
  child: ChildProcess;
  queue: string;
  jobDefinition: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Why moto can't run here, or undefined when it can. */
export async function motoMissing(): Promise<string | undefined> {
  try {
    const r = await run('python3', ['-c', 'import moto.server, werkzeug; print(moto.__version__)'], { timeoutMs: 20_000 });
    return r.code === 0 ? undefined : 'python3 cannot import moto.server (pip install "moto[server]")';
  } catch {
    return 'python3 not found';
  }
}

export async function motoVersion(): Promise<string> {
  const r = await run('python3', ['-c', 'import moto; print(moto.__version__)'], { timeoutMs: 20_000 });
  return r.stdout.trim();
}

export async function startMoto(sign: Signer): Promise<MotoHandle> {
  const port = await freePort();
  const child = spawnTracked('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)]);
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    if (err.length < 20_000) err += c.toString();
  });
  const c = new ApiClient(port, sign);
  await waitFor(
    'moto to listen',
    async () => {
      if (child.exitCode !== null) throw new BenchError(`moto exited: ${err.slice(-1000)}`);
      try {
        const r = await c.raw('/moto-api/config', 'batch', JSON.stringify({ batch: { use_docker: false } }), { 'content-type': 'application/json' });
        return r.status >= 200 && r.status < 300 ? true : undefined;
      } catch {
        return undefined;
      }
    },
    30_000,
    100,
  );
  // An IAM role for the compute environment (moto checks that it exists).
  const role = await c.raw('/', 'iam', 'Action=CreateRole&Version=2010-05-08&RoleName=bench&AssumeRolePolicyDocument=%7B%7D', {
    'content-type': 'application/x-www-form-urlencoded',
  });
  if (role.status < 200 || role.status > 299) throw new BenchError(`moto CreateRole: HTTP ${role.status}`);
  const ce = await c.batch<{ computeEnvironmentArn: string }>('CreateComputeEnvironment', {
    computeEnvironmentName: 'bench-ce',
    type: 'UNMANAGED',
    state: 'DISABLED',
    serviceRole: 'arn:aws:iam::123456789012:role/bench',
  });
  await c.batch('CreateJobQueue', {
    jobQueueName: 'bench-api',
    priority: 1,
    state: 'ENABLED',
    computeEnvironmentOrder: [{ order: 1, computeEnvironment: ce.body.computeEnvironmentArn }],
  });
  await c.batch('RegisterJobDefinition', {
    jobDefinitionName: 'bench-true',
    type: 'container',
    containerProperties: {
      image: 'public.ecr.aws/docker/library/busybox:latest',
      command: ['true'],
      resourceRequirements: [
        { type: 'VCPU', value: '1' },
        { type: 'MEMORY', value: '64' },
      ],
    },
  });
  c.close();
  return { port, child, queue: 'bench-api', jobDefinition: 'bench-true', stop: () => stopChild(child, 5_000) };
}
