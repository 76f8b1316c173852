/**
 * Trivial jobs/s through the Slurm executor vs plain `sbatch --wrap true` on the same localhost
 * Slurm, in the same run (issue 11: the overhead of going through openbatch stays under 20%).
 * Opt-in: OB_SLURM_PERF=1 (it occupies the cluster for ~30 s).
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { MemoryLogSink, RecordingEvents, SpecFactory } from '../executor.conformance.js';
import { createSlurmExecutor } from './slurm-executor.js';
import { freshWorkRoot, slurmCli, slurmEnv, type SlurmTestEnv } from './slurm-test-env.js';

const N = Number(process.env.OB_SLURM_PERF_JOBS ?? 200);

function sh(env: SlurmTestEnv, cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '', SLURM_CONF: env.slurmConf } });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exit ${code}`))));
  });
}

async function plainSbatch(env: SlurmTestEnv, workRoot: string): Promise<number> {
  const t0 = Date.now();
  const ids: string[] = [];
  // 4 submitters in parallel, like the executor's submit concurrency
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < N) {
        next++;
        const id = await sh(env, 'sbatch', [
          '--parsable',
          '--no-requeue',
          `--partition=${env.partition}`,
          `--output=${workRoot}/plain-%j.out`,
          '--wrap',
          'true',
        ]);
        ids.push(id.trim());
      }
    }),
  );
  for (;;) {
    const out = slurmCli(env, 'squeue', ['-h', '-t', 'PD,R,CG,CF', '-j', ids.join(','), '-o', '%i']);
    if (out.trim() === '') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return N / ((Date.now() - t0) / 1000);
}

async function throughExecutor(
  env: SlurmTestEnv,
  workRoot: string,
  transport: 'cli' | 'rest',
): Promise<number> {
  const events = new RecordingEvents();
  const sink = new MemoryLogSink();
  const ex = createSlurmExecutor(
    { events, dataDir: workRoot, killGraceMs: 2000 },
    {
      transport,
      partition: env.partition,
      workRoot,
      slurmConf: env.slurmConf,
      rest: { url: `unix:${env.restSocket}` },
    },
  );
  const specs = new SpecFactory(workRoot, sink);
  const all = Array.from({ length: N }, () => specs.make({ command: ['true'] }));
  const t0 = Date.now();
  await Promise.all(all.map((s) => ex.start(s)));
  const outcomes = await Promise.all(all.map((s) => events.waitForExit(s.attemptKey, 120_000)));
  const rate = N / ((Date.now() - t0) / 1000);
  await ex.close();
  expect(outcomes.every((o) => o.kind === 'exited' && o.exitCode === 0)).toBe(true);
  return rate;
}

describe.skipIf(!slurmEnv || process.env.OB_SLURM_PERF !== '1')(
  'slurm executor throughput (OB_SLURM_PERF=1)',
  () => {
    it(`${N} trivial jobs: executor vs plain sbatch`, async () => {
      const env = slurmEnv as SlurmTestEnv;
      const workRoot = await freshWorkRoot(env, 'ob-perf');
      try {
        const plain = await plainSbatch(env, workRoot);
        const cli = await throughExecutor(env, workRoot, 'cli');
        const rest = await throughExecutor(env, workRoot, 'rest');
        const plain2 = await plainSbatch(env, workRoot);
        console.log(
          `slurm perf: plain sbatch ${plain.toFixed(1)} / ${plain2.toFixed(1)} jobs/s; executor cli ${cli.toFixed(1)} jobs/s; executor rest ${rest.toFixed(1)} jobs/s`,
        );
        expect(cli).toBeGreaterThan(0.8 * Math.min(plain, plain2));
      } finally {
        await rm(workRoot, { recursive: true, force: true });
      }
    }, 300_000);
  },
);
