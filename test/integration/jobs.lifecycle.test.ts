/**
 * The job engine end to end through @aws-sdk/client-batch: real processes, real SQLite.
 */
import {
  BatchClient,
  CancelJobCommand,
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
  TerminateJobCommand,
  type JobDetail,
  type SubmitJobCommandInput,
} from '@aws-sdk/client-batch';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OffsetClock } from '../../src/core/clock.js';
import { sdkConfig, startTestServer, waitFor } from '../helpers/start-server.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;

let server: Server;
let batch: BatchClient;
let logs: CloudWatchLogsClient;
const clock = new OffsetClock();

async function jd(name: string, command: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const out = await batch.send(
    new RegisterJobDefinitionCommand({
      jobDefinitionName: name,
      type: 'container',
      containerProperties: {
        image: 'busybox',
        command,
        resourceRequirements: [
          { type: 'VCPU', value: '1' },
          { type: 'MEMORY', value: '128' },
        ],
        ...(extra.containerProperties as object | undefined),
      },
      ...(extra.top as object | undefined),
    }),
  );
  return out.jobDefinitionArn!;
}

async function submit(input: Partial<SubmitJobCommandInput> & { jobDefinition: string }): Promise<string> {
  const out = await batch.send(new SubmitJobCommand({ jobName: 'test', jobQueue: 'default', ...input }));
  return out.jobId!;
}

async function describe1(id: string): Promise<JobDetail> {
  const out = await batch.send(new DescribeJobsCommand({ jobs: [id] }));
  return out.jobs![0]!;
}

async function waitStatus(id: string, statuses: string[], timeoutMs = 20_000): Promise<JobDetail> {
  return waitFor(
    async () => {
      const j = await describe1(id);
      return statuses.includes(j.status!) ? j : undefined;
    },
    { timeoutMs, what: `job ${id} to reach ${statuses.join('/')}` },
  );
}

async function logLines(stream: string, group = '/aws/batch/job'): Promise<string[]> {
  const out = await logs.send(
    new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: true }),
  );
  return (out.events ?? []).map((e) => e.message!);
}

beforeAll(async () => {
  server = await startTestServer({ killGraceMs: 1000 }, { clock });
  batch = new BatchClient(sdkConfig(server.url));
  logs = new CloudWatchLogsClient(sdkConfig(server.url));
});

afterAll(async () => {
  batch?.destroy();
  logs?.destroy();
  await server?.close();
});

describe('lifecycle', () => {
  it('runs a job with overrides, parameters and AWS_BATCH_* env, and keeps its output in the log store', async () => {
    const arn = await jd(
      'env-echo',
      [
        'sh',
        '-c',
        'echo "greet=$GREETING name=Ref::who id=$AWS_BATCH_JOB_ID attempt=$AWS_BATCH_JOB_ATTEMPT jq=$AWS_BATCH_JQ_NAME ce=$AWS_BATCH_CE_NAME"',
      ],
      {
        containerProperties: { environment: [{ name: 'GREETING', value: 'hi' }] },
        top: { parameters: { who: 'nobody' } },
      },
    );
    const id = await submit({
      jobDefinition: arn,
      parameters: { who: 'world' },
      containerOverrides: { environment: [{ name: 'GREETING', value: 'hello' }] },
    });
    const j = await waitStatus(id, ['SUCCEEDED', 'FAILED']);
    expect(j.status).toBe('SUCCEEDED');
    expect(j.statusReason).toBe('Essential container in task exited');
    expect(j.container?.exitCode).toBe(0);
    expect(j.createdAt).toBeTypeOf('number');
    expect(j.startedAt!).toBeGreaterThanOrEqual(j.createdAt!);
    expect(j.stoppedAt!).toBeGreaterThanOrEqual(j.startedAt!);
    expect(j.attempts).toHaveLength(1);
    expect(j.attempts![0]!.container?.taskArn).toMatch(
      /^arn:aws:ecs:us-east-1:123456789012:task\/.+\/[0-9a-f]{32}$/,
    );
    expect(j.container?.logStreamName).toMatch(/^env-echo\/default\/[0-9a-f]{32}$/);
    expect(j.container?.command).toEqual(['sh', '-c', expect.stringContaining('name=world')]);
    const lines = await waitFor(async () => {
      const l = await logLines(j.container!.logStreamName!);
      return l.length > 0 ? l : undefined;
    });
    expect(lines[0]).toBe(`greet=hello name=world id=${id} attempt=1 jq=default ce=default`);
  });

  it('fails a job with a non-zero exit code and records it', async () => {
    const arn = await jd('exit3', ['sh', '-c', 'echo boom >&2; exit 3']);
    const id = await submit({ jobDefinition: arn });
    const j = await waitStatus(id, ['SUCCEEDED', 'FAILED']);
    expect(j.status).toBe('FAILED');
    expect(j.statusReason).toBe('Essential container in task exited');
    expect(j.container?.exitCode).toBe(3);
    expect(j.attempts![0]!.container?.exitCode).toBe(3);
    const lines = await waitFor(async () => {
      const l = await logLines(j.container!.logStreamName!);
      return l.length ? l : undefined;
    });
    expect(lines).toContain('boom');
  });

  it('shows the job RUNNING with a log stream while it runs, with output already stored', async () => {
    const arn = await jd('slow', ['sh', '-c', 'echo started; sleep 2; echo done']);
    const id = await submit({ jobDefinition: arn });
    const running = await waitStatus(id, ['RUNNING']);
    expect(running.startedAt).toBeTypeOf('number');
    expect(running.stoppedAt).toBeUndefined();
    const list = await batch.send(new ListJobsCommand({ jobQueue: 'default' }));
    expect(list.jobSummaryList!.map((s) => s.jobId)).toContain(id);
    await waitFor(async () => (await logLines(running.container!.logStreamName!)).includes('started'));
    const done = await waitStatus(id, ['SUCCEEDED']);
    expect(done.status).toBe('SUCCEEDED');
  });
});

describe('resources', () => {
  it('kills a job above its MEMORY with the OOM reason', async () => {
    const arn = await jd(
      'hog',
      [
        'python3',
        '-c',
        'import time\nx = bytearray(400 * 1024 * 1024)\nfor i in range(0, len(x), 4096): x[i] = 1\ntime.sleep(5)',
      ],
      {
        containerProperties: {
          resourceRequirements: [
            { type: 'VCPU', value: '1' },
            { type: 'MEMORY', value: '64' },
          ],
        },
      },
    );
    const j = await waitStatus(await submit({ jobDefinition: arn }), ['SUCCEEDED', 'FAILED'], 30_000);
    expect(j.status).toBe('FAILED');
    expect(j.container?.reason).toBe('OutOfMemoryError: Container killed due to memory usage');
    expect(j.container?.exitCode).toBe(137);
    expect(j.statusReason).toBe('Essential container in task exited');
  });
});

describe('retries', () => {
  it('retries failed attempts up to retryStrategy.attempts with AWS_BATCH_JOB_ATTEMPT counting up', async () => {
    const arn = await jd(
      'flaky',
      ['sh', '-c', 'echo attempt $AWS_BATCH_JOB_ATTEMPT; [ "$AWS_BATCH_JOB_ATTEMPT" -ge 3 ]'],
      {
        top: { retryStrategy: { attempts: 3 } },
      },
    );
    const id = await submit({ jobDefinition: arn });
    const j = await waitStatus(id, ['SUCCEEDED', 'FAILED']);
    expect(j.status).toBe('SUCCEEDED');
    expect(j.attempts!.map((a) => a.container?.exitCode)).toEqual([1, 1, 0]);
    expect(await logLines(j.attempts![2]!.container!.logStreamName!)).toEqual(['attempt 3']);
  });

  it('stops retrying when an evaluateOnExit EXIT rule matches the exit code', async () => {
    const arn = await jd('exit-rule', ['sh', '-c', 'exit 42'], {
      top: {
        retryStrategy: {
          attempts: 5,
          evaluateOnExit: [
            { onExitCode: '42', action: 'EXIT' },
            { onReason: '*', action: 'RETRY' },
          ],
        },
      },
    });
    const j = await waitStatus(await submit({ jobDefinition: arn }), ['SUCCEEDED', 'FAILED']);
    expect(j.status).toBe('FAILED');
    expect(j.attempts).toHaveLength(1);
  });

  it('uses the submit-time retryStrategy instead of the definition one, and no match means retry', async () => {
    const arn = await jd('exit-rule2', ['sh', '-c', 'exit 7'], { top: { retryStrategy: { attempts: 1 } } });
    const j = await waitStatus(
      await submit({
        jobDefinition: arn,
        retryStrategy: { attempts: 2, evaluateOnExit: [{ onExitCode: '1*', action: 'EXIT' }] },
      }),
      ['SUCCEEDED', 'FAILED'],
    );
    expect(j.status).toBe('FAILED');
    expect(j.attempts).toHaveLength(2);
  });

  it('rejects restricted characters in evaluateOnExit patterns', async () => {
    const arn = await jd('exit-rule3', ['true']);
    await expect(
      submit({
        jobDefinition: arn,
        retryStrategy: { attempts: 2, evaluateOnExit: [{ onStatusReason: '*Host', action: 'RETRY' }] },
      }),
    ).rejects.toMatchObject({
      name: 'ClientException',
      message: 'Evaluate on exit condition contains restricted characters',
    });
  });

  it('retries a Spot-interrupted attempt on a Host EC2* rule and records the reclaim reason', async () => {
    const arn = await jd(
      'spot',
      ['sh', '-c', 'if [ "$AWS_BATCH_JOB_ATTEMPT" = 1 ]; then sleep 30; fi; echo ok'],
      {
        top: {
          retryStrategy: {
            attempts: 3,
            evaluateOnExit: [
              { onStatusReason: 'Host EC2*', action: 'RETRY' },
              { onReason: '*', action: 'EXIT' },
            ],
          },
        },
      },
    );
    const id = await submit({ jobDefinition: arn });
    await waitStatus(id, ['RUNNING']);
    const res = await fetch(`${server.url}/openbatch/v1/interrupt`, {
      method: 'POST',
      body: JSON.stringify({ jobIds: [id] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { interrupted: { jobId: string; instanceId: string }[] };
    expect(body.interrupted.map((i) => i.jobId)).toEqual([id]);
    const j = await waitStatus(id, ['SUCCEEDED', 'FAILED']);
    expect(j.status).toBe('SUCCEEDED');
    expect(j.attempts).toHaveLength(2);
    expect(j.attempts![0]!.statusReason).toBe(
      `Host EC2 (instance ${body.interrupted[0]!.instanceId}) terminated.`,
    );
    expect(j.attempts![0]!.container?.exitCode).toBeUndefined();
  });
});

describe('timeouts', () => {
  it('ends an attempt past attemptDurationSeconds with the AWS reason and does not retry it', async () => {
    const arn = await jd('sleeper', ['sh', '-c', 'sleep 60'], {
      top: { retryStrategy: { attempts: 3 }, timeout: { attemptDurationSeconds: 60 } },
    });
    const id = await submit({ jobDefinition: arn });
    await waitStatus(id, ['RUNNING']);
    clock.advance(61_000);
    const j = await waitStatus(id, ['SUCCEEDED', 'FAILED']);
    expect(j.status).toBe('FAILED');
    expect(j.statusReason).toBe('Job attempt duration exceeded timeout');
    expect(j.attempts).toHaveLength(1);
    expect(j.container?.exitCode).toBe(143);
  });

  it('refuses a timeout under 60 seconds', async () => {
    const arn = await jd('sleeper2', ['true']);
    await expect(
      submit({ jobDefinition: arn, timeout: { attemptDurationSeconds: 5 } }),
    ).rejects.toMatchObject({ name: 'ClientException' });
  });
});

describe('arrays and dependencies', () => {
  it('runs array children with their index, SEQUENTIAL order, and summarises the parent', async () => {
    const arn = await jd('arr', [
      'sh',
      '-c',
      'echo index=$AWS_BATCH_JOB_ARRAY_INDEX size=$AWS_BATCH_JOB_ARRAY_SIZE id=$AWS_BATCH_JOB_ID',
    ]);
    const id = await submit({
      jobDefinition: arn,
      arrayProperties: { size: 3 },
      dependsOn: [{ type: 'SEQUENTIAL' }],
    });
    const parent = await waitStatus(id, ['SUCCEEDED', 'FAILED']);
    expect(parent.status).toBe('SUCCEEDED');
    expect(parent.arrayProperties?.size).toBe(3);
    expect(parent.arrayProperties?.statusSummary).toMatchObject({ SUCCEEDED: 3, FAILED: 0, RUNNING: 0 });
    const kids = await batch.send(new DescribeJobsCommand({ jobs: [0, 1, 2].map((i) => `${id}:${i}`) }));
    expect(kids.jobs).toHaveLength(3);
    const byIndex = new Map(kids.jobs!.map((k) => [k.arrayProperties!.index!, k]));
    for (let i = 0; i < 3; i++) {
      const k = byIndex.get(i)!;
      expect(k.status).toBe('SUCCEEDED');
      expect(await logLines(k.container!.logStreamName!)).toEqual([`index=${i} size=3 id=${id}:${i}`]);
    }
    // SEQUENTIAL: each child starts after the previous one stopped.
    expect(byIndex.get(1)!.startedAt!).toBeGreaterThanOrEqual(byIndex.get(0)!.stoppedAt!);
    expect(byIndex.get(2)!.startedAt!).toBeGreaterThanOrEqual(byIndex.get(1)!.stoppedAt!);
    const listed = await batch.send(new ListJobsCommand({ arrayJobId: id, jobStatus: 'SUCCEEDED' }));
    expect(listed.jobSummaryList).toHaveLength(3);
  });

  it('fails the parent with "Array Child Job failed" when a child fails', async () => {
    const arn = await jd('arr-fail', ['sh', '-c', '[ "$AWS_BATCH_JOB_ARRAY_INDEX" != 1 ]']);
    const id = await submit({ jobDefinition: arn, arrayProperties: { size: 3 } });
    const parent = await waitStatus(id, ['SUCCEEDED', 'FAILED']);
    expect(parent.status).toBe('FAILED');
    expect(parent.statusReason).toBe('Array Child Job failed');
    expect(parent.arrayProperties?.statusSummary).toMatchObject({ SUCCEEDED: 2, FAILED: 1 });
  });

  it('runs N_TO_N children after their counterparts', async () => {
    const arnA = await jd('n2n-a', ['sh', '-c', 'sleep 0.2']);
    const a = await submit({ jobDefinition: arnA, arrayProperties: { size: 2 } });
    const b = await submit({
      jobDefinition: arnA,
      arrayProperties: { size: 2 },
      dependsOn: [{ jobId: a, type: 'N_TO_N' }],
    });
    await waitStatus(b, ['SUCCEEDED', 'FAILED']);
    const jobs = await batch.send(
      new DescribeJobsCommand({ jobs: [`${a}:0`, `${a}:1`, `${b}:0`, `${b}:1`] }),
    );
    const m = new Map(jobs.jobs!.map((j) => [j.jobId!, j]));
    expect(m.get(`${b}:0`)!.startedAt!).toBeGreaterThanOrEqual(m.get(`${a}:0`)!.stoppedAt!);
    expect(m.get(`${b}:1`)!.startedAt!).toBeGreaterThanOrEqual(m.get(`${a}:1`)!.stoppedAt!);
    await expect(
      submit({
        jobDefinition: arnA,
        arrayProperties: { size: 3 },
        dependsOn: [{ jobId: a, type: 'N_TO_N' }],
      }),
    ).rejects.toMatchObject({
      name: 'ClientException',
    });
  });

  it('holds a dependent job PENDING until its dependency succeeds, and cascades failures', async () => {
    const slow = await jd('dep-slow', ['sh', '-c', 'sleep 0.5']);
    const bad = await jd('dep-bad', ['sh', '-c', 'sleep 0.3; exit 1']);
    const ok = await jd('dep-ok', ['true']);
    const a = await submit({ jobDefinition: slow });
    const b = await submit({ jobDefinition: ok, dependsOn: [{ jobId: a }] });
    expect((await describe1(b)).status).toMatch(/SUBMITTED|PENDING/);
    const bj = await waitStatus(b, ['SUCCEEDED', 'FAILED']);
    expect(bj.status).toBe('SUCCEEDED');
    expect(bj.startedAt!).toBeGreaterThanOrEqual((await describe1(a)).stoppedAt!);

    const x = await submit({ jobDefinition: bad });
    const y = await submit({ jobDefinition: ok, dependsOn: [{ jobId: x }] });
    const z = await submit({ jobDefinition: ok, dependsOn: [{ jobId: y }] });
    const zj = await waitStatus(z, ['SUCCEEDED', 'FAILED']);
    expect(zj.status).toBe('FAILED');
    expect(zj.statusReason).toBe('Dependent Job failed');
    expect((await describe1(y)).statusReason).toBe('Dependent Job failed');
    // Depending on a job that already failed fails at once.
    const w = await submit({ jobDefinition: ok, dependsOn: [{ jobId: x }] });
    expect((await waitStatus(w, ['FAILED'])).statusReason).toBe('Dependent Job failed');
  });

  it('rejects unknown dependencies, more than 20 dependencies, bad array sizes and bad names', async () => {
    const ok = await jd('limits', ['true']);
    await expect(
      submit({ jobDefinition: ok, dependsOn: [{ jobId: '00000000-0000-4000-8000-000000000000' }] }),
    ).rejects.toMatchObject({ name: 'ClientException' });
    const a = await submit({ jobDefinition: ok });
    await expect(
      submit({ jobDefinition: ok, dependsOn: Array.from({ length: 21 }, () => ({ jobId: a })) }),
    ).rejects.toMatchObject({ name: 'ClientException' });
    await expect(submit({ jobDefinition: ok, arrayProperties: { size: 1 } })).rejects.toMatchObject({
      name: 'ClientException',
    });
    await expect(submit({ jobDefinition: ok, arrayProperties: { size: 10_001 } })).rejects.toMatchObject({
      name: 'ClientException',
    });
    await expect(submit({ jobDefinition: ok, jobName: '-bad name' })).rejects.toMatchObject({
      name: 'ClientException',
    });
    await expect(submit({ jobDefinition: ok, jobQueue: 'nope' })).rejects.toMatchObject({
      name: 'ClientException',
    });
    await expect(submit({ jobDefinition: 'nope' })).rejects.toMatchObject({
      name: 'ClientException',
      message: 'JobDefinition nope does not exist or is not in ACTIVE status',
    });
    await expect(
      submit({
        jobDefinition: ok,
        containerOverrides: { environment: [{ name: 'X', value: 'y'.repeat(31_000) }] },
      }),
    ).rejects.toMatchObject({ name: 'ClientException' });
  });
});

describe('cancel and terminate', () => {
  let parkedQueue: string;
  beforeAll(async () => {
    await batch.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: 'parked',
        type: 'MANAGED',
        state: 'DISABLED',
        computeResources: {
          type: 'EC2',
          maxvCpus: 4,
          subnets: ['subnet-1'],
          instanceRole: 'ecsInstanceRole',
          instanceTypes: ['c5.xlarge'],
        },
      }),
    );
    await waitFor(async () => true);
    const q = await batch.send(
      new CreateJobQueueCommand({
        jobQueueName: 'parked',
        priority: 1,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'parked' }],
      }),
    );
    parkedQueue = q.jobQueueArn!;
  });

  it('cancels a RUNNABLE job', async () => {
    const ok = await jd('parked-job', ['true']);
    const id = await submit({ jobDefinition: ok, jobQueue: parkedQueue });
    await waitStatus(id, ['RUNNABLE']);
    await batch.send(new CancelJobCommand({ jobId: id, reason: 'not needed' }));
    const j = await waitStatus(id, ['FAILED']);
    expect(j.statusReason).toBe('not needed');
    expect(j.isCancelled).toBe(true);
    expect(j.attempts).toEqual([]);
  });

  it('leaves a RUNNING job alone on CancelJob and stops it on TerminateJob', async () => {
    const sleeper = await jd('term', ['sh', '-c', 'sleep 30']);
    const id = await submit({ jobDefinition: sleeper });
    await waitStatus(id, ['RUNNING']);
    await batch.send(new CancelJobCommand({ jobId: id, reason: 'ignored' }));
    await new Promise((r) => setTimeout(r, 200));
    expect((await describe1(id)).status).toBe('RUNNING');
    await batch.send(new TerminateJobCommand({ jobId: id, reason: 'stop it' }));
    const j = await waitStatus(id, ['FAILED']);
    expect(j.statusReason).toBe('stop it');
    expect(j.isTerminated).toBe(true);
    expect(j.container?.exitCode).toBe(143);
  });

  it('terminates a job that waits on a dependency, and cancels an array with all its children', async () => {
    const ok = await jd('term2', ['true']);
    const a = await submit({ jobDefinition: ok, jobQueue: parkedQueue });
    const b = await submit({ jobDefinition: ok, dependsOn: [{ jobId: a }] });
    await waitStatus(b, ['PENDING']);
    await batch.send(new TerminateJobCommand({ jobId: b, reason: 'no longer' }));
    expect((await waitStatus(b, ['FAILED'])).statusReason).toBe('no longer');
    const arr = await submit({ jobDefinition: ok, jobQueue: parkedQueue, arrayProperties: { size: 4 } });
    await waitStatus(`${arr}:3`, ['RUNNABLE']);
    await batch.send(new CancelJobCommand({ jobId: arr, reason: 'cancel all' }));
    const p = await waitStatus(arr, ['FAILED']);
    expect(p.arrayProperties?.statusSummary).toMatchObject({ FAILED: 4 });
    expect((await describe1(`${arr}:2`)).statusReason).toBe('cancel all');
  });

  it('errors on an unknown job id', async () => {
    await expect(batch.send(new CancelJobCommand({ jobId: 'nope', reason: 'x' }))).rejects.toMatchObject({
      name: 'ClientException',
    });
  });
});

describe('ListJobs', () => {
  it('defaults to RUNNING, filters by name and paginates', async () => {
    const ok = await jd('listy', ['true']);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await submit({ jobDefinition: ok, jobName: `listy-${i}` }));
    for (const id of ids) await waitStatus(id, ['SUCCEEDED']);
    const running = await batch.send(new ListJobsCommand({ jobQueue: 'default' }));
    expect(running.jobSummaryList!.every((s) => s.status === 'RUNNING')).toBe(true);
    const byName = await batch.send(
      new ListJobsCommand({ jobQueue: 'default', filters: [{ name: 'JOB_NAME', values: ['LISTY-*'] }] }),
    );
    expect(byName.jobSummaryList!.map((s) => s.jobId).sort()).toEqual([...ids].sort());
    // createdAt descending with filters
    const created = byName.jobSummaryList!.map((s) => s.createdAt!);
    expect([...created].sort((x, y) => y - x)).toEqual(created);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await batch.send(
        new ListJobsCommand({
          jobQueue: 'default',
          jobStatus: 'SUCCEEDED',
          maxResults: 2,
          ...(token ? { nextToken: token } : {}),
        }),
      );
      seen.push(...page.jobSummaryList!.map((s) => s.jobId!));
      token = page.nextToken;
      pages++;
    } while (token && pages < 100);
    for (const id of ids) expect(seen).toContain(id);
    expect(new Set(seen).size).toBe(seen.length);
    const byJd = await batch.send(
      new ListJobsCommand({ jobQueue: 'default', filters: [{ name: 'JOB_DEFINITION', values: ['listy'] }] }),
    );
    expect(byJd.jobSummaryList).toHaveLength(5);
    await expect(batch.send(new ListJobsCommand({}))).rejects.toMatchObject({ name: 'ClientException' });
  });

  it('omits unknown ids in DescribeJobs and refuses more than 100', async () => {
    expect((await batch.send(new DescribeJobsCommand({ jobs: ['nope'] }))).jobs).toEqual([]);
    await expect(
      batch.send(new DescribeJobsCommand({ jobs: Array.from({ length: 101 }, (_, i) => `j${i}`) })),
    ).rejects.toMatchObject({
      name: 'ClientException',
      message: 'Error executing request, Exception : Maximum number of jobs supported is  100',
    });
  });
});
