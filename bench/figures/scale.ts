/**
 * @module bench/figures/scale
 * Figure 5: a store of 1,000,000 finished jobs, loaded through the store's own API
 * (`SqliteStore.insertJobs`, in batches, on a data dir the server then opens), each a copy of a real
 * stored JobDoc. Measures ListJobs (by queue and status; with filters) and DescribeJobs p99, server
 * RSS, data-dir size and start time, each against the same server holding 1,000 jobs; runs trivial
 * jobs on both to show the engine does not slow down with finished jobs; and times one pure
 * scheduler cycle over 100,000 RUNNABLE jobs (10 queues, 1,000 shares) against a naive full sort.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import type { Plan, QueueView, SchedulerSnapshot, ComputeEnvironmentView, CandidateJob, ScheduleOptions } from '../../src/core/scheduler/schedule.js';
import type { JobRow } from '../../src/store/store.js';
import type { SqliteStore as SqliteStoreClass } from '../../src/store/sqlite/sqlite-store.js';
import { ApiClient } from '../lib/client.js';
import type { BenchContext } from '../lib/context.js';
import { buildDir, createQueue, registerJobDefinition, startOpenbatch, type ServerHandle } from '../lib/openbatch.js';
import { ratio } from '../lib/report.js';
import { BenchError, dirSizeBytes, fmt, makeTempDir, now, removeTempDir, rssOf, summarize, waitFor } from '../lib/util.js';
import { runTrivialJobs } from './execution.js';

type SqliteStoreCtor = new (opts: { path: string; exclusive?: boolean }) => SqliteStoreClass;

async function loadDist<T>(rel: string): Promise<T> {
  return (await import(pathToFileURL(path.join(buildDir(), 'dist', rel)).href)) as T;
}

interface Template {
  parts: string[];
  row: JobRow;
}

/** Run one real job through a fresh server and take its stored row as the template. */
export async function realJobTemplate(dir: string, ctx: BenchContext): Promise<Template> {
  const server = await startOpenbatch(dir);
  let jobId: string;
  try {
    const c = new ApiClient(server.port, ctx.sign);
    await registerJobDefinition(c, 'bench-true', ['true']);
    const r = await c.batch<{ jobId: string }>('SubmitJob', {
      jobName: 'template',
      jobQueue: 'default',
      jobDefinition: 'bench-true',
      containerOverrides: { environment: [{ name: 'BENCH', value: 'scale' }] },
      tags: { team: 'bench' },
    });
    jobId = r.body.jobId;
    await waitFor(
      'the template job to succeed',
      async () => {
        const d = await c.batch<{ jobs: { status: string }[] }>('DescribeJobs', { jobs: [jobId] });
        return d.body.jobs[0]?.status === 'SUCCEEDED' ? true : undefined;
      },
      60_000,
    );
    c.close();
  } finally {
    await server.stop();
  }
  const { SqliteStore } = await loadDist<{ SqliteStore: SqliteStoreCtor }>('store/sqlite/sqlite-store.js');
  const store = new SqliteStore({ path: path.join(dir, 'openbatch.db') });
  const [row] = await store.getJobs([jobId]);
  await store.close();
  if (!row) throw new BenchError('template job not found in the store');
  const doc = JSON.parse(row.data) as { createdAt: number };
  // Placeholders: \uE001 job id, \uE002 job name, \uE003 createdAt (startedAt/stoppedAt stay those of the template).
  let s = row.data.split(row.jobId).join('\uE001');
  s = s.split(`"jobName":"${row.jobName}"`).join('"jobName":"\uE002"');
  s = s.split(String(doc.createdAt)).join('\uE003');
  return { parts: s.split(new RegExp('([\uE001-\uE003])')), row };
}

function fill(t: Template, id: string, name: string, createdAt: number): string {
  let out = '';
  for (const p of t.parts) out += p === '\uE001' ? id : p === '\uE002' ? name : p === '\uE003' ? String(createdAt) : p;
  return out;
}

/** Insert `n` SUCCEEDED copies of the template through SqliteStore.insertJobs. */
export async function loadStore(dir: string, t: Template, n: number, span: { from: number; to: number }, ctx: BenchContext): Promise<{ ms: number; ids: (i: number) => string }> {
  const { SqliteStore } = await loadDist<{ SqliteStore: SqliteStoreCtor }>('store/sqlite/sqlite-store.js');
  const store = new SqliteStore({ path: path.join(dir, 'openbatch.db'), exclusive: true });
  const idOf = (i: number): string => `00000000-bench-4000-8000-${i.toString(16).padStart(12, '0')}`;
  const t0 = now();
  try {
    const batch = 10_000;
    for (let start = 0; start < n; start += batch) {
      const rows: JobRow[] = [];
      for (let i = start; i < Math.min(n, start + batch); i++) {
        const id = idOf(i);
        const name = `scale-${i % 1000}-${i}`;
        const createdAt = Math.floor(span.from + ((span.to - span.from) * i) / n);
        rows.push({ ...t.row, jobId: id, jobName: name, createdAt, status: 'SUCCEEDED', data: fill(t, id, name, createdAt) });
      }
      await store.insertJobs(rows);
      if (start > 0 && start % 200_000 === 0) ctx.log(`scale: ${fmt.n(start)} jobs loaded`);
    }
  } finally {
    await store.close();
  }
  return { ms: now() - t0, ids: idOf };
}

interface QueryStats {
  listQueue: number;
  listQueueDeep: number;
  listPrefix: number;
  listExact: number;
  listAfter: number;
  describe1: number;
  describe100: number;
  /** Samples taken per query (fewer than asked when a query hit its time box). */
  samples: number[];
}

async function queries(port: number, ctx: BenchContext, n: number, idOf: (i: number) => string, span: { from: number; to: number }): Promise<QueryStats> {
  const c = new ApiClient(port, ctx.sign);
  const k = ctx.sizes.scaleQueries;
  const samples: number[] = [];
  const queueArn = 'arn:aws:batch:us-east-1:123456789012:job-queue/default';
  const p99 = async (make: (i: number) => unknown, op = 'ListJobs', check?: (b: Record<string, unknown>) => boolean): Promise<number> => {
    const lat: number[] = [];
    const start = now();
    // Bounded: k samples, or fewer (at least 5) once the time box is spent on this query.
    for (let i = 0; i < k && (i < 5 || now() - start < ctx.sizes.budgetMs); i++) {
      const r = await c.batch<Record<string, unknown>>(op, make(i));
      if (check && !check(r.body)) throw new BenchError(`${op} returned an unexpected answer: ${JSON.stringify(r.body).slice(0, 200)}`);
      lat.push(r.ms);
    }
    samples.push(lat.length);
    return summarize(lat).p99;
  };
  const list100 = (b: Record<string, unknown>): boolean => (b.jobSummaryList as unknown[]).length === Math.min(100, n);
  try {
    const listQueue = await p99(() => ({ jobQueue: queueArn, jobStatus: 'SUCCEEDED', maxResults: 100 }), 'ListJobs', list100);
    // Deep pages: follow nextToken (restart after 50 pages).
    let token: string | undefined;
    let pages = 0;
    const listQueueDeep = await p99(() => {
      const input = { jobQueue: 'default', jobStatus: 'SUCCEEDED', maxResults: 100, ...(token ? { nextToken: token } : {}) };
      return input;
    }, 'ListJobs', (b) => {
      token = ++pages % 50 === 0 ? undefined : (b.nextToken as string | undefined);
      return true;
    });
    const listPrefix = await p99((i) => ({ jobQueue: 'default', filters: [{ name: 'JOB_NAME', values: [`scale-${(i * 37) % 1000}*`] }], maxResults: 100 }));
    const listExact = await p99(
      (i) => {
        const j = (i * 7919) % n;
        return { jobQueue: 'default', filters: [{ name: 'JOB_NAME', values: [`scale-${j % 1000}-${j}`] }], maxResults: 100 };
      },
      'ListJobs',
      (b) => (b.jobSummaryList as unknown[]).length === 1,
    );
    const listAfter = await p99((i) => ({
      jobQueue: 'default',
      filters: [{ name: 'AFTER_CREATED_AT', values: [String(Math.floor(span.from + ((span.to - span.from) * ((i * 13) % 100)) / 100))] }],
      maxResults: 100,
    }));
    const describe1 = await p99((i) => ({ jobs: [idOf((i * 104_729) % n)] }), 'DescribeJobs', (b) => (b.jobs as unknown[]).length === 1);
    const describe100 = await p99(
      (i) => ({ jobs: Array.from({ length: Math.min(100, n) }, (_, j) => idOf((i * 104_729 + j * 7_919) % n)) }),
      'DescribeJobs',
      (b) => (b.jobs as unknown[]).length === Math.min(100, n),
    );
    return { listQueue, listQueueDeep, listPrefix, listExact, listAfter, describe1, describe100, samples };
  } finally {
    c.close();
  }
}

interface StoreRun {
  n: number;
  loadMs: number;
  sizeBytes: number;
  startMs: number;
  rssIdle: number;
  q: QueryStats;
  rssAfter: number;
  hwm: number;
  execRate: number;
  docBytes: number;
}

async function storeRun(ctx: BenchContext, n: number): Promise<StoreRun> {
  const dir = makeTempDir(`scale-${n}`);
  try {
    const t = await realJobTemplate(dir, ctx);
    // Inside the default 7-day job retention, so the retention loop keeps them.
    const span = { from: Date.now() - 6 * 86_400_000, to: Date.now() - 60_000 };
    ctx.log(`scale: loading ${fmt.n(n)} jobs through SqliteStore.insertJobs`);
    const load = await loadStore(dir, t, n, span, ctx);
    const sizeBytes = dirSizeBytes(dir);
    const t0 = now();
    const server: ServerHandle = await startOpenbatch(dir, [], 600_000);
    try {
      const startMs = now() - t0;
      const rssIdle = rssOf(server.pid).rssMiB;
      ctx.log(`scale: queries on ${fmt.n(n)} jobs`);
      const q = await queries(server.port, ctx, n, load.ids, span);
      const admin = new ApiClient(server.port, ctx.sign);
      await createQueue(admin, 'bench-exec', 256);
      admin.close();
      const exec = await runTrivialJobs(server, ctx, ctx.sizes.scaleExecJobs, 300_000);
      const mem = rssOf(server.pid);
      return { n, loadMs: load.ms, sizeBytes, startMs, rssIdle, q, rssAfter: mem.rssMiB, hwm: mem.hwmMiB, execRate: exec.rate, docBytes: Buffer.byteLength(t.row.data) };
    } finally {
      await server.stop();
    }
  } finally {
    removeTempDir(dir);
  }
}

// --- the scheduler cycle ---------------------------------------------------------------------

type ScheduleFn = (s: SchedulerSnapshot, o: ScheduleOptions) => Plan;

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1_664_525 + 1_013_904_223) >>> 0;
    return x / 2 ** 32;
  };
}

type Layout = 'fifo' | 'fairshare-flat' | 'fairshare-shares';

/**
 * 10 queues over 10 environments of 256 vCPUs (56 free each). Fair share: 1,000 share ids with
 * random usage, either as one flat FIFO candidate list per queue, or also as per-share lists in
 * share order (`QueueView.shares`, what the engine's share index passes when the scheduler takes it).
 */
function syntheticSnapshot(runnable: number, queues: number, shares: number, layout: Layout): SchedulerSnapshot {
  const fairshare = layout !== 'fifo';
  const r = rng(42);
  const ces = new Map<string, ComputeEnvironmentView>();
  const qs: QueueView[] = [];
  const usage = new Map<string, number>();
  for (let s = 0; s < shares; s++) usage.set(`share${s}`, Math.floor(r() * 10_000));
  const active = new Set([...usage.keys()].filter(() => r() < 0.3));
  const perQueue = Math.floor(runnable / queues);
  let seq = 0;
  for (let q = 0; q < queues; q++) {
    const arn = `arn:aws:batch:us-east-1:123456789012:compute-environment/ce${q}`;
    ces.set(arn, {
      arn,
      name: `ce${q}`,
      usable: true,
      total: { vcpus: 256, memoryMiB: 1_048_576, gpus: 0 },
      used: { vcpus: 200, memoryMiB: 800_000, gpus: 0 },
      maxJob: { vcpus: 64, memoryMiB: 262_144, gpus: 0 },
      freeGpuIds: [],
    });
    const candidates: CandidateJob[] = [];
    for (let i = 0; i < perQueue; i++) {
      const share = `share${Math.floor(r() * shares)}`;
      candidates.push({
        jobId: `job-${q}-${i}`,
        req: { vcpus: 1 + Math.floor(r() * 2), memoryMiB: 512, gpus: 0 },
        consumables: [],
        ...(fairshare ? { shareIdentifier: share } : {}),
        schedulingPriority: Math.floor(r() * 10),
        createdAt: 1_700_000_000_000 + seq,
        seq: seq++,
      } as CandidateJob);
    }
    const byShare = new Map<string, CandidateJob[]>();
    if (layout === 'fairshare-shares') {
      for (const c of candidates) {
        const k = c.shareIdentifier ?? '';
        let l = byShare.get(k);
        if (!l) byShare.set(k, (l = []));
        l.push(c);
      }
      for (const l of byShare.values()) l.sort((a, b) => b.schedulingPriority - a.schedulingPriority || a.seq - b.seq);
    }
    // Built as a plain object and asserted: `shares` exists only in scheduler versions that take it.
    const view = {
      arn: `arn:aws:batch:us-east-1:123456789012:job-queue/q${q}`,
      name: `q${q}`,
      priority: q % 3,
      usable: true,
      computeEnvironmentArns: [arn],
      candidates,
      ...(fairshare ? { fairshare: { usage, weightOf: () => 1, computeReservation: 0, activeShares: active } } : {}),
      ...(layout === 'fairshare-shares' ? { shares: byShare } : {}),
    };
    qs.push(view as QueueView);
  }
  return { queues: qs, computeEnvironments: ces, consumables: new Map() };
}

/** Baseline: sort every candidate of every queue (usage, priority, FIFO) each cycle, then place greedily. */
function naiveSchedule(s: SchedulerSnapshot): number {
  let placed = 0;
  const free = new Map([...s.computeEnvironments].map(([k, c]) => [k, c.total.vcpus - c.used.vcpus]));
  for (const q of [...s.queues].sort((a, b) => b.priority - a.priority)) {
    const u = q.fairshare?.usage;
    const sorted = [...q.candidates].sort(
      (a, b) =>
        (u ? (u.get(a.shareIdentifier ?? '') ?? 0) - (u.get(b.shareIdentifier ?? '') ?? 0) : 0) ||
        b.schedulingPriority - a.schedulingPriority ||
        a.createdAt - b.createdAt ||
        a.seq - b.seq,
    );
    for (const j of sorted) {
      const ce = q.computeEnvironmentArns[0]!;
      const f = free.get(ce) ?? 0;
      if (j.req.vcpus <= f) {
        free.set(ce, f - j.req.vcpus);
        placed++;
      }
      if ((free.get(ce) ?? 0) <= 0) break;
    }
  }
  return placed;
}

/** Time `fn` up to `runs` times after one warm-up, stopping early (after 3 runs) once `budgetMs` is spent. */
function timeIt(runs: number, fn: () => void, budgetMs = 30_000): { p50: number; p99: number; runs: number } {
  const start = now();
  fn(); // warm-up
  const lat: number[] = [];
  for (let i = 0; i < runs && (i < 3 || now() - start < budgetMs); i++) {
    const t0 = now();
    fn();
    lat.push(now() - t0);
  }
  const s = summarize(lat);
  return { p50: s.p50, p99: s.p99, runs: lat.length };
}

async function schedulerFigure(ctx: BenchContext): Promise<void> {
  const { schedule } = await loadDist<{ schedule: ScheduleFn }>('core/scheduler/schedule.js');
  const n = ctx.sizes.schedRunnable;
  const runs = ctx.sizes.schedRuns;
  const label: Record<Layout, string> = {
    'fairshare-shares': '1,000 shares (fair share, per-share lists)',
    'fairshare-flat': '1,000 shares (fair share, one flat list)',
    fifo: 'FIFO',
  };
  for (const layout of ['fairshare-shares', 'fairshare-flat', 'fifo'] as const) {
    const snap = syntheticSnapshot(n, 10, 1000, layout);
    let placements = 0;
    const ob = timeIt(runs, () => {
      placements = schedule(snap, { maxScanPerQueue: 200 }).placements.length;
    }, ctx.sizes.budgetMs);
    const naive = timeIt(runs, () => {
      naiveSchedule(snap);
    }, ctx.sizes.budgetMs);
    ctx.rows.push({
      figure: `Scheduler: one cycle, ${fmt.n(n)} RUNNABLE, 10 queues, ${label[layout]} (p50 / p99)`,
      openbatch: `${fmt.ms(ob.p50)} / ${fmt.ms(ob.p99)}`,
      baseline: `naive full sort ${fmt.ms(naive.p50)} / ${fmt.ms(naive.p99)}`,
      ratio: ratio(naive.p50, ob.p50),
      target: '≤ 10 ms',
      outcome: ob.p50 <= 10 ? 'pass' : 'MISS',
    });
    ctx.notes.push(
      `Scheduler (${label[layout]}): pure \`schedule()\` from dist/core/scheduler/schedule.js on a synthetic snapshot (10 queues × ${fmt.n(n / 10)} candidates, 10 environments of 256 vCPUs with 56 free, maxScanPerQueue 200), ${ob.runs} timed runs of schedule() and ${naive.runs} of the naive baseline after one warm-up each (at most ${runs}, fewer when the ${ctx.sizes.budgetMs / 1000} s time box ran out); it placed ${placements} jobs per cycle.`,
    );
  }
}

export async function scaleFigure(ctx: BenchContext): Promise<void> {
  const small = await storeRun(ctx, 1_000);
  const big = await storeRun(ctx, ctx.sizes.scaleJobs);
  const N = fmt.n(big.n);
  const q = (figure: string, o: number, b: number, target = '≤ 20 ms'): void => {
    ctx.rows.push({
      figure: `Scale: ${figure} p99, ${N} jobs`,
      openbatch: fmt.ms(o),
      baseline: `1,000 jobs ${fmt.ms(b)}`,
      ratio: ratio(b, o),
      target,
      outcome: target === '—' ? 'info' : o <= 20 ? 'pass' : 'MISS',
    });
  };
  q('ListJobs queue+SUCCEEDED, 100/page, first page', big.q.listQueue, small.q.listQueue);
  q('ListJobs queue+SUCCEEDED, following nextToken', big.q.listQueueDeep, small.q.listQueueDeep);
  q('ListJobs filter JOB_NAME prefix', big.q.listPrefix, small.q.listPrefix);
  q('ListJobs filter JOB_NAME exact (1 match)', big.q.listExact, small.q.listExact);
  q('ListJobs filter AFTER_CREATED_AT', big.q.listAfter, small.q.listAfter);
  q('DescribeJobs, 1 id', big.q.describe1, small.q.describe1);
  q('DescribeJobs, 100 ids', big.q.describe100, small.q.describe100, '—');
  ctx.rows.push({
    figure: `Scale: server RSS (idle / after queries / peak), ${N} jobs`,
    openbatch: `${fmt.mib(big.rssIdle)} / ${fmt.mib(big.rssAfter)} / ${fmt.mib(big.hwm)}`,
    baseline: `1,000 jobs ${fmt.mib(small.rssIdle)} / ${fmt.mib(small.rssAfter)} / ${fmt.mib(small.hwm)}`,
    ratio: ratio(small.hwm, big.hwm),
    target: '≤ 500 MB',
    outcome: big.hwm * 1.048576 <= 500 ? 'pass' : 'MISS',
  });
  ctx.rows.push({
    figure: `Scale: data-dir size / load time / server start, ${N} jobs`,
    openbatch: `${fmt.n(big.sizeBytes / 1024 ** 2)} MiB / ${fmt.ms(big.loadMs)} / ${fmt.ms(big.startMs)}`,
    baseline: `1,000 jobs ${fmt.n(small.sizeBytes / 1024 ** 2, 1)} MiB / ${fmt.ms(small.loadMs)} / ${fmt.ms(small.startMs)}`,
    ratio: '—',
    target: '—',
    outcome: 'info',
  });
  ctx.rows.push({
    figure: `Scale: trivial jobs/s with ${N} finished jobs in the store`,
    openbatch: `${fmt.n(big.execRate)}/s`,
    baseline: `1,000 jobs ${fmt.n(small.execRate)}/s`,
    ratio: ratio(big.execRate, small.execRate),
    target: 'no slowdown (≥ 0.8×)',
    outcome: big.execRate >= 0.8 * small.execRate ? 'pass' : 'MISS',
  });
  ctx.notes.push(
    `Scale: every job is a copy of a real stored JobDoc (${fmt.n(big.docBytes)} bytes of JSON: one \`true\` job run through the server first, ids/names/createdAt changed), status SUCCEEDED, one queue, createdAt spread over the last 6 days (inside the default 7-day retention); loaded with SqliteStore.insertJobs in batches of 10,000 while the server was stopped. ` +
      `Each query ran up to ${ctx.sizes.scaleQueries} times in a row from one client, time-boxed to ${ctx.sizes.budgetMs / 1000} s per query (samples taken on the big store: ${big.q.samples.join(', ')}). After the queries, ${ctx.sizes.scaleExecJobs} trivial jobs ran on a 256-vCPU queue on the same server.`,
  );
  await schedulerFigure(ctx);
}
