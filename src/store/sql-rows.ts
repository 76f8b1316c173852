/**
 * @module store/sql-rows
 * Row shapes of the `resources` and `jobs` tables and their mapping to the port's records, shared by
 * the SQL adapters (SQLite and PostgreSQL use the same column names and types).
 */
import type { JobRow, ResourceKind, ResourceRecord } from './store.js';

export interface ResourceSqlRow {
  kind: string;
  key: string;
  arn: string;
  data: string;
  version: number;
  created_at: number;
  updated_at: number;
}

export interface JobSqlRow {
  job_id: string;
  queue_arn: string;
  status: string;
  job_name: string;
  jd_arn: string;
  parent_id: string | null;
  share_id: string | null;
  created_at: number;
  version: number;
  data: string;
}

export function toJobRow(r: JobSqlRow): JobRow {
  return {
    jobId: r.job_id,
    jobQueueArn: r.queue_arn,
    status: r.status,
    jobName: r.job_name,
    jobDefinitionArn: r.jd_arn,
    parentId: r.parent_id,
    shareIdentifier: r.share_id,
    createdAt: r.created_at,
    version: r.version,
    data: r.data,
  };
}

export function toResource<T>(r: ResourceSqlRow): ResourceRecord<T> {
  return {
    kind: r.kind as ResourceKind,
    key: r.key,
    arn: r.arn,
    data: JSON.parse(r.data) as T,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Escape `\`, `%` and `_` for a LIKE pattern used with `ESCAPE '\'`. */
export function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}
