/**
 * @module core/jobs/retry-strategy
 * retryStrategy validation and evaluation (aws-batch-semantics §5): entries are checked in order,
 * the first whose conditions all match decides; no match means RETRY while attempts remain.
 */
import { ValidationError } from '../errors.js';
import type { RetryStrategy } from '../job-definitions/job-definition.js';

const REASON_RE = /^[A-Za-z0-9.: \t]*\*?$/;
const EXIT_RE = /^[0-9]*\*?$/;

export function validateRetryStrategy(rs: RetryStrategy | undefined, field = 'retryStrategy'): void {
  if (!rs) return;
  if (rs.attempts !== undefined && (rs.attempts < 1 || rs.attempts > 10)) {
    throw new ValidationError(`${field}.attempts must be between 1 and 10`, `${field}.attempts`);
  }
  const rules = rs.evaluateOnExit ?? [];
  if (rules.length > 0 && rs.attempts === undefined) {
    throw new ValidationError(
      `${field}.attempts is required when evaluateOnExit is specified`,
      `${field}.attempts`,
    );
  }
  if (rules.length > 5) {
    throw new ValidationError(
      `${field}.evaluateOnExit can have at most 5 entries`,
      `${field}.evaluateOnExit`,
    );
  }
  for (const r of rules) {
    const action = typeof r.action === 'string' ? r.action.toUpperCase() : '';
    if (action !== 'RETRY' && action !== 'EXIT') {
      throw new ValidationError(
        `Evaluate on exit action must be RETRY or EXIT`,
        `${field}.evaluateOnExit.action`,
      );
    }
    for (const [key, re] of [
      ['onStatusReason', REASON_RE],
      ['onReason', REASON_RE],
      ['onExitCode', EXIT_RE],
    ] as const) {
      const v = r[key];
      if (v === undefined) continue;
      if (typeof v !== 'string' || v.length > 512 || !re.test(v)) {
        throw new ValidationError(
          'Evaluate on exit condition contains restricted characters',
          `${field}.evaluateOnExit.${key}`,
        );
      }
    }
  }
}

/** Glob with only a trailing `*` (prefix match); `*` alone matches anything, including absent values. */
export function globMatches(pattern: string, value: string | undefined): boolean {
  if (pattern === '*') return true;
  if (value === undefined) return false;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return value === pattern;
}

export interface AttemptFacts {
  statusReason: string;
  reason?: string;
  exitCode?: number;
}

/** Decide whether a failed attempt is retried. `attemptsMade` counts the attempt that just ended. */
export function shouldRetry(
  rs: RetryStrategy | undefined,
  attemptsMade: number,
  facts: AttemptFacts,
): boolean {
  const max = rs?.attempts ?? 1;
  if (attemptsMade >= max) return false;
  for (const rule of rs?.evaluateOnExit ?? []) {
    if (rule.onStatusReason !== undefined && !globMatches(rule.onStatusReason, facts.statusReason)) continue;
    if (rule.onReason !== undefined && !globMatches(rule.onReason, facts.reason)) continue;
    if (
      rule.onExitCode !== undefined &&
      !globMatches(rule.onExitCode, facts.exitCode === undefined ? undefined : String(facts.exitCode))
    ) {
      continue;
    }
    return rule.action.toUpperCase() === 'RETRY';
  }
  return true;
}
