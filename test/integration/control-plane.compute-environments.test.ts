import {
  BatchClient,
  CreateComputeEnvironmentCommand,
  DeleteComputeEnvironmentCommand,
  DescribeComputeEnvironmentsCommand,
  UpdateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  UpdateJobQueueCommand,
  DeleteJobQueueCommand,
  DescribeJobQueuesCommand,
  type ComputeEnvironmentDetail,
} from '@aws-sdk/client-batch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { systemClock } from '../../src/core/clock.js';
import type { ComputeEnvironmentDoc } from '../../src/core/compute-environments/compute-environment.js';
import { instanceTypeInfo, largestInstance } from '../../src/core/compute-environments/instance-types.js';
import { startResourceLifecycle } from '../../src/loops/resource-lifecycle.js';
import { sdkConfig, startTestServer, waitFor } from '../helpers/start-server.js';

async function start() {
  const server = await startTestServer({ noDefaults: true });
  // Idempotent per store: shares the composition root's lifecycle when it runs one.
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

async function clientError(p: Promise<unknown>): Promise<Error & { name: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!err) throw new Error('expected a ClientException, the call succeeded');
  expect(err.name).toBe('ClientException');
  return err;
}

let env: Awaited<ReturnType<typeof start>>;
beforeAll(async () => {
  env = await start();
});
afterAll(async () => {
  await env.close();
});

async function describeCe(ref: string): Promise<ComputeEnvironmentDetail | undefined> {
  const out = await env.client.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: [ref] }));
  return out.computeEnvironments?.[0];
}

async function waitCeStatus(ref: string, status: string): Promise<ComputeEnvironmentDetail> {
  return waitFor(
    async () => {
      const ce = await describeCe(ref);
      return ce?.status === status ? ce : undefined;
    },
    { what: `${ref} ${status}` },
  );
}

describe('compute environments', () => {
  it('create → CREATING → VALID, echoing exactly what was sent', async () => {
    const out = await env.client.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: 'ce-ec2',
        type: 'MANAGED',
        serviceRole: '',
        tags: { team: 'a' },
        computeResources: {
          type: 'EC2',
          minvCpus: 0,
          maxvCpus: 16,
          instanceTypes: ['c5', 'm5.large'],
          subnets: ['subnet-1', 'subnet-2'],
          securityGroupIds: ['sg-1'],
          instanceRole: 'arn:aws:iam::123456789012:instance-profile/ecsInstanceRole',
          tags: { Name: 'batch-node' },
        },
      }),
    );
    expect(out.computeEnvironmentName).toBe('ce-ec2');
    expect(out.computeEnvironmentArn).toBe('arn:aws:batch:us-east-1:123456789012:compute-environment/ce-ec2');
    const first = await describeCe('ce-ec2');
    expect(['CREATING', 'VALID']).toContain(first?.status);
    const ce = await waitCeStatus('ce-ec2', 'VALID');
    expect(ce.statusReason).toBe('ComputeEnvironment Healthy');
    expect(ce.state).toBe('ENABLED');
    expect(ce.tags).toEqual({ team: 'a' });
    expect(ce.computeResources?.tags).toEqual({ Name: 'batch-node' });
    expect(ce.computeResources?.allocationStrategy).toBeUndefined();
    expect(ce.computeResources?.bidPercentage).toBeUndefined();
    expect(ce.computeResources?.instanceTypes).toEqual(['c5', 'm5.large']);
    expect(ce.computeResources?.subnets).toEqual(['subnet-1', 'subnet-2']);
    expect(ce.containerOrchestrationType).toBe('ECS');
    expect(ce.ecsClusterArn).toMatch(/^arn:aws:ecs:us-east-1:123456789012:cluster\/ce-ec2_Batch_/);
    expect(ce.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(ce.serviceRole).toContain('AWSServiceRoleForBatch');
    // by ARN too
    expect((await describeCe(out.computeEnvironmentArn!))?.computeEnvironmentName).toBe('ce-ec2');
    // capacity view and executor in the stored doc
    const rec = await env.server.store.getResource<ComputeEnvironmentDoc>('compute-environment', 'ce-ec2');
    expect(rec?.data.capacity).toEqual({ source: 'declared', vcpus: 16, memoryMiB: 16 * 4096, gpus: 0 });
  });

  it('stores the executor tag and GPU capacity', async () => {
    await env.client.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: 'ce-gpu',
        type: 'MANAGED',
        tags: { 'openbatch.io/executor': 'docker' },
        computeResources: { type: 'EC2', maxvCpus: 8, instanceTypes: ['p3.2xlarge'], subnets: [] },
      }),
    );
    const rec = await env.server.store.getResource<ComputeEnvironmentDoc>('compute-environment', 'ce-gpu');
    expect(rec?.data.executor).toBe('docker');
    expect(rec?.data.capacity).toEqual({ source: 'declared', vcpus: 8, memoryMiB: 61 * 1024, gpus: 1 });
    const err = await clientError(
      env.client.send(
        new CreateComputeEnvironmentCommand({
          computeEnvironmentName: 'ce-badexec',
          type: 'UNMANAGED',
          tags: { 'openbatch.io/executor': 'kubernetes' },
        }),
      ),
    );
    expect(err.message).toContain('openbatch.io/executor');
  });

  it('instance type table', () => {
    expect(instanceTypeInfo('c5.xlarge')).toMatchObject({ vcpus: 4, memoryMiB: 8192, gpus: 0 });
    expect(instanceTypeInfo('c5')).toBeUndefined();
    expect(largestInstance(['c5'])?.vcpus).toBe(96);
    expect(largestInstance(['p4d.24xlarge', 'c5.large'])?.gpus).toBe(8);
    expect(largestInstance(['optimal'])?.name).toBe('r5.24xlarge');
    expect(largestInstance(['unknown.type'])).toBeUndefined();
  });

  it('Fargate, UNMANAGED and SPOT rules', async () => {
    await env.client.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: 'ce-fargate',
        type: 'MANAGED',
        computeResources: { type: 'FARGATE', maxvCpus: 8, subnets: ['s-1'], securityGroupIds: ['sg-1'] },
      }),
    );
    const f = await describeCe('ce-fargate');
    expect(f?.computeResources).toEqual({
      type: 'FARGATE',
      maxvCpus: 8,
      subnets: ['s-1'],
      securityGroupIds: ['sg-1'],
    });

    const cases: [Record<string, unknown>, RegExp][] = [
      [{ type: 'FARGATE', maxvCpus: 8, subnets: ['s'] }, /securityGroupIds/],
      [
        { type: 'FARGATE', maxvCpus: 8, subnets: ['s'], securityGroupIds: ['sg'], minvCpus: 2 },
        /minvCpus is not applicable to Fargate/,
      ],
      [
        { type: 'FARGATE', maxvCpus: 8, subnets: ['s'], securityGroupIds: ['sg'], instanceTypes: ['c5'] },
        /instanceTypes is not applicable/,
      ],
      [
        { type: 'FARGATE', maxvCpus: 8, subnets: ['s'], securityGroupIds: ['sg'], imageId: 'ami-1' },
        /imageId is not applicable/,
      ],
      [
        { type: 'EC2', maxvCpus: 8, subnets: ['s'], allocationStrategy: 'SPOT_CAPACITY_OPTIMIZED' },
        /only valid for SPOT/,
      ],
      [{ type: 'EC2', maxvCpus: 4, minvCpus: 8, subnets: ['s'] }, /minvCpus must be less than or equal/],
      [{ type: 'EC2', maxvCpus: 4, desiredvCpus: 8, subnets: ['s'] }, /desiredvCpus must be between/],
      [{ type: 'SPOT', maxvCpus: 4, bidPercentage: 150, subnets: ['s'] }, /bidPercentage/],
    ];
    for (const [cr, msg] of cases) {
      const err = await clientError(
        env.client.send(
          new CreateComputeEnvironmentCommand({
            computeEnvironmentName: 'ce-bad',
            type: 'MANAGED',
            computeResources: cr as never,
          }),
        ),
      );
      expect(err.message).toMatch(msg);
    }
    await env.client.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: 'ce-spot',
        type: 'MANAGED',
        computeResources: {
          type: 'SPOT',
          maxvCpus: 4,
          subnets: ['s'],
          allocationStrategy: 'SPOT_PRICE_CAPACITY_OPTIMIZED',
          bidPercentage: 60,
        },
      }),
    );
    expect((await describeCe('ce-spot'))?.computeResources?.bidPercentage).toBe(60);

    expect(
      (
        await clientError(
          env.client.send(
            new CreateComputeEnvironmentCommand({ computeEnvironmentName: 'm', type: 'MANAGED' }),
          ),
        )
      ).message,
    ).toMatch(/computeResources must be specified/);
    expect(
      (
        await clientError(
          env.client.send(
            new CreateComputeEnvironmentCommand({
              computeEnvironmentName: 'u',
              type: 'UNMANAGED',
              computeResources: { type: 'EC2', maxvCpus: 1, subnets: [] },
            }),
          ),
        )
      ).message,
    ).toMatch(/must not be specified for an UNMANAGED/);
    await env.client.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: 'ce-unmanaged',
        type: 'UNMANAGED',
        unmanagedvCpus: 12,
      }),
    );
    const u = await describeCe('ce-unmanaged');
    expect(u?.unmanagedvCpus).toBe(12);
    expect(u?.computeResources).toBeUndefined();
  });

  it('names: pattern, length, duplicates, and model validation', async () => {
    for (const name of ['bad name', 'x'.repeat(129), 'a.b', '']) {
      const err = await clientError(
        env.client.send(
          new CreateComputeEnvironmentCommand({ computeEnvironmentName: name, type: 'UNMANAGED' }),
        ),
      );
      expect(err.message).toMatch(/name should match valid pattern/);
    }
    await env.client.send(
      new CreateComputeEnvironmentCommand({ computeEnvironmentName: 'x'.repeat(128), type: 'UNMANAGED' }),
    );
    const dup = await clientError(
      env.client.send(
        new CreateComputeEnvironmentCommand({ computeEnvironmentName: 'ce-unmanaged', type: 'UNMANAGED' }),
      ),
    );
    expect(dup.message).toBe('Object already exists');
    const enumErr = await clientError(
      env.client.send(
        new CreateComputeEnvironmentCommand({ computeEnvironmentName: 'e', type: 'SOMETHING' as never }),
      ),
    );
    expect(enumErr.message).toMatch(/enum/);
  });

  it('Describe of unknown names/ARNs is an empty list, never an error', async () => {
    const out = await env.client.send(
      new DescribeComputeEnvironmentsCommand({
        computeEnvironments: [
          'nope',
          'arn:aws:batch:us-east-1:123456789012:compute-environment/nope',
          'arn:aws:batch:us-east-1:123456789012:job-queue/ce-ec2',
        ],
      }),
    );
    expect(out.computeEnvironments).toEqual([]);
  });

  it('update → UPDATING → VALID; unsetting with empty values; missing CE says "does not exist"', async () => {
    await waitCeStatus('ce-ec2', 'VALID');
    await env.client.send(
      new UpdateComputeEnvironmentCommand({
        computeEnvironment: 'ce-ec2',
        computeResources: {
          maxvCpus: 32,
          minvCpus: 0,
          instanceRole: '',
          allocationStrategy: 'BEST_FIT_PROGRESSIVE',
        },
        updatePolicy: { terminateJobsOnUpdate: false, jobExecutionTimeoutMinutes: 30 },
      }),
    );
    const during = await describeCe('ce-ec2');
    expect(['UPDATING', 'VALID']).toContain(during?.status);
    const ce = await waitCeStatus('ce-ec2', 'VALID');
    expect(ce.computeResources?.maxvCpus).toBe(32);
    expect(ce.computeResources?.instanceRole).toBeUndefined();
    expect(ce.computeResources?.allocationStrategy).toBe('BEST_FIT_PROGRESSIVE');
    expect(ce.updatePolicy).toEqual({ terminateJobsOnUpdate: false, jobExecutionTimeoutMinutes: 30 });
    const rec = await env.server.store.getResource<ComputeEnvironmentDoc>('compute-environment', 'ce-ec2');
    expect(rec?.data.capacity?.vcpus).toBe(32);

    const missing = await clientError(
      env.client.send(
        new UpdateComputeEnvironmentCommand({ computeEnvironment: 'ghost', state: 'DISABLED' }),
      ),
    );
    expect(missing.message).toContain('does not exist');
    const fargateSwitch = await clientError(
      env.client.send(
        new UpdateComputeEnvironmentCommand({
          computeEnvironment: 'ce-ec2',
          computeResources: { type: 'FARGATE' },
        }),
      ),
    );
    expect(fargateSwitch.message).toMatch(/Cannot change the compute resource type/);
    const unmanaged = await clientError(
      env.client.send(
        new UpdateComputeEnvironmentCommand({ computeEnvironment: 'ce-ec2', unmanagedvCpus: 4 }),
      ),
    );
    expect(unmanaged.message).toMatch(/only supported for UNMANAGED/);
  });

  it('delete requires DISABLED and no queue; then DELETING → gone', async () => {
    await waitCeStatus('ce-spot', 'VALID');
    await env.client.send(
      new CreateJobQueueCommand({
        jobQueueName: 'q-uses-spot',
        priority: 1,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'ce-spot' }],
      }),
    );
    const notDisabled = await clientError(
      env.client.send(new DeleteComputeEnvironmentCommand({ computeEnvironment: 'ce-spot' })),
    );
    expect(notDisabled.message).toMatch(/Cannot delete/);
    await env.client.send(
      new UpdateComputeEnvironmentCommand({ computeEnvironment: 'ce-spot', state: 'DISABLED' }),
    );
    const ce = await waitCeStatus('ce-spot', 'VALID');
    expect(ce.state).toBe('DISABLED');
    const related = await clientError(
      env.client.send(new DeleteComputeEnvironmentCommand({ computeEnvironment: 'ce-spot' })),
    );
    expect(related.message).toBe('Cannot delete, found existing JobQueue relationship');
    await env.client.send(new UpdateJobQueueCommand({ jobQueue: 'q-uses-spot', state: 'DISABLED' }));
    await env.client.send(new DeleteJobQueueCommand({ jobQueue: 'q-uses-spot' }));
    await waitFor(async () =>
      (await env.client.send(new DescribeJobQueuesCommand({ jobQueues: ['q-uses-spot'] }))).jobQueues
        ?.length === 0
        ? true
        : undefined,
    );
    const arn = (await describeCe('ce-spot'))!.computeEnvironmentArn!;
    await env.client.send(new DeleteComputeEnvironmentCommand({ computeEnvironment: arn }));
    const after = await describeCe('ce-spot');
    expect(after === undefined || after.status === 'DELETING').toBe(true);
    await waitFor(async () => ((await describeCe('ce-spot')) === undefined ? true : undefined), {
      what: 'ce-spot gone',
    });
    // the name is free again
    await env.client.send(
      new CreateComputeEnvironmentCommand({ computeEnvironmentName: 'ce-spot', type: 'UNMANAGED' }),
    );
  });

  it('paginates across several pages with stable, never repeated tokens', async () => {
    for (let i = 0; i < 7; i++) {
      await env.client.send(
        new CreateComputeEnvironmentCommand({ computeEnvironmentName: `page-${i}`, type: 'UNMANAGED' }),
      );
    }
    const all = (await env.client.send(new DescribeComputeEnvironmentsCommand({}))).computeEnvironments!.map(
      (c) => c.computeEnvironmentName,
    );
    const seen: string[] = [];
    const tokens = new Set<string>();
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await env.client.send(
        new DescribeComputeEnvironmentsCommand({ maxResults: 3, nextToken: token }),
      );
      expect(out.computeEnvironments!.length).toBeLessThanOrEqual(3);
      seen.push(...out.computeEnvironments!.map((c) => c.computeEnvironmentName!));
      token = out.nextToken;
      if (token) {
        expect(tokens.has(token)).toBe(false);
        tokens.add(token);
      }
      pages++;
    } while (token);
    expect(pages).toBeGreaterThanOrEqual(4);
    expect(seen).toEqual(all);
    for (const bad of [0, 101]) {
      const err = await clientError(
        env.client.send(new DescribeComputeEnvironmentsCommand({ maxResults: bad })),
      );
      expect(err.message).toMatch(/maxResults must be between 1 and 100/);
    }
    const tokErr = await clientError(
      env.client.send(new DescribeComputeEnvironmentsCommand({ nextToken: 'garbage' })),
    );
    expect(tokErr.message).toMatch(/Invalid nextToken/);
  });

  it('limit of 50 compute environments', async () => {
    const n = await env.server.store.countResources('compute-environment');
    for (let i = n; i < 50; i++) {
      await env.client.send(
        new CreateComputeEnvironmentCommand({ computeEnvironmentName: `fill-${i}`, type: 'UNMANAGED' }),
      );
    }
    const err = await clientError(
      env.client.send(
        new CreateComputeEnvironmentCommand({ computeEnvironmentName: 'one-too-many', type: 'UNMANAGED' }),
      ),
    );
    expect(err.message).toMatch(/Maximum number of compute environments \(50\)/);
  });
});
