import {
  BatchClient,
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  CreateSchedulingPolicyCommand,
  DeleteJobQueueCommand,
  DeregisterJobDefinitionCommand,
  DescribeJobDefinitionsCommand,
  DescribeJobQueuesCommand,
  RegisterJobDefinitionCommand,
  UpdateJobQueueCommand,
  type JobQueueDetail,
} from '@aws-sdk/client-batch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { systemClock } from '../../src/core/clock.js';
import { startResourceLifecycle } from '../../src/loops/resource-lifecycle.js';
import { sdkConfig, startTestServer, waitFor } from '../helpers/start-server.js';

async function start() {
  const server = await startTestServer({ noDefaults: true });
  const lifecycle = startResourceLifecycle({
    store: server.store,
    events: server.events,
    clock: systemClock,
  });
  const client = new BatchClient(sdkConfig(server.url));
  return {
    server,
    client,
    async close() {
      client.destroy();
      await lifecycle.stop();
      await server.close();
    },
  };
}

async function clientError(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!err) throw new Error('expected a ClientException, the call succeeded');
  expect(err.name).toBe('ClientException');
  return err;
}

let env: Awaited<ReturnType<typeof start>>;
const ACCT = 'arn:aws:batch:us-east-1:123456789012';
beforeAll(async () => {
  env = await start();
  await env.client.send(
    new CreateComputeEnvironmentCommand({
      computeEnvironmentName: 'ec2-a',
      type: 'MANAGED',
      computeResources: { type: 'EC2', maxvCpus: 4, subnets: [] },
    }),
  );
  await env.client.send(
    new CreateComputeEnvironmentCommand({
      computeEnvironmentName: 'ec2-b',
      type: 'MANAGED',
      computeResources: { type: 'SPOT', maxvCpus: 4, subnets: [] },
    }),
  );
  await env.client.send(
    new CreateComputeEnvironmentCommand({
      computeEnvironmentName: 'fg',
      type: 'MANAGED',
      computeResources: { type: 'FARGATE', maxvCpus: 4, subnets: ['s'], securityGroupIds: ['sg'] },
    }),
  );
  await env.client.send(
    new CreateSchedulingPolicyCommand({ name: 'fs1', fairsharePolicy: { shareDecaySeconds: 3600 } }),
  );
  await env.client.send(
    new CreateSchedulingPolicyCommand({ name: 'fs2', fairsharePolicy: { computeReservation: 10 } }),
  );
});
afterAll(async () => {
  await env.close();
});

async function describeQueue(ref: string): Promise<JobQueueDetail | undefined> {
  return (await env.client.send(new DescribeJobQueuesCommand({ jobQueues: [ref] }))).jobQueues?.[0];
}

describe('job queues', () => {
  it('create echoes computeEnvironmentOrder as ARNs in the order sent and becomes VALID', async () => {
    const out = await env.client.send(
      new CreateJobQueueCommand({
        jobQueueName: 'q1',
        priority: 10,
        tags: { k: 'v' },
        computeEnvironmentOrder: [
          { order: 2, computeEnvironment: 'ec2-b' },
          { order: 1, computeEnvironment: `${ACCT}:compute-environment/ec2-a` },
        ],
        jobStateTimeLimitActions: [
          {
            reason: 'CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY',
            state: 'RUNNABLE',
            maxTimeSeconds: 600,
            action: 'CANCEL',
          },
        ],
      }),
    );
    expect(out).toMatchObject({ jobQueueName: 'q1', jobQueueArn: `${ACCT}:job-queue/q1` });
    const q = await waitFor(async () => {
      const d = await describeQueue(out.jobQueueArn!);
      return d?.status === 'VALID' ? d : undefined;
    });
    expect(q.statusReason).toBe('JobQueue Healthy');
    expect(q.computeEnvironmentOrder).toEqual([
      { order: 2, computeEnvironment: `${ACCT}:compute-environment/ec2-b` },
      { order: 1, computeEnvironment: `${ACCT}:compute-environment/ec2-a` },
    ]);
    expect(q.tags).toEqual({ k: 'v' });
    expect(q.state).toBe('ENABLED');
    expect(q.priority).toBe(10);
    expect('schedulingPolicyArn' in q).toBe(false);
    expect(q.jobStateTimeLimitActions).toHaveLength(1);
    expect((await describeQueue('q1'))?.jobQueueArn).toBe(`${ACCT}:job-queue/q1`);
  });

  it('validation paths', async () => {
    const base = { jobQueueName: 'qbad', priority: 1 };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ computeEnvironmentOrder: [] }, /at least one compute environment/],
      [
        { computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'nope' }] },
        /ComputeEnvironment nope does not exist/,
      ],
      [
        {
          computeEnvironmentOrder: [
            { order: 1, computeEnvironment: 'ec2-a' },
            { order: 2, computeEnvironment: 'fg' },
          ],
        },
        /cannot be mixed/,
      ],
      [
        {
          computeEnvironmentOrder: [
            { order: 1, computeEnvironment: 'ec2-a' },
            { order: 2, computeEnvironment: 'ec2-b' },
            { order: 3, computeEnvironment: 'ec2-a' },
            { order: 4, computeEnvironment: 'ec2-b' },
          ],
        },
        /at most 3 compute environments/,
      ],
      [
        {
          computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'ec2-a' }],
          schedulingPolicyArn: `${ACCT}:scheduling-policy/none`,
        },
        /does not exist/,
      ],
      [
        {
          computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'ec2-a' }],
          jobStateTimeLimitActions: [
            { reason: 'r', state: 'RUNNABLE', maxTimeSeconds: 599, action: 'CANCEL' },
          ],
        },
        /maxTimeSeconds must be between 600 and 86400/,
      ],
      [
        {
          computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'ec2-a' }],
          jobStateTimeLimitActions: [
            { reason: 'r', state: 'RUNNABLE', maxTimeSeconds: 700, action: 'TERMINATE' },
          ],
        },
        /must be CANCEL/,
      ],
      [
        { jobQueueName: 'bad/name', computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'ec2-a' }] },
        /valid pattern/,
      ],
    ];
    for (const [extra, msg] of cases) {
      const err = await clientError(
        env.client.send(new CreateJobQueueCommand({ ...base, ...extra } as never)),
      );
      expect(err.message).toMatch(msg);
    }
    const missingPriority = await clientError(
      env.client.send(
        new CreateJobQueueCommand({
          jobQueueName: 'x',
          computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'ec2-a' }],
        } as never),
      ),
    );
    expect(missingPriority.message).toMatch(/priority/);
    const dup = await clientError(
      env.client.send(
        new CreateJobQueueCommand({
          jobQueueName: 'q1',
          priority: 1,
          computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'ec2-a' }],
        }),
      ),
    );
    expect(dup.message).toBe('Object already exists');
  });

  it('scheduling policy rules: FIFO stays FIFO, a policy can be replaced but not removed', async () => {
    await env.client.send(
      new CreateJobQueueCommand({
        jobQueueName: 'fair',
        priority: 1,
        schedulingPolicyArn: `${ACCT}:scheduling-policy/fs1`,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'ec2-a' }],
      }),
    );
    expect((await describeQueue('fair'))?.schedulingPolicyArn).toBe(`${ACCT}:scheduling-policy/fs1`);
    await env.client.send(
      new UpdateJobQueueCommand({ jobQueue: 'fair', schedulingPolicyArn: `${ACCT}:scheduling-policy/fs2` }),
    );
    expect((await describeQueue('fair'))?.schedulingPolicyArn).toBe(`${ACCT}:scheduling-policy/fs2`);
    const removed = await clientError(
      env.client.send(new UpdateJobQueueCommand({ jobQueue: 'fair', schedulingPolicyArn: '' })),
    );
    expect(removed.message).toMatch(/can be replaced but not removed/);
    const fifo = await clientError(
      env.client.send(
        new UpdateJobQueueCommand({ jobQueue: 'q1', schedulingPolicyArn: `${ACCT}:scheduling-policy/fs1` }),
      ),
    );
    expect(fifo.message).toMatch(/FIFO job queue and cannot have a scheduling policy added/);
  });

  it('update → UPDATING → VALID (also when disabling); missing queue says "does not exist"; delete → gone', async () => {
    await env.client.send(
      new UpdateJobQueueCommand({
        jobQueue: `${ACCT}:job-queue/q1`,
        priority: 5,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'ec2-a' }],
        jobStateTimeLimitActions: [],
      }),
    );
    let q = await waitFor(async () => {
      const d = await describeQueue('q1');
      return d?.status === 'VALID' ? d : undefined;
    });
    expect(q.priority).toBe(5);
    expect(q.computeEnvironmentOrder).toEqual([
      { order: 1, computeEnvironment: `${ACCT}:compute-environment/ec2-a` },
    ]);
    expect(q.jobStateTimeLimitActions).toEqual([]);
    const notDisabled = await clientError(env.client.send(new DeleteJobQueueCommand({ jobQueue: 'q1' })));
    expect(notDisabled.message).toMatch(/DISABLED/);
    await env.client.send(new UpdateJobQueueCommand({ jobQueue: `${ACCT}:job-queue/q1`, state: 'DISABLED' }));
    q = await waitFor(async () => {
      const d = await describeQueue('q1');
      return d?.status === 'VALID' ? d : undefined;
    });
    expect(q.state).toBe('DISABLED');
    await env.client.send(new DeleteJobQueueCommand({ jobQueue: `${ACCT}:job-queue/q1` }));
    const deleting = await describeQueue('q1');
    expect(deleting === undefined || deleting.status === 'DELETING').toBe(true);
    await waitFor(async () => ((await describeQueue('q1')) === undefined ? true : undefined), {
      what: 'q1 gone',
    });
    const missing = await clientError(
      env.client.send(new UpdateJobQueueCommand({ jobQueue: `${ACCT}:job-queue/q1`, state: 'DISABLED' })),
    );
    expect(missing.message).toContain('does not exist');
  });

  it('paginates queues', async () => {
    for (let i = 0; i < 5; i++) {
      await env.client.send(
        new CreateJobQueueCommand({
          jobQueueName: `pq-${i}`,
          priority: i,
          computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'ec2-a' }],
        }),
      );
    }
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await env.client.send(new DescribeJobQueuesCommand({ maxResults: 2, nextToken: token }));
      names.push(...out.jobQueues!.map((q) => q.jobQueueName!));
      token = out.nextToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(names).toEqual(['fair', 'pq-0', 'pq-1', 'pq-2', 'pq-3', 'pq-4']);
  });
});

describe('job definitions', () => {
  it('registers revisions 1, 2, … and echoes AWS defaults without inventing anything', async () => {
    const r1 = await env.client.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'sleep',
        type: 'container',
        containerProperties: {
          image: 'busybox',
          command: ['sleep', '1'],
          resourceRequirements: [
            { type: 'VCPU', value: '1' },
            { type: 'MEMORY', value: '512' },
          ],
        },
      }),
    );
    expect(r1).toMatchObject({
      jobDefinitionName: 'sleep',
      revision: 1,
      jobDefinitionArn: `${ACCT}:job-definition/sleep:1`,
    });
    const r2 = await env.client.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'sleep',
        type: 'container',
        tags: { a: 'b' },
        propagateTags: true,
        parameters: { p: 'v' },
        retryStrategy: { attempts: 3, evaluateOnExit: [{ action: 'RETRY', onExitCode: '1*' }] },
        timeout: { attemptDurationSeconds: 60 },
        schedulingPriority: 5,
        platformCapabilities: ['EC2'],
        containerProperties: {
          image: 'busybox',
          vcpus: 1,
          memory: 128,
          environment: [{ name: 'X', value: '1' }],
        },
      }),
    );
    expect(r2.revision).toBe(2);
    const out = await env.client.send(
      new DescribeJobDefinitionsCommand({ jobDefinitions: [`${ACCT}:job-definition/sleep:1`] }),
    );
    expect(out.jobDefinitions).toHaveLength(1);
    const jd = out.jobDefinitions![0]!;
    expect(jd).toMatchObject({
      jobDefinitionName: 'sleep',
      revision: 1,
      status: 'ACTIVE',
      type: 'container',
      parameters: {},
      tags: {},
      propagateTags: false,
      containerOrchestrationType: 'ECS',
    });
    expect(jd.containerProperties).toEqual({
      image: 'busybox',
      command: ['sleep', '1'],
      resourceRequirements: [
        { type: 'VCPU', value: '1' },
        { type: 'MEMORY', value: '512' },
      ],
      environment: [],
      mountPoints: [],
      ulimits: [],
      volumes: [],
      secrets: [],
    });
    for (const k of ['retryStrategy', 'timeout', 'schedulingPriority', 'platformCapabilities'])
      expect(k in jd).toBe(false);
    const jd2 = (await env.client.send(new DescribeJobDefinitionsCommand({ jobDefinitions: ['sleep:2'] })))
      .jobDefinitions![0]!;
    expect(jd2).toMatchObject({
      tags: { a: 'b' },
      propagateTags: true,
      parameters: { p: 'v' },
      retryStrategy: { attempts: 3, evaluateOnExit: [{ action: 'RETRY', onExitCode: '1*' }] },
      timeout: { attemptDurationSeconds: 60 },
      schedulingPriority: 5,
      platformCapabilities: ['EC2'],
    });
    expect(jd2.containerProperties).toMatchObject({ vcpus: 1, memory: 128, resourceRequirements: [] });
  });

  it('describe by name + status, deregister → INACTIVE (still describable), revisions never reused', async () => {
    await env.client.send(new DeregisterJobDefinitionCommand({ jobDefinition: 'sleep:1' }));
    await env.client.send(new DeregisterJobDefinitionCommand({ jobDefinition: 'sleep:1' })); // idempotent
    const active = await env.client.send(
      new DescribeJobDefinitionsCommand({ jobDefinitionName: 'sleep', status: 'ACTIVE' }),
    );
    expect(active.jobDefinitions!.map((j) => j.revision)).toEqual([2]);
    const all = await env.client.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: 'sleep' }));
    expect(all.jobDefinitions!.map((j) => [j.revision, j.status])).toEqual([
      [1, 'INACTIVE'],
      [2, 'ACTIVE'],
    ]);
    const byArn = await env.client.send(
      new DescribeJobDefinitionsCommand({ jobDefinitions: [`${ACCT}:job-definition/sleep:1`] }),
    );
    expect(byArn.jobDefinitions![0]!.status).toBe('INACTIVE');
    const r3 = await env.client.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'sleep',
        type: 'container',
        containerProperties: { image: 'x' },
      }),
    );
    expect(r3.revision).toBe(3);
    const combined = await clientError(
      env.client.send(new DescribeJobDefinitionsCommand({ jobDefinitions: ['sleep:1'], status: 'ACTIVE' })),
    );
    expect(combined.message).toMatch(/cannot be used with other parameters/);
    const badStatus = await clientError(
      env.client.send(new DescribeJobDefinitionsCommand({ status: 'DELETED' })),
    );
    expect(badStatus.message).toMatch(/status must be one of ACTIVE, INACTIVE/);
    expect(
      (await env.client.send(new DescribeJobDefinitionsCommand({ jobDefinitions: ['nope:1', 'sleep:99'] })))
        .jobDefinitions,
    ).toEqual([]);
    const noRev = await clientError(
      env.client.send(new DeregisterJobDefinitionCommand({ jobDefinition: 'sleep' })),
    );
    expect(noRev.message).toMatch(/revision/);
    const gone = await clientError(
      env.client.send(new DeregisterJobDefinitionCommand({ jobDefinition: 'sleep:42' })),
    );
    expect(gone.message).toContain('does not exist');
  });

  it('paginates revisions', async () => {
    for (let i = 0; i < 5; i++) {
      await env.client.send(
        new RegisterJobDefinitionCommand({
          jobDefinitionName: 'many',
          type: 'container',
          containerProperties: { image: 'x' },
        }),
      );
    }
    const revs: number[] = [];
    let token: string | undefined;
    do {
      const out = await env.client.send(
        new DescribeJobDefinitionsCommand({ jobDefinitionName: 'many', maxResults: 2, nextToken: token }),
      );
      revs.push(...out.jobDefinitions!.map((j) => j.revision!));
      token = out.nextToken;
    } while (token);
    expect(revs).toEqual([1, 2, 3, 4, 5]);
  });

  it('validation paths', async () => {
    const base = { jobDefinitionName: 'bad', type: 'container' };
    const fargate = { platformCapabilities: ['FARGATE'] };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /One of containerProperties, ecsProperties or eksProperties must be specified/],
      [
        {
          containerProperties: { image: 'x' },
          ecsProperties: { taskProperties: [{ containers: [{ image: 'x' }] }] },
        },
        /One of containerProperties/,
      ],
      [{ type: 'multinode', containerProperties: { image: 'x' } }, /nodeProperties must be specified/],
      [{ containerProperties: {} }, /image must be specified/],
      [
        { containerProperties: { image: 'x', command: ['a', ''] } },
        /^Command field cannot have empty strings$/,
      ],
      [
        { containerProperties: { image: 'x', environment: [{ name: 'AWS_BATCH_X', value: '1' }] } },
        /AWS_BATCH/,
      ],
      [
        { containerProperties: { image: 'x', resourceRequirements: [{ type: 'MEMORY', value: '2' }] } },
        /at least 4 MiB/,
      ],
      [
        { containerProperties: { image: 'x', resourceRequirements: [{ type: 'VCPU', value: 'lots' }] } },
        /Invalid value for resource requirement VCPU/,
      ],
      [
        { containerProperties: { image: 'x', resourceRequirements: [{ type: 'VCPU', value: '0.5' }] } },
        /at least 1 for EC2/,
      ],
      [{ containerProperties: { image: 'x', resourceRequirements: [{ type: 'DISK', value: '1' }] } }, /enum/],
      [{ containerProperties: { image: 'x', vcpus: 0 } }, /vcpus must be at least 1/],
      [
        { containerProperties: { image: 'x' }, timeout: { attemptDurationSeconds: 59 } },
        /at least 60 seconds/,
      ],
      [{ containerProperties: { image: 'x' }, schedulingPriority: 10000 }, /between 0 and 9999/],
      [{ containerProperties: { image: 'x' }, retryStrategy: { attempts: 11 } }, /between 1 and 10/],
      [
        {
          containerProperties: { image: 'x' },
          retryStrategy: { attempts: 2, evaluateOnExit: [{ action: 'EXIT', onReason: '*bad' }] },
        },
        /restricted characters/,
      ],
      [
        {
          ...fargate,
          containerProperties: {
            image: 'x',
            executionRoleArn: 'arn:aws:iam::1:role/r',
            resourceRequirements: [
              { type: 'VCPU', value: '0.25' },
              { type: 'MEMORY', value: '4096' },
            ],
          },
        },
        /Fargate MEMORY value 4096 is not supported with VCPU 0.25/,
      ],
      [
        {
          ...fargate,
          containerProperties: {
            image: 'x',
            resourceRequirements: [
              { type: 'VCPU', value: '1' },
              { type: 'MEMORY', value: '2048' },
            ],
          },
        },
        /executionRoleArn/,
      ],
      [
        { ...fargate, containerProperties: { image: 'x', executionRoleArn: 'r', vcpus: 1, memory: 2048 } },
        /resourceRequirements instead of vcpus/,
      ],
      [
        {
          containerProperties: { image: 'x' },
          consumableResourceProperties: {
            consumableResourceList: [{ consumableResource: 'nolicense', quantity: 1 }],
          },
        },
        /Consumable resource nolicense does not exist/,
      ],
      [{ containerProperties: { image: 'x', command: ['x'.repeat(25 * 1024)] } }, /exceeds the maximum/],
      [{ jobDefinitionName: 'has space', containerProperties: { image: 'x' } }, /valid pattern/],
      [
        {
          containerProperties: { image: 'x' },
          tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])),
        },
        /50/,
      ],
    ];
    for (const [extra, msg] of cases) {
      const err = await clientError(
        env.client.send(new RegisterJobDefinitionCommand({ ...base, ...extra } as never)),
      );
      expect(err.message).toMatch(msg);
    }
    // a valid Fargate definition and a multinode one
    await env.client.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'fg',
        type: 'container',
        platformCapabilities: ['FARGATE'],
        containerProperties: {
          image: 'x',
          executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
          resourceRequirements: [
            { type: 'VCPU', value: '0.5' },
            { type: 'MEMORY', value: '2048' },
          ],
        },
      }),
    );
    const mnp = await env.client.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'mnp',
        type: 'multinode',
        nodeProperties: {
          numNodes: 2,
          mainNode: 0,
          nodeRangeProperties: [{ targetNodes: '0:1', container: { image: 'x', vcpus: 1, memory: 64 } }],
        },
      }),
    );
    const d = (
      await env.client.send(new DescribeJobDefinitionsCommand({ jobDefinitions: [mnp.jobDefinitionArn!] }))
    ).jobDefinitions![0]!;
    expect(d.nodeProperties?.nodeRangeProperties?.[0]?.container?.environment).toEqual([]);
    const overlap = await clientError(
      env.client.send(
        new RegisterJobDefinitionCommand({
          jobDefinitionName: 'mnp',
          type: 'multinode',
          nodeProperties: {
            numNodes: 2,
            mainNode: 0,
            nodeRangeProperties: [
              { targetNodes: '0:1', container: { image: 'x' } },
              { targetNodes: '1', container: { image: 'x' } },
            ],
          },
        }),
      ),
    );
    expect(overlap.message).toMatch(/more than one node range/);
  });
});
