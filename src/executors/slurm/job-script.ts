/**
 * @module executors/slurm/job-script
 * The batch script openbatch submits for one attempt: the job environment as shell-quoted
 * `export` lines (never `--export=K=V` lists: 10× slower launches and values split on commas,
 * distributed.md §A.3), then `exec` of the shim with the attempt directory, the timeout and the argv.
 */

/** POSIX single-quote quoting: safe for any byte sequence without NUL. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface JobScriptInput {
  environment: Record<string, string>;
  shimPath: string;
  attemptDir: string;
  /** Shim-enforced attempt duration (0 = none). */
  timeoutSeconds: number;
  killGraceSeconds: number;
  command: readonly string[];
}

export function buildJobScript(o: JobScriptInput): string {
  const lines = ['#!/bin/bash'];
  const odd: string[] = [];
  for (const [k, v] of Object.entries(o.environment)) {
    if (NAME.test(k)) lines.push(`export ${k}=${shellQuote(v)}`);
    else if (!k.includes('=') && k !== '') odd.push(shellQuote(`${k}=${v}`)); // not a shell name: pass through env(1)
  }
  const shim = [
    '/bin/bash',
    shellQuote(o.shimPath),
    shellQuote(o.attemptDir),
    String(o.timeoutSeconds),
    String(o.killGraceSeconds),
    '--',
  ];
  const envPrefix = odd.length ? ['env', ...odd] : [];
  lines.push(`exec ${[...envPrefix, ...shim, ...o.command.map(shellQuote)].join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** `--time` backstop: ceil(timeout/60) + 2 minutes (Slurm checks limits every ~30 s, then KillWait). */
export function timeLimitMinutes(timeoutSeconds: number | undefined): number | undefined {
  return timeoutSeconds && timeoutSeconds > 0 ? Math.ceil(timeoutSeconds / 60) + 2 : undefined;
}

/** Slurm job name for an attempt: `ob-<jobId>-a<attempt>`. */
export function slurmJobName(jobId: string, attempt: number): string {
  return `ob-${jobId}-a${attempt}`;
}

/** `openbatch:<attemptKey> ce=<name> svc=<id>`; svc scopes the orphan sweep to one openbatch service. */
export function slurmComment(attemptKey: string, ceName: string, serviceId: string): string {
  return `openbatch:${attemptKey} ce=${ceName} svc=${serviceId}`.replace(/\s+$/, '');
}

export function parseSlurmComment(
  comment: string,
): { attemptKey: string; ce?: string; svc?: string } | undefined {
  const m = /^openbatch:(\S+)(?:\s+ce=(\S+))?(?:\s+svc=(\S+))?/.exec(comment);
  if (!m) return undefined;
  const out: { attemptKey: string; ce?: string; svc?: string } = { attemptKey: m[1] as string };
  if (m[2] !== undefined) out.ce = m[2];
  if (m[3] !== undefined) out.svc = m[3];
  return out;
}
