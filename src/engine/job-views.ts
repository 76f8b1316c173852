/**
 * @module engine/job-views
 * Wire projections of a job document: JobDetail (DescribeJobs) and JobSummary (ListJobs).
 * Absent values are omitted, never null or 0.
 */
import type { JobDoc } from '../core/jobs/job.js';

export function toJobDetail(doc: JobDoc): Record<string, unknown> {
  const { x, ...wire } = doc;
  const out: Record<string, unknown> = { ...wire };
  if (x.parentId === undefined && doc.arrayProperties?.size !== undefined && x.summary) {
    out.arrayProperties = {
      ...doc.arrayProperties,
      statusSummary: { ...x.summary },
    };
  }
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

export function toJobSummary(doc: JobDoc): Record<string, unknown> {
  const s: Record<string, unknown> = {
    jobArn: doc.jobArn,
    jobId: doc.jobId,
    jobName: doc.jobName,
    createdAt: doc.createdAt,
    status: doc.status,
    jobDefinition: doc.jobDefinition,
  };
  if (doc.statusReason !== undefined) s.statusReason = doc.statusReason;
  if (doc.startedAt !== undefined) s.startedAt = doc.startedAt;
  if (doc.stoppedAt !== undefined) s.stoppedAt = doc.stoppedAt;
  if (doc.shareIdentifier !== undefined) s.shareIdentifier = doc.shareIdentifier;
  if (doc.schedulingPriority !== undefined) s.schedulingPriority = doc.schedulingPriority;
  const c = doc.container as { exitCode?: number; reason?: string } | undefined;
  if (c && (c.exitCode !== undefined || c.reason !== undefined)) {
    s.container = {
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.reason !== undefined ? { reason: c.reason } : {}),
    };
  }
  if (doc.arrayProperties) {
    const ap: Record<string, unknown> = {};
    if (doc.arrayProperties.size !== undefined) ap.size = doc.arrayProperties.size;
    if (doc.arrayProperties.index !== undefined) ap.index = doc.arrayProperties.index;
    if (doc.x.summary) {
      ap.statusSummary = { ...doc.x.summary };
      if (doc.arrayProperties.statusSummaryLastUpdatedAt !== undefined) {
        ap.statusSummaryLastUpdatedAt = doc.arrayProperties.statusSummaryLastUpdatedAt;
      }
    }
    s.arrayProperties = ap;
  }
  return s;
}
