/**
 * @module core/jobs/container
 * Resolve what a job runs: the job definition's containerProperties with SubmitJob's
 * containerOverrides applied (command replaced, environment merged by name, resourceRequirements
 * replaced per type) and `Ref::name` placeholders substituted from parameters.
 */
import { ValidationError } from '../errors.js';
import type { Requirements } from './job.js';

export interface KeyValue {
  name?: string;
  value?: string;
}

export interface ResourceRequirement {
  type: string;
  value: string;
}

export interface ContainerOverrides {
  vcpus?: number;
  memory?: number;
  command?: string[];
  instanceType?: string;
  environment?: KeyValue[];
  resourceRequirements?: ResourceRequirement[];
}

export const DEPRECATED_KEY_CONFLICT =
  "This value was submitted in a deprecated key and may conflict with the value provided by the job definition's resource requirements.";

/** Replace every `Ref::key` occurrence for known keys; unknown placeholders stay verbatim. */
export function substituteRefs(args: readonly string[], params: Readonly<Record<string, string>>): string[] {
  const keys = Object.keys(params);
  if (keys.length === 0) return [...args];
  const re = /Ref::([A-Za-z0-9_.-]+)/g;
  return args.map((a) =>
    a.includes('Ref::')
      ? a.replace(re, (m, k: string) => (Object.prototype.hasOwnProperty.call(params, k) ? params[k]! : m))
      : a,
  );
}

export function validateEnvironment(env: readonly KeyValue[] | undefined, field: string): void {
  for (const e of env ?? []) {
    if (e.name !== undefined && e.name.startsWith('AWS_BATCH')) {
      throw new ValidationError(
        `${field}: environment variable names starting with AWS_BATCH are reserved (${e.name})`,
        field,
      );
    }
  }
}

export function validateCommand(cmd: readonly string[] | undefined): void {
  if (cmd && cmd.some((c) => c === ''))
    throw new ValidationError('Command field cannot have empty strings', 'containerOverrides.command');
}

/** Apply overrides to containerProperties; returns the job's `container` (AWS ContainerDetail shape). */
export function applyContainerOverrides(
  props: Readonly<Record<string, unknown>>,
  overrides: ContainerOverrides | undefined,
  parameters: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const c: Record<string, unknown> = { ...props };
  const o = overrides ?? {};
  validateCommand(o.command);
  validateEnvironment(o.environment, 'containerOverrides.environment');

  const jdReqs = (props.resourceRequirements as ResourceRequirement[] | undefined) ?? [];
  const jdUsesReqs = jdReqs.some((r) => r.type === 'VCPU' || r.type === 'MEMORY');
  if ((o.vcpus !== undefined || o.memory !== undefined) && jdUsesReqs) {
    throw new ValidationError(DEPRECATED_KEY_CONFLICT, 'containerOverrides');
  }
  if (o.vcpus !== undefined) c.vcpus = o.vcpus;
  if (o.memory !== undefined) c.memory = o.memory;
  if (o.instanceType !== undefined) c.instanceType = o.instanceType;

  const cmd = o.command ?? (props.command as string[] | undefined) ?? [];
  c.command = substituteRefs(cmd, parameters);

  const env = new Map<string, string>();
  for (const e of (props.environment as KeyValue[] | undefined) ?? [])
    if (e.name) env.set(e.name, e.value ?? '');
  for (const e of o.environment ?? []) if (e.name) env.set(e.name, e.value ?? '');
  c.environment = [...env].map(([name, value]) => ({ name, value }));

  if (o.resourceRequirements && o.resourceRequirements.length > 0) {
    const byType = new Map<string, ResourceRequirement>();
    for (const r of jdReqs) byType.set(r.type, r);
    for (const r of o.resourceRequirements) byType.set(r.type, r);
    c.resourceRequirements = [...byType.values()];
  } else {
    c.resourceRequirements = [...jdReqs];
  }
  for (const k of ['volumes', 'mountPoints', 'ulimits', 'secrets']) if (c[k] === undefined) c[k] = [];
  c.networkInterfaces = [];
  return c;
}

/** vCPUs, MiB and GPUs a resolved container asks for. MEMORY absent = 0 (no reservation, no limit). */
export function requirementsOf(container: Readonly<Record<string, unknown>>): Requirements {
  const reqs = (container.resourceRequirements as ResourceRequirement[] | undefined) ?? [];
  let vcpus = typeof container.vcpus === 'number' ? container.vcpus : undefined;
  let memory = typeof container.memory === 'number' ? container.memory : undefined;
  let gpus = 0;
  for (const r of reqs) {
    const v = Number(r.value);
    if (!Number.isFinite(v) || v < 0) {
      throw new ValidationError(
        `resourceRequirements value '${r.value}' for ${r.type} is not a number`,
        'resourceRequirements',
      );
    }
    if (r.type === 'VCPU') vcpus = v;
    else if (r.type === 'MEMORY') memory = v;
    else if (r.type === 'GPU') gpus = v;
  }
  return { vcpus: vcpus ?? 1, memoryMiB: memory ?? 0, gpus };
}
