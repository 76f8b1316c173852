/**
 * Crash safety: kill -9 the server while jobs are SUBMITTED/RUNNABLE/RUNNING; after a restart no
 * accepted job is lost or duplicated, running attempts end like a lost host and retry per their
 * strategy, and no job process keeps running unobserved.
 */
import fs from 'node:fs';
import path from 'node:path';

import {
  BatchClient,
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  DescribeComputeEnvironmentsCommand,
  DescribeJobDefinitionsCommand,
  DescribeJobQueuesCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
} from '@aws-sdk/client-batch';
import { afterEach, describe, expect, it } from 'vitest';

import { sdkConfig, startChildServer, tempDir, waitFor, type ChildServer } from '../helpers/start-server.js';

const servers: ChildServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill('SIGKILL');
});

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('kill -9 and restart', () => {
  it('loses no submitted job, retries interrupted attempts as host loss, and leaves no orphan process', async () => {
    const dataDir = tempDir();
    const marker = path.join(dataDir, 'pids');
    fs.mkdirSync(marker);
    let s = await startChildServer([], dataDir);
    servers.push(s);
    let batch = new BatchClient(sdkConfig(s.url));
    await batch.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'survivor',
        type: 'container',
        retryStrategy: {
          attempts: 2,
          evaluateOnExit: [
            { onStatusReason: 'Host EC2*', action: 'RETRY' },
            { onReason: '*', action: 'EXIT' },
          ],
        },
        containerProperties: {
          image: 'busybox',
          command: [
            'sh',
            '-c',
            `echo $$ > ${marker}/$AWS_BATCH_JOB_ID-$AWS_BATCH_JOB_ATTEMPT; if [ "$AWS_BATCH_JOB_ATTEMPT" = 1 ]; then sleep 300; fi`,
          ],
          resourceRequirements: [
            { type: 'VCPU', value: '1' },
            { type: 'MEMORY', value: '64' },
          ],
        },
      }),
    );
    const running = (
      await batch.send(
        new SubmitJobCommand({ jobName: 'long', jobQueue: 'default', jobDefinition: 'survivor' }),
      )
    ).jobId!;
    await waitFor(
      async () =>
        (await batch.send(new DescribeJobsCommand({ jobs: [running] }))).jobs![0]!.status === 'RUNNING',
    );
    const firstPid = Number(
      await waitFor(() => {
        try {
          return fs.readFileSync(path.join(marker, `${running}-1`), 'utf8').trim() || undefined;
        } catch {
          return undefined;
        }
      }),
    );
    expect(pidAlive(firstPid)).toBe(true);
    // A burst of submissions right before the crash: every 200 must survive.
    const accepted: string[] = [];
    for (let i = 0; i < 30; i++) {
      accepted.push(
        (
          await batch.send(
            new SubmitJobCommand({
              jobName: `burst-${i}`,
              jobQueue: 'default',
              jobDefinition: 'survivor',
              containerOverrides: { command: ['true'] },
            }),
          )
        ).jobId!,
      );
    }
    batch.destroy();
    await s.kill('SIGKILL');

    // The launcher kills the job's process group when the server dies.
    await waitFor(() => !pidAlive(firstPid), {
      what: 'orphaned job process to be killed',
      timeoutMs: 10_000,
    });

    s = await startChildServer([], dataDir);
    servers.push(s);
    batch = new BatchClient(sdkConfig(s.url));
    const job = await waitFor(
      async () => {
        const j = (await batch.send(new DescribeJobsCommand({ jobs: [running] }))).jobs![0]!;
        return j.status === 'SUCCEEDED' || j.status === 'FAILED' ? j : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(job.status).toBe('SUCCEEDED');
    expect(job.attempts).toHaveLength(2);
    expect(job.attempts![0]!.statusReason).toMatch(/^Host EC2 \(instance i-[0-9a-f]+\) terminated\.$/);

    const described = await waitFor(
      async () => {
        const out = [];
        for (let i = 0; i < accepted.length; i += 100) {
          out.push(
            ...(await batch.send(new DescribeJobsCommand({ jobs: accepted.slice(i, i + 100) }))).jobs!,
          );
        }
        return out.every((j) => j.status === 'SUCCEEDED') ? out : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(described.map((j) => j.jobId).sort()).toEqual([...accepted].sort());
    for (const j of described) {
      // Jobs that were STARTING/RUNNING at the crash ran again as host loss; the rest ran once.
      const attempts = j.attempts!;
      expect(attempts.length === 1 || attempts.length === 2).toBe(true);
      if (attempts.length === 2)
        expect(attempts[0]!.statusReason).toMatch(/^Host EC2 \(instance i-[0-9a-f]+\) terminated\.$/);
      expect(attempts[attempts.length - 1]!.container?.exitCode).toBe(0);
    }
    const listed = await batch.send(
      new ListJobsCommand({ jobQueue: 'default', filters: [{ name: 'JOB_NAME', values: ['burst-*'] }] }),
    );
    expect(listed.jobSummaryList).toHaveLength(accepted.length);
    batch.destroy();
  });

  it('finishes creating a 10,000-child array after a crash in the middle of it', async () => {
    const dataDir = tempDir();
    let s = await startChildServer([], dataDir);
    servers.push(s);
    let batch = new BatchClient(sdkConfig(s.url));
    await batch.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: 'parked',
        type: 'MANAGED',
        state: 'DISABLED',
        computeResources: {
          type: 'EC2',
          maxvCpus: 4,
          subnets: ['s'],
          instanceRole: 'r',
          instanceTypes: ['optimal'],
        },
      }),
    );
    await new Promise((r) => setTimeout(r, 200));
    await batch.send(
      new CreateJobQueueCommand({
        jobQueueName: 'parked',
        priority: 1,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'parked' }],
      }),
    );
    await batch.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'wide',
        type: 'container',
        containerProperties: {
          image: 'x',
          command: ['true'],
          resourceRequirements: [
            { type: 'VCPU', value: '1' },
            { type: 'MEMORY', value: '64' },
          ],
        },
      }),
    );
    const { jobId } = await batch.send(
      new SubmitJobCommand({
        jobName: 'wide',
        jobQueue: 'parked',
        jobDefinition: 'wide',
        arrayProperties: { size: 10_000 },
      }),
    );
    await new Promise((r) => setTimeout(r, 30));
    batch.destroy();
    await s.kill('SIGKILL');
    s = await startChildServer([], dataDir);
    servers.push(s);
    batch = new BatchClient(sdkConfig(s.url));
    const parent = await waitFor(
      async () => {
        const p = (await batch.send(new DescribeJobsCommand({ jobs: [jobId!] }))).jobs![0]!;
        return p.arrayProperties?.statusSummary?.RUNNABLE === 10_000 ? p : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(parent.status).toBe('PENDING');
    // Resources created before the crash are all there.
    const ces = await batch.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['parked'] }));
    expect(ces.computeEnvironments?.[0]?.state).toBe('DISABLED');
    const qs = await batch.send(new DescribeJobQueuesCommand({ jobQueues: ['parked'] }));
    expect(qs.jobQueues?.[0]?.computeEnvironmentOrder?.[0]?.computeEnvironment).toMatch(
      /compute-environment\/parked$/,
    );
    const jds = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: 'wide' }));
    expect(jds.jobDefinitions?.map((d) => d.revision)).toEqual([1]);
    let n = 0;
    let token: string | undefined;
    do {
      const page = await batch.send(
        new ListJobsCommand({
          arrayJobId: jobId!,
          jobStatus: 'RUNNABLE',
          ...(token ? { nextToken: token } : {}),
        }),
      );
      n += page.jobSummaryList!.length;
      token = page.nextToken;
    } while (token);
    expect(n).toBe(10_000);
    batch.destroy();
  });

  it('refuses a second server on the same data dir with a clear error', async () => {
    const dataDir = tempDir();
    const s = await startChildServer([], dataDir);
    servers.push(s);
    await expect(startChildServer([], dataDir)).rejects.toThrow(/in use by another openbatch server/);
  });
});
