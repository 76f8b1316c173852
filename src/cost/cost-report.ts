/**
 * @module cost/cost-report
 * Aggregate attempt costs per job, queue and UTC day. Pure: callers gather the jobs.
 */
import { attemptCost, type EnvironmentPricing, type JobShape, type PricingConfig } from './pricing.js';

export interface CostAttempt {
  startedAt: number;
  stoppedAt: number;
  /** The environment the attempt ran on. */
  environment: EnvironmentPricing;
}

export interface CostJob {
  jobId: string;
  jobName: string;
  queue: string;
  shape: JobShape;
  attempts: CostAttempt[];
}

export interface JobCost {
  jobId: string;
  jobName: string;
  queue: string;
  attempts: number;
  vcpuSeconds: number;
  memoryGiBSeconds: number;
  usd: number;
  environment?: string | undefined;
  basis?: string | undefined;
}

export interface CostReport {
  jobs: JobCost[];
  queues: { queue: string; jobs: number; vcpuHours: number; usd: number }[];
  days: { day: string; jobs: number; vcpuHours: number; usd: number }[];
  total: { jobs: number; vcpuHours: number; memoryGiBHours: number; usd: number };
}

export function buildCostReport(jobs: readonly CostJob[], cfg: PricingConfig = {}): CostReport {
  const out: JobCost[] = [];
  const queues = new Map<string, { jobs: Set<string>; vcpuHours: number; usd: number }>();
  const days = new Map<string, { jobs: Set<string>; vcpuHours: number; usd: number }>();
  let memTotal = 0;
  for (const j of jobs) {
    let usd = 0;
    let vcpuSeconds = 0;
    let memSeconds = 0;
    let basis: string | undefined;
    let env: string | undefined;
    for (const a of j.attempts) {
      const ms = Math.max(0, a.stoppedAt - a.startedAt);
      const c = attemptCost(j.shape, ms, a.environment, cfg);
      usd += c.usd;
      vcpuSeconds += (j.shape.vcpus * ms) / 1000;
      memSeconds += ((j.shape.memoryMiB / 1024) * ms) / 1000;
      basis = c.rate.basis;
      env = a.environment.name;
      const day = new Date(a.startedAt).toISOString().slice(0, 10);
      for (const [map, k] of [
        [days, day],
        [queues, j.queue],
      ] as const) {
        const e = map.get(k) ?? { jobs: new Set<string>(), vcpuHours: 0, usd: 0 };
        e.jobs.add(j.jobId);
        e.vcpuHours += (j.shape.vcpus * ms) / 3_600_000;
        e.usd += c.usd;
        map.set(k, e);
      }
    }
    memTotal += memSeconds;
    out.push({
      jobId: j.jobId,
      jobName: j.jobName,
      queue: j.queue,
      attempts: j.attempts.length,
      vcpuSeconds,
      memoryGiBSeconds: memSeconds,
      usd,
      environment: env,
      basis,
    });
  }
  const flat = <K extends string>(
    m: Map<string, { jobs: Set<string>; vcpuHours: number; usd: number }>,
    key: K,
  ) =>
    [...m.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([k, v]) =>
          ({ [key]: k, jobs: v.jobs.size, vcpuHours: v.vcpuHours, usd: v.usd }) as { [P in K]: string } & {
            jobs: number;
            vcpuHours: number;
            usd: number;
          },
      );
  return {
    jobs: out,
    queues: flat(queues, 'queue'),
    days: flat(days, 'day'),
    total: {
      jobs: out.length,
      vcpuHours: out.reduce((a, j) => a + j.vcpuSeconds / 3600, 0),
      memoryGiBHours: memTotal / 3600,
      usd: out.reduce((a, j) => a + j.usd, 0),
    },
  };
}
