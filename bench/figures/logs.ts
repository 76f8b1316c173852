/**
 * @module bench/figures/logs
 * Figure 6: log ingest. A job prints N lines (`seq N`); we time submit → the last line readable
 * through GetLogEvents, and verify the first and last lines. Baseline: the same command into
 * `wc -l`. Then GetLogEvents page latency while reading a 1,000,000-event stream front to back
 * (10,000 events a page, counting every event), against the same on a 10,000-event stream.
 */
import { ApiClient } from '../lib/client.js';
import type { BenchContext } from '../lib/context.js';
import { createQueue, registerJobDefinition, startOpenbatch } from '../lib/openbatch.js';
import { ratio } from '../lib/report.js';
import { BenchError, fmt, makeTempDir, now, removeTempDir, run, summarize, waitFor } from '../lib/util.js';

const GROUP = '/aws/batch/job';

interface Event {
  message: string;
}
interface Page {
  events: Event[];
  nextForwardToken?: string;
}

/** Run `seq n` as a job; resolve when its last line is readable. */
async function seqJob(c: ApiClient, n: number): Promise<{ ms: number; stream: string }> {
  const t0 = now();
  const r = await c.batch<{ jobId: string }>('SubmitJob', {
    jobName: `seq-${n}`,
    jobQueue: 'bench-logs',
    jobDefinition: 'bench-true',
    containerOverrides: { command: ['seq', String(n)] },
  });
  const stream = await waitFor(
    'the seq job to finish',
    async () => {
      const d = await c.batch<{ jobs: { status: string; container?: { logStreamName?: string } }[] }>('DescribeJobs', { jobs: [r.body.jobId] });
      const j = d.body.jobs[0];
      if (j?.status === 'FAILED') throw new BenchError(`seq job FAILED`);
      return j?.status === 'SUCCEEDED' ? j.container?.logStreamName : undefined;
    },
    900_000,
    20,
  );
  if (!stream) throw new BenchError('the seq job has no logStreamName');
  await waitFor(
    'the last line to be stored',
    async () => {
      const p = await c.logs<Page>('GetLogEvents', { logGroupName: GROUP, logStreamName: stream, startFromHead: false, limit: 1 });
      return p.body.events.at(-1)?.message === String(n) ? true : undefined;
    },
    300_000,
    10,
  );
  const ms = now() - t0;
  const first = await c.logs<Page>('GetLogEvents', { logGroupName: GROUP, logStreamName: stream, startFromHead: true, limit: 1 });
  if (first.body.events[0]?.message !== '1') throw new BenchError(`first stored line is ${JSON.stringify(first.body.events[0])}, expected "1"`);
  return { ms, stream };
}

/** Read a whole stream front to back; page latencies, and check the event count. */
async function readAll(c: ApiClient, stream: string, expected: number): Promise<{ p50: number; p99: number; pages: number }> {
  const lat: number[] = [];
  let token: string | undefined;
  let count = 0;
  for (let guard = 0; guard < expected / 100 + 10; guard++) {
    const p = await c.logs<Page>('GetLogEvents', {
      logGroupName: GROUP,
      logStreamName: stream,
      startFromHead: true,
      limit: 10_000,
      ...(token ? { nextToken: token } : {}),
    });
    lat.push(p.ms);
    count += p.body.events.length;
    if (p.body.events.length === 0 || p.body.nextForwardToken === token) break;
    token = p.body.nextForwardToken;
  }
  if (count !== expected) throw new BenchError(`stream ${stream} holds ${count} events, expected ${expected}`);
  const s = summarize(lat);
  return { p50: s.p50, p99: s.p99, pages: lat.length };
}

export async function logsFigure(ctx: BenchContext): Promise<void> {
  const dir = makeTempDir('logs');
  const server = await startOpenbatch(dir);
  const c = new ApiClient(server.port, ctx.sign);
  try {
    await createQueue(c, 'bench-logs', 16);
    await registerJobDefinition(c, 'bench-true', ['true']);
    const n = ctx.sizes.logLines;
    ctx.log(`logs: a job printing ${fmt.n(n)} lines`);
    const ingest = await seqJob(c, n);
    const rate = n / (ingest.ms / 1000);
    const base = await run('sh', ['-c', `seq ${n} | wc -l`], { timeoutMs: 120_000 });
    if (base.stdout.trim() !== String(n)) throw new BenchError(`baseline printed ${base.stdout.trim()}`);
    const baseRate = n / (base.ms / 1000);
    ctx.rows.push({
      figure: `Logs: ingest, a job printing ${fmt.n(n)} lines (submit → last line readable)`,
      openbatch: `${fmt.n(rate)} lines/s (${fmt.ms(ingest.ms)})`,
      baseline: `\`seq | wc -l\` ${fmt.n(baseRate)} lines/s`,
      ratio: ratio(rate, baseRate),
      target: '≥ 100,000 lines/s',
      outcome: rate >= 100_000 ? 'pass' : 'MISS',
    });

    const m = ctx.sizes.logStreamEvents;
    ctx.log(`logs: reading a ${fmt.n(m)}-event stream`);
    const big = await seqJob(c, m);
    const bigRead = await readAll(c, big.stream, m);
    const small = await seqJob(c, 10_000);
    const smallRead = await readAll(c, small.stream, 10_000);
    // The small stream has a single page: read it as many times as the big one has pages.
    const smallLat: number[] = [];
    for (let i = 0; i < bigRead.pages; i++) {
      const p = await c.logs<Page>('GetLogEvents', { logGroupName: GROUP, logStreamName: small.stream, startFromHead: true, limit: 10_000 });
      smallLat.push(p.ms);
    }
    const sp = summarize([...smallLat, smallRead.p99]);
    ctx.rows.push({
      figure: `Logs: GetLogEvents page p99 (10,000 events/page), ${fmt.n(m)}-event stream`,
      openbatch: `${fmt.ms(bigRead.p99)} (p50 ${fmt.ms(bigRead.p50)}, ${bigRead.pages} pages)`,
      baseline: `10,000-event stream ${fmt.ms(sp.p99)}`,
      ratio: ratio(sp.p99, bigRead.p99),
      target: '—',
      outcome: 'info',
    });
    ctx.notes.push(
      `Logs: \`seq N\` as the job's command (containerOverrides); the clock stops when GetLogEvents (startFromHead false, limit 1) returns the line "N"; the first line is checked too. The ${fmt.n(m)}-event stream is read front to back with nextForwardToken and every event counted.`,
    );
  } finally {
    c.close();
    await server.stop();
    removeTempDir(dir);
  }
}
