/**
 * @module store/postgres/queries/list-jobs
 * -- Params: built from ListJobsQuery, numbered in the order the filters appear; the last is the limit.
 * -- Contract: same semantics as the SQLite store: every filter ANDed; jobName case-insensitive, a
 * --           trailing `*` is a literal prefix match (LIKE metacharacters escaped); created bounds are
 * --           exclusive; order (created_at, job_id) asc/desc with job_id (bytewise, COLLATE "C") as the
 * --           tie-break, and `after` is a keyset cursor on that same pair.
 */
import type { ListJobsQuery } from '../../store.js';
import { likeEscape } from '../../sql-rows.js';

export function buildListJobsQuery(q: ListJobsQuery): { text: string; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  const p = (v: unknown): string => {
    values.push(v);
    return `$${values.length}`;
  };
  if (q.jobQueueArn !== undefined) where.push(`queue_arn = ${p(q.jobQueueArn)}`);
  if (q.parentId !== undefined) where.push(`parent_id = ${p(q.parentId)}`);
  if (q.statuses && q.statuses.length > 0) where.push(`status = ANY(${p(q.statuses)}::text[])`);
  if (q.jobName !== undefined) {
    if (q.jobName.endsWith('*')) {
      // Same expression and collation as the jobs_queue_name index, so prefix LIKE can use it.
      where.push(
        `lower(job_name) COLLATE "C" LIKE ${p(likeEscape(q.jobName.slice(0, -1).toLowerCase()) + '%')} ESCAPE '\\'`,
      );
    } else {
      where.push(`lower(job_name) COLLATE "C" = ${p(q.jobName.toLowerCase())}`);
    }
  }
  if (q.jobDefinitionArn !== undefined) where.push(`jd_arn = ${p(q.jobDefinitionArn)}`);
  if (q.jobDefinitionArnPrefix !== undefined) {
    where.push(`jd_arn LIKE ${p(likeEscape(q.jobDefinitionArnPrefix) + '%')} ESCAPE '\\'`);
  }
  if (q.createdBefore !== undefined) where.push(`created_at < ${p(q.createdBefore)}`);
  if (q.createdAfter !== undefined) where.push(`created_at > ${p(q.createdAfter)}`);
  if (q.shareIdentifier !== undefined) where.push(`share_id = ${p(q.shareIdentifier)}`);
  const desc = q.order === 'createdDesc';
  if (q.after) {
    where.push(`(created_at, job_id) ${desc ? '<' : '>'} (${p(q.after[0])}::int8, ${p(q.after[1])}::text)`);
  }
  const dir = desc ? 'DESC' : 'ASC';
  const text =
    `SELECT * FROM jobs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ` +
    `ORDER BY created_at ${dir}, job_id ${dir} LIMIT ${p(q.limit)}`;
  return { text, values };
}
