/**
 * @module cli/commands/cost
 * `openbatch cost`: estimated cost per job, queue and day.
 */
import type { Command } from '../command.js';
import { gatherCost } from '../cost-data.js';
import { parseDurationSeconds } from '../args.js';
import { CliError, ExitCode } from '../errors.js';
import { formatUsd, paint, table } from '../format.js';

export function parseSince(text: string): number {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const t = Date.parse(text);
    if (Number.isNaN(t))
      throw new CliError(
        `Option --since expects a date like 2025-05-18 or a duration like 24h, not '${text}'`,
      );
    return t;
  }
  return Date.now() - parseDurationSeconds(text, 'since') * 1000;
}

export const costCommand: Command = {
  name: 'cost',
  summary:
    'Estimate what jobs cost, per job, per queue and per day (vCPU- and memory-seconds × instance prices).',
  usage: 'openbatch cost [--since 24h|DATE] [--queue Q] [--job ID ...]',
  description: `
Each attempt (startedAt → stoppedAt) is priced as the job's share of the cheapest instance type of
its compute environment that fits it (vCPUs, memory, GPUs), at on-demand prices from the shipped
table, minus the environment's Spot discount (SPOT: 70% off unless the config says otherwise).
Override prices and discounts in the config file's 'cost' section. See docs/cli.md for the formula.`,
  flags: [
    {
      name: 'since',
      type: 'string',
      value: 'DURATION|DATE',
      help: 'only jobs created since then (e.g. 24h, 7d, 2025-05-18); default: all',
    },
    { name: 'queue', short: 'q', type: 'string', value: 'QUEUE', help: 'only this queue' },
    { name: 'job', short: 'j', type: 'list', value: 'ID', help: 'only these jobs (repeatable)' },
    {
      name: 'limit',
      type: 'number',
      value: 'N',
      help: 'job rows to show, most expensive first (default 20)',
    },
  ],
  examples: [
    'openbatch cost --since 24h',
    'openbatch cost --queue fred-queue --since 2025-05-01',
    'openbatch cost --job 1b2c3d4e-... --output json',
  ],
  async run(ctx, f, positionals) {
    const jobIds = [...f.list('job'), ...positionals];
    const sinceText = f.str('since');
    const { report } = await gatherCost(
      ctx.client(),
      { sinceMs: sinceText ? parseSince(sinceText) : undefined, queue: f.str('queue'), jobIds },
      ctx.settings.cost ?? {},
    );
    if (jobIds.length && report.jobs.length === 0)
      throw new CliError(`No such job: ${jobIds.join(', ')}`, ExitCode.FAILED);
    if (ctx.output === 'json') {
      ctx.out(JSON.stringify(report, null, 2) + '\n');
      return ExitCode.OK;
    }
    const s = ctx.style;
    if (!report.jobs.length) {
      ctx.out('No jobs in that range.\n');
      return ExitCode.OK;
    }
    const limit = f.int('limit', 1) ?? 20;
    const rows = [...report.jobs].sort((a, b) => b.usd - a.usd).slice(0, limit);
    ctx.out(
      paint(s, 'bold', 'Jobs') +
        (rows.length < report.jobs.length ? ` (top ${rows.length} of ${report.jobs.length})` : '') +
        '\n',
    );
    ctx.out(
      table(
        s,
        ['JOB ID', 'NAME', 'QUEUE', 'ATTEMPTS', 'vCPU-h', 'MEM GiB-h', 'COST', 'PRICED AS'],
        rows.map((j) => [
          j.jobId,
          j.jobName,
          j.queue,
          String(j.attempts),
          (j.vcpuSeconds / 3600).toFixed(3),
          (j.memoryGiBSeconds / 3600).toFixed(3),
          formatUsd(j.usd),
          j.basis ?? '-',
        ]),
      ),
    );
    ctx.out('\n' + paint(s, 'bold', 'Queues') + '\n');
    ctx.out(
      table(
        s,
        ['QUEUE', 'JOBS', 'vCPU-h', 'COST'],
        report.queues.map((q) => [q.queue, String(q.jobs), q.vcpuHours.toFixed(3), formatUsd(q.usd)]),
      ),
    );
    ctx.out('\n' + paint(s, 'bold', 'Days (UTC)') + '\n');
    ctx.out(
      table(
        s,
        ['DAY', 'JOBS', 'vCPU-h', 'COST'],
        report.days.map((d) => [d.day, String(d.jobs), d.vcpuHours.toFixed(3), formatUsd(d.usd)]),
      ),
    );
    ctx.out(
      `\nTotal: ${report.total.jobs} jobs, ${report.total.vcpuHours.toFixed(3)} vCPU-h, ${report.total.memoryGiBHours.toFixed(3)} GiB-h, estimated ${paint(s, 'bold', formatUsd(report.total.usd))}\n`,
    );
    return ExitCode.OK;
  },
};
