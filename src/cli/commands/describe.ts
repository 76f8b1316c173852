/**
 * @module cli/commands/describe
 * `openbatch describe <job-id>`: a human summary of a job, its attempts, log streams and cost.
 */
import type { JobDetail } from '@aws-sdk/client-batch';

import { buildCostReport } from '../../cost/cost-report.js';
import type { Command } from '../command.js';
import type { Context } from '../context.js';
import { requireArg } from '../context.js';
import { costJob, loadCatalog } from '../cost-data.js';
import { CliError, ExitCode } from '../errors.js';
import {
  countBar,
  countSummary,
  formatDuration,
  formatTime,
  formatUsd,
  paint,
  statusText,
  table,
} from '../format.js';
import {
  attemptStreams,
  consoleLogUrl,
  isArrayParent,
  jobResources,
  logGroupOf,
  maxAttempts,
  shortName,
} from '../job-info.js';

function kv(ctx: Context, pairs: [string, string | undefined][]): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${paint(ctx.style, 'bold', k.padEnd(w))}  ${v}`)
    .join('\n');
}

export const describeCommand: Command = {
  name: 'describe',
  aliases: ['show'],
  summary: 'Show a job: status, reasons, attempts with exit codes, log streams and estimated cost.',
  usage: 'openbatch describe JOB_ID [--index N]',
  flags: [{ name: 'index', type: 'number', value: 'N', help: 'describe child N of an array job' }],
  examples: [
    'openbatch describe 1b2c3d4e-...',
    'openbatch describe 1b2c3d4e-... --index 3',
    'openbatch describe 1b2c3d4e-... --output json',
  ],
  async run(ctx, f, positionals) {
    let id = requireArg(positionals[0], 'a job id', 'describe');
    const index = f.int('index', 0);
    if (index !== undefined) id = `${id}:${index}`;
    const client = ctx.client();
    const job = await client.describeJob(id);
    if (!job) throw new CliError(`Job ${id} was not found at ${ctx.endpoint ?? 'AWS'}`, ExitCode.FAILED);
    const cat = await loadCatalog(client);
    const cfg = ctx.settings.cost ?? {};
    let children: JobDetail[] = [];
    if (isArrayParent(job)) {
      const kids = await client.listJobs({
        arrayJobId: job.jobId!,
        filters: [{ name: 'AFTER_CREATED_AT', values: ['0'] }],
      });
      children = await client.describeJobs(kids.map((k) => k.jobId!));
    }
    const report = buildCostReport(
      (children.length ? children : [job]).map((j) => costJob(cat, j, cfg)),
      cfg,
    );
    if (ctx.output === 'json') {
      ctx.out(
        JSON.stringify(
          {
            job,
            cost: { usd: report.total.usd, vcpuHours: report.total.vcpuHours, basis: report.jobs[0]?.basis },
          },
          null,
          2,
        ) + '\n',
      );
      return ExitCode.OK;
    }
    const s = ctx.style;
    const res = jobResources(job);
    const now = Date.now();
    const c = job.container;
    ctx.out(
      kv(ctx, [
        ['Job', `${job.jobName} (${job.jobId})`],
        ['ARN', job.jobArn],
        ['Status', `${statusText(s, job.status)}${job.statusReason ? `  ${job.statusReason}` : ''}`],
        ['Queue', shortName(job.jobQueue)],
        ['Definition', shortName(job.jobDefinition)],
        ['Created', formatTime(job.createdAt)],
        ['Started', job.startedAt ? formatTime(job.startedAt) : undefined],
        ['Stopped', job.stoppedAt ? formatTime(job.stoppedAt) : undefined],
        ['Duration', job.startedAt ? formatDuration((job.stoppedAt ?? now) - job.startedAt) : undefined],
        ['Image', c?.image],
        ['Command', c?.command?.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')],
        ['Resources', `${res.vcpus} vCPU, ${res.memoryMiB} MiB${res.gpus ? `, ${res.gpus} GPU` : ''}`],
        ['Exit code', c?.exitCode !== undefined ? String(c.exitCode) : undefined],
        ['Container', c?.reason],
        [
          'Retries',
          `${maxAttempts(job)} attempt(s) allowed${job.retryStrategy?.evaluateOnExit?.length ? `, ${job.retryStrategy.evaluateOnExit.length} evaluateOnExit rule(s)` : ''}`,
        ],
        [
          'Timeout',
          job.timeout?.attemptDurationSeconds
            ? `${job.timeout.attemptDurationSeconds}s per attempt`
            : undefined,
        ],
        [
          'Array',
          isArrayParent(job)
            ? `${job.arrayProperties?.size} children  ${countBar(s, (job.arrayProperties?.statusSummary ?? {}) as Record<string, number>, 20)} ${countSummary((job.arrayProperties?.statusSummary ?? {}) as Record<string, number>)}`
            : job.arrayProperties?.index !== undefined
              ? `child ${job.arrayProperties.index}`
              : undefined,
        ],
        [
          'Depends on',
          job.dependsOn?.length
            ? job.dependsOn.map((d) => `${d.jobId}${d.type ? ` (${d.type})` : ''}`).join(', ')
            : undefined,
        ],
        [
          'Share',
          job.shareIdentifier
            ? `${job.shareIdentifier}${job.schedulingPriority !== undefined ? `, priority ${job.schedulingPriority}` : ''}`
            : undefined,
        ],
        [
          'Parameters',
          job.parameters && Object.keys(job.parameters).length
            ? Object.entries(job.parameters)
                .map(([k, v]) => `${k}=${v}`)
                .join(', ')
            : undefined,
        ],
        [
          'Tags',
          job.tags && Object.keys(job.tags).length
            ? Object.entries(job.tags)
                .map(([k, v]) => `${k}=${v}`)
                .join(', ')
            : undefined,
        ],
        ['Log group', logGroupOf(job)],
        [
          'Cost',
          `${formatUsd(report.total.usd)} estimated (${report.total.vcpuHours.toFixed(4)} vCPU-h${report.jobs[0]?.basis ? `; ${report.jobs[0].basis}` : ''}${children.length ? `; ${children.length} children` : ''})`,
        ],
      ]) + '\n',
    );
    const attempts = job.attempts ?? [];
    const rows = attempts.map((a, i) => [
      String(i + 1),
      formatTime(a.startedAt),
      a.startedAt && a.stoppedAt ? formatDuration(a.stoppedAt - a.startedAt) : '-',
      a.container?.exitCode !== undefined ? String(a.container.exitCode) : '-',
      [a.statusReason, a.container?.reason].filter(Boolean).join('; ') || '-',
      a.container?.logStreamName ?? '-',
    ]);
    if (job.status === 'RUNNING' || job.status === 'STARTING') {
      rows.push([
        String(attempts.length + 1),
        formatTime(job.startedAt),
        job.startedAt ? `${formatDuration(now - job.startedAt)} (running)` : '-',
        '-',
        '-',
        c?.logStreamName ?? '-',
      ]);
    }
    if (rows.length)
      ctx.out('\n' + table(s, ['ATTEMPT', 'STARTED', 'DURATION', 'EXIT', 'REASON', 'LOG STREAM'], rows));
    const streams = attemptStreams(job);
    if (streams.length) {
      ctx.out(
        `\nLogs: openbatch logs ${job.jobId}${ctx.endpoint ? '' : `\n      ${consoleLogUrl(client.region, logGroupOf(job), streams[streams.length - 1]!.stream)}`}\n`,
      );
    }
    return ExitCode.OK;
  },
};
