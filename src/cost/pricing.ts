/**
 * @module cost/pricing
 * Price of running one job attempt on a compute environment.
 *
 * Formula (documented in docs/cli.md): among the environment's instance types that fit the job
 * (vCPUs, memory and GPUs), take the one where the job's share of the instance costs least:
 *   hourly = onDemandPrice(type) × max(jobVcpus / typeVcpus, jobMemory / typeMemory, jobGpus / typeGpus)
 * then apply the environment's discount (SPOT / FARGATE_SPOT: `spotDiscount`, default 70% off) and
 * multiply by the attempt's hours (startedAt → stoppedAt). Fargate uses its per-vCPU and per-GB rates.
 * When no listed type is known, a flat per-vCPU-hour rate is used (default: c5's on-demand rate).
 */
import { expandInstanceTypes, type InstanceTypeInfo } from '../core/compute-environments/instance-types.js';

export const DEFAULT_SPOT_DISCOUNT = 0.7;
/** c5 on-demand: $0.17/h for 4 vCPUs. */
export const DEFAULT_PRICE_PER_VCPU_HOUR = 0.0425;
export const FARGATE_VCPU_HOUR = 0.04048;
export const FARGATE_GB_HOUR = 0.004445;

export type Provisioning = 'EC2' | 'SPOT' | 'FARGATE' | 'FARGATE_SPOT' | 'UNMANAGED';

export interface PricingConfig {
  spotDiscount?: number | undefined;
  prices?: Record<string, number> | undefined;
  defaultPricePerVcpuHour?: number | undefined;
  environments?:
    | Record<
        string,
        {
          spotDiscount?: number | undefined;
          instanceTypes?: string[] | undefined;
          pricePerVcpuHour?: number | undefined;
        }
      >
    | undefined;
}

export interface EnvironmentPricing {
  name: string;
  provisioning: Provisioning;
  instanceTypes: readonly string[];
  /** Fraction off on-demand, 0..1. */
  discount: number;
  /** Flat rate override. */
  pricePerVcpuHour?: number | undefined;
}

export interface JobShape {
  vcpus: number;
  memoryMiB: number;
  gpus: number;
}

export interface HourlyRate {
  /** USD per hour for this job on this environment, after the discount. */
  usdPerHour: number;
  /** The instance type priced (undefined for Fargate / flat rates). */
  instanceType?: string | undefined;
  onDemandPerHour?: number | undefined;
  /** The job's share of that instance (0..1]. */
  share?: number | undefined;
  basis: string;
}

/** Pricing facts of a compute environment, with config overrides applied. */
export function environmentPricing(
  ce: {
    computeEnvironmentName?: string | undefined;
    type?: string | undefined;
    computeResources?: { type?: string | undefined; instanceTypes?: string[] | undefined } | undefined;
  },
  cfg: PricingConfig = {},
): EnvironmentPricing {
  const name = ce.computeEnvironmentName ?? '?';
  const over = cfg.environments?.[name];
  const provisioning: Provisioning =
    ce.type === 'UNMANAGED'
      ? 'UNMANAGED'
      : ((ce.computeResources?.type as Provisioning | undefined) ?? 'EC2');
  const spot = provisioning === 'SPOT' || provisioning === 'FARGATE_SPOT';
  const discount = over?.spotDiscount ?? (spot ? (cfg.spotDiscount ?? DEFAULT_SPOT_DISCOUNT) : 0);
  return {
    name,
    provisioning,
    instanceTypes: over?.instanceTypes ?? ce.computeResources?.instanceTypes ?? [],
    discount,
    ...(over?.pricePerVcpuHour !== undefined ? { pricePerVcpuHour: over.pricePerVcpuHour } : {}),
  };
}

function price(t: InstanceTypeInfo, cfg: PricingConfig): number {
  return cfg.prices?.[t.name] ?? t.pricePerHour;
}

/** The cheapest hourly rate for `job` on `env`. */
export function hourlyRate(job: JobShape, env: EnvironmentPricing, cfg: PricingConfig = {}): HourlyRate {
  const keep = 1 - env.discount;
  const pct = env.discount > 0 ? ` − ${Math.round(env.discount * 100)}%` : '';
  if (env.pricePerVcpuHour !== undefined) {
    return {
      usdPerHour: env.pricePerVcpuHour * job.vcpus * keep,
      basis: `${job.vcpus} vCPU × $${env.pricePerVcpuHour}/vCPU-h (config)${pct}`,
    };
  }
  if (env.provisioning === 'FARGATE' || env.provisioning === 'FARGATE_SPOT') {
    const gb = job.memoryMiB / 1024;
    return {
      usdPerHour: (job.vcpus * FARGATE_VCPU_HOUR + gb * FARGATE_GB_HOUR) * keep,
      basis: `Fargate ${job.vcpus} vCPU × $${FARGATE_VCPU_HOUR} + ${gb.toFixed(1)} GB × $${FARGATE_GB_HOUR}${pct}`,
    };
  }
  const types = env.instanceTypes.length ? expandInstanceTypes(env.instanceTypes) : [];
  let best: HourlyRate | undefined;
  for (const t of types) {
    if (t.vcpus < job.vcpus || t.memoryMiB < job.memoryMiB || t.gpus < job.gpus) continue;
    const share = Math.min(
      1,
      Math.max(job.vcpus / t.vcpus, job.memoryMiB / t.memoryMiB, job.gpus > 0 ? job.gpus / t.gpus : 0),
    );
    const od = price(t, cfg);
    const usdPerHour = od * share * keep;
    if (!best || usdPerHour < best.usdPerHour) {
      best = {
        usdPerHour,
        instanceType: t.name,
        onDemandPerHour: od,
        share,
        basis: `${share < 1 ? `${(share * 100).toFixed(0)}% of ` : ''}${t.name} $${od}/h${pct}`,
      };
    }
  }
  if (best) return best;
  const rate = cfg.defaultPricePerVcpuHour ?? DEFAULT_PRICE_PER_VCPU_HOUR;
  return {
    usdPerHour: rate * job.vcpus * keep,
    basis: `${job.vcpus} vCPU × $${rate}/vCPU-h (no listed instance type fits or is known)${pct}`,
  };
}

/** Cost in USD of one attempt of `durationMs`. */
export function attemptCost(
  job: JobShape,
  durationMs: number,
  env: EnvironmentPricing,
  cfg: PricingConfig = {},
): { usd: number; rate: HourlyRate } {
  const rate = hourlyRate(job, env, cfg);
  return { usd: (rate.usdPerHour * Math.max(0, durationMs)) / 3_600_000, rate };
}
