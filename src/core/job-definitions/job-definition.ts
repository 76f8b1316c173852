/**
 * @module core/job-definitions/job-definition
 * Job definitions are stored per revision under kind `job-definition`, key `jdKey(name, revision)`
 * (zero-padded so that keys sort by revision). `detail` is AWS's JobDefinition shape as Describe returns it.
 */
import { isArn, parseArn, type AccountScope } from '../arns.js';
import type { ResourceRecord, Store } from '../../store/store.js';

export interface JobDefinitionDetail {
  jobDefinitionName: string;
  jobDefinitionArn: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE';
  type: string;
  schedulingPriority?: number;
  parameters?: Record<string, string>;
  retryStrategy?: RetryStrategy;
  containerProperties?: Record<string, unknown>;
  timeout?: { attemptDurationSeconds?: number };
  nodeProperties?: Record<string, unknown>;
  tags?: Record<string, string>;
  propagateTags?: boolean;
  platformCapabilities?: string[];
  ecsProperties?: Record<string, unknown>;
  eksProperties?: Record<string, unknown>;
  containerOrchestrationType?: string;
  consumableResourceProperties?: {
    consumableResourceList?: { consumableResource: string; quantity: number }[];
  };
}

export interface EvaluateOnExit {
  onStatusReason?: string;
  onReason?: string;
  onExitCode?: string;
  action: string;
}

export interface RetryStrategy {
  attempts?: number;
  evaluateOnExit?: EvaluateOnExit[];
}

export interface JobDefinitionDoc {
  detail: JobDefinitionDetail;
}

export function jdKey(name: string, revision: number): string {
  return `${name}:${String(revision).padStart(10, '0')}`;
}

export function jdArn(scope: AccountScope, name: string, revision: number): string {
  return `arn:aws:batch:${scope.region}:${scope.accountId}:job-definition/${name}:${revision}`;
}

/** Split `name`, `name:rev` or an ARN into name and optional revision. Undefined when malformed. */
export function parseJobDefinitionRef(ref: string): { name: string; revision?: number } | undefined {
  let body = ref;
  if (isArn(ref)) {
    const p = parseArn(ref);
    if (!p || p.resourceType !== 'job-definition') return undefined;
    body = p.resourceId;
  }
  const colon = body.lastIndexOf(':');
  if (colon < 0) return { name: body };
  const rev = Number(body.slice(colon + 1));
  if (!Number.isInteger(rev) || rev < 1) return undefined;
  return { name: body.slice(0, colon), revision: rev };
}

/**
 * Resolve a job definition reference as SubmitJob does: `name:rev` or an ARN with revision → that
 * revision; a bare name (or ARN without revision) → the latest ACTIVE revision.
 */
export async function findJobDefinition(
  store: Store,
  ref: string,
): Promise<ResourceRecord<JobDefinitionDoc> | undefined> {
  const parsed = parseJobDefinitionRef(ref);
  if (!parsed) return undefined;
  if (parsed.revision !== undefined) {
    return store.getResource<JobDefinitionDoc>('job-definition', jdKey(parsed.name, parsed.revision));
  }
  // Latest ACTIVE revision: scan this name's revisions from the newest.
  const all = await store.listResources<JobDefinitionDoc>('job-definition', {
    keyPrefix: `${parsed.name}:`,
    limit: 100_000,
  });
  for (let i = all.length - 1; i >= 0; i--) {
    const r = all[i]!;
    if (r.data.detail.jobDefinitionName === parsed.name && r.data.detail.status === 'ACTIVE') return r;
  }
  return undefined;
}
