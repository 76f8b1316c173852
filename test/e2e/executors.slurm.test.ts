/**
 * `aws batch submit-job` semantics on a real localhost Slurm: an UNMANAGED compute environment tagged
 * openbatch.io/executor=slurm runs its jobs through sbatch; status, exit code, logs and retries as AWS.
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

import { freshWorkRoot, slurmEnv, slurmSkipReason } from '../../src/executors/slurm/slurm-test-env.js';
import { sdkConfig, startTestServer, waitFor } from '../helpers/start-server.js';

describe.skipIf(!slurmEnv)(
  `Slurm executor through the API${slurmEnv ? '' : ` (skipped: ${slurmSkipReason})`}`,
  () => {
    let server: Awaited<ReturnType<typeof startTestServer>>;
    let batch: BatchClient;
    let logs: CloudWatchLogsClient;

    beforeAll(async () => {
      const env = slurmEnv!;
      process.env.SLURM_CONF = env.slurmConf;
      server = await startTestServer({
        slurmPartition: env.partition,
        slurmTransport: 'cli',
        slurmWorkRoot: await freshWorkRoot(env, 'e2e-'),
        slurmConf: env.slurmConf,
      });
      batch = new BatchClient(sdkConfig(server.url));
      logs = new CloudWatchLogsClient(sdkConfig(server.url));
      await batch.send(
        new CreateComputeEnvironmentCommand({
          computeEnvironmentName: 'hpc',
          type: 'UNMANAGED',
          unmanagedvCpus: 2,
          tags: { 'openbatch.io/executor': 'slurm' },
        }),
      );
      await waitFor(async () => true);
      await batch.send(
        new CreateJobQueueCommand({
          jobQueueName: 'hpc',
          priority: 1,
          computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'hpc' }],
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
      command: string[],
      extra: Record<string, unknown> = {},
    ): Promise<JobDetail> {
      await batch.send(
        new RegisterJobDefinitionCommand({
          jobDefinitionName: name,
          type: 'container',
          containerProperties: {
            image: 'none',
            command,
            resourceRequirements: [
              { type: 'VCPU', value: '1' },
              { type: 'MEMORY', value: '100' },
            ],
          },
          ...extra,
        }),
      );
      const { jobId } = await batch.send(
        new SubmitJobCommand({ jobName: name, jobQueue: 'hpc', jobDefinition: name }),
      );
      return waitFor(
        async () => {
          const j = (await batch.send(new DescribeJobsCommand({ jobs: [jobId!] }))).jobs![0]!;
          return j.status === 'SUCCEEDED' || j.status === 'FAILED' ? j : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
    }

    it('runs a job on Slurm with the AWS_BATCH_* environment and its output in the log store', async () => {
      const j = await run('slurm-hello', [
        'sh',
        '-c',
        'echo "hello from $AWS_BATCH_CE_NAME attempt $AWS_BATCH_JOB_ATTEMPT"',
      ]);
      expect(j.status).toBe('SUCCEEDED');
      expect(j.container?.exitCode).toBe(0);
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
      expect(events.map((e) => e.message)).toEqual(['hello from hpc attempt 1']);
    });

    it('reports a non-zero exit and retries per the job definition', async () => {
      const j = await run('slurm-flaky', ['sh', '-c', 'exit 4'], { retryStrategy: { attempts: 2 } });
      expect(j.status).toBe('FAILED');
      expect(j.statusReason).toBe('Essential container in task exited');
      expect(j.attempts!.map((a) => a.container?.exitCode)).toEqual([4, 4]);
    });
  },
);
