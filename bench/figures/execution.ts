/**
 * @module bench/figures/execution
 * Figures 2–4 on one server with a 256-vCPU compute environment:
 *  2. trivial jobs (`true`, 1 vCPU) end to end vs the posix_spawn floor and vs Slurm, with the
 *     DescribeJobs p99 seen during the run;
 *  3. submit → RUNNING / SUCCEEDED latency of single jobs on an idle server vs Slurm;
 *  4. a big array job: SubmitJob latency and children/s, vs Slurm's `--array`.
 */
import { ApiClient, clients } from '../lib/client.js';
import { slurmOf, slurmSkip, type BenchContext } from '../lib/context.js';
import { runFloor } from '../lib/floor.js';
import { createQueue, engineStats, registerJobDefinition, startOpenbatch, type ServerHandle } from '../lib/openbatch.js';
import { ratio, type Row } from '../lib/report.js';
import { slurmThroughput } from '../lib/slurm.js';
import { BenchError, fmt, makeTempDir, now, pool, removeTempDir, sleep, summarize, waitFor } from '../lib/util.js';

const CONCURRENCY = 256;
const QUEUE = 'bench-exec';
const JD = 'bench-true';

interface Described {
  jobs: { jobId: string; status: string; arrayProperties?: { statusSummary?: Record<string, number> } }[];
}

/**
 * Submit `count` jobs with `submitters` clients (default 16) to `queue` (default the execution
 * queue) and wait until the engine counts all of them finished. Unless `probe` is false, one more
 * client runs DescribeJobs on a random submitted job every ~10 ms meanwhile. The engine's counters
 * are polled every `pollMs` (default 5 ms).
 */
export async function runTrivialJobs(
  server: ServerHandle,
  ctx: BenchContext,
  count: number,
  timeoutMs: number,
  opts: { queue?: string; jobDefinition?: string; submitters?: number; probe?: boolean; pollMs?: number } = {},
): Promise<{ rate: number; failed: number; describeP99: number; describes: number; ids: string[] }> {
  const queue = opts.queue ?? QUEUE;
  const jobDefinition = opts.jobDefinition ?? JD;
  const submitters = opts.submitters ?? 16;
  const admin = new ApiClient(server.port, ctx.sign);
  const before = await engineStats(admin);
  const cs = clients(server.port, ctx.sign, submitters);
  const ids: string[] = [];
  const t0 = now();
  let submitting = true;
  // Prober: DescribeJobs on a random known job every ~10 ms while the run lasts.
  const probe = new ApiClient(server.port, ctx.sign);
  const probeLat: number[] = [];
  let finished = false;
  const prober = (async () => {
    while (opts.probe !== false && !finished && now() - t0 < timeoutMs) {
      if (ids.length > 0) {
        const r = await probe.batch<Described>('DescribeJobs', { jobs: [ids[Math.floor(Math.random() * ids.length)]!] });
        probeLat.push(r.ms);
      }
      await sleep(10);
    }
  })();
  const sub = pool(submitters, count, timeoutMs, async (i, w) => {
    const r = await cs[w]!.batch<{ jobId: string }>('SubmitJob', { jobName: `exec-${i}`, jobQueue: queue, jobDefinition });
    ids.push(r.body.jobId);
  }).finally(() => (submitting = false));
  let after = before;
  try {
    await waitFor(
      `${count} jobs to finish`,
      async () => {
        after = await engineStats(admin);
        return !submitting && after.succeeded + after.failed - before.succeeded - before.failed >= ids.length ? true : undefined;
      },
      timeoutMs,
      opts.pollMs ?? 5,
    );
  } finally {
    finished = true;
    await sub;
    await prober;
    for (const c of [...cs, probe, admin]) c.close();
  }
  const ms = now() - t0;
  return { rate: ids.length / (ms / 1000), failed: after.failed - before.failed, describeP99: summarize(probeLat).p99, describes: probeLat.length, ids };
}

async function executionFigure(server: ServerHandle, ctx: BenchContext): Promise<void> {
  const n = ctx.sizes.execJobs;
  ctx.log(`execution: ${n} trivial jobs on openbatch`);
  const ob = await runTrivialJobs(server, ctx, n, 600_000);
  ctx.shared.execRate = ob.rate;
  if (ob.failed > 0) throw new BenchError(`${ob.failed} of ${n} trivial jobs FAILED`);

  let floorRate: number | undefined;
  if (typeof ctx.floor === 'string') {
    ctx.log(`execution: posix_spawn floor, ${n} processes, concurrency ${CONCURRENCY}`);
    floorRate = await runFloor(ctx.floor, n, CONCURRENCY);
    ctx.shared.floorRate = floorRate;
  }
  ctx.rows.push({
    figure: `Execution: trivial jobs/s (${fmt.n(n)} × \`true\`, 256 vCPU)`,
    openbatch: `${fmt.n(ob.rate)}/s`,
    baseline: floorRate !== undefined ? `posix_spawn floor ${fmt.n(floorRate)}/s` : '—',
    ratio: floorRate !== undefined ? ratio(ob.rate, floorRate) : '—',
    target: '≥ 0.5× floor',
    outcome: floorRate === undefined ? 'skipped' : ob.rate >= 0.5 * floorRate ? 'pass' : 'MISS',
    ...(floorRate === undefined && typeof ctx.floor !== 'string' ? { note: ctx.floor.skipped } : {}),
  });

  const slurm = slurmOf(ctx);
  let slurmRate: number | undefined;
  if (slurm) {
    ctx.log(`execution: Slurm, ${ctx.sizes.slurmJobs} × sbatch --wrap true (4 parallel submitters)`);
    slurmRate = (await slurmThroughput(slurm, ctx.sizes.slurmJobs, 4, 300_000)).rate;
  }
  ctx.rows.push({
    figure: 'Execution: trivial jobs/s vs Slurm',
    openbatch: `${fmt.n(ob.rate)}/s`,
    baseline: slurmRate !== undefined ? `Slurm ${fmt.n(slurmRate, 1)}/s (${ctx.sizes.slurmJobs} jobs)` : '—',
    ratio: slurmRate !== undefined ? ratio(ob.rate, slurmRate) : '—',
    target: '≥ Slurm',
    outcome: slurmRate === undefined ? 'skipped' : ob.rate >= slurmRate ? 'pass' : 'MISS',
    ...(slurmRate === undefined ? { note: slurmSkip(ctx) } : {}),
  });
  ctx.rows.push({
    figure: 'Execution: DescribeJobs p99 during the run',
    openbatch: fmt.ms(ob.describeP99),
    baseline: ctx.shared.idleDescribeP99 !== undefined ? `no jobs running ${fmt.ms(ctx.shared.idleDescribeP99)}` : '—',
    ratio: ctx.shared.idleDescribeP99 !== undefined ? ratio(ctx.shared.idleDescribeP99, ob.describeP99) : '—',
    target: '< 50 ms',
    outcome: ob.describeP99 < 50 ? 'pass' : 'MISS',
  });
  ctx.notes.push(
    `Execution: ${fmt.n(n)} jobs submitted by 16 clients; time from the first submit until the engine counted all finished; the floor keeps ${CONCURRENCY} \`true\` children alive with posix_spawnp + waitpid; ` +
      `DescribeJobs probed every ~10 ms during the run (${ob.describes} samples). Slurm: \`sbatch --wrap true\` from 4 parallel submitters, then \`squeue\` polled every 100 ms until empty.`,
  );
}

async function latencyFigure(server: ServerHandle, ctx: BenchContext): Promise<void> {
  const c = new ApiClient(server.port, ctx.sign);
  const toRunning: number[] = [];
  const toDone: number[] = [];
  ctx.log(`latency: ${ctx.sizes.latencySamples} single jobs on an idle server`);
  try {
    for (let i = 0; i < ctx.sizes.latencySamples; i++) {
      await sleep(20);
      const t0 = now();
      const r = await c.batch<{ jobId: string }>('SubmitJob', { jobName: `lat-${i}`, jobQueue: QUEUE, jobDefinition: JD });
      let running: number | undefined;
      for (;;) {
        const d = await c.batch<Described>('DescribeJobs', { jobs: [r.body.jobId] });
        const st = d.body.jobs[0]?.status ?? '';
        const t = now() - t0;
        if (running === undefined && (st === 'RUNNING' || st === 'SUCCEEDED' || st === 'FAILED')) running = t;
        if (st === 'SUCCEEDED' || st === 'FAILED') {
          toRunning.push(running ?? t);
          toDone.push(t);
          break;
        }
        if (t > 30_000) throw new BenchError(`job ${r.body.jobId} still ${st} after 30 s`);
        await sleep(2);
      }
    }
  } finally {
    c.close();
  }
  const run = summarize(toRunning);
  const done = summarize(toDone);

  const slurm = slurmOf(ctx);
  let sRun: ReturnType<typeof summarize> | undefined;
  let sDone: ReturnType<typeof summarize> | undefined;
  if (slurm) {
    ctx.log(`latency: ${ctx.sizes.slurmLatencySamples} single Slurm jobs`);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < ctx.sizes.slurmLatencySamples; i++) {
      const t0 = now();
      const id = await slurm.sbatch(['--wrap', 'true']);
      let running: number | undefined;
      for (;;) {
        const st = (await slurm.stateOf(id)) ?? 'COMPLETED';
        const t = now() - t0;
        if (running === undefined && /RUNNING|COMPLETING|COMPLETED|FAILED/.test(st)) running = t;
        if (/^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)/.test(st)) {
          a.push(running ?? t);
          b.push(t);
          break;
        }
        if (t > 60_000) throw new BenchError(`Slurm job ${id} still ${st} after 60 s`);
      }
    }
    sRun = summarize(a);
    sDone = summarize(b);
  }
  const rows: [string, number, number | undefined, string, boolean | undefined][] = [
    ['Latency: submit → RUNNING p50', run.p50, sRun?.p50, '≤ 25 ms', run.p50 <= 25],
    ['Latency: submit → RUNNING p99', run.p99, sRun?.p99, '≤ 100 ms', run.p99 <= 100],
    ['Latency: submit → SUCCEEDED p50', done.p50, sDone?.p50, '—', undefined],
    ['Latency: submit → SUCCEEDED p99', done.p99, sDone?.p99, '—', undefined],
  ];
  for (const [figure, o, s, target, ok] of rows) {
    ctx.rows.push({
      figure,
      openbatch: fmt.ms(o),
      baseline: s !== undefined ? `Slurm ${fmt.ms(s)}` : `— (${slurmSkip(ctx) || 'no Slurm'})`,
      ratio: s !== undefined ? ratio(s, o) : '—',
      target,
      outcome: ok === undefined ? 'info' : ok ? 'pass' : 'MISS',
    });
  }
  ctx.notes.push(
    `Latency: ${toRunning.length} single \`true\` jobs, one at a time, SubmitJob then DescribeJobs every ~2 ms from the client; "RUNNING" is the first poll that saw RUNNING or later (an upper bound, as a user sees it). ` +
      `Slurm: \`sbatch --wrap true\`, then \`squeue -t all -j ID\` in a loop (each call ~5 ms) until COMPLETED; ${sRun ? sRun.n : 0} samples.`,
  );
}

async function arrayFigure(server: ServerHandle, ctx: BenchContext): Promise<void> {
  const size = ctx.sizes.arraySize;
  const c = new ApiClient(server.port, ctx.sign);
  ctx.log(`arrays: ${size}-child array`);
  let submitMs: number;
  let rate: number;
  try {
    await c.batch('SubmitJob', { jobName: 'arr-warm', jobQueue: QUEUE, jobDefinition: JD, arrayProperties: { size: 2 } });
    const t0 = now();
    const r = await c.batch<{ jobId: string }>('SubmitJob', { jobName: 'arr', jobQueue: QUEUE, jobDefinition: JD, arrayProperties: { size } });
    submitMs = r.ms;
    const status = await waitFor(
      'the array job to finish',
      async () => {
        const d = await c.batch<Described>('DescribeJobs', { jobs: [r.body.jobId] });
        const st = d.body.jobs[0]?.status;
        return st === 'SUCCEEDED' || st === 'FAILED' ? st : undefined;
      },
      900_000,
      50,
    );
    if (status !== 'SUCCEEDED') throw new BenchError(`the ${size}-child array job ended ${status}`);
    rate = size / ((now() - t0) / 1000);
  } finally {
    c.close();
  }
  const slurm = slurmOf(ctx);
  let sSubmit: number | undefined;
  let sRate: number | undefined;
  if (slurm) {
    const t0 = now();
    await slurm.sbatch([`--array=0-${size - 1}`, '--hold', '--wrap', 'true']);
    sSubmit = now() - t0;
    await slurm.cancelAll();
    const m = ctx.sizes.slurmArrayRun;
    const t1 = now();
    await slurm.sbatch([`--array=0-${m - 1}`, '--wrap', 'true']);
    await waitFor('the Slurm array to finish', async () => ((await slurm.activeIds()).length === 0 ? true : undefined), 600_000, 100);
    sRate = m / ((now() - t1) / 1000);
  }
  const skip = slurmSkip(ctx);
  const extra: Partial<Row> = slurm ? {} : { note: skip };
  ctx.rows.push({
    figure: `Arrays: SubmitJob of a ${fmt.n(size)}-child array`,
    openbatch: fmt.ms(submitMs),
    baseline: sSubmit !== undefined ? `Slurm \`sbatch --array\` ${fmt.ms(sSubmit)}` : '—',
    ratio: sSubmit !== undefined ? ratio(sSubmit, submitMs) : '—',
    target: size >= 10_000 ? '≤ 200 ms' : '≤ 200 ms (at 10,000)',
    outcome: submitMs <= 200 ? 'pass' : 'MISS',
  });
  ctx.rows.push({
    figure: 'Arrays: children completed/s',
    openbatch: `${fmt.n(rate)}/s`,
    baseline: sRate !== undefined ? `Slurm ${fmt.n(sRate, 1)}/s (${ctx.sizes.slurmArrayRun}-task array)` : '—',
    ratio: sRate !== undefined ? ratio(rate, sRate) : '—',
    target: '≥ Slurm',
    outcome: sRate === undefined ? 'skipped' : rate >= sRate ? 'pass' : 'MISS',
    ...extra,
  });
}

export async function executionFigures(ctx: BenchContext): Promise<void> {
  const dir = makeTempDir('exec');
  const server = await startOpenbatch(dir);
  try {
    const admin = new ApiClient(server.port, ctx.sign);
    await createQueue(admin, QUEUE, CONCURRENCY);
    await registerJobDefinition(admin, JD, ['true']);
    // Warm up: a few jobs through the whole path.
    admin.close();
    await runTrivialJobs(server, ctx, 20, 60_000);
    await executionFigure(server, ctx);
    await latencyFigure(server, ctx);
    await arrayFigure(server, ctx);
  } finally {
    await server.stop();
    removeTempDir(dir);
  }
}
