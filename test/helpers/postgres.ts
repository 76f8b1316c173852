/**
 * Test helper: a real, throw-away PostgreSQL server per test file.
 *
 * Finds `initdb`/`pg_ctl` on PATH or in /usr/lib/postgresql/<ver>/bin, runs `initdb` into a temp dir
 * (as the `postgres` user when we are root, because initdb refuses root), starts the server on a
 * free port with its unix socket inside the temp dir, creates one database, and on `stop()` shuts
 * the server down and removes the dir. A process-exit hook stops servers a crashed test left behind.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import pg from 'pg';

const run = promisify(execFile);

export interface PostgresBinaries {
  readonly initdb: string;
  readonly pgCtl: string;
  readonly binDir: string;
}

export interface RunningPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/<db>` for the database created for the caller. */
  readonly url: string;
  /** `postgres://…/postgres`, for admin statements (CREATE DATABASE, DROP SCHEMA …). */
  readonly adminUrl: string;
  readonly port: number;
  readonly dir: string;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Durable settings (fsync, synchronous_commit) for benchmarks; tests default to fast and non-durable. */
  durable?: boolean;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
  /** Database to create (default: a random `ob_test_…`). */
  database?: string;
  /**
   * ICU locale for the created database (default 'en-US', so tests catch code that relies on the
   * default collation sorting like bytes); falls back to the cluster's C locale when ICU is missing.
   */
  icuLocale?: string | null;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** initdb + pg_ctl from one directory: PATH first, then the Debian layout (newest version first). */
export function findPostgresBinaries(): PostgresBinaries | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs
      .readdirSync(debian)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) dirs.push(path.join(debian, v, 'bin'));
  }
  for (const d of dirs) {
    const initdb = path.join(d, 'initdb');
    const pgCtl = path.join(d, 'pg_ctl');
    if (isExecutable(initdb) && isExecutable(pgCtl)) return { initdb, pgCtl, binDir: d };
  }
  return undefined;
}

/** uid/gid of the `postgres` user, creating it if we are root and it is missing. */
function postgresUser(): { uid: number; gid: number } {
  const lookup = (): { uid: number; gid: number } | undefined => {
    const line = fs
      .readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('postgres:'));
    if (!line) return undefined;
    const f = line.split(':');
    return { uid: Number(f[2]), gid: Number(f[3]) };
  };
  const found = lookup();
  if (found) return found;
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  const created = lookup();
  if (!created) throw new Error('could not create the postgres user');
  return created;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const leftovers = new Map<string, () => void>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const stop of leftovers.values()) stop();
  });
}

export async function startPostgres(opts: StartPostgresOptions = {}): Promise<RunningPostgres> {
  const bins = findPostgresBinaries();
  if (!bins)
    throw new Error('PostgreSQL binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin');
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? postgresUser() : undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openbatch-pg-'));
  if (ids) fs.chownSync(dir, ids.uid, ids.gid);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  // Drop to the postgres user via spawn's uid/gid (libuv also drops supplementary groups).
  const as = {
    ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
    env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
  };
  const pgCtl = (args: string[]): Promise<unknown> => run(bins.pgCtl, args, { ...as, timeout: 60_000 });

  try {
    await run(
      bins.initdb,
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      {
        ...as,
        timeout: 120_000,
      },
    );
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(err as { stderr?: string }).stderr ?? String(err)}`, { cause: err });
  }

  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    max_connections: 200,
    shared_buffers: '128MB',
    ...(opts.durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
    ...opts.settings,
  };
  let port = 0;
  let started = false;
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    port = await freePort();
    const o = [`-p ${port}`, `-k ${dir}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(
      ' ',
    );
    try {
      await pgCtl(['-D', dataDir, '-l', logFile, '-o', o, '-w', '-t', '60', 'start']);
      started = true;
    } catch (err) {
      lastErr = err;
    }
  }
  if (!started) {
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : '';
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_ctl start failed: ${String(lastErr)}\n${log}`, { cause: lastErr });
  }
  installExitHook();
  leftovers.set(dir, () => {
    try {
      execFileSync(bins.pgCtl, ['-D', dataDir, '-m', 'immediate', 'stop'], { ...as, stdio: 'ignore' });
    } catch {}
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const database = opts.database ?? `ob_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const icu = opts.icuLocale === undefined ? 'en-US' : opts.icuLocale;
    const create = `CREATE DATABASE ${pg.escapeIdentifier(database)}`;
    if (icu) {
      try {
        await admin.query(
          `${create} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE ${pg.escapeLiteral(icu)}`,
        );
      } catch {
        await admin.query(create);
      }
    } else {
      await admin.query(create);
    }
  } finally {
    await admin.end();
  }

  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/${database}`,
    adminUrl,
    port,
    dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      leftovers.delete(dir);
      try {
        await pgCtl(['-D', dataDir, '-m', 'fast', '-w', '-t', '15', 'stop']);
      } catch {
        await pgCtl(['-D', dataDir, '-m', 'immediate', 'stop']).catch(() => undefined);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
