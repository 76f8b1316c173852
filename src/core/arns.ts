/** @module core/arns  ARN formatting and parsing for every Batch resource kind. */

export interface AccountScope {
  readonly region: string;
  readonly accountId: string;
}

export type ArnResourceType =
  | 'compute-environment'
  | 'job-queue'
  | 'job-definition'
  | 'job'
  | 'scheduling-policy'
  | 'consumable-resource'
  | 'service-environment'
  | 'quota-share'
  | 'service-job';

export function batchArn(scope: AccountScope, type: ArnResourceType, id: string): string {
  return `arn:aws:batch:${scope.region}:${scope.accountId}:${type}/${id}`;
}

export interface ParsedArn {
  partition: string;
  service: string;
  region: string;
  accountId: string;
  resourceType: string;
  resourceId: string;
}

const ARN_RE = /^arn:([a-z-]+):([a-z0-9-]+):([a-z0-9-]*):(\d*):([a-z-]+)\/(.+)$/;

export function parseArn(arn: string): ParsedArn | undefined {
  const m = ARN_RE.exec(arn);
  if (!m) return undefined;
  return {
    partition: m[1]!,
    service: m[2]!,
    region: m[3]!,
    accountId: m[4]!,
    resourceType: m[5]!,
    resourceId: m[6]!,
  };
}

export function isArn(s: string): boolean {
  return s.startsWith('arn:');
}

/** Name from "name" or "arn:...:<type>/name". Returns undefined when the ARN is of another type. */
export function nameFromNameOrArn(value: string, type: ArnResourceType): string | undefined {
  if (!isArn(value)) return value;
  const p = parseArn(value);
  if (!p || p.resourceType !== type) return undefined;
  return p.resourceId;
}
