/**
 * @module store/postgres/queries/insert-jobs
 * -- Params: $1..$10 parallel arrays (job_id, queue_arn, status, job_name, jd_arn, parent_id, share_id,
 * --         created_at ms, version, data).
 * -- Contract: inserts every row or none (one statement per chunk, chunks inside the caller's transaction);
 * --           a duplicate job_id raises unique_violation (23505).
 * One multi-row `INSERT … SELECT FROM unnest(…)` per chunk: 10,000 array children are a handful of
 * round trips instead of 10,000.
 */
import type pg from 'pg';

import type { JobRow } from '../../store.js';

export const INSERT_JOBS_CHUNK = 5000;

const SQL = `INSERT INTO jobs (job_id, queue_arn, status, job_name, jd_arn, parent_id, share_id, created_at, version, data)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::int8[], $9::int4[], $10::text[])`;

const SINGLE = {
  name: 'ob_insert_job',
  text: `INSERT INTO jobs (job_id, queue_arn, status, job_name, jd_arn, parent_id, share_id, created_at, version, data)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
};

export async function insertOneJob(db: pg.ClientBase | pg.Pool, r: JobRow): Promise<void> {
  await db.query({
    ...SINGLE,
    values: [
      r.jobId,
      r.jobQueueArn,
      r.status,
      r.jobName,
      r.jobDefinitionArn,
      r.parentId,
      r.shareIdentifier,
      r.createdAt,
      r.version,
      r.data,
    ],
  });
}

export async function insertJobChunk(db: pg.ClientBase, rows: readonly JobRow[]): Promise<void> {
  const cols: unknown[][] = Array.from({ length: 10 }, () => new Array<unknown>(rows.length));
  rows.forEach((r, i) => {
    cols[0]![i] = r.jobId;
    cols[1]![i] = r.jobQueueArn;
    cols[2]![i] = r.status;
    cols[3]![i] = r.jobName;
    cols[4]![i] = r.jobDefinitionArn;
    cols[5]![i] = r.parentId;
    cols[6]![i] = r.shareIdentifier;
    cols[7]![i] = r.createdAt;
    cols[8]![i] = r.version;
    cols[9]![i] = r.data;
  });
  await db.query(SQL, cols);
}
