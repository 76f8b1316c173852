/**
 * Unmodified clients against a running server: the aws CLI v1 (`aws batch … --endpoint-url`),
 * boto3 paginators, and a replay of the Terraform AWS provider's call sequences (boto3).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { systemClock } from '../../src/core/clock.js';
import { startResourceLifecycle } from '../../src/loops/resource-lifecycle.js';
import { awsEnv, REPO_ROOT, startTestServer } from '../helpers/start-server.js';

const run = promisify(execFile);
const PY = path.join(REPO_ROOT, 'test', 'e2e', 'py');

let server: Awaited<ReturnType<typeof startTestServer>>;
let lifecycle: { stop(): Promise<void> };
beforeAll(async () => {
  server = await startTestServer({ noDefaults: true });
  lifecycle = startResourceLifecycle({ store: server.store, events: server.events, clock: systemClock });
});
afterAll(async () => {
  await lifecycle.stop();
  await server.close();
});

async function aws(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('aws', ['batch', ...args, '--endpoint-url', server.url, '--output', 'json'], {
    env: awsEnv(server.url),
    timeout: 60_000,
  });
  return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
}

async function awsFails(...args: string[]): Promise<string> {
  try {
    await aws(...args);
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error('expected the aws CLI to fail');
}

async function waitStatus(fn: () => Promise<string | undefined>, want: string | undefined): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const s = await fn();
    if (s === want) return;
    if (Date.now() > deadline) throw new Error(`status ${String(s)} never became ${String(want)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('aws CLI v1', () => {
  it('round-trips every resource kind', async () => {
    const ce = await aws(
      'create-compute-environment',
      '--compute-environment-name',
      'cli-ce',
      '--type',
      'MANAGED',
      '--compute-resources',
      JSON.stringify({ type: 'EC2', maxvCpus: 8, minvCpus: 0, instanceTypes: ['c5'], subnets: ['subnet-1'] }),
      '--tags',
      'team=cli',
    );
    expect(ce.computeEnvironmentName).toBe('cli-ce');
    const ceStatus = async () =>
      (
        (await aws('describe-compute-environments', '--compute-environments', 'cli-ce'))
          .computeEnvironments as { status?: string }[]
      )[0]?.status;
    await waitStatus(ceStatus, 'VALID');
    const q = await aws(
      'create-job-queue',
      '--job-queue-name',
      'cli-q',
      '--priority',
      '1',
      '--compute-environment-order',
      'order=1,computeEnvironment=cli-ce',
    );
    expect(q.jobQueueArn).toBe('arn:aws:batch:us-east-1:123456789012:job-queue/cli-q');
    const qd = (await aws('describe-job-queues', '--job-queues', 'cli-q')).jobQueues as Record<
      string,
      unknown
    >[];
    expect(qd[0]!.computeEnvironmentOrder).toEqual([
      { order: 1, computeEnvironment: 'arn:aws:batch:us-east-1:123456789012:compute-environment/cli-ce' },
    ]);
    const jd = await aws(
      'register-job-definition',
      '--job-definition-name',
      'cli-jd',
      '--type',
      'container',
      '--container-properties',
      JSON.stringify({
        image: 'busybox',
        command: ['true'],
        resourceRequirements: [
          { type: 'VCPU', value: '1' },
          { type: 'MEMORY', value: '64' },
        ],
      }),
    );
    expect(jd.revision).toBe(1);
    const jds = (
      await aws('describe-job-definitions', '--job-definition-name', 'cli-jd', '--status', 'ACTIVE')
    ).jobDefinitions as Record<string, unknown>[];
    expect(jds).toHaveLength(1);
    expect((jds[0]!.containerProperties as Record<string, unknown>).volumes).toEqual([]);
    const sp = await aws(
      'create-scheduling-policy',
      '--name',
      'cli-sp',
      '--fairshare-policy',
      'shareDecaySeconds=60,computeReservation=5',
    );
    expect((await aws('list-scheduling-policies')).schedulingPolicies).toEqual([{ arn: sp.arn }]);
    await aws('create-consumable-resource', '--consumable-resource-name', 'cli-cr', '--total-quantity', '7');
    expect(
      (await aws('describe-consumable-resource', '--consumable-resource', 'cli-cr')).availableQuantity,
    ).toBe(7);
    await aws(
      'update-consumable-resource',
      '--consumable-resource',
      'cli-cr',
      '--operation',
      'ADD',
      '--quantity',
      '3',
    );
    expect((await aws('list-consumable-resources')).consumableResources).toEqual([
      expect.objectContaining({ consumableResourceName: 'cli-cr', totalQuantity: 10, inUseQuantity: 0 }),
    ]);
    await aws(
      'create-service-environment',
      '--service-environment-name',
      'cli-se',
      '--service-environment-type',
      'SAGEMAKER_TRAINING',
      '--capacity-limits',
      'maxCapacity=2,capacityUnit=NUM_INSTANCES',
    );
    expect(((await aws('describe-service-environments')).serviceEnvironments as unknown[]).length).toBe(1);

    // tags via the tag endpoints (the CLI percent-encodes the ARN as one path segment)
    const jdArn = jd.jobDefinitionArn as string;
    await aws('tag-resource', '--resource-arn', jdArn, '--tags', 'a=1,b=2');
    await aws('untag-resource', '--resource-arn', jdArn, '--tag-keys', 'a', 'b');
    await aws('tag-resource', '--resource-arn', jdArn, '--tags', 'c=3');
    expect((await aws('list-tags-for-resource', '--resource-arn', jdArn)).tags).toEqual({ c: '3' });

    // error surface
    expect(await awsFails('update-job-queue', '--job-queue', 'ghost', '--state', 'DISABLED')).toMatch(
      /ClientException.*does not exist/,
    );
    expect(await awsFails('describe-compute-environments', '--max-results', '0')).toMatch(
      /ClientException|maxResults/,
    );

    // teardown
    await aws('update-job-queue', '--job-queue', 'cli-q', '--state', 'DISABLED');
    await aws('delete-job-queue', '--job-queue', 'cli-q');
    await waitStatus(
      async () =>
        ((await aws('describe-job-queues', '--job-queues', 'cli-q')).jobQueues as { status?: string }[])[0]
          ?.status,
      undefined,
    );
    await aws('update-compute-environment', '--compute-environment', 'cli-ce', '--state', 'DISABLED');
    await aws('delete-compute-environment', '--compute-environment', 'cli-ce');
    await waitStatus(ceStatus, undefined);
    await aws('deregister-job-definition', '--job-definition', 'cli-jd:1');
    await aws('delete-scheduling-policy', '--arn', sp.arn as string);
    await aws('delete-consumable-resource', '--consumable-resource', 'cli-cr');
    await aws('update-service-environment', '--service-environment', 'cli-se', '--state', 'DISABLED');
    await aws('delete-service-environment', '--service-environment', 'cli-se');
  });
});

describe('boto3', () => {
  it('paginators walk every paginated control-plane listing', async () => {
    const { stdout } = await run('python3', [path.join(PY, 'paginators.py'), server.url], {
      env: awsEnv(server.url),
      timeout: 120_000,
    });
    const s = JSON.parse(stdout) as Record<string, { count: number; pages: number; names: unknown[] }> & {
      consumable: Record<string, unknown>;
    };
    expect(s.describe_compute_environments!.names).toEqual(expect.arrayContaining(['py-ce-0', 'py-ce-4']));
    expect(s.describe_job_definitions!.names).toEqual([1, 2, 3, 4, 5]);
    expect(s.describe_job_definitions!.pages).toBe(3);
    for (const op of [
      'describe_job_queues',
      'list_scheduling_policies',
      'list_consumable_resources',
      'describe_service_environments',
    ]) {
      expect(s[op]!.count).toBeGreaterThanOrEqual(5);
      expect(s[op]!.pages).toBeGreaterThanOrEqual(3);
    }
    expect(s.consumable).toEqual({
      totalQuantity: 3,
      inUseQuantity: 0,
      availableQuantity: 3,
      resourceType: 'REPLENISHABLE',
    });
  });

  it('Terraform replay: the provider call sequences and read-back rules', async () => {
    const { stdout } = await run('python3', [path.join(PY, 'terraform_replay.py'), server.url], {
      env: awsEnv(server.url),
      timeout: 180_000,
    }).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`terraform_replay.py failed:\n${err.stderr ?? ''}\n${err.stdout ?? ''}`);
    });
    expect(stdout.trim()).toBe('OK');
  });

  // Known gap (not in the control-plane files): the shared model validator in api/batch/batch-api.ts
  // checks enums case-sensitively, so Terraform's lower-cased evaluateOnExit action ("retry") is
  // refused before RegisterJobDefinition runs. This test flips to passing once that is fixed.
  it('accepts lower-case evaluateOnExit actions and echoes them as received', async () => {
    const res = await fetch(`${server.url}/v1/registerjobdefinition`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jobDefinitionName: 'tf-lower',
        type: 'container',
        containerProperties: { image: 'x' },
        retryStrategy: { attempts: 2, evaluateOnExit: [{ action: 'retry', onExitCode: '1' }] },
      }),
    });
    expect(res.status).toBe(200);
    const d = await fetch(`${server.url}/v1/describejobdefinitions`, {
      method: 'POST',
      body: JSON.stringify({ jobDefinitions: ['tf-lower:1'] }),
    });
    const body = (await d.json()) as {
      jobDefinitions: { retryStrategy: { evaluateOnExit: { action: string }[] } }[];
    };
    expect(body.jobDefinitions[0]!.retryStrategy.evaluateOnExit[0]!.action).toBe('retry');
  });
});
