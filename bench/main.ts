/**
 * @module bench/main
 * `npm run bench [-- --quick] [-- --only api,exec,scale,logs]`: every figure of issue 8 against
 * its baseline, measured in the same run; prints the table and writes docs/performance.md (full
 * run) or bench/results/quick.md (--quick). Exits 0 when everything ran, whatever the timings; 1
 * when a figure could not be measured. Everything it starts it stops; traffic stays on 127.0.0.1.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { apiFigure } from './figures/api.js';
import { executionFigures } from './figures/execution.js';
import { logsFigure } from './figures/logs.js';
import { scaleFigure } from './figures/scale.js';
import { slurmExecutorFigure } from './figures/slurm.js';
import { FULL, QUICK, type BenchContext } from './lib/context.js';
import { buildFloor, floorMissing } from './lib/floor.js';
import { motoVersion } from './lib/moto.js';
import { checkBuilt, REPO, snapshotBuild } from './lib/openbatch.js';
import { consoleTable, machineFacts, machineMarkdown, markdownTable, type Row } from './lib/report.js';
import { loadSigner, nodeCryptoSigner, selfCheck, signCost } from './lib/sigv4.js';
import { slurmMissing, slurmVersion, startSlurm } from './lib/slurm.js';
import { cleanupAll, installSignalCleanup, makeTempDir, now, run } from './lib/util.js';

const FIGURES = ['api', 'exec', 'slurm', 'scale', 'logs'] as const;
type Figure = (typeof FIGURES)[number];

function parseArgs(argv: readonly string[]): { quick: boolean; only: Set<Figure>; out?: string } {
  let quick = false;
  let only = new Set<Figure>(FIGURES);
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(7) : argv[++i];
      const names = (v ?? '').split(',').filter(Boolean);
      for (const n of names) if (!(FIGURES as readonly string[]).includes(n)) throw new Error(`unknown figure '${n}' (one of ${FIGURES.join(', ')})`);
      only = new Set(names as Figure[]);
    } else if (a === '--out' || a.startsWith('--out=')) out = a.includes('=') ? a.slice(6) : argv[++i];
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`Usage: npm run bench -- [--quick] [--only ${FIGURES.join(',')}] [--out FILE]\n`);
      process.exit(0);
    } else throw new Error(`unknown option '${a}'`);
  }
  return { quick, only, ...(out ? { out } : {}) };
}

const HEADER = `# Performance

openbatch against its baselines, side by side, measured in one run of \`npm run bench\` on one
machine. These machines are shared and noisy: read the **ratios**, not the absolute numbers. Every
figure runs its baseline in the same run; "ratio" is how many times better openbatch did (above 1×
= openbatch better; for latencies it is baseline ÷ openbatch). **MISS** means the figure missed its
target in this run; the section "Missed targets" says what limits it.

- Baselines: [moto](https://github.com/getmoto/moto)'s server (API), a C program doing
  \`posix_spawnp\` + \`waitpid\` with the same concurrency (the raw process-start floor), Slurm
  (Debian \`slurm-wlm\`, a one-node localhost cluster configured like
  \`shared/reference/slurm-localhost.conf.example\`), the same query on a 1,000-job store, a naive
  full-sort scheduler, \`seq N | wc -l\`, and plain \`sbatch\` on the same Slurm for openbatch's
  Slurm executor.
- Reproduce: \`npm run build && bash .ci/bench-deps.sh && npm run bench\` (about 10 minutes; writes
  this file). \`npm run bench -- --quick\` is the CI smoke run (small sizes, no pass/fail on
  timings; writes bench/results/quick.md).
`;

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const started = now();
  installSignalCleanup();
  const notBuilt = checkBuilt();
  if (notBuilt) {
    process.stderr.write(`bench: ${notBuilt}\n`);
    return 1;
  }
  // The load generators sign with node:crypto: it produces the same Authorization header as the
  // SDK's own signer (checked here), at a fraction of its CPU cost, which on a small machine would
  // otherwise cap the single-threaded load generator rather than the server.
  const sdkSigner = await loadSigner();
  const sdkCost = await signCost(sdkSigner.sign);
  const nodeCost = await signCost(nodeCryptoSigner);
  if (!(await selfCheck(sdkSigner.sign))) {
    process.stderr.write('bench: the SDK signer and the node:crypto signer disagree; refusing to run\n');
    return 1;
  }
  await snapshotBuild();
  const signer = {
    name: `SigV4 (node:crypto), checked byte-identical to ${sdkSigner.name}; ${nodeCost.toFixed(3)} ms vs ${sdkCost.toFixed(3)} ms per request for the SDK signer`,
    sign: nodeCryptoSigner,
  };
  const log = (msg: string): void => {
    process.stderr.write(`[bench +${((now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
  };
  const ctx: BenchContext = {
    quick: args.quick,
    sizes: args.quick ? QUICK : FULL,
    sign: signer.sign,
    rows: [],
    notes: [],
    slurm: { skipped: 'not started' },
    floor: { skipped: 'not built' },
    shared: {},
    log,
  };
  const facts: Record<string, string> = { mode: args.quick ? 'quick (small sizes; timings not judged)' : 'full', 'request signing': signer.name };
  const load0 = os.loadavg()[0] ?? 0;
  try {
    const head = (await run('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { timeoutMs: 10_000 })).stdout.trim();
    const dirty = (await run('git', ['-C', REPO, 'status', '--porcelain', '--', 'src'], { timeoutMs: 10_000 })).stdout.trim().split('\n').filter(Boolean).length;
    facts['openbatch build'] = `dist/ of commit ${head}${dirty ? ` plus ${dirty} uncommitted file(s) under src/` : ''}`;
  } catch {
    // not a git checkout
  }
  let failed = false;

  const figureRow = (figure: string, err: unknown): Row => ({
    figure,
    openbatch: '—',
    baseline: '—',
    ratio: '—',
    target: '—',
    outcome: 'error',
    note: (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300),
  });

  try {
    const floorSkip = floorMissing();
    ctx.floor = floorSkip ? { skipped: floorSkip } : await buildFloor(makeTempDir('floor'));
    const needSlurm = args.only.has('exec') || args.only.has('slurm');
    const slurmSkip = slurmMissing();
    if (needSlurm && !slurmSkip) {
      try {
        ctx.slurm = await startSlurm(makeTempDir('slurm'));
        facts.Slurm = await slurmVersion();
      } catch (err) {
        ctx.slurm = { skipped: `Slurm did not start: ${(err as Error).message}` };
      }
    } else if (slurmSkip) ctx.slurm = { skipped: slurmSkip };
    try {
      facts.moto = await motoVersion();
    } catch {
      // reported by the API figure
    }

    const steps: [Figure, string, (c: BenchContext) => Promise<void>][] = [
      ['api', 'API', apiFigure],
      ['exec', 'Execution / latency / arrays', executionFigures],
      ['slurm', 'Slurm executor vs plain sbatch', slurmExecutorFigure],
      ['scale', 'Scale', scaleFigure],
      ['logs', 'Logs', logsFigure],
    ];
    for (const [key, name, fn] of steps) {
      if (!args.only.has(key)) continue;
      const t0 = now();
      try {
        await fn(ctx);
      } catch (err) {
        failed = true;
        log(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        ctx.rows.push(figureRow(name, err));
      }
      log(`${name} done in ${((now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    if (!('skipped' in ctx.slurm)) await ctx.slurm.stop();
    await cleanupAll();
  }

  const elapsed = (now() - started) / 1000;
  process.stdout.write(`\n${consoleTable(ctx.rows)}\n\n`);
  const missed = ctx.rows.filter((r) => r.outcome === 'MISS');
  const m = machineFacts();
  facts['bench run time'] = `${elapsed.toFixed(0)} s`;
  facts['load average (1 min) at start / end'] = `${load0.toFixed(1)} / ${(os.loadavg()[0] ?? 0).toFixed(1)} on ${os.availableParallelism()} cores (other work shares this machine)`;
  const generated = [
    `## Results (${args.quick ? 'quick run' : 'full run'}, ${m.date})`,
    '',
    markdownTable(ctx.rows),
    '',
    '## Machine',
    '',
    machineMarkdown(m, facts),
    '',
    '## Method',
    '',
    ...ctx.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  const limitsFile = path.join(REPO, 'bench', 'missed-targets.md');
  const limits = !args.quick && fs.existsSync(limitsFile) ? `\n${fs.readFileSync(limitsFile, 'utf8').trim()}\n` : '';
  const out = args.out ?? path.join(REPO, args.quick ? 'bench/results/quick.md' : 'docs/performance.md');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${HEADER}\n<!-- generated by \`npm run bench\`: everything below this line -->\n\n${generated}${limits}`);
  process.stdout.write(
    `bench: ${ctx.rows.length} rows, ${missed.length} target(s) missed${args.quick ? ' (quick mode: small sizes, timings not judged)' : ''}${missed.length ? ` (${missed.map((r) => r.figure).join('; ')})` : ''}; wrote ${path.relative(REPO, out)} in ${elapsed.toFixed(0)} s\n`,
  );
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await cleanupAll();
    process.exit(1);
  },
);
