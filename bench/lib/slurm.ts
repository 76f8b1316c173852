/**
 * @module bench/lib/slurm
 * Slurm (Debian `slurm-wlm`) as the execution baseline: a one-node localhost cluster in a temp dir,
 * on free loopback ports, configured as in shared/reference/slurm-localhost.conf.example, started
 * in the foreground (so the bench owns the PIDs) and stopped by PID.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { freePort } from './moto.js';
import { BenchError, now, run, sleep, spawnTracked, stopChild, waitFor, which } from './util.js';

export interface SlurmHandle {
  env: NodeJS.ProcessEnv;
  dir: string;
  /** The slurm.conf the daemons run with. */
  conf: string;
  /** The one partition (default for sbatch). */
  partition: string;
  /** CPUs of the one node. */
  cpus: number;
  /** Jobs each CPU may hold at once (`OverSubscribe=FORCE:n`). */
  oversubscribe: number;
  sbatch(args: readonly string[]): Promise<string>;
  /** Job ids still pending or running (not finished). */
  activeIds(): Promise<string[]>;
  /** State of one job, or undefined once Slurm forgot it. */
  stateOf(id: string): Promise<string | undefined>;
  cancelAll(): Promise<void>;
  stop(): Promise<void>;
}

export function slurmMissing(): string | undefined {
  const missing = ['slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel'].filter((c) => !which(c));
  return missing.length ? `Slurm not installed (${missing.join(', ')} not found; run .ci/bench-deps.sh)` : undefined;
}

export async function slurmVersion(): Promise<string> {
  const r = await run(which('slurmctld') ?? 'slurmctld', ['-V'], { timeoutMs: 10_000 });
  return (r.stdout || r.stderr).trim() || 'unknown';
}

/** `OverSubscribe=FORCE:n` of the bench's partition: up to n jobs share each CPU. */
export const OVERSUBSCRIBE = 64;
export const PARTITION = 'main';

/**
 * RealMemory for the node: 90% of the machine's memory (Slurm drains a node that reports less than
 * its configured RealMemory; without it the node has 1 MB and every `--mem` job is rejected, as
 * the Slurm executor's jobs carry `--mem`). Memory is not a consumable resource here (CR_CPU).
 */
function realMemoryMiB(): number {
  return Math.floor((os.totalmem() / 1024 ** 2) * 0.9);
}

function config(dir: string, node: string, cpus: number, ctldPort: number, dPort: number): string {
  return `ClusterName=obbench
SlurmctldHost=${node}(127.0.0.1)
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/log/ctld.log
SlurmdLogFile=${dir}/log/d.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SchedulerParameters=sched_min_interval=0,default_queue_depth=10000,sched_interval=1
MpiDefault=none
ReturnToService=2
SlurmctldPort=${ctldPort}
SlurmdPort=${dPort}
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MaxJobCount=100000
MaxArraySize=10001
MinJobAge=2
NodeName=${node} NodeAddr=127.0.0.1 NodeHostname=${node} CPUs=${cpus} Sockets=1 CoresPerSocket=${cpus} ThreadsPerCore=1 RealMemory=${realMemoryMiB()} State=UNKNOWN
PartitionName=${PARTITION} Nodes=${node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:${OVERSUBSCRIBE}
`;
}

export async function startSlurm(dir: string): Promise<SlurmHandle> {
  for (const d of ['state', 'spool', 'log', 'out']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const node = os.hostname().split('.')[0] ?? 'localhost';
  const cpus = os.availableParallelism();
  const conf = path.join(dir, 'slurm.conf');
  fs.writeFileSync(conf, config(dir, node, cpus, await freePort(), await freePort()));
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  const daemons: ChildProcess[] = [];
  const stopDaemons = async (): Promise<void> => {
    for (const d of daemons.reverse()) await stopChild(d, 10_000);
  };
  try {
    daemons.push(spawnTracked(which('slurmctld')!, ['-D', '-f', conf], { env, stdio: 'ignore' }));
    await sleep(300);
    daemons.push(spawnTracked(which('slurmd')!, ['-D', '-f', conf, '-N', node], { env, stdio: 'ignore' }));
    await waitFor(
      'slurm node to be idle',
      async () => {
        for (const d of daemons) if (d.exitCode !== null) throw new BenchError(`a Slurm daemon exited (${d.exitCode}); see ${dir}/log`);
        const r = await run('sinfo', ['-h', '-o', '%T'], { env, timeoutMs: 10_000 });
        return r.code === 0 && r.stdout.trim().startsWith('idle') ? true : undefined;
      },
      30_000,
      200,
    );
  } catch (err) {
    await stopDaemons();
    throw err;
  }
  const outDir = path.join(dir, 'out');
  const handle: SlurmHandle = {
    env,
    dir,
    conf,
    partition: PARTITION,
    cpus,
    oversubscribe: OVERSUBSCRIBE,
    async sbatch(args) {
      const r = await run('sbatch', ['--parsable', '-o', '/dev/null', '-e', '/dev/null', '-D', outDir, ...args], { env, timeoutMs: 30_000 });
      if (r.code !== 0) throw new BenchError(`sbatch failed: ${r.stderr.trim()}`);
      return r.stdout.trim().split(';')[0]!;
    },
    async activeIds() {
      const r = await run('squeue', ['-h', '-o', '%i'], { env, timeoutMs: 30_000 });
      if (r.code !== 0) throw new BenchError(`squeue failed: ${r.stderr.trim()}`);
      return r.stdout.split('\n').filter((l) => l.trim() !== '');
    },
    async stateOf(id) {
      const r = await run('squeue', ['-h', '-t', 'all', '-j', id, '-o', '%T'], { env, timeoutMs: 30_000 });
      const s = r.stdout.trim();
      return r.code === 0 && s ? s : undefined;
    },
    async cancelAll() {
      await run('scancel', ['--user', os.userInfo().username], { env, timeoutMs: 30_000 });
      await waitFor('Slurm queue to drain', async () => ((await handle.activeIds()).length === 0 ? true : undefined), 60_000, 200);
    },
    stop: stopDaemons,
  };
  return handle;
}

/** Submit `count` `sbatch --wrap true` jobs with `parallel` submitters, then wait for all to finish. Jobs/s. */
export async function slurmThroughput(s: SlurmHandle, count: number, parallel: number, timeoutMs: number): Promise<{ rate: number; done: number }> {
  const t0 = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count && now() - t0 < timeoutMs) {
        next++;
        await s.sbatch(['--wrap', 'true']);
      }
    }),
  );
  await waitFor('Slurm jobs to finish', async () => ((await s.activeIds()).length === 0 ? true : undefined), Math.max(1000, timeoutMs - (now() - t0)), 100);
  return { rate: next / ((now() - t0) / 1000), done: next };
}
