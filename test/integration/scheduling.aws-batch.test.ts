/**
 * Scheduling end to end through @aws-sdk/client-batch: fair-share queues, queue snapshots,
 * consumable resources, never-fit reasons, GPUs and jobStateTimeLimitActions (server clock jumps).
 */
import {
  BatchClient,
  CreateComputeEnvironmentCommand,
  CreateConsumableResourceCommand,
  CreateJobQueueCommand,
  CreateSchedulingPolicyCommand,
  DescribeConsumableResourceCommand,
  DescribeJobsCommand,
  GetJobQueueSnapshotCommand,
  ListJobsByConsumableResourceCommand,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
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

async function ce(name: string, maxvCpus: number, instanceTypes: string[]): Promise<string> {
  const out = await batch.send(
    new CreateComputeEnvironmentCommand({
      computeEnvironmentName: name,
      type: 'MANAGED',
      computeResources: {
        type: 'EC2',
        minvCpus: 0,
        maxvCpus,
        instanceTypes,
        subnets: ['subnet-1'],
        securityGroupIds: ['sg-1'],
        instanceRole: 'ecsInstanceRole',
      },
    }),
  );
  return out.computeEnvironmentArn!;
}

async function queue(name: string, ces: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const out = await batch.send(
    new CreateJobQueueCommand({
      jobQueueName: name,
      priority: 1,
      computeEnvironmentOrder: ces.map((c, i) => ({ order: i + 1, computeEnvironment: c })),
      ...extra,
    }),
  );
  return out.jobQueueArn!;
}

async function jd(
  name: string,
  command: string[],
  vcpus = 1,
  extra: Record<string, unknown> = {},
  gpus = 0,
): Promise<string> {
  const out = await batch.send(
    new RegisterJobDefinitionCommand({
      jobDefinitionName: name,
      type: 'container',
      containerProperties: {
        image: 'busybox',
        command,
        resourceRequirements: [
          { type: 'VCPU', value: String(vcpus) },
          { type: 'MEMORY', value: '128' },
          ...(gpus ? [{ type: 'GPU' as const, value: String(gpus) }] : []),
        ],
      },
      ...extra,
    }),
  );
  return out.jobDefinitionArn!;
}

async function submit(
  input: Partial<SubmitJobCommandInput> & { jobDefinition: string; jobQueue: string },
): Promise<string> {
  const out = await batch.send(new SubmitJobCommand({ jobName: 'sched', ...input }));
  return out.jobId!;
}

async function describe1(id: string): Promise<JobDetail> {
  const out = await batch.send(new DescribeJobsCommand({ jobs: [id] }));
  return out.jobs![0]!;
}

async function waitJob(
  id: string,
  pred: (j: JobDetail) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<JobDetail> {
  return waitFor(
    async () => {
      const j = await describe1(id);
      return pred(j) ? j : undefined;
    },
    { timeoutMs, what: `job ${id} ${what}` },
  );
}

const status =
  (...s: string[]) =>
  (j: JobDetail) =>
    s.includes(j.status!);

async function clientError(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { name: string; message: string };
  }
  throw new Error('expected the call to fail');
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

describe('fair share', () => {
  let fairQ: string;
  let fifoQ: string;
  beforeAll(async () => {
    const c = await ce('sched-fs', 2, ['c5.large']);
    const policy = await batch.send(
      new CreateSchedulingPolicyCommand({
        name: 'sched-fair',
        fairsharePolicy: {
          shareDecaySeconds: 600,
          computeReservation: 0,
          shareDistribution: [{ shareIdentifier: 'blue', weightFactor: 0.5 }, { shareIdentifier: 'red' }],
        },
      }),
    );
    fairQ = await queue('sched-fair-q', [c], { schedulingPolicyArn: policy.arn });
    fifoQ = await queue('sched-fifo-q', [c]);
  });

  it('SubmitJob: fair-share queues need a shareIdentifier, FIFO queues refuse one', async () => {
    const def = await jd('sched-true', ['true']);
    const missing = await clientError(submit({ jobQueue: fairQ, jobDefinition: def }));
    expect(missing.name).toBe('ClientException');
    expect(missing.message).toMatch(/shareIdentifier/i);
    expect(missing.message).toContain('sched-fair-q');
    const forbidden = await clientError(
      submit({ jobQueue: fifoQ, jobDefinition: def, shareIdentifier: 'blue' }),
    );
    expect(forbidden.name).toBe('ClientException');
    expect(forbidden.message).toMatch(/shareIdentifier/i);
    expect(forbidden.message).toContain('sched-fifo-q');
  });

  it('runs jobs of a fair-share queue; DescribeJobs and ListJobs show shareIdentifier and schedulingPriority; GetJobQueueSnapshot shows the front of the queue', async () => {
    const hold = await jd('sched-hold', ['sh', '-c', 'sleep 3'], 2, { schedulingPriority: 5 });
    const quick = await jd('sched-quick', ['true'], 1, { schedulingPriority: 5 });
    // Fill the environment (2 vCPUs), then queue jobs behind it.
    const holder = await submit({ jobQueue: fairQ, jobDefinition: hold, shareIdentifier: 'red' });
    await waitJob(holder, status('STARTING', 'RUNNING'), 'to start');
    const lowRed = await submit({ jobQueue: fairQ, jobDefinition: quick, shareIdentifier: 'red' });
    const highRed = await submit({
      jobQueue: fairQ,
      jobDefinition: quick,
      shareIdentifier: 'red',
      schedulingPriorityOverride: 9,
    });
    const blue = await submit({ jobQueue: fairQ, jobDefinition: quick, shareIdentifier: 'blue' });

    const d = await describe1(highRed);
    expect(d.shareIdentifier).toBe('red');
    expect(d.schedulingPriority).toBe(9);
    expect((await describe1(lowRed)).schedulingPriority).toBe(5);
    const listed = await batch.send(new ListJobsCommand({ jobQueue: fairQ, jobStatus: 'RUNNABLE' }));
    const summary = listed.jobSummaryList!.find((s) => s.jobId === highRed)!;
    expect(summary.shareIdentifier).toBe('red');
    // JobSummary has no schedulingPriority member in the AWS model: only DescribeJobs shows it.

    // While 'red' holds the environment: blue (no usage) first, then red by priority (9 before 5).
    const snap = await batch.send(new GetJobQueueSnapshotCommand({ jobQueue: 'sched-fair-q' }));
    const order = snap.frontOfQueue!.jobs!.map((j) => j.jobArn!.split('/').pop());
    expect(order).toEqual([blue, highRed, lowRed]);
    for (const j of snap.frontOfQueue!.jobs!) expect(j.earliestTimeAtPosition).toBeTypeOf('number');
    expect(snap.queueUtilization!.totalCapacityUsage).toEqual([{ capacityUnit: 'VCPU', quantity: 2 }]);
    expect(snap.queueUtilization!.fairshareUtilization!.activeShareCount).toBe(1);
    expect(snap.queueUtilization!.fairshareUtilization!.topCapacityUtilization).toEqual([
      { shareIdentifier: 'red', capacityUsage: [{ capacityUnit: 'VCPU', quantity: 2 }] },
    ]);

    for (const id of [holder, lowRed, highRed, blue]) await waitJob(id, status('SUCCEEDED'), 'to succeed');
  });

  it('a FIFO queue snapshot lists RUNNABLE jobs in submission order', async () => {
    const hold = await jd('sched-hold2', ['sh', '-c', 'sleep 2'], 2);
    const quick = await jd('sched-quick2', ['true']);
    const holder = await submit({ jobQueue: fifoQ, jobDefinition: hold });
    await waitJob(holder, status('STARTING', 'RUNNING'), 'to start');
    const a = await submit({ jobQueue: fifoQ, jobDefinition: quick });
    const b = await submit({ jobQueue: fifoQ, jobDefinition: quick });
    const snap = await batch.send(new GetJobQueueSnapshotCommand({ jobQueue: fifoQ }));
    expect(snap.frontOfQueue!.jobs!.map((j) => j.jobArn!.split('/').pop())).toEqual([a, b]);
    expect(snap.queueUtilization!.fairshareUtilization).toBeUndefined();
    for (const id of [holder, a, b]) await waitJob(id, status('SUCCEEDED'), 'to succeed');
  });
});

describe('placement', () => {
  it('a job that can never fit gets a MISCONFIGURATION reason and stays RUNNABLE without blocking the jobs behind it', async () => {
    const c = await ce('sched-small', 4, ['c5.large', 'c5.xlarge', 'c5.2xlarge']);
    const q = await queue('sched-nofit-q', [c]);
    const overMax = await submit({ jobQueue: q, jobDefinition: await jd('sched-8', ['true'], 8) });
    const tooBig = await submit({ jobQueue: q, jobDefinition: await jd('sched-500', ['true'], 500) });
    const ok = await submit({ jobQueue: q, jobDefinition: await jd('sched-1', ['true'], 1) });
    const a = await waitJob(overMax, (j) => j.statusReason !== undefined, 'to get a reason');
    expect(a.status).toBe('RUNNABLE');
    expect(a.statusReason).toMatch(/^MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE - /);
    const b = await waitJob(tooBig, (j) => j.statusReason !== undefined, 'to get a reason');
    expect(b.status).toBe('RUNNABLE');
    expect(b.statusReason).toMatch(/^MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - /);
    await waitJob(ok, status('SUCCEEDED'), 'to succeed');
  });

  it('falls back to the next environment in computeEnvironmentOrder when the first cannot host the job', async () => {
    const small = await ce('sched-spot', 2, ['c5.large']);
    const big = await ce('sched-od', 16, ['c5.4xlarge']);
    const q = await queue('sched-fallback-q', [small, big]);
    const j1 = await submit({ jobQueue: q, jobDefinition: await jd('sched-small1', ['true'], 1) });
    const j8 = await submit({ jobQueue: q, jobDefinition: await jd('sched-big8', ['true'], 8) });
    const d1 = await waitJob(j1, status('SUCCEEDED'), 'to succeed');
    const d8 = await waitJob(j8, status('SUCCEEDED'), 'to succeed');
    expect(d1.container!.containerInstanceArn).toContain('openbatch-sched-spot');
    expect(d8.container!.containerInstanceArn).toContain('openbatch-sched-od');
  });

  it('GPU jobs on a g4dn environment see the GPUs they were given', async () => {
    const c = await ce('sched-g4dn', 8, ['g4dn.xlarge']); // 2 instances → 2 GPUs
    const q = await queue('sched-gpu-q', [c]);
    const def = await jd(
      'sched-gpu',
      ['sh', '-c', 'echo "cuda=$CUDA_VISIBLE_DEVICES nvidia=$NVIDIA_VISIBLE_DEVICES"; sleep 1'],
      1,
      {},
      1,
    );
    const ids = [
      await submit({ jobQueue: q, jobDefinition: def }),
      await submit({ jobQueue: q, jobDefinition: def }),
    ];
    const seen: string[] = [];
    for (const id of ids) {
      const j = await waitJob(id, status('SUCCEEDED', 'FAILED'), 'to finish');
      expect(j.status).toBe('SUCCEEDED');
      const line = await waitFor(async () => {
        const out = await logs.send(
          new GetLogEventsCommand({
            logGroupName: '/aws/batch/job',
            logStreamName: j.container!.logStreamName!,
            startFromHead: true,
          }),
        );
        return out.events?.[0]?.message;
      });
      const m = /^cuda=(\d) nvidia=(\d)$/.exec(line);
      expect(m, line).not.toBeNull();
      expect(m![1]).toBe(m![2]);
      seen.push(m![1]!);
    }
    // Both ran at the same time (1 s each) or one after the other; ids are GPUs of the environment.
    for (const g of seen) expect(['0', '1']).toContain(g);
    // A job asking for more GPUs than one g4dn.xlarge has can never run there.
    const three = await submit({ jobQueue: q, jobDefinition: await jd('sched-gpu3', ['true'], 1, {}, 3) });
    const t = await waitJob(three, (j) => j.statusReason !== undefined, 'to get a reason');
    expect(t.statusReason).toMatch(/^MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - /);
  });
});

describe('consumable resources', () => {
  it('REPLENISHABLE: a job waits RUNNABLE until the quantity is free; Describe/ListJobsByConsumableResource show usage', async () => {
    const c = await ce('sched-cr', 8, ['c5.2xlarge']);
    const q = await queue('sched-cr-q', [c]);
    const cr = await batch.send(
      new CreateConsumableResourceCommand({
        consumableResourceName: 'sched-licence',
        totalQuantity: 1,
        resourceType: 'REPLENISHABLE',
      }),
    );
    const def = await jd('sched-licensed', ['sh', '-c', 'sleep 2'], 1, {
      consumableResourceProperties: {
        consumableResourceList: [{ consumableResource: 'sched-licence', quantity: 1 }],
      },
    });
    const first = await submit({ jobQueue: q, jobDefinition: def });
    await waitJob(first, status('STARTING', 'RUNNING'), 'to start');
    const second = await submit({ jobQueue: q, jobDefinition: def });
    await waitJob(second, status('RUNNABLE'), 'to be RUNNABLE');
    const d = await batch.send(
      new DescribeConsumableResourceCommand({ consumableResource: 'sched-licence' }),
    );
    expect(d.inUseQuantity).toBe(1);
    expect(d.availableQuantity).toBe(0);
    const listed = await batch.send(
      new ListJobsByConsumableResourceCommand({ consumableResource: cr.consumableResourceArn! }),
    );
    const byId = new Map(listed.jobs!.map((j) => [j.jobArn!.split('/').pop(), j]));
    expect(byId.get(first)!.quantity).toBe(1);
    expect(['STARTING', 'RUNNING']).toContain(byId.get(first)!.jobStatus);
    expect(byId.get(second)!.jobStatus).toBe('RUNNABLE');
    // The second job is still waiting while the first runs.
    expect((await describe1(second)).status).toBe('RUNNABLE');
    await waitJob(first, status('SUCCEEDED'), 'to succeed');
    await waitJob(second, status('SUCCEEDED'), 'to succeed', 40_000);
    const after = await batch.send(
      new DescribeConsumableResourceCommand({ consumableResource: 'sched-licence' }),
    );
    expect(after.totalQuantity).toBe(1);
    expect(after.inUseQuantity).toBe(0);
    expect(after.availableQuantity).toBe(1);
  });

  it('NON_REPLENISHABLE: quantities are consumed for good; later jobs wait', async () => {
    const c = await ce('sched-cr2', 8, ['c5.2xlarge']);
    const q = await queue('sched-cr2-q', [c]);
    await batch.send(
      new CreateConsumableResourceCommand({
        consumableResourceName: 'sched-credits',
        totalQuantity: 3,
        resourceType: 'NON_REPLENISHABLE',
      }),
    );
    const def = await jd('sched-credit', ['true'], 1, {
      consumableResourceProperties: {
        consumableResourceList: [{ consumableResource: 'sched-credits', quantity: 2 }],
      },
    });
    const first = await submit({ jobQueue: q, jobDefinition: def });
    await waitJob(first, status('SUCCEEDED'), 'to succeed');
    const d = await waitFor(async () => {
      const r = await batch.send(
        new DescribeConsumableResourceCommand({ consumableResource: 'sched-credits' }),
      );
      return r.totalQuantity === 1 ? r : undefined;
    });
    expect(d.inUseQuantity).toBe(0);
    expect(d.availableQuantity).toBe(1);
    const second = await submit({ jobQueue: q, jobDefinition: def });
    await waitJob(second, status('RUNNABLE'), 'to be RUNNABLE');
    // Give the scheduler a few cycles: it must keep waiting (1 left, 2 needed).
    await new Promise((r) => setTimeout(r, 1500));
    expect((await describe1(second)).status).toBe('RUNNABLE');
  });
});

describe('jobStateTimeLimitActions (runs last: it moves the server clock)', () => {
  it('cancels a RUNNABLE job whose statusReason matched the action for maxTimeSeconds', async () => {
    const c = await ce('sched-tl', 4, ['c5.xlarge', 'c5.2xlarge']);
    const q = await queue('sched-tl-q', [c], {
      jobStateTimeLimitActions: [
        {
          reason: 'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT',
          state: 'RUNNABLE',
          maxTimeSeconds: 600,
          action: 'CANCEL',
        },
      ],
    });
    const stuck = await submit({ jobQueue: q, jobDefinition: await jd('sched-tl-big', ['true'], 64) });
    // 8 vCPUs: a c5.2xlarge could host it but maxvCpus is 4 → a different reason, so it is kept.
    const other = await submit({ jobQueue: q, jobDefinition: await jd('sched-tl-max', ['true'], 8) });
    await waitJob(
      stuck,
      (j) => j.statusReason?.startsWith('MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT') === true,
      'to get a reason',
    );
    await waitJob(
      other,
      (j) => j.statusReason?.startsWith('MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE') === true,
      'to get a reason',
    );
    // Not yet: 580 s (plus the few real seconds this test takes).
    clock.advance(580_000);
    await new Promise((r) => setTimeout(r, 1200));
    expect((await describe1(stuck)).status).toBe('RUNNABLE');
    clock.advance(25_000);
    const j = await waitJob(stuck, status('FAILED'), 'to be cancelled');
    expect(j.statusReason).toBe(
      'Canceled by JobStateTimeLimit action due to reason: MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT',
    );
    expect((await describe1(other)).status).toBe('RUNNABLE');
  });
});
