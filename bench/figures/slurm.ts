/**
 * @module bench/figures/slurm
 * Issue 11's figure: trivial jobs/s end to end through openbatch's Slurm executor (CLI transport)
 * against plain `sbatch --wrap true` on the same one-node localhost Slurm, in the same run. Plain
 * sbatch is measured right before and right after openbatch (Slurm slows down as finished job
 * records pile up, so the two bracket openbatch's run); the ratio is against their mean. Target:
 * overhead under 20% (openbatch ≥ 0.8× plain sbatch).
 */
import { ApiClient } from '../lib/client.js';
import { slurmOf, slurmSkip, type BenchContext } from '../lib/context.js';
import { registerJobDefinition, startOpenbatch } from '../lib/openbatch.js';
import { ratio } from '../lib/report.js';
import { slurmThroughput, type SlurmHandle } from '../lib/slurm.js';
import { BenchError, fmt, makeTempDir, removeTempDir, waitFor } from '../lib/util.js';
import { runTrivialJobs } from './execution.js';

const QUEUE = 'bench-slurm';
const CE = 'bench-slurm-ce';
const JD = 'bench-slurm-true';
/** Parallel submitters on both sides: plain sbatch runs 4 at once, as does the executor (submitConcurrency 4). */
const SUBMITTERS = 4;
const TARGET = 0.8;

interface Listed {
  jobSummaryList: { jobId: string }[];
}

async function createSlurmQueue(c: ApiClient, vcpus: number): Promise<void> {
  await c.batch('CreateComputeEnvironment', {
    computeEnvironmentName: CE,
    type: 'UNMANAGED',
    state: 'ENABLED',
    unmanagedvCpus: vcpus,
    tags: { 'openbatch.io/executor': 'slurm' },
  });
  await waitFor(
    `compute environment ${CE} to be VALID`,
    async () => {
      const r = await c.batch<{ computeEnvironments: { status: string; statusReason?: string }[] }>('DescribeComputeEnvironments', { computeEnvironments: [CE] });
      const ce = r.body.computeEnvironments[0];
      if (ce?.status === 'INVALID') throw new BenchError(`compute environment ${CE} is INVALID: ${ce.statusReason ?? ''}`);
      return ce?.status === 'VALID' ? true : undefined;
    },
    30_000,
    20,
  );
  await c.batch('CreateJobQueue', { jobQueueName: QUEUE, priority: 1, computeEnvironmentOrder: [{ order: 1, computeEnvironment: CE }] });
  await waitFor(
    `job queue ${QUEUE} to be VALID`,
    async () => {
      const r = await c.batch<{ jobQueues: { status: string }[] }>('DescribeJobQueues', { jobQueues: [QUEUE] });
      return r.body.jobQueues[0]?.status === 'VALID' ? true : undefined;
    },
    30_000,
    20,
  );
}

/** Why the first few FAILED jobs of the queue failed (for the error message). */
async function failureReasons(c: ApiClient): Promise<string> {
  const l = await c.batch<Listed>('ListJobs', { jobQueue: QUEUE, jobStatus: 'FAILED', maxResults: 3 });
  const ids = l.body.jobSummaryList.map((j) => j.jobId);
  if (ids.length === 0) return '';
  const d = await c.batch<{ jobs: { statusReason?: string; container?: { reason?: string; exitCode?: number } }[] }>('DescribeJobs', { jobs: ids });
  return [...new Set(d.body.jobs.map((j) => `${j.statusReason ?? '?'}${j.container?.reason ? ` (${j.container.reason})` : ''}${j.container?.exitCode !== undefined ? ` exit ${j.container.exitCode}` : ''}`))].join('; ');
}

/** The server's last stderr lines about Slurm, for an error message. */
function serverLog(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => /slurm|sbatch/i.test(l));
  return lines.length ? `(server: ${lines.slice(-3).join(' | ').slice(0, 600)})` : '';
}

async function plain(slurm: SlurmHandle, n: number, timeoutMs: number): Promise<number> {
  const r = await slurmThroughput(slurm, n, SUBMITTERS, timeoutMs);
  if (r.done < n) throw new BenchError(`plain sbatch: only ${r.done} of ${n} jobs submitted within ${timeoutMs / 1000} s`);
  return r.rate;
}

export async function slurmExecutorFigure(ctx: BenchContext): Promise<void> {
  const n = ctx.sizes.slurmExecJobs;
  const figure = `Slurm executor: trivial jobs/s (${fmt.n(n)} × \`true\`, CLI transport) vs plain sbatch`;
  const target = `≥ ${TARGET}× plain sbatch (overhead < 20%)`;
  const slurm = slurmOf(ctx);
  if (!slurm) {
    ctx.rows.push({ figure, openbatch: '—', baseline: '—', ratio: '—', target, outcome: 'skipped', note: slurmSkip(ctx) });
    return;
  }
  const dir = makeTempDir('slurm-exec');
  const workRoot = `${dir}/work`;
  const vcpus = slurm.cpus * slurm.oversubscribe;
  const server = await startOpenbatch(`${dir}/data`, [
    '--no-defaults',
    '--slurm-partition',
    slurm.partition,
    '--slurm-transport',
    'cli',
    '--slurm-conf',
    slurm.conf,
    '--slurm-work-root',
    workRoot,
  ]);
  const admin = new ApiClient(server.port, ctx.sign);
  try {
    await createSlurmQueue(admin, vcpus);
    await registerJobDefinition(admin, JD, ['true'], 1, 64);
    const timeoutMs = ctx.quick ? 120_000 : 300_000;
    // Engine counters polled every 100 ms, as often as the baseline polls squeue (a 5 ms poll was
    // 5% of the server's loop here: measurement load, not openbatch's).
    const opts = { queue: QUEUE, jobDefinition: JD, submitters: SUBMITTERS, probe: false, pollMs: 100 };
    // Warm-up: a few jobs through the whole path (job script, shim install, poller, tail loop).
    ctx.log('slurm executor: warm-up, 3 jobs through openbatch');
    const warm = await runTrivialJobs(server, ctx, 3, 60_000, opts);
    if (warm.failed > 0) throw new BenchError(`warm-up: ${warm.failed} of 3 jobs FAILED on Slurm: ${await failureReasons(admin)} ${serverLog(server.stderr())}`);
    await slurm.cancelAll();

    ctx.log(`slurm executor: plain sbatch before, ${n} × sbatch --wrap true (${SUBMITTERS} parallel submitters)`);
    const before = await plain(slurm, n, timeoutMs);
    ctx.log(`slurm executor: ${n} trivial jobs through openbatch → Slurm`);
    const ob = await runTrivialJobs(server, ctx, n, timeoutMs, opts);
    if (ob.ids.length < n) throw new BenchError(`openbatch: only ${ob.ids.length} of ${n} jobs submitted within ${timeoutMs / 1000} s`);
    // A failed job is reported (the row is an error, with the rate measured), not hidden.
    const failedNote = ob.failed > 0 ? `${ob.failed} of ${n} jobs FAILED: ${await failureReasons(admin)} ${serverLog(server.stderr())}`.trim() : '';
    if (failedNote) ctx.log(`slurm executor: ${failedNote}`);
    await slurm.cancelAll();
    ctx.log(`slurm executor: plain sbatch after, ${n} jobs`);
    const after = await plain(slurm, n, timeoutMs);
    const mean = (before + after) / 2;
    ctx.rows.push({
      figure,
      openbatch: `${fmt.n(ob.rate, 1)}/s`,
      baseline: `plain sbatch ${fmt.n(mean, 1)}/s (mean of ${fmt.n(before, 1)}/s before, ${fmt.n(after, 1)}/s after)`,
      ratio: ratio(ob.rate, mean),
      target,
      outcome: failedNote ? 'error' : ctx.quick ? 'info' : ob.rate >= TARGET * mean ? 'pass' : 'MISS',
      ...(failedNote ? { note: failedNote } : {}),
    });
    ctx.notes.push(
      `Slurm executor: an openbatch server started with \`--slurm-partition ${slurm.partition} --slurm-transport cli\` on the bench's one-node Slurm (${slurm.cpus} CPUs, \`OverSubscribe=FORCE:${slurm.oversubscribe}\`), ` +
        `an UNMANAGED compute environment tagged \`openbatch.io/executor=slurm\` with unmanagedvCpus ${vcpus}, a job definition running \`true\` (1 vCPU, 64 MiB); ` +
        `${n} SubmitJob calls from ${SUBMITTERS} clients, clock from the first submit until the engine's counters (\`GET /openbatch/v1/stats\`, polled every 100 ms) showed all ${n} SUCCEEDED (after a 3-job warm-up). ` +
        `Plain sbatch: ${n} × \`sbatch --wrap true\` from ${SUBMITTERS} parallel submitters, then \`squeue\` every 100 ms until empty, measured right before and right after openbatch; the ratio is against the mean of the two.`,
    );
  } finally {
    admin.close();
    await server.stop();
    // close() of the executor cancels what still runs; make sure nothing of ours is left queued.
    await slurm.cancelAll().catch(() => undefined);
    removeTempDir(dir);
  }
}
