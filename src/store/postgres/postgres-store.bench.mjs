// Store micro-benchmark: PostgreSQL store vs the SQLite store, same workloads, same run.
// Run: npx vite-node src/store/postgres/postgres-store.bench.mjs [seconds-per-case=5]
// Starts its own durable PostgreSQL (fsync on, synchronous_commit on) from the binaries on PATH.
//   1. SubmitJob-like single-row inserts, 16 concurrent callers           → inserts/s
//   2. one insertJobs() of 10,000 array children (~600 B data each)       → ms
//   3. CAS updateJobs batches of 100 distinct jobs (1 and 4 callers)      → row updates/s
//   4. single-row CAS updates, 16 concurrent callers (per-job transitions) → updates/s
/* global console */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

import { startPostgres } from '../../../test/helpers/postgres.ts';
import { SqliteStore } from '../sqlite/sqlite-store.ts';
import { createPostgresStore } from './postgres-store.ts';

const SECONDS = Number(process.argv[2] ?? 5);
const DATA = JSON.stringify({ container: { image: 'busybox', command: ['echo', 'hello'], environment: Array.from({ length: 8 }, (_, i) => ({ name: `VAR_${i}`, value: 'x'.repeat(40) })) } });

let seq = 0;
const row = (over = {}) => ({
  jobId: `${Date.now().toString(36)}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
  jobQueueArn: 'arn:aws:batch:us-east-1:123456789012:job-queue/bench',
  status: 'SUBMITTED',
  jobName: 'bench',
  jobDefinitionArn: 'arn:aws:batch:us-east-1:123456789012:job-definition/bench:1',
  parentId: null,
  shareIdentifier: null,
  createdAt: Date.now(),
  version: 1,
  data: DATA,
  ...over,
});

async function forDuration(workers, fn) {
  const end = Date.now() + SECONDS * 1000;
  let n = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (Date.now() < end) n += await fn(w);
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

async function bench(name, store) {
  const out = { store: name };
  out.singleInsertsPerSec16 = await forDuration(16, async () => {
    await store.insertJobs([row()]);
    return 1;
  });

  const times = [];
  for (let i = 0; i < 3; i++) {
    const parent = row();
    const kids = Array.from({ length: 10_000 }, (_, k) => row({ jobId: `${parent.jobId}:${k}`, parentId: parent.jobId }));
    const t = performance.now();
    await store.insertJobs(kids);
    times.push(performance.now() - t);
  }
  out.insert10kMs = times.map((t) => Math.round(t));

  // CAS batches: 4 disjoint pools of 2,000 jobs, each updated in batches of 100 (version tracked locally).
  const pools = [];
  for (let p = 0; p < 4; p++) {
    const rows = Array.from({ length: 2000 }, () => row({ status: 'RUNNABLE' }));
    await store.insertJobs(rows);
    pools.push(rows.map((r) => ({ ...r })));
  }
  const casBatch = (p) => {
    let off = 0;
    return async () => {
      const rows = pools[p];
      const slice = rows.slice(off, off + 100);
      off = (off + 100) % rows.length;
      const updates = slice.map((r) => ({ row: { ...r, status: r.version % 2 ? 'STARTING' : 'RUNNABLE', version: r.version + 1 }, expectedVersion: r.version }));
      await store.updateJobs(updates);
      for (const r of slice) r.version++;
      return slice.length;
    };
  };
  const one = casBatch(0);
  out.casBatch100RowsPerSec1 = await forDuration(1, () => one());
  const many = [casBatch(0), casBatch(1), casBatch(2), casBatch(3)];
  out.casBatch100RowsPerSec4 = await forDuration(4, (w) => many[w]());

  // single-row CAS, 16 callers, each on its own job set
  const singles = Array.from({ length: 16 }, (_, w) => pools[w % 4].slice(Math.floor(w / 4) * 500, Math.floor(w / 4) * 500 + 500));
  const idx = new Array(16).fill(0);
  out.singleCasPerSec16 = await forDuration(16, async (w) => {
    const r = singles[w][idx[w]++ % singles[w].length];
    await store.updateJobs([{ row: { ...r, status: 'RUNNING', version: r.version + 1 }, expectedVersion: r.version }]);
    r.version++;
    return 1;
  });
  out.jobsInTable = await store.countJobs();
  for (const k of Object.keys(out)) if (typeof out[k] === 'number') out[k] = Math.round(out[k]);
  return out;
}

const pgServer = await startPostgres({ durable: true, settings: { shared_buffers: '256MB' } });
const results = [];
try {
  const pgStore = await createPostgresStore({ url: pgServer.url, poolSize: 16 });
  results.push(await bench('postgres (pool 16)', pgStore));
  await pgStore.close();
  const pgStore10 = await createPostgresStore({ url: pgServer.url, schema: 'pool10', poolSize: 10 });
  results.push(await bench('postgres (pool 10, default)', pgStore10));
  await pgStore10.close();
} finally {
  await pgServer.stop();
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openbatch-bench-'));
try {
  const lite = new SqliteStore({ path: path.join(dir, 'bench.db') });
  results.push(await bench('sqlite (file, WAL)', lite));
  await lite.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`cpus=${os.cpus().length} seconds/case=${SECONDS}`);
console.table(results);
