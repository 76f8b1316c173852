/**
 * @module cli/commands/jobs
 * `openbatch jobs`: list jobs as a table, with filters and `--watch`.
 */
import type { JobSummary } from '@aws-sdk/client-batch';

import type { Command } from '../command.js';
import type { Context } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { formatDuration, formatTime, statusText, table } from '../format.js';
import { parseSince } from './cost.js';

const STATUSES = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED'];

interface Row extends JobSummary {
  queue: string;
}

async function fetchJobs(
  ctx: Context,
  queue: string | undefined,
  statuses: string[],
  name: string | undefined,
  sinceMs: number,
  arrayJobId: string | undefined,
): Promise<Row[]> {
  const client = ctx.client();
  const queues = queue
    ? [queue]
    : ((await client.batch.describeJobQueues({})).jobQueues ?? []).map((q) => q.jobQueueName!);
  const rows: Row[] = [];
  for (const q of queues) {
    // A filter makes ListJobs return every status in one call.
    const filters = [
      name ? { name: 'JOB_NAME', values: [name] } : { name: 'AFTER_CREATED_AT', values: [String(sinceMs)] },
    ];
    const list = await client.listJobs(arrayJobId ? { arrayJobId, filters } : { jobQueue: q, filters });
    for (const j of list) {
      if (statuses.length && !statuses.includes(j.status ?? '')) continue;
      if (name && (j.createdAt ?? 0) < sinceMs) continue;
      rows.push({ ...j, queue: q });
    }
    if (arrayJobId) break;
  }
  return rows.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
}

function render(ctx: Context, rows: Row[], limit: number): string {
  if (!rows.length) return 'No jobs.\n';
  const shown = rows.slice(0, limit);
  const now = Date.now();
  const body = table(
    ctx.style,
    ['JOB ID', 'NAME', 'QUEUE', 'STATUS', 'CREATED', 'DURATION', 'EXIT', 'REASON'],
    shown.map((j) => [
      j.jobId ?? '-',
      `${j.jobName ?? '-'}${j.arrayProperties?.size ? ` [${j.arrayProperties.size}]` : j.arrayProperties?.index !== undefined ? ` #${j.arrayProperties.index}` : ''}`,
      j.queue,
      statusText(ctx.style, j.status),
      formatTime(j.createdAt),
      j.startedAt ? formatDuration((j.stoppedAt ?? now) - j.startedAt) : '-',
      j.container?.exitCode !== undefined ? String(j.container.exitCode) : '-',
      (j.statusReason ?? '').slice(0, 60),
    ]),
  );
  return body + (rows.length > shown.length ? `(${rows.length - shown.length} more; use --limit)\n` : '');
}

export const jobsCommand: Command = {
  name: 'jobs',
  aliases: ['ls'],
  summary: 'List jobs (all queues and statuses unless filtered), newest first.',
  usage: 'openbatch jobs [--queue Q] [--status S] [--name N] [--since 24h] [--watch]',
  flags: [
    {
      name: 'queue',
      short: 'q',
      type: 'string',
      value: 'QUEUE',
      help: 'only this queue (default: every queue)',
    },
    {
      name: 'status',
      short: 's',
      type: 'list',
      value: 'STATUS',
      help: `only these statuses (repeatable or comma-separated): ${STATUSES.join(', ')}`,
    },
    {
      name: 'name',
      short: 'n',
      type: 'string',
      value: 'NAME',
      help: 'job name (a trailing * matches a prefix)',
    },
    { name: 'array', type: 'string', value: 'JOB_ID', help: "list an array job's children" },
    {
      name: 'since',
      type: 'string',
      value: 'DURATION|DATE',
      help: 'only jobs created since (e.g. 1h, 7d, 2025-05-18)',
    },
    { name: 'limit', type: 'number', value: 'N', help: 'rows to show (default 50)' },
    { name: 'watch', short: 'w', type: 'boolean', help: 'refresh until interrupted (redraws on a terminal)' },
    { name: 'iterations', type: 'number', value: 'N', help: 'with --watch: stop after N refreshes' },
    {
      name: 'poll-interval',
      type: 'number',
      value: 'SECONDS',
      help: 'seconds between refreshes (default: config or 1)',
    },
  ],
  examples: [
    'openbatch jobs',
    'openbatch jobs --queue fred-queue --status FAILED',
    "openbatch jobs --name 'fred-*' --watch",
    'openbatch jobs --array 1b2c... --output json',
  ],
  async run(ctx, f) {
    const statuses = f
      .list('status')
      .flatMap((s) => s.split(','))
      .map((s) => s.trim().toUpperCase())
      .filter(Boolean);
    for (const s of statuses)
      if (!STATUSES.includes(s))
        throw new CliError(`Unknown status '${s}'; use one of ${STATUSES.join(', ')}`);
    const since = f.str('since') ? parseSince(f.str('since')!) : 0;
    const limit = f.int('limit', 1) ?? 50;
    const load = () => fetchJobs(ctx, f.str('queue'), statuses, f.str('name'), since, f.str('array'));
    if (!f.bool('watch')) {
      const rows = await load();
      ctx.out(
        ctx.output === 'json'
          ? JSON.stringify(rows.slice(0, limit), null, 2) + '\n'
          : render(ctx, rows, limit),
      );
      return ExitCode.OK;
    }
    const iterations = f.int('iterations', 1);
    const pollMs =
      f.num('poll-interval') !== undefined ? Math.max(50, f.num('poll-interval')! * 1000) : ctx.pollMs;
    let stop = false;
    const onSigint = () => (stop = true);
    process.once('SIGINT', onSigint);
    let last = '';
    try {
      for (let i = 0; !stop && (iterations === undefined || i < iterations); i++) {
        const rows = await load();
        const text =
          ctx.output === 'json' ? JSON.stringify(rows.slice(0, limit)) + '\n' : render(ctx, rows, limit);
        if (ctx.stdout.isTTY) {
          ctx.out(
            `\x1b[H\x1b[2J${formatTime(Date.now())}  (refreshing every ${(pollMs / 1000).toFixed(1)}s; Ctrl-C to stop)\n\n${text}`,
          );
        } else if (text !== last) {
          ctx.out(`${i > 0 ? '\n' : ''}${text}`);
        }
        last = text;
        if (iterations !== undefined && i + 1 >= iterations) break;
        await new Promise((r) => setTimeout(r, pollMs));
      }
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
    return ExitCode.OK;
  },
};
