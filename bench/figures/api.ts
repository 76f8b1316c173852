/**
 * @module bench/figures/api
 * Figure 1: SubmitJob/s and DescribeJobs p50/p99 with 16 concurrent keep-alive, SigV4-signing
 * clients, against openbatch and against moto's server, same workload. The openbatch queue sits on
 * a DISABLED compute environment so nothing runs: this measures the API and the store only.
 */
import { ApiClient, clients } from '../lib/client.js';
import type { BenchContext } from '../lib/context.js';
import { motoMissing, startMoto } from '../lib/moto.js';
import { createQueue, registerJobDefinition, startOpenbatch } from '../lib/openbatch.js';
import { fmt, makeTempDir, pool, removeTempDir, summarize } from '../lib/util.js';
import { ratio } from '../lib/report.js';

const CLIENTS = 16;

interface ApiResult {
  submitRate: number;
  submits: number;
  submitP99: number;
  describeP50: number;
  describeP99: number;
  describes: number;
  errors: number;
}

async function workload(port: number, ctx: BenchContext, queue: string, jd: string, count: number, timeMs: number): Promise<ApiResult> {
  const cs = clients(port, ctx.sign, CLIENTS);
  const ids: string[] = [];
  let errors = 0;
  // Warm up each connection.
  await Promise.all(cs.map((c, i) => c.batch('SubmitJob', { jobName: `warm-${i}`, jobQueue: queue, jobDefinition: jd })));
  const submitLat: number[] = [];
  const sub = await pool(CLIENTS, count, timeMs, async (i, w) => {
    try {
      const r = await cs[w]!.batch<{ jobId: string }>('SubmitJob', { jobName: `api-${i}`, jobQueue: queue, jobDefinition: jd });
      submitLat.push(r.ms);
      ids.push(r.body.jobId);
    } catch {
      errors++;
    }
  });
  const descLat: number[] = [];
  const desc = await pool(CLIENTS, ctx.sizes.apiDescribes, timeMs, async (i, w) => {
    const id = ids[(i * 7919) % ids.length]!;
    try {
      const r = await cs[w]!.batch<{ jobs: unknown[] }>('DescribeJobs', { jobs: [id] });
      if (r.body.jobs.length === 1) descLat.push(r.ms);
      else errors++;
    } catch {
      errors++;
    }
  });
  for (const c of cs) c.close();
  const s = summarize(submitLat);
  const d = summarize(descLat);
  return {
    submitRate: submitLat.length / (sub.ms / 1000),
    submits: submitLat.length,
    submitP99: s.p99,
    describeP50: d.p50,
    describeP99: d.p99,
    describes: desc.done,
    errors,
  };
}

export async function apiFigure(ctx: BenchContext): Promise<void> {
  const { sizes } = ctx;
  const dir = makeTempDir('api');
  let ob: ApiResult;
  const server = await startOpenbatch(dir);
  try {
    const admin = new ApiClient(server.port, ctx.sign);
    await createQueue(admin, 'bench-api', 256, 'DISABLED');
    await registerJobDefinition(admin, 'bench-true', ['true']);
    admin.close();
    ctx.log(`api: openbatch, ${CLIENTS} clients, up to ${sizes.apiSubmits} submits`);
    ob = await workload(server.port, ctx, 'bench-api', 'bench-true', sizes.apiSubmits, sizes.apiTimeMs);
  } finally {
    await server.stop();
    removeTempDir(dir);
  }
  ctx.shared.idleDescribeP99 = ob.describeP99;
  if (ob.errors > 0) ctx.notes.push(`API: ${ob.errors} openbatch requests failed during the run.`);

  let moto: ApiResult | undefined;
  let skip = await motoMissing();
  if (!skip) {
    try {
      const m = await startMoto(ctx.sign);
      try {
        ctx.log(`api: moto, ${CLIENTS} clients, up to ${sizes.motoTimeMs / 1000} s`);
        moto = await workload(m.port, ctx, m.queue, m.jobDefinition, sizes.apiSubmits, sizes.motoTimeMs);
      } finally {
        await m.stop();
      }
    } catch (err) {
      skip = `moto failed: ${(err as Error).message}`;
    }
  }
  ctx.notes.push(
    `API: ${CLIENTS} clients, each its own keep-alive connection, every request SigV4-signed; openbatch did ${fmt.n(ob.submits)} submits and ${fmt.n(ob.describes)} DescribeJobs (1 id each)` +
      (moto ? `, moto ${fmt.n(moto.submits)} submits and ${fmt.n(moto.describes)} DescribeJobs in its time box (moto's server answers \`Connection: close\`, so its clients reconnect per request; its DescribeJobs scans every job it holds).` : '.'),
  );
  const mv = (f: (r: ApiResult) => string): string => (moto ? f(moto) : '—');
  const subPass = ob.submitRate >= 3000 && (!moto || ob.submitRate >= 20 * moto.submitRate);
  ctx.rows.push({
    figure: 'API: SubmitJob/s (16 SigV4 clients)',
    openbatch: `${fmt.n(ob.submitRate)}/s`,
    baseline: mv((m) => `moto ${fmt.n(m.submitRate, 1)}/s`),
    ratio: moto ? ratio(ob.submitRate, moto.submitRate) : '—',
    target: '≥ 3,000/s and ≥ 20× moto',
    outcome: subPass ? 'pass' : 'MISS',
  });
  ctx.rows.push({
    figure: 'API: SubmitJob p99 latency',
    openbatch: fmt.ms(ob.submitP99),
    baseline: mv((m) => `moto ${fmt.ms(m.submitP99)}`),
    ratio: moto ? ratio(moto.submitP99, ob.submitP99) : '—',
    target: '—',
    outcome: 'info',
  });
  for (const [name, o, m] of [
    ['p50', ob.describeP50, moto?.describeP50],
    ['p99', ob.describeP99, moto?.describeP99],
  ] as const) {
    ctx.rows.push({
      figure: `API: DescribeJobs ${name} (16 clients)`,
      openbatch: fmt.ms(o),
      baseline: m !== undefined ? `moto ${fmt.ms(m)}` : '—',
      ratio: m !== undefined ? ratio(m, o) : '—',
      target: '—',
      outcome: 'info',
    });
  }
  if (!moto) {
    ctx.rows.push({ figure: 'API: moto baseline', openbatch: '—', baseline: '—', ratio: '—', target: '—', outcome: 'skipped', note: skip ?? 'unknown' });
  }
}
