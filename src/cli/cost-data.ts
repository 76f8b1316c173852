/**
 * @module cli/cost-data
 * Gather what the cost estimate needs from the API: compute environments (instance types,
 * provisioning), queues (environment order) and jobs with their attempts.
 */
import type { ComputeEnvironmentDetail, JobDetail, JobQueueDetail } from '@aws-sdk/client-batch';

import { buildCostReport, type CostJob, type CostReport } from '../cost/cost-report.js';
import { environmentPricing, type EnvironmentPricing, type PricingConfig } from '../cost/pricing.js';
import type { OpenbatchClient } from '../sdk/client.js';
import { isArrayParent, jobResources, shortName } from './job-info.js';

export interface Catalog {
  environments: ComputeEnvironmentDetail[];
  queues: JobQueueDetail[];
}

export async function loadCatalog(client: OpenbatchClient): Promise<Catalog> {
  const environments: ComputeEnvironmentDetail[] = [];
  let token: string | undefined;
  do {
    const r = await client.batch.describeComputeEnvironments({ ...(token ? { nextToken: token } : {}) });
    environments.push(...(r.computeEnvironments ?? []));
    token = r.nextToken;
  } while (token);
  const queues: JobQueueDetail[] = [];
  do {
    const r = await client.batch.describeJobQueues({ ...(token ? { nextToken: token } : {}) });
    queues.push(...(r.jobQueues ?? []));
    token = r.nextToken;
  } while (token);
  return { environments, queues };
}

function clusterName(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  const m = /:(?:cluster|container-instance)\/([^/]+)/.exec(arn);
  return m?.[1];
}

/** The environment an attempt ran on (by its container instance's cluster), else the queue's first. */
export function environmentFor(
  cat: Catalog,
  job: JobDetail,
  containerInstanceArn: string | undefined,
  cfg: PricingConfig,
): EnvironmentPricing | undefined {
  const cluster = clusterName(containerInstanceArn);
  let ce = cluster ? cat.environments.find((e) => clusterName(e.ecsClusterArn) === cluster) : undefined;
  if (!ce) {
    const q = cat.queues.find((x) => x.jobQueueArn === job.jobQueue || x.jobQueueName === job.jobQueue);
    const first = [...(q?.computeEnvironmentOrder ?? [])].sort((a, b) => (a.order ?? 0) - (b.order ?? 0))[0];
    ce = first
      ? cat.environments.find(
          (e) =>
            e.computeEnvironmentArn === first.computeEnvironment ||
            e.computeEnvironmentName === first.computeEnvironment,
        )
      : undefined;
  }
  return ce ? environmentPricing(ce, cfg) : undefined;
}

const UNKNOWN_ENV = (cfg: PricingConfig): EnvironmentPricing =>
  environmentPricing(
    { computeEnvironmentName: '(unknown)', computeResources: { type: 'EC2', instanceTypes: [] } },
    cfg,
  );

/** A job's attempts with the environment each ran on; a running attempt counts up to `now`. */
export function costJob(cat: Catalog, job: JobDetail, cfg: PricingConfig, now = Date.now()): CostJob {
  const attempts = (job.attempts ?? [])
    .filter((a) => a.startedAt !== undefined && a.stoppedAt !== undefined)
    .map((a) => ({
      startedAt: a.startedAt!,
      stoppedAt: a.stoppedAt!,
      environment: environmentFor(cat, job, a.container?.containerInstanceArn, cfg) ?? UNKNOWN_ENV(cfg),
    }));
  if (job.status === 'RUNNING' && job.startedAt !== undefined) {
    attempts.push({
      startedAt: job.startedAt,
      stoppedAt: Math.max(job.startedAt, now),
      environment: environmentFor(cat, job, job.container?.containerInstanceArn, cfg) ?? UNKNOWN_ENV(cfg),
    });
  }
  return {
    jobId: job.jobId!,
    jobName: job.jobName ?? job.jobId!,
    queue: shortName(job.jobQueue),
    shape: jobResources(job),
    attempts,
  };
}

async function withChildren(client: OpenbatchClient, jobs: JobDetail[]): Promise<JobDetail[]> {
  const out: JobDetail[] = [];
  for (const j of jobs) {
    if (isArrayParent(j)) {
      const kids = await client.listJobs({
        arrayJobId: j.jobId!,
        filters: [{ name: 'AFTER_CREATED_AT', values: ['0'] }],
      });
      out.push(...(await client.describeJobs(kids.map((k) => k.jobId!))));
    } else {
      out.push(j);
    }
  }
  return out;
}

export interface CostQuery {
  sinceMs?: number | undefined;
  queue?: string | undefined;
  jobIds?: string[] | undefined;
}

export async function gatherCost(
  client: OpenbatchClient,
  q: CostQuery,
  cfg: PricingConfig,
): Promise<{ report: CostReport; catalog: Catalog }> {
  const catalog = await loadCatalog(client);
  let jobs: JobDetail[];
  if (q.jobIds?.length) {
    jobs = await client.describeJobs(q.jobIds);
  } else {
    const queues = q.queue ? [q.queue] : catalog.queues.map((x) => x.jobQueueName!);
    const ids: string[] = [];
    for (const queue of queues) {
      const list = await client.listJobs({
        jobQueue: queue,
        filters: [{ name: 'AFTER_CREATED_AT', values: [String(q.sinceMs ?? 0)] }],
      });
      ids.push(...list.map((s) => s.jobId!));
    }
    jobs = await client.describeJobs(ids);
  }
  const all = await withChildren(client, jobs);
  return {
    report: buildCostReport(
      all.map((j) => costJob(catalog, j, cfg)),
      cfg,
    ),
    catalog,
  };
}
