/**
 * Cluster bench: 3 openbatch nodes on one PostgreSQL vs one node on SQLite, same machine, same run.
 *   npm run build && npx vite-node bench/cluster/cluster-bench.ts [jobs=2000] [--durable]
 * Measures SubmitJob/s (16 concurrent clients, round-robin over the nodes), trivial jobs/s end to end
 * (first submit → last SUCCEEDED, command `true`) and failover (kill -9 the leader → another node
 * leads; → first SubmitJob accepted again). PostgreSQL runs with fsync on when --durable is given.
 */
import { BatchClient, CreateComputeEnvironmentCommand, CreateJobQueueCommand, DescribeComputeEnvironmentsCommand, ListJobsCommand, RegisterJobDefinitionCommand, SubmitJobCommand } from '@aws-sdk/client-batch';

import { startPostgres } from '../../test/helpers/postgres.js';
import { sdkConfig, startChildServer, tempDir, waitFor, type ChildServer } from '../../test/helpers/start-server.js';

const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 2000);
const durable = process.argv.includes('--durable');
const client = (s: ChildServer): BatchClient => new BatchClient({ ...sdkConfig(s.url), maxAttempts: 10 });

async function setup(s: ChildServer): Promise<void> {
  const c = client(s);
  await c.send(new CreateComputeEnvironmentCommand({ computeEnvironmentName: 'bce', type: 'MANAGED', computeResources: { type: 'EC2', minvCpus: 0, maxvCpus: 32, instanceTypes: ['optimal'], subnets: ['s'], securityGroupIds: ['g'], instanceRole: 'r' } }));
  await waitFor(async () => (await c.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['bce'] }))).computeEnvironments?.[0]?.status === 'VALID');
  await c.send(new CreateJobQueueCommand({ jobQueueName: 'bq', priority: 1, computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'bce' }] }));
  await c.send(new RegisterJobDefinitionCommand({ jobDefinitionName: 'true', type: 'container', containerProperties: { image: 'busybox', command: ['true'], resourceRequirements: [{ type: 'VCPU', value: '1' }, { type: 'MEMORY', value: '16' }] } }));
  c.destroy();
}

async function run(servers: ChildServer[], label: string): Promise<{ submitPerS: number; jobsPerS: number }> {
  const clients = servers.map(client);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < N; i = next++) await clients[i % clients.length]!.send(new SubmitJobCommand({ jobName: `b${i}`, jobQueue: 'bq', jobDefinition: 'true' }));
    }),
  );
  const tSubmit = performance.now();
  await waitFor(
    async () => {
      let n = 0;
      let token: string | undefined;
      do {
        const p = await clients[0]!.send(new ListJobsCommand({ jobQueue: 'bq', jobStatus: 'SUCCEEDED', maxResults: 1000, ...(token ? { nextToken: token } : {}) }));
        n += p.jobSummaryList?.length ?? 0;
        token = p.nextToken;
      } while (token);
      return n >= N;
    },
    { timeoutMs: 600_000, intervalMs: 250, what: `${N} jobs` },
  );
  const tDone = performance.now();
  for (const c of clients) c.destroy();
  const r = { submitPerS: N / ((tSubmit - t0) / 1000), jobsPerS: N / ((tDone - t0) / 1000) };
  console.log(`${label}: SubmitJob ${r.submitPerS.toFixed(0)}/s, trivial jobs end to end ${r.jobsPerS.toFixed(0)}/s (${N} jobs)`);
  return r;
}

const single = await startChildServer(['--no-defaults']);
await setup(single);
await run([single], 'single node, SQLite');
await single.kill('SIGTERM');

const pg = await startPostgres({ durable });
const nodes = await Promise.all(['n1', 'n2', 'n3'].map((id) => startChildServer(['--database', pg.url, '--node-id', id, '--no-defaults'], tempDir())));
const health = async (s: ChildServer): Promise<{ nodeId: string; cluster: { isLeader: boolean; leader: string | null } }> => (await (await fetch(`${s.url}/health`)).json()) as never;
await waitFor(async () => (await Promise.all(nodes.map(health))).every((h) => h.cluster.leader), { timeoutMs: 30_000 });
await setup(nodes[0]!);
await run(nodes, `3 nodes, PostgreSQL${durable ? ' (fsync on)' : ' (fsync off)'}`);

const leaderId = (await health(nodes[0]!)).cluster.leader!;
const leader = nodes.find((_, i) => `n${i + 1}` === leaderId)!;
const rest = nodes.filter((n) => n !== leader);
await leader.kill('SIGKILL');
const k = performance.now();
const newLeader = await waitFor(async () => {
  for (const s of rest) {
    const h = await health(s).catch(() => undefined);
    if (h?.cluster.isLeader) return h.nodeId;
  }
  return undefined;
}, { timeoutMs: 60_000, intervalMs: 50 });
const tLead = performance.now() - k;
const c = new BatchClient({ ...sdkConfig(rest[0]!.url), maxAttempts: 1 });
await waitFor(async () => (await c.send(new SubmitJobCommand({ jobName: 'after', jobQueue: 'bq', jobDefinition: 'true' }))).jobId, { timeoutMs: 60_000, intervalMs: 50 });
const tSubmit = performance.now() - k;
c.destroy();
console.log(`failover: leader ${leaderId} killed -9; ${newLeader} leads after ${(tLead / 1000).toFixed(2)} s; SubmitJob accepted again after ${(tSubmit / 1000).toFixed(2)} s`);
for (const s of rest) await s.kill('SIGTERM');
await pg.stop();
process.exit(0);
