/**
 * @module logs/postgres/migrations
 * Schema of the shared log store (same database and schema as the PostgreSQL job store, own tables
 * and own migration ledger `log_schema_migrations`). Append; never edit or reorder. Applied under a
 * session advisory lock on a dedicated connection that the caller discards, so several nodes starting
 * at once are safe.
 */
import type pg from 'pg';

export interface LogMigration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
}

export const PG_LOG_MIGRATIONS: readonly LogMigration[] = [
  {
    id: 1,
    name: 'init',
    sql: `
CREATE TABLE log_groups (
  id bigserial PRIMARY KEY,
  name text COLLATE "C" NOT NULL UNIQUE,
  creation_time int8 NOT NULL,
  retention_days integer,
  log_group_class text NOT NULL DEFAULT 'STANDARD',
  kms_key_id text,
  deletion_protection boolean,
  tags text NOT NULL DEFAULT '{}',
  stored_bytes int8 NOT NULL DEFAULT 0
);
CREATE TABLE log_streams (
  id bigserial PRIMARY KEY,
  group_id int8 NOT NULL,
  name text COLLATE "C" NOT NULL,
  creation_time int8 NOT NULL,
  first_ts int8,
  last_ts int8,
  last_ingestion int8,
  stored_bytes int8 NOT NULL DEFAULT 0,
  last_seq int8 NOT NULL DEFAULT 0,
  UNIQUE (group_id, name)
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);
-- Store-wide, never reused, increasing across nodes: the basis of event ids and page tokens.
CREATE SEQUENCE log_event_seq;
-- A page of a stream is one range scan of the primary key (stream, timestamp, seq).
CREATE TABLE log_events (
  stream_id int8 NOT NULL,
  ts int8 NOT NULL,
  seq int8 NOT NULL,
  ingestion_time int8 NOT NULL,
  message text NOT NULL,
  PRIMARY KEY (stream_id, ts, seq)
);
`,
  },
];

export async function migrateLogs(client: pg.ClientBase, schema: string): Promise<number[]> {
  const q = '"' + schema.replace(/"/g, '""') + '"';
  const lock = `openbatch:logs-migrate:${schema}`;
  const applied: number[] = [];
  await client.query("SET statement_timeout = '10min'");
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [lock]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
    await client.query(`SET search_path = ${q}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS log_schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await client.query<{ id: number }>('SELECT id FROM log_schema_migrations')).rows.map((r) => r.id),
    );
    for (const m of PG_LOG_MIGRATIONS) {
      if (done.has(m.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query('INSERT INTO log_schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
        await client.query(m.sql);
        await client.query('COMMIT');
        applied.push(m.id);
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`log migration ${m.id} ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]);
  }
  return applied;
}
