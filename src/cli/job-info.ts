/**
 * @module cli/job-info
 * Facts derived from a DescribeJobs `JobDetail`: resources, log group and streams per attempt,
 * attempt counter, terminal status, and a failure sentence.
 */
import type { JobDetail } from '@aws-sdk/client-batch';

export const DEFAULT_LOG_GROUP = '/aws/batch/job';
export const TERMINAL = new Set(['SUCCEEDED', 'FAILED']);

export function isTerminal(job: JobDetail): boolean {
  return TERMINAL.has(job.status ?? '');
}

export interface JobResources {
  vcpus: number;
  memoryMiB: number;
  gpus: number;
}

/** vCPUs, memory (MiB) and GPUs the job asked for (resourceRequirements, else legacy vcpus/memory). */
export function jobResources(job: JobDetail): JobResources {
  const c = job.container;
  const rr = c?.resourceRequirements ?? [];
  const get = (t: string) => {
    const v = rr.find((r) => r.type === t)?.value;
    return v !== undefined ? Number(v) : undefined;
  };
  return {
    vcpus: get('VCPU') ?? c?.vcpus ?? 1,
    memoryMiB: get('MEMORY') ?? c?.memory ?? 2048,
    gpus: get('GPU') ?? 0,
  };
}

export function logGroupOf(job: JobDetail): string {
  const opts = job.container?.logConfiguration?.options;
  return opts?.['awslogs-group'] ?? DEFAULT_LOG_GROUP;
}

export interface AttemptStream {
  /** 1-based attempt number. */
  attempt: number;
  stream: string;
}

/** Log streams of every attempt so far (finished attempts, then the current one). */
export function attemptStreams(job: JobDetail): AttemptStream[] {
  const out: AttemptStream[] = [];
  const seen = new Set<string>();
  (job.attempts ?? []).forEach((a, i) => {
    const s = a.container?.logStreamName;
    if (s && !seen.has(s)) {
      seen.add(s);
      out.push({ attempt: i + 1, stream: s });
    }
  });
  const current = job.container?.logStreamName;
  if (current && !seen.has(current)) out.push({ attempt: (job.attempts?.length ?? 0) + 1, stream: current });
  return out;
}

/** The attempt in progress (or the last one, when finished); 0 before the first. */
export function currentAttempt(job: JobDetail): number {
  const done = job.attempts?.length ?? 0;
  const active = job.status === 'STARTING' || job.status === 'RUNNING';
  return active ? done + 1 : done;
}

export function maxAttempts(job: JobDetail): number {
  return job.retryStrategy?.attempts ?? 1;
}

export function isArrayParent(job: JobDetail): boolean {
  return job.arrayProperties?.size !== undefined && job.arrayProperties.index === undefined;
}

/** `FAILED: Essential container in task exited (exit code 3)`. */
export function outcomeSentence(job: JobDetail): string {
  const parts = [job.status ?? 'UNKNOWN'];
  const reason = job.statusReason;
  const exit = job.container?.exitCode;
  const creason = job.container?.reason;
  let s = parts[0]!;
  if (reason) s += `: ${reason}`;
  const extra: string[] = [];
  if (exit !== undefined && exit !== null) extra.push(`exit code ${exit}`);
  if (creason && creason !== reason) extra.push(creason);
  if (extra.length) s += ` (${extra.join('; ')})`;
  return s;
}

/** Name part of a job definition ARN or `name:rev`. */
export function definitionName(def: string | undefined): string | undefined {
  if (!def) return undefined;
  const tail = def.includes('/') ? def.slice(def.lastIndexOf('/') + 1) : def;
  return tail.split(':')[0];
}

export function shortName(arnOrName: string | undefined): string {
  if (!arnOrName) return '-';
  return arnOrName.includes('/') ? arnOrName.slice(arnOrName.lastIndexOf('/') + 1) : arnOrName;
}

/** A CloudWatch console link for a log stream on real AWS. */
export function consoleLogUrl(region: string, group: string, stream: string): string {
  const enc = (s: string) => encodeURIComponent(encodeURIComponent(s)).replace(/%/g, '$');
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${enc(group)}/log-events/${enc(stream)}`;
}
