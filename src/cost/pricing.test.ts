import { describe, expect, it } from 'vitest';

import { buildCostReport, type CostJob } from './cost-report.js';
import { environmentPricing, hourlyRate } from './pricing.js';

const seed001Env = environmentPricing({
  computeEnvironmentName: 'fred-spot',
  type: 'MANAGED',
  computeResources: { type: 'SPOT', instanceTypes: ['c5.xlarge', 'c5.2xlarge'] },
});

describe('cost estimate', () => {
  it('reproduces seed 001: 100 runs × 30 min on spot c5.xlarge ≈ $2.50/day', () => {
    const job = { vcpus: 4, memoryMiB: 8192, gpus: 0 };
    const rate = hourlyRate(job, seed001Env);
    expect(rate.instanceType).toBe('c5.xlarge');
    expect(rate.usdPerHour).toBeCloseTo(0.051, 6); // $0.17 × (1 − 0.70) ≈ "$0.05/h"
    const day = Date.UTC(2025, 4, 18, 0, 0, 0);
    const jobs: CostJob[] = Array.from({ length: 100 }, (_, i) => ({
      jobId: `run-${i}`,
      jobName: 'fred-run',
      queue: 'fred-queue',
      shape: job,
      attempts: [
        { startedAt: day + i * 60_000, stoppedAt: day + i * 60_000 + 30 * 60_000, environment: seed001Env },
      ],
    }));
    const report = buildCostReport(jobs);
    expect(report.jobs[0]!.usd).toBeCloseTo(0.0255, 6); // "~$0.025 per run"
    expect(report.total.usd).toBeCloseTo(2.55, 6);
    expect(Math.abs(report.total.usd - 2.5) / 2.5).toBeLessThan(0.05); // "≈ $2.50/day"
    expect(report.days).toEqual([
      { day: '2025-05-18', jobs: 100, vcpuHours: 200, usd: expect.closeTo(2.55, 6) },
    ]);
    expect(report.queues[0]).toMatchObject({ queue: 'fred-queue', jobs: 100 });
    expect(report.total.memoryGiBHours).toBeCloseTo(400, 6);
  });

  it('on-demand is the seed’s fallback figure ($0.17/h, ~$0.085 per run)', () => {
    const od = environmentPricing({
      computeEnvironmentName: 'od',
      computeResources: { type: 'EC2', instanceTypes: ['c5.xlarge'] },
    });
    expect(hourlyRate({ vcpus: 4, memoryMiB: 8192, gpus: 0 }, od).usdPerHour).toBeCloseTo(0.17, 6);
  });

  it('prices a small job as its share of the cheapest fitting type', () => {
    const r = hourlyRate({ vcpus: 1, memoryMiB: 2048, gpus: 0 }, seed001Env);
    expect(r.share).toBeCloseTo(0.25);
    expect(r.usdPerHour).toBeCloseTo(0.17 * 0.25 * 0.3, 8);
    // memory-bound: 4 vCPU-equivalent of memory on c5.xlarge → the whole instance
    expect(hourlyRate({ vcpus: 1, memoryMiB: 8192, gpus: 0 }, seed001Env).usdPerHour).toBeCloseTo(0.051, 6);
    // does not fit c5.xlarge → priced on c5.2xlarge
    const big = hourlyRate({ vcpus: 6, memoryMiB: 12000, gpus: 0 }, seed001Env);
    expect(big.instanceType).toBe('c5.2xlarge');
    expect(big.usdPerHour).toBeCloseTo(0.34 * 0.75 * 0.3, 8);
  });

  it('applies config overrides: per-environment discount, instance prices, flat rates', () => {
    const cfg = { prices: { 'c5.xlarge': 0.2 }, environments: { 'fred-spot': { spotDiscount: 0.5 } } };
    const env = environmentPricing(
      {
        computeEnvironmentName: 'fred-spot',
        computeResources: { type: 'SPOT', instanceTypes: ['c5.xlarge'] },
      },
      cfg,
    );
    expect(env.discount).toBe(0.5);
    expect(hourlyRate({ vcpus: 4, memoryMiB: 8192, gpus: 0 }, env, cfg).usdPerHour).toBeCloseTo(0.1, 8);
    const flat = environmentPricing(
      { computeEnvironmentName: 'x', computeResources: { type: 'EC2', instanceTypes: ['optimal'] } },
      { environments: { x: { pricePerVcpuHour: 0.01 } } },
    );
    expect(hourlyRate({ vcpus: 3, memoryMiB: 1, gpus: 0 }, flat).usdPerHour).toBeCloseTo(0.03, 8);
    const unknown = environmentPricing({
      computeEnvironmentName: 'u',
      computeResources: { type: 'EC2', instanceTypes: ['zz9.huge'] },
    });
    expect(hourlyRate({ vcpus: 2, memoryMiB: 1, gpus: 0 }, unknown).usdPerHour).toBeCloseTo(0.085, 8);
  });

  it('prices Fargate per vCPU and GB', () => {
    const env = environmentPricing({
      computeEnvironmentName: 'f',
      computeResources: { type: 'FARGATE_SPOT' },
    });
    expect(hourlyRate({ vcpus: 1, memoryMiB: 2048, gpus: 0 }, env).usdPerHour).toBeCloseTo(
      (0.04048 + 2 * 0.004445) * 0.3,
      8,
    );
  });
});
