/**
 * The seed-000 flow with the real aws CLI (v1) and boto3: register a job definition, submit with
 * --container-overrides (command and environment), watch it reach SUCCEEDED, find its output with
 * `aws logs get-log-events`.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REPO_ROOT, awsEnv, startTestServer, waitFor } from '../helpers/start-server.js';

const run = promisify(execFile);
let server: Awaited<ReturnType<typeof startTestServer>>;

async function aws(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('aws', ['--endpoint-url', server.url, '--output', 'json', ...args], {
    env: awsEnv(server.url),
  });
  return stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {};
}

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('aws CLI', () => {
  it('runs the seed-000 flow', async () => {
    await aws(
      'batch',
      'register-job-definition',
      '--job-definition-name',
      'pulse-retrodiction-training-poc',
      '--type',
      'container',
      '--container-properties',
      JSON.stringify({
        image: 'pulse',
        command: ['sh', '-c', 'echo default'],
        resourceRequirements: [
          { type: 'VCPU', value: '1' },
          { type: 'MEMORY', value: '256' },
        ],
      }),
    );
    const sub = await aws(
      'batch',
      'submit-job',
      '--job-name',
      'pulse-retrodiction-custom',
      '--job-queue',
      'default',
      '--job-definition',
      'pulse-retrodiction-training-poc',
      '--container-overrides',
      JSON.stringify({
        command: ['sh', '-c', 'echo "dask=$DASK_MEMORY_LIMIT args=$0 $1"', 'spx_close', 'us_10y_yield'],
        environment: [{ name: 'DASK_MEMORY_LIMIT', value: '12GB' }],
      }),
    );
    const jobId = sub.jobId as string;
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    const job = await waitFor(async () => {
      const d = (await aws('batch', 'describe-jobs', '--jobs', jobId)).jobs as Record<string, unknown>[];
      return d[0]!.status === 'SUCCEEDED' || d[0]!.status === 'FAILED' ? d[0]! : undefined;
    });
    expect(job.status).toBe('SUCCEEDED');
    const stream = (job.container as Record<string, unknown>).logStreamName as string;
    const out = await aws(
      'logs',
      'get-log-events',
      '--log-group-name',
      '/aws/batch/job',
      '--log-stream-name',
      stream,
    );
    expect((out.events as { message: string }[]).map((e) => e.message)).toEqual([
      'dask=12GB args=spx_close us_10y_yield',
    ]);
    const listed = await aws('batch', 'list-jobs', '--job-queue', 'default', '--job-status', 'SUCCEEDED');
    expect((listed.jobSummaryList as { jobId: string }[]).map((s) => s.jobId)).toContain(jobId);
  });

  it('prints AWS-style errors', async () => {
    await expect(
      aws('batch', 'submit-job', '--job-name', 'x', '--job-queue', 'default', '--job-definition', 'nope'),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining(
        'An error occurred (ClientException) when calling the SubmitJob operation: JobDefinition nope does not exist or is not in ACTIVE status',
      ),
    });
  });
});

describe('boto3', () => {
  it('submits with overrides, runs an array, paginates and raises ClientException', async () => {
    const { stdout } = await run('python3', [path.join(REPO_ROOT, 'test/e2e/py/seed_flow.py'), server.url], {
      env: awsEnv(server.url),
    });
    const r = JSON.parse(stdout) as Record<string, unknown>;
    expect(r.status).toBe('SUCCEEDED');
    expect(r.statusReason).toBe('Essential container in task exited');
    expect(r.exitCode).toBe(0);
    expect(r.messages).toEqual(['training with 12GB', 'variables spx_close us_10y_yield']);
    expect(r.arrayStatus).toBe('SUCCEEDED');
    expect(r.summary).toMatchObject({ SUCCEEDED: 5 });
    expect(r.children).toHaveLength(5);
    expect((r.error as { Code: string }).Code).toBe('ClientException');
  });
});
