/**
 * @module executors/slurm/slurm-test-env
 * Test-only: finds the localhost Slurm started by `.ci/services-slurm.sh` (exported variables, else
 * `$OB_SLURM_DIR/env`, default /tmp/openbatch-slurm/env) and builds executors bound to it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp } from 'node:fs/promises';
import path from 'node:path';

export interface SlurmTestEnv {
  slurmConf: string;
  dir: string;
  partition: string;
  node: string;
  restSocket: string;
  restUrl: string;
  restUser: string;
  jwt: string;
  cgroup: boolean;
}

function load(): { env?: SlurmTestEnv; reason?: string } {
  const vars: Record<string, string | undefined> = { ...process.env };
  if (vars.SLURM_CONF === undefined || vars.OB_SLURM_DIR === undefined) {
    const file = path.join(process.env.OB_SLURM_DIR ?? '/tmp/openbatch-slurm', 'env');
    try {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const i = line.indexOf('=');
        if (i > 0) vars[line.slice(0, i)] = line.slice(i + 1);
      }
    } catch {
      return { reason: `no localhost Slurm: run \`bash .ci/services-slurm.sh\` (${file} missing)` };
    }
  }
  const env: SlurmTestEnv = {
    slurmConf: vars.SLURM_CONF ?? '',
    dir: vars.OB_SLURM_DIR ?? '',
    partition: vars.OB_SLURM_PARTITION ?? 'main',
    node: vars.OB_SLURM_NODE ?? '',
    restSocket: vars.OB_SLURM_REST_SOCKET ?? '',
    restUrl: vars.OB_SLURM_REST_URL ?? '',
    restUser: vars.OB_SLURM_REST_USER ?? 'nobody',
    jwt: vars.OB_SLURM_JWT ?? '',
    cgroup: vars.OB_SLURM_CGROUP === '1',
  };
  try {
    execFileSync('sinfo', ['-h', '-p', env.partition, '-o', '%a'], {
      env: { ...process.env, SLURM_CONF: env.slurmConf },
      timeout: 10_000,
      stdio: 'pipe',
    });
  } catch (err) {
    return { reason: `localhost Slurm not answering (${(err as Error).message.split('\n')[0]})` };
  }
  return { env };
}

const loaded = load();
export const slurmEnv: SlurmTestEnv | undefined = loaded.env;
export const slurmSkipReason: string = loaded.reason ?? '';

/** A fresh work root on the Slurm test dir (readable/writable by `nobody`, which REST jobs run as). */
export async function freshWorkRoot(env: SlurmTestEnv, prefix: string): Promise<string> {
  const base = path.join(env.dir, 'work');
  await mkdir(base, { recursive: true });
  const dir = await mkdtemp(path.join(base, `${prefix}-`));
  await chmod(dir, 0o755);
  return dir;
}

export function slurmCli(env: SlurmTestEnv, cmd: string, args: string[]): string {
  return execFileSync(cmd, args, {
    env: { ...process.env, SLURM_CONF: env.slurmConf },
    encoding: 'utf8',
    timeout: 30_000,
  });
}
