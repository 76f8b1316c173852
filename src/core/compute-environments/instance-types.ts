/**
 * @module core/compute-environments/instance-types
 * A table of common EC2 instance types: vCPUs, memory (MiB), GPUs and the Linux on-demand price in
 * us-east-1 (USD/hour, public list prices; approximate, for estimates only). Families (`c5`) expand
 * to every size; `optimal`, `default_x86_64` and `default_arm64` are treated as a c5/m5/r5 mix.
 * The job engine uses `largestInstance` for "can this job ever fit"; the CLI cost estimator uses prices.
 */

export interface InstanceTypeInfo {
  readonly name: string;
  readonly family: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly gpus: number;
  /** On-demand Linux price in us-east-1, USD per hour. */
  readonly pricePerHour: number;
}

const GiB = 1024;

// [size, vCPUs, memory GiB, GPUs, $/h]
type Row = readonly [string, number, number, number, number];

const FAMILIES: Record<string, readonly Row[]> = {
  c5: [
    ['large', 2, 4, 0, 0.085],
    ['xlarge', 4, 8, 0, 0.17],
    ['2xlarge', 8, 16, 0, 0.34],
    ['4xlarge', 16, 32, 0, 0.68],
    ['9xlarge', 36, 72, 0, 1.53],
    ['12xlarge', 48, 96, 0, 2.04],
    ['18xlarge', 72, 144, 0, 3.06],
    ['24xlarge', 96, 192, 0, 4.08],
    ['metal', 96, 192, 0, 4.08],
  ],
  c6i: [
    ['large', 2, 4, 0, 0.085],
    ['xlarge', 4, 8, 0, 0.17],
    ['2xlarge', 8, 16, 0, 0.34],
    ['4xlarge', 16, 32, 0, 0.68],
    ['8xlarge', 32, 64, 0, 1.36],
    ['12xlarge', 48, 96, 0, 2.04],
    ['16xlarge', 64, 128, 0, 2.72],
    ['24xlarge', 96, 192, 0, 4.08],
    ['32xlarge', 128, 256, 0, 5.44],
    ['metal', 128, 256, 0, 5.44],
  ],
  m5: [
    ['large', 2, 8, 0, 0.096],
    ['xlarge', 4, 16, 0, 0.192],
    ['2xlarge', 8, 32, 0, 0.384],
    ['4xlarge', 16, 64, 0, 0.768],
    ['8xlarge', 32, 128, 0, 1.536],
    ['12xlarge', 48, 192, 0, 2.304],
    ['16xlarge', 64, 256, 0, 3.072],
    ['24xlarge', 96, 384, 0, 4.608],
    ['metal', 96, 384, 0, 4.608],
  ],
  m6i: [
    ['large', 2, 8, 0, 0.096],
    ['xlarge', 4, 16, 0, 0.192],
    ['2xlarge', 8, 32, 0, 0.384],
    ['4xlarge', 16, 64, 0, 0.768],
    ['8xlarge', 32, 128, 0, 1.536],
    ['12xlarge', 48, 192, 0, 2.304],
    ['16xlarge', 64, 256, 0, 3.072],
    ['24xlarge', 96, 384, 0, 4.608],
    ['32xlarge', 128, 512, 0, 6.144],
    ['metal', 128, 512, 0, 6.144],
  ],
  r5: [
    ['large', 2, 16, 0, 0.126],
    ['xlarge', 4, 32, 0, 0.252],
    ['2xlarge', 8, 64, 0, 0.504],
    ['4xlarge', 16, 128, 0, 1.008],
    ['8xlarge', 32, 256, 0, 2.016],
    ['12xlarge', 48, 384, 0, 3.024],
    ['16xlarge', 64, 512, 0, 4.032],
    ['24xlarge', 96, 768, 0, 6.048],
    ['metal', 96, 768, 0, 6.048],
  ],
  g4dn: [
    ['xlarge', 4, 16, 1, 0.526],
    ['2xlarge', 8, 32, 1, 0.752],
    ['4xlarge', 16, 64, 1, 1.204],
    ['8xlarge', 32, 128, 1, 2.176],
    ['12xlarge', 48, 192, 4, 3.912],
    ['16xlarge', 64, 256, 1, 4.352],
    ['metal', 96, 384, 8, 7.824],
  ],
  g5: [
    ['xlarge', 4, 16, 1, 1.006],
    ['2xlarge', 8, 32, 1, 1.212],
    ['4xlarge', 16, 64, 1, 1.624],
    ['8xlarge', 32, 128, 1, 2.448],
    ['12xlarge', 48, 192, 4, 5.672],
    ['16xlarge', 64, 256, 1, 4.096],
    ['24xlarge', 96, 384, 4, 8.144],
    ['48xlarge', 192, 768, 8, 16.288],
  ],
  p3: [
    ['2xlarge', 8, 61, 1, 3.06],
    ['8xlarge', 32, 244, 4, 12.24],
    ['16xlarge', 64, 488, 8, 24.48],
  ],
  p4d: [['24xlarge', 96, 1152, 8, 32.7726]],
  t3: [
    ['nano', 2, 0.5, 0, 0.0052],
    ['micro', 2, 1, 0, 0.0104],
    ['small', 2, 2, 0, 0.0208],
    ['medium', 2, 4, 0, 0.0416],
    ['large', 2, 8, 0, 0.0832],
    ['xlarge', 4, 16, 0, 0.1664],
    ['2xlarge', 8, 32, 0, 0.3328],
  ],
};

const TABLE = new Map<string, InstanceTypeInfo>();
const BY_FAMILY = new Map<string, InstanceTypeInfo[]>();
for (const [family, rows] of Object.entries(FAMILIES)) {
  const list: InstanceTypeInfo[] = [];
  for (const [size, vcpus, memGiB, gpus, price] of rows) {
    const info: InstanceTypeInfo = {
      name: `${family}.${size}`,
      family,
      vcpus,
      memoryMiB: Math.round(memGiB * GiB),
      gpus,
      pricePerHour: price,
    };
    TABLE.set(info.name, info);
    list.push(info);
  }
  BY_FAMILY.set(family, list);
}

/** Instance-type keywords that let Batch choose (treated as a c5/m5/r5 mix). */
export const AUTO_INSTANCE_TYPES: readonly string[] = ['optimal', 'default_x86_64', 'default_arm64'];
const AUTO_FAMILIES = ['c5', 'm5', 'r5'] as const;

/** One size, e.g. `c5.xlarge`. Undefined for families, keywords and unknown types. */
export function instanceTypeInfo(name: string): InstanceTypeInfo | undefined {
  return TABLE.get(name);
}

/** Every known size a CE's `instanceTypes` entries allow (families and keywords expanded). */
export function expandInstanceTypes(types: readonly string[] | undefined): InstanceTypeInfo[] {
  const list = types && types.length > 0 ? types : ['optimal'];
  const out = new Map<string, InstanceTypeInfo>();
  for (const t of list) {
    const families = AUTO_INSTANCE_TYPES.includes(t) ? AUTO_FAMILIES : BY_FAMILY.has(t) ? [t] : [];
    for (const f of families) for (const i of BY_FAMILY.get(f) ?? []) out.set(i.name, i);
    const one = TABLE.get(t);
    if (one) out.set(one.name, one);
  }
  return [...out.values()];
}

/**
 * The largest instance (most vCPUs, then memory, then GPUs) among `types` (sizes, families or
 * keywords). Unknown names are ignored; undefined when nothing is known.
 */
export function largestInstance(types: readonly string[] | undefined): InstanceTypeInfo | undefined {
  let best: InstanceTypeInfo | undefined;
  for (const i of expandInstanceTypes(types)) {
    if (
      !best ||
      i.vcpus > best.vcpus ||
      (i.vcpus === best.vcpus &&
        (i.memoryMiB > best.memoryMiB || (i.memoryMiB === best.memoryMiB && i.gpus > best.gpus)))
    ) {
      best = i;
    }
  }
  return best;
}

/** All known instance types (for listings and the cost estimator). */
export function allInstanceTypes(): InstanceTypeInfo[] {
  return [...TABLE.values()];
}
