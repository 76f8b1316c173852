/**
 * @module templates/property-mapping
 * CloudFormation properties (PascalCase) → AWS Batch API input (camelCase), with type checks that
 * name the template path. CloudFormation passes parameter values as strings, so integer, number
 * and boolean fields accept numeric / "true" strings and are converted.
 */
import { NO_VALUE, type Value } from './intrinsics.js';
import { describeValue, isRecord, TemplateError } from './template-error.js';

const INT_KEYS = new Set([
  'Priority',
  'Order',
  'MinvCpus',
  'MaxvCpus',
  'DesiredvCpus',
  'BidPercentage',
  'UnmanagedvCpus',
  'Memory',
  'Attempts',
  'AttemptDurationSeconds',
  'SchedulingPriority',
  'TotalQuantity',
  'ShareDecaySeconds',
  'ComputeReservation',
  'HardLimit',
  'SoftLimit',
  'SharedMemorySize',
  'Swappiness',
  'MaxSwap',
  'MaxTimeSeconds',
  'NumNodes',
  'MainNode',
  'TransitEncryptionPort',
  'RetentionInDays',
  'Size',
  'JobExecutionTimeoutMinutes',
  'Quantity',
  'SizeInGiB',
]);
const NUMBER_KEYS = new Set(['WeightFactor', 'Vcpus']);
const BOOL_KEYS = new Set([
  'PropagateTags',
  'Privileged',
  'ReadonlyRootFilesystem',
  'ReadOnly',
  'InitProcessEnabled',
  'UpdateToLatestImageVersion',
  'TerminateJobsOnUpdate',
  'ReplaceComputeEnvironment',
  'HostNetwork',
  'ShareProcessNamespace',
  'Essential',
  'RunAsNonRoot',
  'SkipDeregisterOnUpdate',
  'Optional',
  'EnableExecuteCommand',
]);
/** Properties whose value is a free-form map: keys are kept as written. */
const MAP_KEYS = new Set([
  'Tags',
  'Parameters',
  'Options',
  'Labels',
  'Annotations',
  'Limits',
  'Requests',
  'DockerLabels',
]);
/** Lists of strings (numbers given in the template become strings). */
const STRING_LIST_KEYS = new Set([
  'Command',
  'InstanceTypes',
  'Subnets',
  'SecurityGroupIds',
  'PlatformCapabilities',
  'Args',
  'EntryPoint',
]);

function lowerFirst(k: string): string {
  return k.charAt(0).toLowerCase() + k.slice(1);
}

export function toInt(v: unknown, path: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new TemplateError(path, `expected integer, got ${describeValue(v)}`);
  return n;
}

function toNumber(v: unknown, path: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new TemplateError(path, `expected number, got ${describeValue(v)}`);
  return n;
}

function toBool(v: unknown, path: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True') return true;
  if (v === 'false' || v === 'False') return false;
  throw new TemplateError(path, `expected boolean, got ${describeValue(v)}`);
}

function scalarString(v: unknown, path: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new TemplateError(path, `expected string, got ${describeValue(v)}`);
}

/** Convert one CloudFormation property value (already free of intrinsics) to its API form. */
export function convert(key: string, v: unknown, path: string): unknown {
  if (v === NO_VALUE || v === undefined) return undefined;
  if (INT_KEYS.has(key)) return toInt(v, path);
  if (NUMBER_KEYS.has(key)) return toNumber(v, path);
  if (BOOL_KEYS.has(key)) return toBool(v, path);
  if (key === 'Value' || (key === 'Name' && typeof v !== 'object')) return scalarString(v, path);
  if (MAP_KEYS.has(key)) {
    if (!isRecord(v)) throw new TemplateError(path, `expected a map of strings, got ${describeValue(v)}`);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scalarString(x, `${path}.${k}`)]));
  }
  if (STRING_LIST_KEYS.has(key)) {
    if (!Array.isArray(v))
      throw new TemplateError(path, `expected a list of strings, got ${describeValue(v)}`);
    return v.map((x, i) => scalarString(x, `${path}[${i}]`));
  }
  if (Array.isArray(v)) return v.map((x, i) => convertObjectish(x, `${path}[${i}]`));
  return convertObjectish(v, path);
}

function convertObjectish(v: unknown, path: string): unknown {
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const c = convert(k, x, `${path}.${k}`);
    if (c !== undefined) out[lowerFirst(k)] = c;
  }
  return out;
}

export interface PropertySpec {
  required?: readonly string[];
  allowed: readonly string[];
  enums?: Record<string, readonly string[]>;
  /** Properties CloudFormation knows but the API does not take (dropped). */
  cfnOnly?: readonly string[];
}

/** Check the top-level properties of a resource and convert them to API input. */
export function mapProperties(
  props: Record<string, Value>,
  spec: PropertySpec,
  path: string,
): Record<string, unknown> {
  for (const r of spec.required ?? []) {
    if (props[r] === undefined) throw new TemplateError(`${path}.${r}`, 'required property is missing');
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    const at = `${path}.${k}`;
    if (!spec.allowed.includes(k) && !(spec.cfnOnly ?? []).includes(k)) {
      throw new TemplateError(at, `unknown property (known: ${spec.allowed.join(', ')})`);
    }
    if ((spec.cfnOnly ?? []).includes(k)) continue;
    const c = convert(k, v, at);
    if (c !== undefined) out[lowerFirst(k)] = c;
  }
  for (const [dotted, values] of Object.entries(spec.enums ?? {})) {
    const parts = dotted.split('.');
    let cur: unknown = props;
    for (const p of parts) cur = isRecord(cur) ? cur[p] : undefined;
    if (cur !== undefined && (typeof cur !== 'string' || !values.includes(cur.toUpperCase()))) {
      throw new TemplateError(
        `${path}.${dotted}`,
        `expected one of ${values.join(', ')}, got ${describeValue(cur)}`,
      );
    }
  }
  return out;
}
