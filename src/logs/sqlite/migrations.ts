/**
 * @module logs/sqlite/migrations
 * Schema of the log database (`<dataDir>/logs.db`), separate from the main store so that heavy
 * log ingestion never contends with job state writes. Append; never edit or reorder.
 */
export interface LogMigration {
  version: number;
  name: string;
  sql: string;
}

export const LOG_MIGRATIONS: readonly LogMigration[] = [
  {
    version: 1,
    name: 'init',
    sql: `
CREATE TABLE log_meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
CREATE TABLE log_groups (
  id                  INTEGER PRIMARY KEY,
  name                TEXT NOT NULL UNIQUE,
  creation_time       INTEGER NOT NULL,
  retention_days      INTEGER,
  log_group_class     TEXT NOT NULL DEFAULT 'STANDARD',
  kms_key_id          TEXT,
  deletion_protection INTEGER,
  tags                TEXT NOT NULL DEFAULT '{}',
  stored_bytes        INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE log_streams (
  id             INTEGER PRIMARY KEY,
  group_id       INTEGER NOT NULL REFERENCES log_groups(id),
  name           TEXT NOT NULL,
  creation_time  INTEGER NOT NULL,
  first_ts       INTEGER,
  last_ts        INTEGER,
  last_ingestion INTEGER,
  stored_bytes   INTEGER NOT NULL DEFAULT 0,
  last_seq       INTEGER NOT NULL DEFAULT 0,
  UNIQUE (group_id, name)
);
-- Clustered on (stream, timestamp, seq): a page of a stream is one contiguous range scan.
-- seq is store-wide unique and never reused (high-water mark in log_meta.next_seq).
CREATE TABLE log_events (
  stream_id      INTEGER NOT NULL,
  ts             INTEGER NOT NULL,
  seq            INTEGER NOT NULL,
  ingestion_time INTEGER NOT NULL,
  message        TEXT NOT NULL,
  PRIMARY KEY (stream_id, ts, seq)
) WITHOUT ROWID;
`,
  },
];
