import {
  BatchClient,
  CreateComputeEnvironmentCommand,
  CreateConsumableResourceCommand,
  CreateJobQueueCommand,
  CreateQuotaShareCommand,
  CreateSchedulingPolicyCommand,
  CreateServiceEnvironmentCommand,
  DeleteConsumableResourceCommand,
  DeleteJobQueueCommand,
  DeleteQuotaShareCommand,
  DeleteSchedulingPolicyCommand,
  DeleteServiceEnvironmentCommand,
  DescribeComputeEnvironmentsCommand,
  DescribeConsumableResourceCommand,
  DescribeJobDefinitionsCommand,
  DescribeJobQueuesCommand,
  DescribeQuotaShareCommand,
  DescribeSchedulingPoliciesCommand,
  DescribeServiceEnvironmentsCommand,
  DescribeServiceJobCommand,
  ListConsumableResourcesCommand,
  ListJobsByConsumableResourceCommand,
  ListQuotaSharesCommand,
  ListSchedulingPoliciesCommand,
  ListServiceJobsCommand,
  ListTagsForResourceCommand,
  RegisterJobDefinitionCommand,
  SubmitServiceJobCommand,
  TagResourceCommand,
  TerminateServiceJobCommand,
  UntagResourceCommand,
  UpdateConsumableResourceCommand,
  UpdateJobQueueCommand,
  UpdateQuotaShareCommand,
  UpdateSchedulingPolicyCommand,
  UpdateServiceEnvironmentCommand,
  UpdateServiceJobCommand,
} from '@aws-sdk/client-batch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { systemClock } from '../../src/core/clock.js';
import type { ComputeEnvironmentDoc } from '../../src/core/compute-environments/compute-environment.js';
import { startResourceLifecycle } from '../../src/loops/resource-lifecycle.js';
import { sdkConfig, startTestServer, waitFor } from '../helpers/start-server.js';

async function start(dataDir?: string) {
  const server = await startTestServer({ noDefaults: true, ...(dataDir ? { dataDir } : {}) });
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

const ACCT = 'arn:aws:batch:us-east-1:123456789012';
let env: Awaited<ReturnType<typeof start>>;
beforeAll(async () => {
  env = await start();
});
afterAll(async () => {
  await env.close();
});

describe('scheduling policies', () => {
  it('create/describe/update/list/delete, echoing only what was sent', async () => {
    const out = await env.client.send(
      new CreateSchedulingPolicyCommand({
        name: 'fair',
        tags: { t: '1' },
        fairsharePolicy: {
          shareDecaySeconds: 3600,
          computeReservation: 50,
          shareDistribution: [{ shareIdentifier: 'teamA*', weightFactor: 0.5 }, { shareIdentifier: 'teamB' }],
        },
      }),
    );
    expect(out).toEqual(expect.objectContaining({ name: 'fair', arn: `${ACCT}:scheduling-policy/fair` }));
    await env.client.send(new CreateSchedulingPolicyCommand({ name: 'bare' }));
    await env.client.send(
      new CreateSchedulingPolicyCommand({
        name: 'quota',
        quotaSharePolicy: { idleResourceAssignmentStrategy: 'FIFO' },
      }),
    );
    const d = await env.client.send(
      new DescribeSchedulingPoliciesCommand({
        arns: [out.arn!, `${ACCT}:scheduling-policy/bare`, `${ACCT}:scheduling-policy/ghost`],
      }),
    );
    expect(d.schedulingPolicies).toEqual([
      {
        name: 'fair',
        arn: out.arn,
        tags: { t: '1' },
        fairsharePolicy: {
          shareDecaySeconds: 3600,
          computeReservation: 50,
          shareDistribution: [{ shareIdentifier: 'teamA*', weightFactor: 0.5 }, { shareIdentifier: 'teamB' }],
        },
      },
      { name: 'bare', arn: `${ACCT}:scheduling-policy/bare`, tags: {} },
    ]);
    await env.client.send(
      new UpdateSchedulingPolicyCommand({ arn: out.arn!, fairsharePolicy: { shareDecaySeconds: 0 } }),
    );
    const u = await env.client.send(new DescribeSchedulingPoliciesCommand({ arns: [out.arn!] }));
    expect(u.schedulingPolicies![0]!.fairsharePolicy).toEqual({ shareDecaySeconds: 0 });
    const kind = await clientError(
      env.client.send(
        new UpdateSchedulingPolicyCommand({
          arn: `${ACCT}:scheduling-policy/quota`,
          fairsharePolicy: { shareDecaySeconds: 1 },
        }),
      ),
    );
    expect(kind.message).toMatch(/Cannot change a quota-share scheduling policy/);
    const arns: string[] = [];
    let token: string | undefined;
    do {
      const page = await env.client.send(
        new ListSchedulingPoliciesCommand({ maxResults: 1, nextToken: token }),
      );
      arns.push(...page.schedulingPolicies!.map((p) => p.arn!));
      token = page.nextToken;
    } while (token);
    expect(arns).toEqual([`${ACCT}:scheduling-policy/bare`, out.arn, `${ACCT}:scheduling-policy/quota`]);
  });

  it('fair-share validation', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ shareDecaySeconds: 604801 }, /shareDecaySeconds must be between 0 and 604800/],
      [{ computeReservation: 100 }, /computeReservation must be between 0 and 99/],
      [{ shareDistribution: [{ shareIdentifier: 'a-b' }] }, /Invalid shareIdentifier/],
      [{ shareDistribution: [{ shareIdentifier: 'UserA*' }, { shareIdentifier: 'UserA1' }] }, /overlaps/],
      [
        { shareDistribution: [{ shareIdentifier: 'A' }, { shareIdentifier: 'A' }] },
        /Duplicate shareIdentifier/,
      ],
      [
        { shareDistribution: [{ shareIdentifier: 'A', weightFactor: 1000 }] },
        /weightFactor must be between 0.0001 and 999.9999/,
      ],
      [
        { shareDistribution: Array.from({ length: 501 }, (_, i) => ({ shareIdentifier: `s${i}` })) },
        /at most 500/,
      ],
    ];
    for (const [fp, msg] of cases) {
      const err = await clientError(
        env.client.send(new CreateSchedulingPolicyCommand({ name: 'bad', fairsharePolicy: fp as never })),
      );
      expect(err.message).toMatch(msg);
    }
    const both = await clientError(
      env.client.send(
        new CreateSchedulingPolicyCommand({
          name: 'both',
          fairsharePolicy: {},
          quotaSharePolicy: { idleResourceAssignmentStrategy: 'FIFO' },
        }),
      ),
    );
    expect(both.message).toMatch(/Only one of/);
  });

  it('cannot delete a policy used by a queue', async () => {
    await env.client.send(
      new CreateComputeEnvironmentCommand({ computeEnvironmentName: 'ce', type: 'UNMANAGED' }),
    );
    await env.client.send(
      new CreateJobQueueCommand({
        jobQueueName: 'fairq',
        priority: 1,
        schedulingPolicyArn: `${ACCT}:scheduling-policy/fair`,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'ce' }],
      }),
    );
    const err = await clientError(
      env.client.send(new DeleteSchedulingPolicyCommand({ arn: `${ACCT}:scheduling-policy/fair` })),
    );
    expect(err.message).toMatch(/found existing JobQueue relationship/);
    await env.client.send(new DeleteSchedulingPolicyCommand({ arn: `${ACCT}:scheduling-policy/bare` }));
    expect(
      (
        await env.client.send(
          new DescribeSchedulingPoliciesCommand({ arns: [`${ACCT}:scheduling-policy/bare`] }),
        )
      ).schedulingPolicies,
    ).toEqual([]);
  });
});

describe('consumable resources', () => {
  it('create/describe/update (SET/ADD/REMOVE, idempotent clientToken)/list/delete', async () => {
    const c = await env.client.send(
      new CreateConsumableResourceCommand({
        consumableResourceName: 'lic',
        totalQuantity: 10,
        tags: { a: 'b' },
      }),
    );
    expect(c.consumableResourceArn).toBe(`${ACCT}:consumable-resource/lic`);
    await env.client.send(
      new CreateConsumableResourceCommand({
        consumableResourceName: 'Lic-2',
        resourceType: 'NON_REPLENISHABLE',
      }),
    );
    const d = await env.client.send(new DescribeConsumableResourceCommand({ consumableResource: 'lic' }));
    expect(d).toMatchObject({
      consumableResourceName: 'lic',
      totalQuantity: 10,
      inUseQuantity: 0,
      availableQuantity: 10,
      resourceType: 'REPLENISHABLE',
      tags: { a: 'b' },
    });
    expect(typeof d.createdAt).toBe('number');
    expect(
      (
        await env.client.send(
          new UpdateConsumableResourceCommand({
            consumableResource: c.consumableResourceArn!,
            operation: 'ADD',
            quantity: 5,
          }),
        )
      ).totalQuantity,
    ).toBe(15);
    expect(
      (
        await env.client.send(
          new UpdateConsumableResourceCommand({
            consumableResource: 'lic',
            operation: 'REMOVE',
            quantity: 3,
            clientToken: 'tok-1',
          }),
        )
      ).totalQuantity,
    ).toBe(12);
    expect(
      (
        await env.client.send(
          new UpdateConsumableResourceCommand({
            consumableResource: 'lic',
            operation: 'REMOVE',
            quantity: 3,
            clientToken: 'tok-1',
          }),
        )
      ).totalQuantity,
    ).toBe(12);
    const reuse = await clientError(
      env.client.send(
        new UpdateConsumableResourceCommand({
          consumableResource: 'lic',
          operation: 'ADD',
          quantity: 3,
          clientToken: 'tok-1',
        }),
      ),
    );
    expect(reuse.message).toMatch(/clientToken/);
    expect(
      (
        await env.client.send(
          new UpdateConsumableResourceCommand({ consumableResource: 'lic', operation: 'SET', quantity: 4 }),
        )
      ).totalQuantity,
    ).toBe(4);
    expect(
      (
        await clientError(
          env.client.send(
            new UpdateConsumableResourceCommand({
              consumableResource: 'lic',
              operation: 'REMOVE',
              quantity: 5,
            }),
          ),
        )
      ).message,
    ).toMatch(/Cannot remove 5/);
    expect(
      (
        await clientError(
          env.client.send(
            new UpdateConsumableResourceCommand({
              consumableResource: 'lic',
              operation: 'MULTIPLY',
              quantity: 5,
            }),
          ),
        )
      ).message,
    ).toMatch(/SET, ADD, REMOVE/);
    expect(
      (
        await clientError(
          env.client.send(
            new CreateConsumableResourceCommand({ consumableResourceName: 'neg', totalQuantity: -1 }),
          ),
        )
      ).message,
    ).toMatch(/non-negative/);
    expect(
      (
        await clientError(
          env.client.send(
            new CreateConsumableResourceCommand({ consumableResourceName: 'rt', resourceType: 'SOMETIMES' }),
          ),
        )
      ).message,
    ).toMatch(/REPLENISHABLE/);
    expect(
      (
        await clientError(
          env.client.send(new CreateConsumableResourceCommand({ consumableResourceName: 'lic' })),
        )
      ).message,
    ).toMatch(/already exists/);
    const filtered = await env.client.send(
      new ListConsumableResourcesCommand({
        filters: [{ name: 'CONSUMABLE_RESOURCE_NAME', values: ['LIC*'] }],
      }),
    );
    expect(filtered.consumableResources!.map((r) => r.consumableResourceName)).toEqual(['Lic-2', 'lic']);
    const paged = await env.client.send(new ListConsumableResourcesCommand({ maxResults: 1 }));
    expect(paged.consumableResources).toHaveLength(1);
    expect(paged.nextToken).toBeDefined();
    const p2 = await env.client.send(
      new ListConsumableResourcesCommand({ maxResults: 1, nextToken: paged.nextToken }),
    );
    expect(p2.nextToken).toBeUndefined();
    const jobs = await env.client.send(
      new ListJobsByConsumableResourceCommand({ consumableResource: 'lic' }),
    );
    expect(jobs.jobs).toEqual([]);
    expect(
      (
        await clientError(
          env.client.send(new ListJobsByConsumableResourceCommand({ consumableResource: 'ghost' })),
        )
      ).message,
    ).toContain('does not exist');
    // a JD may reference it now
    await env.client.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'uses-lic',
        type: 'container',
        containerProperties: { image: 'x' },
        consumableResourceProperties: {
          consumableResourceList: [{ consumableResource: 'lic', quantity: 1 }],
        },
      }),
    );
    await env.client.send(new DeleteConsumableResourceCommand({ consumableResource: 'Lic-2' }));
    expect(
      (
        await clientError(
          env.client.send(new DescribeConsumableResourceCommand({ consumableResource: 'Lic-2' })),
        )
      ).message,
    ).toContain('does not exist');
  });
});

describe('service environments, quota shares and service jobs (stored, partial)', () => {
  it('round-trips with plausible statuses', async () => {
    const se = await env.client.send(
      new CreateServiceEnvironmentCommand({
        serviceEnvironmentName: 'sm',
        serviceEnvironmentType: 'SAGEMAKER_TRAINING',
        capacityLimits: [{ maxCapacity: 4, capacityUnit: 'NUM_INSTANCES' }],
        tags: { x: 'y' },
      }),
    );
    expect(se.serviceEnvironmentArn).toBe(`${ACCT}:service-environment/sm`);
    const valid = await waitFor(async () => {
      const out = await env.client.send(
        new DescribeServiceEnvironmentsCommand({ serviceEnvironments: ['sm'] }),
      );
      return out.serviceEnvironments?.[0]?.status === 'VALID' ? out.serviceEnvironments[0] : undefined;
    });
    expect(valid).toMatchObject({
      state: 'ENABLED',
      capacityLimits: [{ maxCapacity: 4, capacityUnit: 'NUM_INSTANCES' }],
      tags: { x: 'y' },
    });
    await env.client.send(
      new CreateSchedulingPolicyCommand({
        name: 'qsp',
        quotaSharePolicy: { idleResourceAssignmentStrategy: 'FIFO' },
      }),
    );
    const q = await env.client.send(
      new CreateJobQueueCommand({
        jobQueueName: 'smq',
        priority: 1,
        jobQueueType: 'SAGEMAKER_TRAINING',
        schedulingPolicyArn: `${ACCT}:scheduling-policy/qsp`,
        serviceEnvironmentOrder: [{ order: 1, serviceEnvironment: 'sm' }],
      }),
    );
    const qd = (await env.client.send(new DescribeJobQueuesCommand({ jobQueues: [q.jobQueueArn!] })))
      .jobQueues![0]!;
    expect(qd.serviceEnvironmentOrder).toEqual([{ order: 1, serviceEnvironment: se.serviceEnvironmentArn }]);
    expect(qd.computeEnvironmentOrder).toEqual([]);

    const share = await env.client.send(
      new CreateQuotaShareCommand({
        quotaShareName: 'teamA',
        jobQueue: 'smq',
        capacityLimits: [{ maxCapacity: 2, capacityUnit: 'ml.m5.large' }],
        resourceSharingConfiguration: { strategy: 'LEND_AND_BORROW', borrowLimit: 100 },
        preemptionConfiguration: { inSharePreemption: 'DISABLED' },
      }),
    );
    const qs = await waitFor(async () => {
      const o = await env.client.send(new DescribeQuotaShareCommand({ quotaShareArn: share.quotaShareArn! }));
      return o.status === 'VALID' ? o : undefined;
    });
    expect(qs).toMatchObject({ quotaShareName: 'teamA', jobQueueArn: q.jobQueueArn, state: 'ENABLED' });
    expect(
      (await env.client.send(new ListQuotaSharesCommand({ jobQueue: 'smq' }))).quotaShares!.map(
        (s) => s.quotaShareName,
      ),
    ).toEqual(['teamA']);
    await env.client.send(
      new UpdateQuotaShareCommand({ quotaShareArn: share.quotaShareArn!, state: 'DISABLED' }),
    );
    const borrowErr = await clientError(
      env.client.send(
        new CreateQuotaShareCommand({
          quotaShareName: 'teamB',
          jobQueue: 'smq',
          capacityLimits: [{ maxCapacity: 2, capacityUnit: 'ml.m5.large' }],
          resourceSharingConfiguration: { strategy: 'RESERVE', borrowLimit: 10 },
          preemptionConfiguration: { inSharePreemption: 'DISABLED' },
        }),
      ),
    );
    expect(borrowErr.message).toMatch(/LEND_AND_BORROW/);

    const job = await env.client.send(
      new SubmitServiceJobCommand({
        jobName: 'train-1',
        jobQueue: 'smq',
        serviceJobType: 'SAGEMAKER_TRAINING',
        serviceRequestPayload: JSON.stringify({ TrainingJobName: 'x' }),
        schedulingPriority: 3,
        tags: { j: 'k' },
      }),
    );
    const runnable = await waitFor(async () => {
      const o = await env.client.send(new DescribeServiceJobCommand({ jobId: job.jobId! }));
      return o.status === 'RUNNABLE' ? o : undefined;
    });
    expect(runnable).toMatchObject({
      jobName: 'train-1',
      jobQueue: q.jobQueueArn,
      schedulingPriority: 3,
      tags: { j: 'k' },
    });
    expect(
      (
        await env.client.send(new ListServiceJobsCommand({ jobQueue: 'smq', jobStatus: 'RUNNABLE' }))
      ).jobSummaryList!.map((j) => j.jobId),
    ).toEqual([job.jobId]);
    expect((await env.client.send(new ListServiceJobsCommand({ jobQueue: 'smq' }))).jobSummaryList).toEqual(
      [],
    ); // default RUNNING
    expect(
      (await env.client.send(new UpdateServiceJobCommand({ jobId: job.jobId!, schedulingPriority: 9 })))
        .jobId,
    ).toBe(job.jobId);
    await env.client.send(new TerminateServiceJobCommand({ jobId: job.jobId!, reason: 'stop it' }));
    const failed = await env.client.send(new DescribeServiceJobCommand({ jobId: job.jobId! }));
    expect(failed).toMatchObject({
      status: 'FAILED',
      statusReason: 'stop it',
      isTerminated: true,
      schedulingPriority: 9,
    });
    expect(
      (
        await clientError(
          env.client.send(
            new SubmitServiceJobCommand({
              jobName: 'x',
              jobQueue: 'fairq',
              serviceJobType: 'SAGEMAKER_TRAINING',
              serviceRequestPayload: '{}',
            }),
          ),
        )
      ).message,
    ).toMatch(/SAGEMAKER_TRAINING/);
    expect(
      (
        await clientError(
          env.client.send(
            new SubmitServiceJobCommand({
              jobName: 'x',
              jobQueue: 'smq',
              serviceJobType: 'SAGEMAKER_TRAINING',
              serviceRequestPayload: 'not json',
            }),
          ),
        )
      ).message,
    ).toMatch(/JSON/);

    // delete chain: SE referenced by queue, queue must be disabled
    expect(
      (await clientError(env.client.send(new DeleteServiceEnvironmentCommand({ serviceEnvironment: 'sm' }))))
        .message,
    ).toMatch(/Cannot delete/);
    await env.client.send(new DeleteQuotaShareCommand({ quotaShareArn: share.quotaShareArn! }));
    await env.client.send(new UpdateJobQueueCommand({ jobQueue: 'smq', state: 'DISABLED' }));
    await env.client.send(new DeleteJobQueueCommand({ jobQueue: 'smq' }));
    await waitFor(async () =>
      (await env.client.send(new DescribeJobQueuesCommand({ jobQueues: ['smq'] }))).jobQueues!.length === 0
        ? true
        : undefined,
    );
    await env.client.send(
      new UpdateServiceEnvironmentCommand({ serviceEnvironment: 'sm', state: 'DISABLED' }),
    );
    await env.client.send(
      new DeleteServiceEnvironmentCommand({ serviceEnvironment: se.serviceEnvironmentArn! }),
    );
    await waitFor(async () =>
      (await env.client.send(new DescribeServiceEnvironmentsCommand({ serviceEnvironments: ['sm'] })))
        .serviceEnvironments!.length === 0
        ? true
        : undefined,
    );
  });
});

describe('tags', () => {
  it('inline tags are returned by Describe and by ListTagsForResource; TagResource merges; UntagResource removes', async () => {
    await env.client.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: 'tagged',
        type: 'UNMANAGED',
        tags: { a: '1', b: '2' },
      }),
    );
    const arn = `${ACCT}:compute-environment/tagged`;
    expect((await env.client.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({
      a: '1',
      b: '2',
    });
    await env.client.send(
      new TagResourceCommand({
        resourceArn: arn,
        tags: { b: 'two', c: '3', 'openbatch.io/executor': 'process' },
      }),
    );
    await env.client.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['a', 'missing'] }));
    const d = (
      await env.client.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['tagged'] }))
    ).computeEnvironments![0]!;
    expect(d.tags).toEqual({ b: 'two', c: '3', 'openbatch.io/executor': 'process' });
    expect(
      (await env.server.store.getResource<ComputeEnvironmentDoc>('compute-environment', 'tagged'))?.data
        .executor,
    ).toBe('process');
    await env.client.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['openbatch.io/executor'] }));
    expect(
      (await env.server.store.getResource<ComputeEnvironmentDoc>('compute-environment', 'tagged'))?.data
        .executor,
    ).toBeUndefined();
    expect(
      (
        await clientError(
          env.client.send(
            new TagResourceCommand({ resourceArn: arn, tags: { 'openbatch.io/executor': 'k8s' } }),
          ),
        )
      ).message,
    ).toMatch(/executor/);
  });

  it('job definition revisions, policies, consumables and queues are taggable; raw percent-encoded and repeated tagKeys', async () => {
    const jd = await env.client.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'tagjd',
        type: 'container',
        containerProperties: { image: 'x' },
        tags: { v: '1' },
      }),
    );
    const enc = encodeURIComponent(jd.jobDefinitionArn!);
    expect(enc).toContain('%3A');
    let res = await fetch(`${env.server.url}/v1/tags/${enc}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tags: { w: '2', x: '3', y: '4' } }),
    });
    expect(res.status).toBe(200);
    res = await fetch(`${env.server.url}/v1/tags/${enc}?tagKeys=x&tagKeys=y`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    res = await fetch(`${env.server.url}/v1/tags/${enc}`);
    expect(await res.json()).toEqual({ tags: { v: '1', w: '2' } });
    // raw (unencoded) ARN path also works
    res = await fetch(`${env.server.url}/v1/tags/${jd.jobDefinitionArn!}`);
    expect(await res.json()).toEqual({ tags: { v: '1', w: '2' } });
    const d = (
      await env.client.send(new DescribeJobDefinitionsCommand({ jobDefinitions: [jd.jobDefinitionArn!] }))
    ).jobDefinitions![0]!;
    expect(d.tags).toEqual({ v: '1', w: '2' });

    for (const arn of [
      `${ACCT}:scheduling-policy/fair`,
      `${ACCT}:consumable-resource/lic`,
      `${ACCT}:job-queue/fairq`,
    ]) {
      await env.client.send(new TagResourceCommand({ resourceArn: arn, tags: { added: 'yes' } }));
      expect(
        (await env.client.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags,
      ).toMatchObject({ added: 'yes' });
    }
    expect(
      (await env.client.send(new DescribeConsumableResourceCommand({ consumableResource: 'lic' }))).tags,
    ).toEqual({ a: 'b', added: 'yes' });
  });

  it('tag errors', async () => {
    const cases: [string, RegExp][] = [
      [`${ACCT}:compute-environment/ghost`, /does not exist/],
      [`${ACCT}:job/0d7a1c8e-0000-4000-8000-000000000000:3`, /array child jobs/],
      [`${ACCT}:job-definition/tagjd`, /must include the revision/],
      ['not-an-arn', /Invalid resource ARN/],
      [`${ACCT}:job/0d7a1c8e-0000-4000-8000-000000000000`, /does not exist/],
    ];
    for (const [arn, msg] of cases) {
      const err = await clientError(env.client.send(new ListTagsForResourceCommand({ resourceArn: arn })));
      expect(err.message).toMatch(msg);
    }
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    expect(
      (
        await clientError(
          env.client.send(
            new TagResourceCommand({ resourceArn: `${ACCT}:compute-environment/tagged`, tags: many }),
          ),
        )
      ).message,
    ).toMatch(/at most 50 tags/);
    expect(
      (
        await clientError(
          env.client.send(
            new TagResourceCommand({
              resourceArn: `${ACCT}:compute-environment/tagged`,
              tags: { 'aws:x': '1' },
            }),
          ),
        )
      ).message,
    ).toMatch(/reserved/);
  });
});

describe('wire', () => {
  it('malformed JSON → 400 ClientException; unknown route → 4xx; GET on an operation → 4xx', async () => {
    let res = await fetch(`${env.server.url}/v1/createcomputeenvironment`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"computeEnvironmentName": ',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('ClientException');
    expect(((await res.json()) as { __type: string }).__type).toBe('ClientException');
    res = await fetch(`${env.server.url}/v1/nosuchoperation`, { method: 'POST', body: '{}' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    res = await fetch(`${env.server.url}/v1/describecomputeenvironments`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    // empty body is accepted
    res = await fetch(`${env.server.url}/v1/describecomputeenvironments`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(
      ((await res.json()) as { computeEnvironments: unknown[] }).computeEnvironments.length,
    ).toBeGreaterThan(0);
  });
});

describe('restart safety', () => {
  it('every resource survives close() and a new server on the same data dir', async () => {
    const a = await start();
    const dataDir = a.server.dataDir;
    await a.client.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: 'r-ce',
        type: 'UNMANAGED',
        tags: { keep: '1' },
      }),
    );
    await a.client.send(
      new CreateJobQueueCommand({
        jobQueueName: 'r-q',
        priority: 1,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'r-ce' }],
      }),
    );
    await a.client.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'r-jd',
        type: 'container',
        containerProperties: { image: 'x' },
      }),
    );
    await a.client.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'r-jd',
        type: 'container',
        containerProperties: { image: 'y' },
      }),
    );
    await a.client.send(
      new CreateSchedulingPolicyCommand({ name: 'r-sp', fairsharePolicy: { shareDecaySeconds: 60 } }),
    );
    await a.client.send(
      new CreateConsumableResourceCommand({ consumableResourceName: 'r-cr', totalQuantity: 3 }),
    );
    await a.client.send(
      new CreateServiceEnvironmentCommand({
        serviceEnvironmentName: 'r-se',
        serviceEnvironmentType: 'SAGEMAKER_TRAINING',
        capacityLimits: [{ maxCapacity: 1, capacityUnit: 'NUM_INSTANCES' }],
      }),
    );
    await a.close();

    const b = await start(dataDir);
    try {
      const ce = (
        await b.client.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['r-ce'] }))
      ).computeEnvironments![0]!;
      expect(ce.tags).toEqual({ keep: '1' });
      // a transition left half-done is finished after restart
      await waitFor(async () =>
        (await b.client.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['r-ce'] })))
          .computeEnvironments![0]!.status === 'VALID'
          ? true
          : undefined,
      );
      expect(
        (await b.client.send(new DescribeJobQueuesCommand({ jobQueues: ['r-q'] }))).jobQueues,
      ).toHaveLength(1);
      expect(
        (
          await b.client.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: 'r-jd' }))
        ).jobDefinitions!.map((j) => j.revision),
      ).toEqual([1, 2]);
      expect(
        (
          await b.client.send(
            new RegisterJobDefinitionCommand({
              jobDefinitionName: 'r-jd',
              type: 'container',
              containerProperties: { image: 'z' },
            }),
          )
        ).revision,
      ).toBe(3);
      expect(
        (
          await b.client.send(
            new DescribeSchedulingPoliciesCommand({ arns: [`${ACCT}:scheduling-policy/r-sp`] }),
          )
        ).schedulingPolicies,
      ).toHaveLength(1);
      expect(
        (await b.client.send(new DescribeConsumableResourceCommand({ consumableResource: 'r-cr' })))
          .totalQuantity,
      ).toBe(3);
      expect(
        (await b.client.send(new DescribeServiceEnvironmentsCommand({ serviceEnvironments: ['r-se'] })))
          .serviceEnvironments,
      ).toHaveLength(1);
    } finally {
      await b.close();
    }
  });
});
