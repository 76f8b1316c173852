/**
 * @module store/sqlite/migrations
 * Numbered, append-only schema migrations for the SQLite store.
 * APPEND; NEVER EDIT OR REORDER. A `--! breaking-change` line marks a migration that old servers can't read.
 */
export const MIGRATIONS: readonly { id: number; name: string; sql: string }[] = [
  {
    id: 1,
    name: 'init',
    sql: `
CREATE TABLE resources (
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  arn TEXT NOT NULL,
  data TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE UNIQUE INDEX resources_arn ON resources (kind, arn);

CREATE TABLE revisions (
  name TEXT PRIMARY KEY,
  last INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE jobs (
  job_id TEXT PRIMARY KEY,
  queue_arn TEXT NOT NULL,
  status TEXT NOT NULL,
  job_name TEXT NOT NULL,
  jd_arn TEXT NOT NULL,
  parent_id TEXT,
  share_id TEXT,
  created_at INTEGER NOT NULL,
  version INTEGER NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX jobs_queue_status ON jobs (queue_arn, status, created_at);
CREATE INDEX jobs_queue_created ON jobs (queue_arn, created_at);
CREATE INDEX jobs_parent ON jobs (parent_id, status) WHERE parent_id IS NOT NULL;
CREATE INDEX jobs_active ON jobs (status) WHERE status NOT IN ('SUCCEEDED', 'FAILED');

CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  term TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE nodes (
  node_id TEXT PRIMARY KEY,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  lease_until INTEGER NOT NULL,
  url TEXT,
  meta TEXT
);
`,
  },
  {
    id: 2,
    name: 'jobs-by-name',
    // ListJobs JOB_NAME filters (case-insensitive, exact or prefix) without scanning the queue;
    // job retention (purgeJobs) finds old finished jobs without reading the table.
    sql: `CREATE INDEX jobs_queue_name ON jobs (queue_arn, lower(job_name), created_at);
CREATE INDEX jobs_finished_created ON jobs (created_at) WHERE status IN ('SUCCEEDED', 'FAILED');`,
  },
];
