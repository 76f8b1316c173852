/**
 * @module store/postgres/migrations
 * Numbered, append-only schema migrations for the PostgreSQL store.
 * APPEND; NEVER EDIT OR REORDER. A `--! breaking-change` line marks a migration that old servers can't read.
 *
 * Conventions:
 * - Keys and ids are `text COLLATE "C"` so ORDER BY / cursors compare bytes, exactly like SQLite's
 *   BINARY collation, whatever the database's default collation is.
 * - Timestamps the application supplies (job/resource createdAt) are int8 epoch milliseconds, as in
 *   SQLite. Lease expiry is a timestamptz set from the database clock (`now()`), never a node clock.
 * - `leases` is UNLOGGED: a Postgres crash loses it, which only triggers a new election.
 * - Hot tables get per-table autovacuum thresholds (reference: distributed.md B.4).
 */
export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'init',
    sql: `
CREATE TABLE resources (
  kind text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  arn text COLLATE "C" NOT NULL,
  data text NOT NULL,
  version integer NOT NULL,
  created_at int8 NOT NULL,
  updated_at int8 NOT NULL,
  PRIMARY KEY (kind, key)
);
CREATE UNIQUE INDEX resources_arn ON resources (kind, arn);

CREATE TABLE revisions (
  name text COLLATE "C" PRIMARY KEY,
  last integer NOT NULL
);

CREATE TABLE jobs (
  job_id text COLLATE "C" PRIMARY KEY,
  queue_arn text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL,
  job_name text COLLATE "C" NOT NULL,
  jd_arn text COLLATE "C" NOT NULL,
  parent_id text COLLATE "C",
  share_id text COLLATE "C",
  created_at int8 NOT NULL,
  version integer NOT NULL,
  data text NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
        autovacuum_analyze_scale_factor = 0.02);
CREATE INDEX jobs_queue_status ON jobs (queue_arn, status, created_at, job_id);
CREATE INDEX jobs_queue_created ON jobs (queue_arn, created_at, job_id);
CREATE INDEX jobs_created ON jobs (created_at, job_id);
CREATE INDEX jobs_parent ON jobs (parent_id, status) WHERE parent_id IS NOT NULL;
CREATE INDEX jobs_active ON jobs (status) WHERE status NOT IN ('SUCCEEDED', 'FAILED');

CREATE UNLOGGED TABLE leases (
  name text COLLATE "C" PRIMARY KEY,
  holder text COLLATE "C" NOT NULL,
  term uuid NOT NULL,
  elected_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);

-- Raised inside single-statement CAS batches (queries/update-jobs.ts) so a partial match aborts the
-- whole statement: SQLSTATE OB409 maps to VersionConflictError.
CREATE FUNCTION ob_cas_conflict(msg text) RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'OB409', MESSAGE = msg;
END
$$;

CREATE TABLE nodes (
  node_id text COLLATE "C" PRIMARY KEY,
  started_at int8 NOT NULL,
  heartbeat_at int8 NOT NULL,
  lease_until int8 NOT NULL,
  url text,
  meta text
);
`,
  },
  {
    id: 2,
    name: 'jobs-by-name',
    // ListJobs JOB_NAME filters (case-insensitive, exact or prefix) without scanning the queue;
    // job retention (purgeJobs) finds old finished jobs without reading the table.
    sql: `CREATE INDEX jobs_queue_name ON jobs (queue_arn, lower(job_name) COLLATE "C", created_at, job_id);
CREATE INDEX jobs_finished_created ON jobs (created_at) WHERE status IN ('SUCCEEDED', 'FAILED');`,
  },
];
