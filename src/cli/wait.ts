/**
 * @module cli/wait
 * `--wait`: poll a job until it ends, with a live progress display, optionally streaming its log.
 * On a terminal the status line is redrawn in place (carriage return + erase line); otherwise one
 * plain line is printed per change (status, attempt, array counts).
 */
import type { JobDetail } from '@aws-sdk/client-batch';

import type { Context, Output } from './context.js';
import { CliError, ExitCode } from './errors.js';
import { countBar, countSummary, formatDuration, paint, statusText, type Style } from './format.js';
import { currentAttempt, isArrayParent, isTerminal, maxAttempts } from './job-info.js';
import { LogFollower, type LogLine } from './log-follower.js';

export interface WaitOptions {
  /** Stream the job's log while waiting. */
  follow: boolean;
  /** Give up after this long (exit code 4); undefined waits forever. */
  timeoutMs?: number | undefined;
  /** Where progress goes (stdout normally, stderr with --output json). */
  progress: Output;
  /** Where log lines go. */
  logs: Output;
  /** Redraw in place (a terminal) or print plain lines. */
  live: boolean;
}

export interface WaitResult {
  job: JobDetail;
  interrupted: boolean;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function counts(job: JobDetail): Record<string, number> {
  return (job.arrayProperties?.statusSummary ?? {}) as Record<string, number>;
}

/** The status line (without the spinner) for a job. */
export function progressLine(style: Style, job: JobDetail, elapsedMs: number): string {
  const name = job.jobName ?? job.jobId ?? 'job';
  const parts = [`${paint(style, 'bold', name)} ${statusText(style, job.status)}`];
  if (isArrayParent(job)) {
    const c = counts(job);
    parts.push(`${countBar(style, c, 24)} ${countSummary(c)} of ${job.arrayProperties?.size ?? '?'}`);
  } else {
    parts.push(`attempt ${currentAttempt(job)}/${maxAttempts(job)}`);
  }
  parts.push(`elapsed ${formatDuration(elapsedMs)}`);
  return parts.join('  ');
}

function changeKey(job: JobDetail): string {
  return `${job.status}|${currentAttempt(job)}|${isArrayParent(job) ? countSummary(counts(job)) : ''}`;
}

function truncate(line: string, columns: number): string {
  // Keep the visible text shorter than the terminal so the line never wraps (wrapping breaks \r redraws).
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\x1b') {
      // eslint-disable-next-line no-control-regex
      const m = /^\x1b\[[0-9;]*[A-Za-z]/.exec(line.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length - 1;
        continue;
      }
    }
    if (visible >= columns - 1) break;
    out += line[i];
    visible++;
  }
  return out + (out.includes('\x1b') ? '\x1b[0m' : '');
}

export async function waitForJob(ctx: Context, jobId: string, opts: WaitOptions): Promise<WaitResult> {
  const client = ctx.client();
  const start = Date.now();
  const follower = opts.follow ? new LogFollower(client) : undefined;
  let frame = 0;
  let lastKey = '';
  let drawn = false;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  const clearLine = () => {
    if (drawn) opts.progress.write('\r\x1b[2K');
    drawn = false;
  };
  const printLogs = (lines: LogLine[], job: JobDetail) => {
    if (!lines.length) return;
    if (opts.live) clearLine();
    for (const l of lines) {
      if (l.firstOfStream && (l.attempt > 1 || maxAttempts(job) > 1)) {
        opts.logs.write(
          `${paint(ctx.style, 'dim', `── attempt ${l.attempt} · log stream ${l.stream} ──`)}\n`,
        );
      }
      opts.logs.write(`${l.message}\n`);
    }
  };
  try {
    let job: JobDetail | undefined;
    let nextPoll = 0;
    for (;;) {
      const now = Date.now();
      let fresh: LogLine[] = [];
      if (now >= nextPoll) {
        job = await client.describeJob(jobId);
        if (!job)
          throw new CliError(`Job ${jobId} was not found at ${ctx.endpoint ?? 'AWS'}`, ExitCode.FAILED);
        nextPoll = now + ctx.pollMs;
        if (follower) fresh = await follower.poll(job);
      }
      const elapsed = Date.now() - start;
      const terminal = isTerminal(job!);
      if (!opts.live) {
        const key = changeKey(job!);
        if (key !== lastKey) {
          lastKey = key;
          opts.progress.write(`${progressLine(ctx.style, job!, elapsed)}\n`);
        }
      }
      printLogs(fresh, job!);
      if (opts.live) {
        const spin = terminal
          ? job!.status === 'SUCCEEDED'
            ? paint(ctx.style, 'green', '✔')
            : paint(ctx.style, 'red', '✖')
          : SPINNER[frame++ % SPINNER.length]!;
        opts.progress.write(
          `\r\x1b[2K${truncate(`${spin} ${progressLine(ctx.style, job!, elapsed)}`, opts.progress.columns)}`,
        );
        drawn = true;
      }
      if (terminal) {
        if (follower) {
          // The last lines may land just after the status changes: drain until quiet.
          for (let i = 0; i < 3; i++) {
            const more = await follower.poll(job!);
            printLogs(more, job!);
            if (!more.length && i > 0) break;
            await sleep(Math.min(ctx.pollMs, 200));
          }
          if (opts.live)
            opts.progress.write(
              `\r\x1b[2K${truncate(`${paint(ctx.style, job!.status === 'SUCCEEDED' ? 'green' : 'red', job!.status === 'SUCCEEDED' ? '✔' : '✖')} ${progressLine(ctx.style, job!, elapsed)}`, opts.progress.columns)}`,
            );
        }
        if (opts.live) opts.progress.write('\n');
        return { job: job!, interrupted: false };
      }
      if (interrupted) {
        if (opts.live) opts.progress.write('\n');
        return { job: job!, interrupted: true };
      }
      if (opts.timeoutMs !== undefined && elapsed > opts.timeoutMs) {
        if (opts.live) opts.progress.write('\n');
        throw new CliError(
          `Gave up waiting after ${formatDuration(elapsed)}; job ${jobId} is still ${job!.status}. Check it with 'openbatch describe ${jobId}'`,
          ExitCode.TIMEOUT,
        );
      }
      await sleep(opts.live ? Math.min(ctx.pollMs, 120) : Math.max(10, nextPoll - Date.now()));
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
