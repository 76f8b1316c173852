/**
 * The built `openbatch` CLI as a subprocess against an in-process server: submit with every flag,
 * --wait with and without a terminal, --follow across attempts, idempotency, config profiles,
 * apply / re-apply / destroy of a seed-001 template and a CDK-style one, cost, and the other
 * commands. Run `npm run build` first.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {
  BatchClient,
  CreateJobQueueCommand,
  CreateSchedulingPolicyCommand,
  DescribeComputeEnvironmentsCommand,
  DescribeJobDefinitionsCommand,
  DescribeJobQueuesCommand,
  DescribeJobsCommand,
  RegisterJobDefinitionCommand,
  type JobDetail,
} from '@aws-sdk/client-batch';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BIN, REPO_ROOT, sdkConfig, startTestServer, tempDir, waitFor } from '../helpers/start-server.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;
let server: Server;
let batch: BatchClient;
let logs: CloudWatchLogsClient;
let home: string;
const FIX = path.join(REPO_ROOT, 'test', 'fixtures', 'templates');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OPENBATCH_HOME: home,
    OPENBATCH_ENDPOINT: server.url,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
  for (const k of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_PROFILE',
    'AWS_ENDPOINT_URL',
    'OPENBATCH_PROFILE',
    'OPENBATCH_CONFIG',
    'NO_COLOR',
  ])
    if (!(k in extra)) delete env[k];
  return env;
}

function ob(args: string[], extra: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: baseEnv(extra), timeout: 60_000, maxBuffer: 10 << 20 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function quote(a: string): string {
  return `'${a.replace(/'/g, `'\\''`)}'`;
}

/** Run under a pseudo-terminal (util-linux `script`). */
function obTty(args: string[]): Promise<Run> {
  const cmd = [process.execPath, BIN, ...args].map(quote).join(' ');
  return new Promise((resolve) => {
    execFile(
      'script',
      ['-qfec', cmd, '/dev/null'],
      { env: { ...baseEnv(), COLUMNS: '120', TERM: 'xterm' }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function job(id: string): Promise<JobDetail> {
  return (await batch.send(new DescribeJobsCommand({ jobs: [id] }))).jobs![0]!;
}

function noStack(r: Run): void {
  expect(r.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
}

beforeAll(async () => {
  server = await startTestServer();
  home = tempDir('openbatch-cli-home-');
  batch = new BatchClient(sdkConfig(server.url));
  logs = new CloudWatchLogsClient(sdkConfig(server.url));
  await batch.send(
    new RegisterJobDefinitionCommand({
      jobDefinitionName: 'hello',
      type: 'container',
      containerProperties: {
        image: 'busybox',
        command: ['sh', '-c', 'echo hi'],
        resourceRequirements: [
          { type: 'VCPU', value: '1' },
          { type: 'MEMORY', value: '128' },
        ],
      },
    }),
  );
  const sp = await batch.send(
    new CreateSchedulingPolicyCommand({
      name: 'fs',
      fairsharePolicy: { shareDistribution: [{ shareIdentifier: 'teamA', weightFactor: 1 }] },
    }),
  );
  await batch.send(
    new CreateJobQueueCommand({
      jobQueueName: 'fsq',
      priority: 1,
      schedulingPolicyArn: sp.arn,
      computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'default' }],
    }),
  );
  await waitFor(
    async () =>
      (await batch.send(new DescribeJobQueuesCommand({ jobQueues: ['fsq'] }))).jobQueues?.[0]?.status ===
      'VALID',
    { what: 'fsq VALID' },
  );
});

afterAll(async () => {
  batch?.destroy();
  logs?.destroy();
  await server?.close();
});

describe('openbatch CLI', () => {
  it('has --help with examples for every command, and plain-sentence errors', async () => {
    const main = await ob(['help']);
    expect(main.code).toBe(0);
    const names = [
      'submit',
      'jobs',
      'describe',
      'logs',
      'cancel',
      'terminate',
      'queues',
      'envs',
      'interrupt',
      'apply',
      'outputs',
      'destroy',
      'cost',
    ];
    for (const n of names) expect(main.stdout).toContain(`  ${n} `);
    const helps = await Promise.all(names.map((n) => ob([n, '--help'])));
    helps.forEach((h, i) => {
      expect(h.code, names[i]).toBe(0);
      expect(h.stdout, names[i]).toContain(`Usage: openbatch ${names[i]}`);
      expect(h.stdout, names[i]).toMatch(/Examples:\n {2}openbatch /);
    });
    const bad = await ob(['submit', '--vcpu', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      "openbatch submit: Unknown option --vcpu for 'openbatch submit' (did you mean --vcpus?); see 'openbatch submit --help'.\n",
    );
    const down = await ob(['jobs', '--endpoint', 'http://127.0.0.1:9'], {});
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/Could not connect to http:\/\/127\.0\.0\.1:9 \(connection refused\)/);
    noStack(down);
    const missing = await ob(['describe', 'no-such-job']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`openbatch describe: Job no-such-job was not found at ${server.url}.\n`);
  });

  it('submits with every flag', async () => {
    const dep = await ob(['submit', '-d', 'hello', '--array-size', '2', '-o', 'json']);
    const depId = (JSON.parse(dep.stdout) as { jobId: string }).jobId;
    const r = await ob([
      'submit',
      '--name',
      'every-flag',
      '--queue',
      'fsq',
      '--definition',
      'hello',
      '--env',
      'STAGE=test',
      '-e',
      'RUN=7',
      '--vcpus',
      '1',
      '--memory',
      '256',
      '--gpus',
      '0',
      '--timeout',
      '5m',
      '--tag',
      'Project=Pulse',
      '--parameter',
      'input=s3://x',
      '--retry-attempts',
      '2',
      '--share-id',
      'teamA',
      '--priority',
      '5',
      '--array-size',
      '2',
      '--depends-on',
      depId,
      '--dependency-type',
      'N_TO_N',
      '--propagate-tags',
      '-o',
      'json',
      '--',
      'sh',
      '-c',
      'echo $STAGE $RUN',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rec = JSON.parse(r.stdout) as {
      jobId: string;
      jobName: string;
      jobArn: string;
      jobQueue: string;
      submittedAt: string;
    };
    expect(rec).toMatchObject({
      jobName: 'every-flag',
      jobQueue: 'fsq',
      jobArn: expect.stringContaining(rec.jobId),
    });
    const j = await job(rec.jobId);
    expect(j.container?.command).toEqual(['sh', '-c', 'echo $STAGE $RUN']);
    expect(j.container?.environment).toEqual(
      expect.arrayContaining([
        { name: 'STAGE', value: 'test' },
        { name: 'RUN', value: '7' },
      ]),
    );
    expect(j.container?.resourceRequirements).toEqual(
      expect.arrayContaining([
        { type: 'VCPU', value: '1' },
        { type: 'MEMORY', value: '256' },
      ]),
    );
    expect(j).toMatchObject({
      tags: { Project: 'Pulse' },
      parameters: { input: 's3://x' },
      retryStrategy: { attempts: 2 },
      timeout: { attemptDurationSeconds: 300 },
      shareIdentifier: 'teamA',
      schedulingPriority: 5,
      dependsOn: [{ jobId: depId, type: 'N_TO_N' }],
      propagateTags: true,
      arrayProperties: { size: 2 },
    });
    const badDep = await ob(['submit', '-d', 'hello', '--depends-on', `${depId}=LATER`]);
    expect(badDep.code).toBe(2);
    expect(badDep.stderr).toContain("Dependency type must be N_TO_N or SEQUENTIAL, not 'LATER'");
    const badTimeout = await ob(['submit', '-d', 'hello', '--timeout', '30']);
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toContain('--timeout must be at least 60 seconds');
  });

  it('--wait without a terminal prints one plain line per change and exits with the outcome', async () => {
    const details = path.join(home, 'runs', 'batch_job_{time}.json');
    const ok = await ob([
      'submit',
      '-d',
      'hello',
      '-n',
      'waiter',
      '--command',
      "sh -c 'sleep 0.5; echo done'",
      '--wait',
      '--poll-interval',
      '0.1',
      '--details-file',
      details,
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).not.toContain('\r');
    const lines = ok.stdout.split('\n').filter((l) => l.startsWith('waiter '));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.at(-1)).toMatch(/^waiter SUCCEEDED {2}attempt 1\/1 {2}elapsed /);
    expect(new Set(lines.map((l) => l.split('  ')[0])).size).toBe(lines.length); // one line per change
    expect(ok.stdout).toMatch(/Job waiter \(.+\) SUCCEEDED/);
    const files = fs.readdirSync(path.join(home, 'runs'));
    expect(files).toHaveLength(1);
    const rec = JSON.parse(fs.readFileSync(path.join(home, 'runs', files[0]!), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(rec).toMatchObject({
      jobName: 'waiter',
      jobQueue: 'default',
      endpoint: server.url,
      final: { status: 'SUCCEEDED', exitCode: 0 },
    });
    expect(rec.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(rec.submittedAt as string)).toBeGreaterThan(0);
    const fail = await ob([
      'submit',
      '-d',
      'hello',
      '-n',
      'failer',
      '--command',
      "sh -c 'exit 3'",
      '--wait',
      '--poll-interval',
      '0.1',
    ]);
    expect(fail.code).toBe(1);
    expect(fail.stderr).toMatch(
      /Job failer \(.+\) FAILED: Essential container in task exited \(exit code 3\)/,
    );
  });

  it('--wait on a terminal redraws the status line in place, with an array count bar', async () => {
    const r = await obTty([
      'submit',
      '-d',
      'hello',
      '-n',
      'arr',
      '--array-size',
      '3',
      '--command',
      "sh -c 'sleep 0.4'",
      '--wait',
      '--poll-interval',
      '0.1',
    ]);
    expect(r.code).toBe(0);
    const redraws = r.stdout.split('\r\x1b[2K').length - 1;
    expect(redraws).toBeGreaterThanOrEqual(3);
    expect(r.stdout).toContain('\x1b['); // colours on a terminal
    expect(r.stdout).toMatch(/\[[^\]]*(█|▓|░|·)[^\]]*\] .*of 3/); // per-status bar
    expect(r.stdout).toMatch(/3 SUCCEEDED of 3/);
  });

  it('--follow streams the log across retry attempts', async () => {
    const r = await ob([
      'submit',
      '-d',
      'hello',
      '-n',
      'flaky',
      '--retry-attempts',
      '2',
      '--command',
      "sh -c 'echo try-$AWS_BATCH_JOB_ATTEMPT; exit 4'",
      '--follow',
      '--poll-interval',
      '0.1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/── attempt 1 · log stream hello\/default\/[0-9a-f]+ ──\ntry-1/);
    expect(r.stdout).toMatch(/── attempt 2 · log stream hello\/default\/[0-9a-f]+ ──\ntry-2/);
    const id = /Submitted job: flaky (\S+)/.exec(r.stdout)![1]!;
    const logsOut = await ob(['logs', id]);
    expect(logsOut.stdout).toMatch(/try-1[\s\S]*try-2/);
    const second = await ob(['logs', id, '--attempt', '2']);
    expect(second.stdout).toContain('try-2');
    expect(second.stdout).not.toContain('try-1');
  });

  it('--idempotency-key returns the first job, locally and from another machine', async () => {
    const a = await ob([
      'submit',
      '-d',
      'hello',
      '-n',
      'nightly',
      '--idempotency-key',
      'nightly-2025-05-18',
      '-o',
      'json',
    ]);
    const b = await ob([
      'submit',
      '-d',
      'hello',
      '-n',
      'nightly',
      '--idempotency-key',
      'nightly-2025-05-18',
      '-o',
      'json',
    ]);
    const ja = JSON.parse(a.stdout) as { jobId: string; reused: boolean };
    const jb = JSON.parse(b.stdout) as { jobId: string; reused: boolean };
    expect(ja.reused).toBe(false);
    expect(jb).toMatchObject({ jobId: ja.jobId, reused: true });
    const store = JSON.parse(fs.readFileSync(path.join(home, 'idempotency.json'), 'utf8')) as {
      entries: Record<string, { jobId: string }>;
    };
    expect(store.entries[`${server.url}|nightly-2025-05-18`]?.jobId).toBe(ja.jobId);
    expect((await job(ja.jobId)).tags?.['openbatch:idempotency-key']).toBe('nightly-2025-05-18');
    const elsewhere = tempDir('openbatch-other-machine-');
    const c = await ob(
      ['submit', '-d', 'hello', '-n', 'nightly', '--idempotency-key', 'nightly-2025-05-18'],
      { OPENBATCH_HOME: elsewhere },
    );
    expect(c.stdout).toContain(
      `Job already submitted with idempotency key 'nightly-2025-05-18': nightly ${ja.jobId}`,
    );
    const d = await ob([
      'submit',
      '-d',
      'hello',
      '-n',
      'nightly',
      '--idempotency-key',
      'nightly-2025-05-19',
      '-o',
      'json',
    ]);
    expect((JSON.parse(d.stdout) as { jobId: string }).jobId).not.toBe(ja.jobId);
  });

  it('uses config defaults and named profiles, and rejects a bad config file', async () => {
    const cfg = path.join(home, 'profiles.yaml');
    fs.writeFileSync(
      cfg,
      `submit:\n  definition: hello\n  tags: {Team: base}\nprofiles:\n  fair:\n    submit:\n      queue: fsq\n      shareIdentifier: teamA\n      tags: {Env: fair}\n  elsewhere:\n    endpoint: http://127.0.0.1:9\n`,
    );
    const r = await ob(['submit', '--config', cfg, '--profile', 'fair', '-n', 'profiled', '-o', 'json']);
    expect(r.code).toBe(0);
    const j = await job((JSON.parse(r.stdout) as { jobId: string }).jobId);
    expect(j.jobQueue).toMatch(/job-queue\/fsq$/);
    expect(j).toMatchObject({ shareIdentifier: 'teamA', tags: { Team: 'base', Env: 'fair' } });
    // the default location under $OPENBATCH_HOME
    const other = tempDir('openbatch-home-');
    fs.writeFileSync(
      path.join(other, 'config.yaml'),
      'submit:\n  definition: hello\n  name: from-default-config\n',
    );
    const d = await ob(['submit', '-o', 'json'], { OPENBATCH_HOME: other });
    expect((JSON.parse(d.stdout) as { jobName: string }).jobName).toBe('from-default-config');
    const unknownProfile = await ob(['jobs', '--config', cfg, '--profile', 'fiar']);
    expect(unknownProfile.code).toBe(2);
    expect(unknownProfile.stderr).toContain("Profile 'fiar' is not defined");
    fs.writeFileSync(path.join(other, 'bad.yaml'), 'profiles:\n  dev:\n    submit:\n      vcpu: 2\n');
    const bad = await ob(['jobs', '--config', path.join(other, 'bad.yaml')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("profiles.dev.submit.vcpu: unknown key (did you mean 'vcpus'?)");
    noStack(bad);
  });

  it('applies, re-applies, updates and destroys the seed-001 stack; submits to it; estimates cost', async () => {
    const base = [
      '-f',
      path.join(FIX, 'seed-001.json'),
      '--parameters',
      path.join(FIX, 'seed-001-params.json'),
      '--stack',
      'fred-dev',
    ];
    const plan = await ob(['apply', ...base, '--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/\+ BatchComputeEnvironment +AWS::Batch::ComputeEnvironment +create/);
    expect(plan.stdout).toContain('Plan: 4 to create');
    expect(
      (
        await batch.send(
          new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['fred-compute-env-dev'] }),
        )
      ).computeEnvironments,
    ).toHaveLength(0);

    const first = await ob(['apply', ...base]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(
      'Applied: 4 created, 0 updated, 0 replaced, 0 deleted, 0 unchanged, 6 recorded without effect',
    );
    expect(first.stdout).toMatch(
      /BatchServiceRole .*recorded \(no-op\).*not applied locally: IAM is recorded/,
    );
    const ce = (
      await batch.send(
        new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['fred-compute-env-dev'] }),
      )
    ).computeEnvironments![0]!;
    expect(ce).toMatchObject({
      status: 'VALID',
      state: 'ENABLED',
      serviceRole: 'arn:aws:iam::123456789012:role/fred-batch-service-role-dev',
    });
    expect(ce.computeResources).toMatchObject({
      type: 'SPOT',
      allocationStrategy: 'SPOT_CAPACITY_OPTIMIZED',
      minvCpus: 0,
      maxvCpus: 256,
      instanceTypes: ['c5.xlarge', 'c5.2xlarge'],
      bidPercentage: 100,
    });
    expect(ce.computeResources?.subnets).toEqual(['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb']);
    const lg = (
      await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/batch/fred-simulations-dev' }))
    ).logGroups![0]!;
    expect(lg.retentionInDays).toBe(7);
    const jd1 = (
      await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: 'fred-simulation-runner-dev' }))
    ).jobDefinitions!;
    expect(jd1).toHaveLength(1);
    expect(jd1[0]).toMatchObject({
      revision: 1,
      retryStrategy: {
        attempts: 3,
        evaluateOnExit: [
          { onStatusReason: 'Host EC2*', action: 'RETRY' },
          { onReason: '*', action: 'EXIT' },
        ],
      },
      timeout: { attemptDurationSeconds: 14400 },
    });
    expect(jd1[0]!.containerProperties?.logConfiguration).toEqual({
      logDriver: 'awslogs',
      options: {
        'awslogs-group': '/aws/batch/fred-simulations-dev',
        'awslogs-region': 'us-east-1',
        'awslogs-stream-prefix': 'fred',
      },
    });
    expect(jd1[0]!.containerProperties?.environment).toContainEqual({ name: 'LOG_LEVEL', value: 'DEBUG' });

    const outs = await ob(['outputs', 'fred-dev', '-o', 'json']);
    expect(JSON.parse(outs.stdout)).toMatchObject({
      BatchJobQueueName: 'fred-job-queue-dev',
      BatchJobDefinitionArn:
        'arn:aws:batch:us-east-1:123456789012:job-definition/fred-simulation-runner-dev:1',
      BatchLogGroupName: '/aws/batch/fred-simulations-dev',
      BatchSecurityGroupId: expect.stringMatching(/^sg-[0-9a-f]{17}$/),
    });
    expect((await ob(['outputs', 'fred-dev', 'BatchJobQueueName'])).stdout).toBe('fred-job-queue-dev\n');
    const state = JSON.parse(
      fs.readFileSync(
        path.join(home, 'stacks', `127.0.0.1_${new URL(server.url).port}`, 'fred-dev.json'),
        'utf8',
      ),
    ) as { resources: Record<string, { physicalId: string }> };
    expect(state.resources.BatchJobQueue?.physicalId).toMatch(/job-queue\/fred-job-queue-dev$/);

    const again = await ob(['apply', ...base]);
    expect(again.stdout).toContain('Applied: 0 created, 0 updated, 0 replaced, 0 deleted, 10 unchanged');

    const changed = [
      '--param',
      'MaxvCpus=128',
      '--param',
      'LogRetentionDays=14',
      '--param',
      'JobCommand=sh,-c,echo v2; sleep 0.3',
    ];
    const plan2 = await ob(['apply', ...base, ...changed, '--dry-run']);
    expect(plan2.stdout).toMatch(/~ BatchComputeEnvironment .* update/);
    expect(plan2.stdout).toMatch(/~ BatchJobDefinition .* update/);
    expect(plan2.stdout).toMatch(/= BatchJobQueue .* unchanged/);
    const upd = await ob(['apply', ...base, ...changed]);
    expect(upd.code).toBe(0);
    expect(upd.stdout).toMatch(/BatchComputeEnvironment .*updated .*computeResources\.maxvCpus/);
    expect(upd.stdout).toMatch(/BatchJobDefinition .*updated .*new revision 2; revision 1 deregistered/);
    expect(upd.stdout).toContain('Applied: 0 created, 3 updated');
    expect(
      (
        await batch.send(
          new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['fred-compute-env-dev'] }),
        )
      ).computeEnvironments![0]!.computeResources?.maxvCpus,
    ).toBe(128);
    const revs = (
      await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: 'fred-simulation-runner-dev' }))
    ).jobDefinitions!;
    expect(Object.fromEntries(revs.map((d) => [d.revision, d.status]))).toEqual({
      1: 'INACTIVE',
      2: 'ACTIVE',
    });
    expect(
      (
        await logs.send(
          new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/batch/fred-simulations-dev' }),
        )
      ).logGroups![0]!.retentionInDays,
    ).toBe(14);

    // seed 001's flow: submit to the stack's queue and definition, follow, see the cost
    const queue = (await ob(['outputs', 'fred-dev', 'BatchJobQueueName'])).stdout.trim();
    const def = (await ob(['outputs', 'fred-dev', 'BatchJobDefinitionArn'])).stdout.trim();
    const run = await ob([
      'submit',
      '-q',
      queue,
      '-d',
      def,
      '-n',
      'fred-run',
      '--follow',
      '--poll-interval',
      '0.1',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('v2');
    const id = /Submitted job: fred-run (\S+)/.exec(run.stdout)![1]!;
    const j = await job(id);
    const a = j.attempts![0]!;
    // hand computation: 4 vCPU / 8192 MiB fits c5.xlarge exactly: $0.17/h × (1 − 0.70) per hour of the attempt
    const expected = (0.17 * 0.3 * (a.stoppedAt! - a.startedAt!)) / 3_600_000;
    const cost = JSON.parse((await ob(['cost', '--job', id, '-o', 'json'])).stdout) as {
      jobs: { usd: number; basis: string; vcpuSeconds: number }[];
      total: { usd: number };
    };
    expect(cost.jobs[0]!.usd).toBeCloseTo(expected, 12);
    expect(cost.jobs[0]!.basis).toBe('c5.xlarge $0.17/h − 70%');
    expect(cost.jobs[0]!.vcpuSeconds).toBeCloseTo((4 * (a.stoppedAt! - a.startedAt!)) / 1000, 9);
    const cfg = path.join(home, 'cost.yaml');
    fs.writeFileSync(
      cfg,
      'cost:\n  prices: {c5.xlarge: 0.2, c5.2xlarge: 0.5}\n  environments:\n    fred-compute-env-dev: {spotDiscount: 0.5}\n',
    );
    const overridden = JSON.parse(
      (await ob(['cost', '--job', id, '-o', 'json', '--config', cfg])).stdout,
    ) as { total: { usd: number } };
    expect(overridden.total.usd).toBeCloseTo((0.2 * 0.5 * (a.stoppedAt! - a.startedAt!)) / 3_600_000, 12);
    const table = await ob(['cost', '--queue', queue]);
    expect(table.stdout).toMatch(/Queues\nQUEUE +JOBS +vCPU-h +COST\nfred-job-queue-dev +1 /);
    expect(table.stdout).toMatch(/Days \(UTC\)\nDAY/);
    const desc = await ob(['describe', id]);
    expect(desc.stdout).toMatch(/Cost +\$\S+ estimated .*c5\.xlarge \$0\.17\/h − 70%/);
    expect(desc.stdout).toMatch(/Log group +\/aws\/batch\/fred-simulations-dev/);
    expect(desc.stdout).toMatch(
      /ATTEMPT +STARTED +DURATION +EXIT +REASON +LOG STREAM\n1 .* 0 +Essential container in task exited +fred\/default\//,
    );

    const gone = await ob(['destroy', 'fred-dev']);
    expect(gone.code).toBe(0);
    const order = [...gone.stdout.matchAll(/- (\w+) +AWS::/g)].map((m) => m[1]);
    expect(order.indexOf('BatchJobQueue')).toBeLessThan(order.indexOf('BatchComputeEnvironment'));
    expect(
      (
        await batch.send(
          new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['fred-compute-env-dev'] }),
        )
      ).computeEnvironments,
    ).toHaveLength(0);
    expect(
      (await batch.send(new DescribeJobQueuesCommand({ jobQueues: ['fred-job-queue-dev'] }))).jobQueues,
    ).toHaveLength(0);
    expect(
      (
        await logs.send(
          new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/batch/fred-simulations-dev' }),
        )
      ).logGroups,
    ).toHaveLength(0);
    expect((await ob(['outputs', 'fred-dev'])).code).toBe(1);
  });

  it('applies a CDK-style template, recording what cannot apply locally, and names template errors', async () => {
    const r = await ob(['apply', '-f', path.join(FIX, 'cdk-style.yaml'), '--stack', 'cdk-batch']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'note: Parameter BootstrapVersion (AWS::SSM::Parameter::Value<String>) uses its value',
    );
    expect(r.stdout).toContain('note: Rules (CheckBootstrapVersion) are not evaluated locally.');
    expect(r.stdout).toMatch(/Vpc8378EB38 +AWS::EC2::VPC +recorded \(no-op\) .*not applied locally/);
    expect(r.stdout).toMatch(/SeedData +Custom::SeedData +recorded \(no-op\) .*custom resource/);
    expect(r.stdout).toMatch(/CDKMetadata +AWS::CDK::Metadata +recorded/);
    expect(r.stdout).toMatch(/Queue +AWS::Batch::JobQueue +created/);
    const outs = JSON.parse((await ob(['outputs', 'cdk-batch', '-o', 'json'])).stdout) as Record<
      string,
      string
    >;
    expect(outs.SubnetAz).toBe('us-east-1a');
    const q = (await batch.send(new DescribeJobQueuesCommand({ jobQueues: [outs.QueueArn!] })))
      .jobQueues![0]!;
    expect(q.schedulingPolicyArn).toMatch(/scheduling-policy\/cdk-batch-fairshare$/);
    expect(q.jobQueueName).toMatch(/^cdk-batch-Queue-[0-9A-F]{12}$/);

    const bad = path.join(home, 'bad.json');
    const t = JSON.parse(fs.readFileSync(path.join(FIX, 'seed-001.json'), 'utf8')) as {
      Resources: Record<string, { Properties: Record<string, unknown> }>;
    };
    t.Resources.BatchJobQueue!.Properties.Priority = 'high';
    fs.writeFileSync(bad, JSON.stringify(t));
    const e = await ob([
      'apply',
      '-f',
      bad,
      '--parameters',
      path.join(FIX, 'seed-001-params.json'),
      '--stack',
      'bad',
    ]);
    expect(e.code).toBe(1);
    expect(e.stderr).toBe(
      'openbatch apply: Resources.BatchJobQueue.Properties.Priority: expected integer, got string "high".\n',
    );
    const missing = await ob(['apply', '-f', path.join(FIX, 'seed-001.json'), '--stack', 'bad']);
    expect(missing.stderr).toContain('Parameters.VpcId: no value given and no Default');
    noStack(missing);
    const gone = await ob(['destroy', 'cdk-batch']);
    expect(gone.code).toBe(0);
  });

  it('lists, describes, interrupts, terminates and cancels jobs; shows queues and environments', async () => {
    const sub = await ob([
      'submit',
      '-d',
      'hello',
      '-n',
      'sleeper',
      '--retry-attempts',
      '2',
      '--command',
      'sleep 30',
      '-o',
      'json',
    ]);
    const id = (JSON.parse(sub.stdout) as { jobId: string }).jobId;
    await waitFor(async () => (await job(id)).status === 'RUNNING', { what: 'sleeper RUNNING' });
    const list = await ob(['jobs', '--status', 'RUNNING', '--name', 'sleeper']);
    expect(list.stdout).toMatch(new RegExp(`${id} +sleeper +default +RUNNING`));
    expect(list.stdout).not.toContain('\x1b['); // no colours without a terminal
    const intr = await ob(['interrupt', '--job', id]);
    expect(intr.stdout).toMatch(new RegExp(`Interrupted 1 attempt\\(s\\):\\nJOB ID +INSTANCE\\n${id} +i-`));
    await waitFor(async () => ((await job(id)).attempts?.length ?? 0) >= 1, { what: 'first attempt ended' });
    const desc = await ob(['describe', id]);
    expect(desc.stdout).toMatch(/1 .*Host EC2 \(instance i-[0-9a-f]+\) terminated\./);
    const term = await ob(['terminate', id, '--reason', 'drill over']);
    expect(term.stdout).toContain(`Terminate requested for sleeper (${id})`);
    await waitFor(async () => (await job(id)).status === 'FAILED', { what: 'terminated' });
    expect((await job(id)).statusReason).toBe('drill over');

    const blocker = (
      JSON.parse(
        (await ob(['submit', '-d', 'hello', '-n', 'blocker', '--command', 'sleep 4', '-o', 'json'])).stdout,
      ) as { jobId: string }
    ).jobId;
    const waiting = (
      JSON.parse(
        (await ob(['submit', '-d', 'hello', '-n', 'waiting', '--depends-on', blocker, '-o', 'json'])).stdout,
      ) as { jobId: string }
    ).jobId;
    const cancel = await ob(['cancel', waiting, '--reason', 'not needed']);
    expect(cancel.code).toBe(0);
    await ob(['terminate', blocker]);
    await waitFor(async () => (await job(waiting)).status === 'FAILED', { what: 'cancelled' });

    const watch = await ob([
      'jobs',
      '--watch',
      '--iterations',
      '2',
      '--poll-interval',
      '0.1',
      '--name',
      'waiter',
    ]);
    expect(watch.stdout).toMatch(/waiter +default +SUCCEEDED/);
    const queues = await ob(['queues']);
    expect(queues.stdout).toMatch(/NAME +STATE +STATUS +PRIORITY +ENVIRONMENTS/);
    expect(queues.stdout).toMatch(/fsq +ENABLED +VALID +1 +1:default +fs /);
    const envs = await ob(['envs']);
    expect(envs.stdout).toMatch(/default +MANAGED +EC2 +ENABLED +VALID/);
  });
});
