/**
 * Three openbatch nodes on one real PostgreSQL (child processes, `--database … --node-id nX`):
 * (a) jobs submitted round-robin to every node all SUCCEED exactly once, executed on several nodes;
 * (b) kill -9 the scheduler leader mid-run: another node takes over within seconds; no job lost or run
 *     twice, except attempts on the dead node, which retry as host loss;
 * (c) kill -9 a worker node: its attempts are retried;
 * (d) restart every node: all state is found again (jobs, logs).
 * The scenarios share one cluster and run in order.
 */
import {
  BatchClient,
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  DescribeComputeEnvironmentsCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
  type JobDetail,
} from '@aws-sdk/client-batch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findPostgresBinaries, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { sdkConfig, startChildServer, tempDir, waitFor, type ChildServer } from '../helpers/start-server.js';

const binaries = findPostgresBinaries();
const required = Boolean(process.env.CI || process.env.OPENBATCH_REQUIRE_POSTGRES);
if (!binaries && required) {
  it('PostgreSQL binaries are available (required in CI)', () => expect.fail('initdb/pg_ctl not found'));
}

/** Jobs in scenario (a); 600 keeps the file well under 2 minutes on 2 cores (see the bench for thousands). */
const N_JOBS = Number(process.env.OPENBATCH_CLUSTER_TEST_JOBS ?? 600);
const NODE_IDS = ['n1', 'n2', 'n3'] as const;

interface Health {
  nodeId: string;
  cluster: {
    leader: string | null;
    isLeader: boolean;
    runningHere: number;
    nodes: { nodeId: string; live: boolean }[];
  };
}

describe.skipIf(!binaries)('three nodes on one PostgreSQL', () => {
  let pgsrv: RunningPostgres;
  const nodes = new Map<string, ChildServer>();
  const dataDirs = new Map<string, string>();
  const submitted: string[] = [];

  const start = async (id: string): Promise<ChildServer> => {
    let dir = dataDirs.get(id);
    if (!dir) dataDirs.set(id, (dir = tempDir(`openbatch-${id}-`)));
    const s = await startChildServer(
      ['--database', pgsrv.url, '--node-id', id, '--kill-grace-ms', '2000'],
      dir,
    );
    nodes.set(id, s);
    return s;
  };
  const health = async (s: ChildServer): Promise<Health> =>
    (await (await fetch(`${s.url}/health`)).json()) as Health;
  const batch = (s: ChildServer): BatchClient => new BatchClient({ ...sdkConfig(s.url), maxAttempts: 8 });
  const alive = (): ChildServer[] =>
    [...nodes.values()].filter((s) => s.proc.exitCode === null && s.proc.signalCode === null);
  const leaderOf = async (): Promise<string | undefined> => {
    for (const s of alive()) {
      try {
        const h = await health(s);
        if (h.cluster.isLeader) return h.nodeId;
      } catch {
        /* starting or dying */
      }
    }
    return undefined;
  };
  const waitCluster = async (live: number): Promise<string> =>
    waitFor(
      async () => {
        const hs = await Promise.all(alive().map((s) => health(s)));
        const leaders = new Set(hs.map((h) => h.cluster.leader));
        const l = hs[0]!.cluster.leader;
        return leaders.size === 1 &&
          l &&
          hs.every((h) => h.cluster.nodes.filter((n) => n.live).length === live)
          ? l
          : undefined;
      },
      { timeoutMs: 30_000, what: `a cluster of ${live} nodes with one leader` },
    );

  const describeAll = async (client: BatchClient, ids: readonly string[]): Promise<JobDetail[]> => {
    const out: JobDetail[] = [];
    for (let i = 0; i < ids.length; i += 100)
      out.push(...((await client.send(new DescribeJobsCommand({ jobs: ids.slice(i, i + 100) }))).jobs ?? []));
    return out;
  };
  const waitAllDone = async (
    client: BatchClient,
    ids: readonly string[],
    timeoutMs: number,
  ): Promise<JobDetail[]> =>
    waitFor(
      async () => {
        const jobs = await describeAll(client, ids);
        return jobs.length === ids.length &&
          jobs.every((j) => j.status === 'SUCCEEDED' || j.status === 'FAILED')
          ? jobs
          : undefined;
      },
      { timeoutMs, intervalMs: 500, what: `${ids.length} jobs to finish` },
    );
  /** Output lines per job id (every job prints `ran <jobId> <node>` once per attempt that completed). */
  const linesByJob = async (s: ChildServer, startTime: number): Promise<Map<string, string[]>> => {
    const logs = new CloudWatchLogsClient({ ...sdkConfig(s.url), maxAttempts: 8 });
    const out = new Map<string, string[]>();
    let token: string | undefined;
    do {
      const page = await logs.send(
        new FilterLogEventsCommand({
          logGroupName: '/aws/batch/job',
          filterPattern: 'ran',
          startTime,
          limit: 10_000,
          ...(token ? { nextToken: token } : {}),
        }),
      );
      for (const e of page.events ?? []) {
        const [, jobId, node] = (e.message ?? '').split(' ');
        if (!jobId) continue;
        const l = out.get(jobId) ?? [];
        l.push(node ?? '');
        out.set(jobId, l);
      }
      token = page.nextToken;
    } while (token);
    logs.destroy();
    return out;
  };
  const submitSpread = async (count: number, jd: string, prefix: string): Promise<string[]> => {
    const clients = alive().map(batch);
    const ids: string[] = new Array<string>(count);
    let next = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        for (let i = next++; i < count; i = next++) {
          const c = clients[i % clients.length]!;
          ids[i] = (
            await c.send(
              new SubmitJobCommand({ jobName: `${prefix}-${i}`, jobQueue: 'clq', jobDefinition: jd }),
            )
          ).jobId!;
        }
      }),
    );
    for (const c of clients) c.destroy();
    submitted.push(...ids);
    return ids;
  };

  beforeAll(async () => {
    pgsrv = await startPostgres();
    // Start concurrently: migrations and default resources race on an empty database.
    await Promise.all(NODE_IDS.map((id) => start(id)));
    await waitCluster(3);
    const c = batch(nodes.get('n2')!);
    await c.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: 'clce',
        type: 'MANAGED',
        computeResources: {
          type: 'EC2',
          minvCpus: 0,
          maxvCpus: 24,
          instanceTypes: ['optimal'],
          subnets: ['subnet-1'],
          securityGroupIds: ['sg-1'],
          instanceRole: 'ecsInstanceRole',
        },
      }),
    );
    await waitFor(
      async () =>
        (await c.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['clce'] })))
          .computeEnvironments?.[0]?.status === 'VALID',
    );
    await c.send(
      new CreateJobQueueCommand({
        jobQueueName: 'clq',
        priority: 1,
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'clce' }],
      }),
    );
    const retry = {
      attempts: 3,
      evaluateOnExit: [
        { onStatusReason: 'Host EC2*', action: 'RETRY' as const },
        { onReason: '*', action: 'EXIT' as const },
      ],
    };
    const res = [
      { type: 'VCPU' as const, value: '1' },
      { type: 'MEMORY' as const, value: '32' },
    ];
    await c.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'quick',
        type: 'container',
        retryStrategy: retry,
        containerProperties: {
          image: 'busybox',
          command: ['sh', '-c', 'echo ran $AWS_BATCH_JOB_ID $OPENBATCH_NODE_ID'],
          resourceRequirements: res,
        },
      }),
    );
    await c.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: 'slow',
        type: 'container',
        retryStrategy: retry,
        containerProperties: {
          image: 'busybox',
          command: ['sh', '-c', 'sleep 3; echo ran $AWS_BATCH_JOB_ID $OPENBATCH_NODE_ID'],
          resourceRequirements: res,
        },
      }),
    );
    c.destroy();
  }, 120_000);

  afterAll(async () => {
    if (process.env.OPENBATCH_CLUSTER_TEST_DUMP)
      for (const [id, s] of nodes) process.stderr.write(`--- ${id}\n${s.output().slice(-3000)}\n`);
    for (const s of nodes.values()) await s.kill('SIGKILL');
    await pgsrv?.stop();
  });

  it('(a) runs jobs submitted to every node exactly once, on more than one node', async () => {
    const t0 = Date.now();
    const ids = await submitSpread(N_JOBS, 'quick', 'a');
    const submitSecs = (Date.now() - t0) / 1000;
    const c = batch(nodes.get('n3')!);
    const jobs = await waitAllDone(c, ids, 120_000);
    const secs = (Date.now() - t0) / 1000;
    process.stderr.write(
      `cluster (a): ${N_JOBS} jobs submitted in ${submitSecs.toFixed(1)} s, all done in ${secs.toFixed(1)} s\n`,
    );
    expect(jobs.filter((j) => j.status !== 'SUCCEEDED').map((j) => [j.jobId, j.statusReason])).toEqual([]);
    expect(jobs.filter((j) => (j.attempts ?? []).length !== 1).map((j) => j.jobId)).toEqual([]);
    const lines = await waitFor(
      async () => {
        const l = await linesByJob(nodes.get('n1')!, t0 - 60_000);
        return ids.every((id) => l.has(id)) ? l : undefined;
      },
      { what: 'every job line in the shared log store' },
    );
    for (const id of ids) expect(lines.get(id)).toHaveLength(1);
    const perNode = new Map<string, number>();
    for (const id of ids) perNode.set(lines.get(id)![0]!, (perNode.get(lines.get(id)![0]!) ?? 0) + 1);
    process.stderr.write(`cluster (a): executions per node ${JSON.stringify(Object.fromEntries(perNode))}\n`);
    expect(perNode.size).toBeGreaterThan(1);
    c.destroy();
  }, 180_000);

  it('(b) survives kill -9 of the leader: takeover within seconds, nothing lost, nothing run twice', async () => {
    const leader = await waitCluster(3);
    const ids = await submitSpread(60, 'slow', 'b');
    const t0 = Date.now();
    const others = NODE_IDS.filter((id) => id !== leader);
    // Wait until attempts are running, so the kill lands mid-run.
    await waitFor(
      async () => {
        const jobs = await describeAll(batch(nodes.get(others[0]!)!), ids);
        return jobs.filter((j) => j.status === 'RUNNING').length >= 10;
      },
      { what: 'running attempts' },
    );
    const killedAt = Date.now();
    await nodes.get(leader)!.kill('SIGKILL');
    const next = await waitFor(
      async () => {
        const l = await leaderOf();
        return l && l !== leader ? l : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'a new leader' },
    );
    const failoverMs = Date.now() - killedAt;
    process.stderr.write(`cluster (b): leader ${leader} killed; ${next} took over after ${failoverMs} ms\n`);
    expect(failoverMs).toBeLessThanOrEqual(12_000);
    const c = batch(nodes.get(next)!);
    const jobs = await waitAllDone(c, ids, 90_000);
    expect(
      jobs.filter((j) => j.status !== 'SUCCEEDED').map((j) => [j.jobId, j.statusReason, j.attempts]),
    ).toEqual([]);
    const lines = await linesByJob(nodes.get(next)!, t0 - 60_000);
    let retried = 0;
    for (const j of jobs) {
      const attempts = j.attempts ?? [];
      // Every attempt but the last ended as a lost host; the job printed once per completed attempt.
      for (const a of attempts.slice(0, -1))
        expect(a.statusReason).toMatch(/^Host EC2 \(instance .+\) terminated\.$/);
      const n = lines.get(j.jobId!)?.length ?? 0;
      if (attempts.length === 1) expect(n).toBe(1);
      else {
        retried++;
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(attempts.length);
      }
    }
    process.stderr.write(`cluster (b): ${retried} of ${jobs.length} jobs retried after host loss\n`);
    // Restart the killed node for the next scenarios.
    await start(leader);
    await waitCluster(3);
    c.destroy();
  }, 180_000);

  it('(c) retries the attempts of a worker killed with -9', async () => {
    const leader = await waitCluster(3);
    const ids = await submitSpread(40, 'slow', 'c');
    const worker = NODE_IDS.find((id) => id !== leader)!;
    await waitFor(async () => (await health(nodes.get(worker)!)).cluster.runningHere >= 2, {
      what: `attempts running on ${worker}`,
    });
    await nodes.get(worker)!.kill('SIGKILL');
    const c = batch(nodes.get(leader)!);
    const jobs = await waitAllDone(c, ids, 90_000);
    expect(jobs.filter((j) => j.status !== 'SUCCEEDED').map((j) => [j.jobId, j.statusReason])).toEqual([]);
    const retried = jobs.filter((j) => (j.attempts ?? []).length > 1);
    expect(retried.length).toBeGreaterThanOrEqual(2);
    for (const j of retried)
      expect(j.attempts![0]!.statusReason).toMatch(/^Host EC2 \(instance .+\) terminated\.$/);
    process.stderr.write(`cluster (c): worker ${worker} killed; ${retried.length} jobs retried\n`);
    await start(worker);
    await waitCluster(3);
    c.destroy();
  }, 180_000);

  it('(d) finds all state after every node restarts', async () => {
    for (const s of alive()) await s.kill('SIGTERM');
    await Promise.all(NODE_IDS.map((id) => start(id)));
    await waitCluster(3);
    const c = batch(nodes.get('n1')!);
    const jobs = await describeAll(c, submitted);
    expect(jobs).toHaveLength(submitted.length);
    expect(jobs.every((j) => j.status === 'SUCCEEDED')).toBe(true);
    let listed = 0;
    let token: string | undefined;
    do {
      const page = await c.send(
        new ListJobsCommand({
          jobQueue: 'clq',
          jobStatus: 'SUCCEEDED',
          maxResults: 1000,
          ...(token ? { nextToken: token } : {}),
        }),
      );
      listed += page.jobSummaryList?.length ?? 0;
      token = page.nextToken;
    } while (token);
    expect(listed).toBe(submitted.length);
    const lines = await linesByJob(nodes.get('n3')!, 0);
    expect(submitted.filter((id) => !lines.has(id))).toEqual([]);
    c.destroy();
  }, 120_000);
});
