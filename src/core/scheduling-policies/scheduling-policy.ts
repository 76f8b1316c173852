/**
 * @module core/scheduling-policies/scheduling-policy
 * Stored scheduling policies (AWS SchedulingPolicyDetail) and the fair-share rules
 * (aws-batch-semantics §3.5): shareDecaySeconds 0–604800, computeReservation 0–99,
 * ≤500 shareDistribution entries, identifiers ≤255 alphanumerics with an optional trailing `*`,
 * no overlapping prefixes, weightFactor 0.0001–999.9999.
 */
import { ValidationError } from '../errors.js';
import { isRecord } from '../tags/resource-records.js';

export interface ShareAttributes {
  shareIdentifier: string;
  weightFactor?: number;
}

export interface FairsharePolicy {
  shareDecaySeconds?: number;
  computeReservation?: number;
  shareDistribution?: ShareAttributes[];
}

export interface SchedulingPolicyDetail {
  name: string;
  arn: string;
  fairsharePolicy?: FairsharePolicy;
  quotaSharePolicy?: { idleResourceAssignmentStrategy: string };
  tags?: Record<string, string>;
}

export interface SchedulingPolicyDoc {
  detail: SchedulingPolicyDetail;
}

export type PolicyKind = 'fairshare' | 'quotashare' | 'none';

export function policyKind(
  d: Pick<SchedulingPolicyDetail, 'fairsharePolicy' | 'quotaSharePolicy'>,
): PolicyKind {
  if (d.quotaSharePolicy) return 'quotashare';
  if (d.fairsharePolicy) return 'fairshare';
  return 'none';
}

const SHARE_ID_RE = /^[A-Za-z0-9]{1,255}\*?$/;

export function validateFairsharePolicy(p: unknown): FairsharePolicy {
  if (!isRecord(p)) throw new ValidationError('fairsharePolicy must be an object', 'fairsharePolicy');
  const decay = p.shareDecaySeconds;
  if (decay !== undefined && ((decay as number) < 0 || (decay as number) > 604800)) {
    throw new ValidationError(
      'fairsharePolicy.shareDecaySeconds must be between 0 and 604800',
      'fairsharePolicy.shareDecaySeconds',
    );
  }
  const res = p.computeReservation;
  if (res !== undefined && ((res as number) < 0 || (res as number) > 99)) {
    throw new ValidationError(
      'fairsharePolicy.computeReservation must be between 0 and 99',
      'fairsharePolicy.computeReservation',
    );
  }
  const dist = (p.shareDistribution ?? []) as ShareAttributes[];
  if (dist.length > 500) {
    throw new ValidationError(
      'fairsharePolicy.shareDistribution can contain at most 500 entries',
      'fairsharePolicy.shareDistribution',
    );
  }
  const ids: string[] = [];
  for (const s of dist) {
    if (!SHARE_ID_RE.test(s.shareIdentifier)) {
      throw new ValidationError(
        `Invalid shareIdentifier ${s.shareIdentifier}: it must be up to 255 alphanumeric characters, optionally followed by an asterisk (*)`,
        'fairsharePolicy.shareDistribution.shareIdentifier',
      );
    }
    if (s.weightFactor !== undefined && (s.weightFactor < 0.0001 || s.weightFactor > 999.9999)) {
      throw new ValidationError(
        'weightFactor must be between 0.0001 and 999.9999',
        'fairsharePolicy.shareDistribution.weightFactor',
      );
    }
    ids.push(s.shareIdentifier);
  }
  for (let i = 0; i < ids.length; i++) {
    for (let j = 0; j < ids.length; j++) {
      if (i === j) continue;
      const a = ids[i]!;
      const b = ids[j]!;
      if (a === b && i < j)
        throw new ValidationError(`Duplicate shareIdentifier ${a}`, 'fairsharePolicy.shareDistribution');
      if (a.endsWith('*') && a !== b && b.replace(/\*$/, '').startsWith(a.slice(0, -1))) {
        throw new ValidationError(
          `shareIdentifier ${a} overlaps with ${b}`,
          'fairsharePolicy.shareDistribution',
        );
      }
    }
  }
  // Echo exactly what was sent.
  const out: FairsharePolicy = {};
  if (decay !== undefined) out.shareDecaySeconds = decay as number;
  if (res !== undefined) out.computeReservation = res as number;
  if (p.shareDistribution !== undefined) {
    out.shareDistribution = dist.map((s) => ({
      shareIdentifier: s.shareIdentifier,
      ...(s.weightFactor !== undefined ? { weightFactor: s.weightFactor } : {}),
    }));
  }
  return out;
}
