/**
 * @module store/postgres/queries/update-jobs
 * -- Params (batch): $1 job_id[], $2 expected version[], $3 status[], $4 queue_arn[], $5 share_id[],
 * --                 $6 new version[], $7 data[], $8 batch size.
 * -- Contract: compare-and-set `WHERE job_id = u.job_id AND version = u.expected`; if fewer rows matched
 * --           than were given, ob_cas_conflict() raises SQLSTATE OB409 and the whole statement (hence the
 * --           whole batch) is undone. Only status, queue_arn, share_id, version and data change (the other
 * --           indexed columns are immutable after insert, as in the SQLite store).
 * One round trip for a batch of distinct jobs; a batch naming one job twice (v1→v2→v3) is applied row by
 * row inside the caller's transaction instead, because one UPDATE can't touch a row twice.
 */
import type pg from 'pg';

import type { JobUpdate } from '../../store.js';

const BATCH = `WITH u AS (
  SELECT * FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], $5::text[], $6::int4[], $7::text[])
           AS u(job_id, expected, status, queue_arn, share_id, version, data)
), upd AS (
  UPDATE jobs j SET status = u.status, queue_arn = u.queue_arn, share_id = u.share_id, version = u.version, data = u.data
  FROM u WHERE j.job_id = u.job_id AND j.version = u.expected
  RETURNING j.job_id
)
SELECT CASE WHEN (SELECT count(*) FROM upd) = $8 THEN 0
  ELSE ob_cas_conflict('job ' || (SELECT min(u.job_id) FROM u WHERE u.job_id NOT IN (SELECT job_id FROM upd))
                       || ' changed concurrently (compare-and-set on version failed)') END AS ok`;

const ONE = {
  name: 'ob_update_job',
  text: 'UPDATE jobs SET status = $1, queue_arn = $2, share_id = $3, version = $4, data = $5 WHERE job_id = $6 AND version = $7',
};

/** One CAS update; returns false when the row is missing or its version differs. */
export async function updateOneJob(db: pg.ClientBase | pg.Pool, u: JobUpdate): Promise<boolean> {
  const r = u.row;
  const res = await db.query({
    ...ONE,
    values: [r.status, r.jobQueueArn, r.shareIdentifier, r.version, r.data, r.jobId, u.expectedVersion],
  });
  return res.rowCount === 1;
}

/** All distinct job ids: one atomic statement (raises OB409 on any mismatch). */
export async function updateJobBatch(
  db: pg.ClientBase | pg.Pool,
  updates: readonly JobUpdate[],
): Promise<void> {
  const n = updates.length;
  const cols: unknown[][] = Array.from({ length: 7 }, () => new Array<unknown>(n));
  updates.forEach((u, i) => {
    cols[0]![i] = u.row.jobId;
    cols[1]![i] = u.expectedVersion;
    cols[2]![i] = u.row.status;
    cols[3]![i] = u.row.jobQueueArn;
    cols[4]![i] = u.row.shareIdentifier;
    cols[5]![i] = u.row.version;
    cols[6]![i] = u.row.data;
  });
  await db.query(BATCH, [...cols, n]);
}
