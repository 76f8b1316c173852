/**
 * @module store/postgres/queries/claim-jobs
 * -- Params: $1 statuses text[], $2 queue_arn (NULL = any queue), $3 limit.
 * -- Contract: locks up to $3 matching rows, oldest first, skipping rows another transaction has locked
 * --           (FOR UPDATE SKIP LOCKED), so concurrent claimers on several nodes get disjoint sets. The caller
 * --           must write the claimed rows (CAS) and commit in the same transaction.
 */
import type pg from 'pg';

export const CLAIM_JOBS = {
  name: 'ob_claim_jobs',
  text: `SELECT * FROM jobs WHERE status = ANY($1::text[]) AND ($2::text IS NULL OR queue_arn = $2::text)
ORDER BY created_at, job_id LIMIT $3 FOR UPDATE SKIP LOCKED`,
};

export async function lockClaimableJobs<R extends pg.QueryResultRow>(
  db: pg.ClientBase,
  statuses: readonly string[],
  jobQueueArn: string | undefined,
  limit: number,
): Promise<R[]> {
  return (await db.query<R>({ ...CLAIM_JOBS, values: [statuses, jobQueueArn ?? null, limit] })).rows;
}
