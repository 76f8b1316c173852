/**
 * `aws batch submit-job` of a job definition whose image is local runs that image in a container
 * (Docker Engine API; Podman here), with its output in the logs and AWS's OOM and pull-failure reasons.
 */
import {
  BatchClient,
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  DescribeJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
  type JobDetail,
} from '@aws-sdk/client-batch';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sdkConfig, startTestServer, waitFor } from '../helpers/start-server.js';

const dockerHost = process.env.DOCKER_HOST;
const image = process.env.OPENBATCH_TEST_IMAGE ?? 'localhost/openbatch-busybox:latest';

describe.skipIf(!dockerHost)(
  `container executor through the API${dockerHost ? '' : ' (skipped: DOCKER_HOST not set; run `source .ci/services-podman.sh`)'}`,
  () => {
    let server: Awaited<ReturnType<typeof startTestServer>>;
    let batch: BatchClient;
    let logs: CloudWatchLogsClient;

    beforeAll(async () => {
      server = await startTestServer({ dockerHost: dockerHost!, killGraceMs: 1000 });
      batch = new BatchClient(sdkConfig(server.url));
      logs = new CloudWatchLogsClient(sdkConfig(server.url));
      await batch.send(
        new CreateComputeEnvironmentCommand({
          computeEnvironmentName: 'containers',
          type: 'MANAGED',
          computeResources: {
            type: 'EC2',
            maxvCpus: 4,
            subnets: ['subnet-1'],
            instanceRole: 'ecsInstanceRole',
            instanceTypes: ['m5.xlarge'],
          },
          tags: { 'openbatch.io/executor': 'docker' },
        }),
      );
      await waitFor(async () => true);
      await batch.send(
        new CreateJobQueueCommand({
          jobQueueName: 'containers',
          priority: 1,
          computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'containers' }],
        }),
      );
    });

    afterAll(async () => {
      batch?.destroy();
      logs?.destroy();
      await server?.close();
    });

    async function run(
      name: string,
      img: string,
      command: string[],
      memory = '64',
      extra: Record<string, unknown> = {},
    ): Promise<JobDetail> {
      await batch.send(
        new RegisterJobDefinitionCommand({
          jobDefinitionName: name,
          type: 'container',
          containerProperties: {
            image: img,
            command,
            resourceRequirements: [
              { type: 'VCPU', value: '1' },
              { type: 'MEMORY', value: memory },
            ],
          },
          ...extra,
        }),
      );
      const { jobId } = await batch.send(
        new SubmitJobCommand({ jobName: name, jobQueue: 'containers', jobDefinition: name }),
      );
      return waitFor(
        async () => {
          const j = (await batch.send(new DescribeJobsCommand({ jobs: [jobId!] }))).jobs![0]!;
          return j.status === 'SUCCEEDED' || j.status === 'FAILED' ? j : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
    }

    it('runs the local image with the job environment and stores its output', async () => {
      const j = await run('ctr-hello', image, [
        'sh',
        '-c',
        'echo "in container $AWS_BATCH_JOB_ID on $AWS_BATCH_CE_NAME"',
      ]);
      expect(j.status).toBe('SUCCEEDED');
      const events = await waitFor(async () => {
        const out = await logs.send(
          new GetLogEventsCommand({
            logGroupName: '/aws/batch/job',
            logStreamName: j.container!.logStreamName!,
            startFromHead: true,
          }),
        );
        return out.events?.length ? out.events : undefined;
      });
      expect(events.map((e) => e.message)).toEqual([`in container ${j.jobId} on containers`]);
    });

    it('fails with CannotPullContainerError for a missing image, retryable by onReason', async () => {
      const j = await run('ctr-missing', 'localhost/does-not-exist:1', ['true'], '64', {
        retryStrategy: {
          attempts: 2,
          evaluateOnExit: [
            { onReason: 'CannotPullContainerError*', action: 'RETRY' },
            { onReason: '*', action: 'EXIT' },
          ],
        },
      });
      expect(j.status).toBe('FAILED');
      expect(j.attempts).toHaveLength(2);
      expect(j.container?.reason).toMatch(/^CannotPullContainerError: /);
    });
  },
);
