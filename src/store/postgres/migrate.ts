/**
 * @module store/postgres/migrate
 * Applies `MIGRATIONS` on a dedicated connection (the caller discards it afterwards) so that several nodes starting at once are safe:
 * 1. one dedicated session takes `pg_advisory_lock(hashtext('openbatch:migrate:<schema>'))`
 *    (session-level, held only while migrating, released in `finally`; the connection is destroyed on
 *    error so a stranded lock dies with its backend);
 * 2. each pending migration runs in its own transaction that records its `schema_migrations` row
 *    FIRST, so even a starter that somehow bypassed the lock collides on the primary key and rolls back;
 * 3. a database migrated by a newer server with a `--! breaking-change` migration we don't know is refused.
 * Postgres DDL is transactional, so a failed migration leaves nothing half-applied.
 */
import type pg from 'pg';

import type { Migration } from './migrations.js';

export class SchemaTooNewError extends Error {}

export async function migrate(
  client: pg.ClientBase,
  schema: string,
  migrations: readonly Migration[],
): Promise<number[]> {
  const applied: number[] = [];
  await client.query("SET statement_timeout = '10min'");
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [`openbatch:migrate:${schema}`]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(`SET search_path = ${quoteIdent(schema)}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         id integer PRIMARY KEY, name text NOT NULL, breaking boolean NOT NULL DEFAULT false,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const rows = (
      await client.query<{ id: number; name: string; breaking: boolean }>(
        'SELECT id, name, breaking FROM schema_migrations',
      )
    ).rows;
    const known = new Set(migrations.map((m) => m.id));
    const unknownBreaking = rows.filter((r) => !known.has(r.id) && r.breaking);
    if (unknownBreaking.length > 0) {
      throw new SchemaTooNewError(
        `database schema ${schema} has breaking migrations this server does not know: ${unknownBreaking.map((r) => `${r.id} ${r.name}`).join(', ')}; upgrade openbatch`,
      );
    }
    const done = new Set(rows.map((r) => r.id));
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query('INSERT INTO schema_migrations (id, name, breaking) VALUES ($1, $2, $3)', [
          m.id,
          m.name,
          /^--! breaking-change/m.test(m.sql),
        ]);
        await client.query(m.sql);
        await client.query('COMMIT');
        applied.push(m.id);
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.id} ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`openbatch:migrate:${schema}`]);
    // Back to the connection's own settings (the caller also discards this connection).
    await client.query('RESET statement_timeout; RESET search_path');
  }
  return applied;
}

export function quoteIdent(s: string): string {
  return '"' + s.replace(/"/g, '""') + '"';
}
