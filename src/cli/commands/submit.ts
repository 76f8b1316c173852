/**
 * @module cli/commands/submit
 * `openbatch submit`: SubmitJob with overrides, config defaults, idempotency, a details file, and
 * `--wait` / `--follow`.
 */
import fs from 'node:fs';
import path from 'node:path';

import type {
  JobDependency,
  JobDetail,
  ResourceRequirement,
  SubmitJobCommandInput,
} from '@aws-sdk/client-batch';

import type { Flags } from '../args.js';
import { parseDurationSeconds, parsePairs } from '../args.js';
import type { Command } from '../command.js';
import { openbatchHome } from '../config.js';
import type { Context } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { paint } from '../format.js';
import { findIdempotentJob, IDEMPOTENCY_TAG, IdempotencyStore } from '../idempotency.js';
import { attemptStreams, consoleLogUrl, definitionName, logGroupOf, outcomeSentence } from '../job-info.js';
import { splitShellWords } from '../shell-words.js';
import { waitForJob } from '../wait.js';

const DEP_TYPES = ['N_TO_N', 'SEQUENTIAL'];

export interface SubmissionRecord {
  jobId: string;
  jobName: string;
  jobArn: string | undefined;
  jobQueue: string;
  jobDefinition: string;
  submittedAt: string;
  endpoint: string;
  region: string;
  arraySize?: number;
  idempotencyKey?: string;
  reused?: boolean;
  logGroup?: string;
  final?: {
    status: string;
    statusReason?: string;
    exitCode?: number;
    stoppedAt?: string;
    logStreams: string[];
    logUrl?: string;
  };
}

function parseDependsOn(items: string[], defaultType: string | undefined): JobDependency[] {
  return items.flatMap((item) =>
    item
      .split(',')
      .filter(Boolean)
      .map((spec) => {
        const [jobId, type] = spec.split('=');
        const t = (type ?? defaultType)?.toUpperCase();
        if (t !== undefined && !DEP_TYPES.includes(t))
          throw new CliError(
            `Dependency type must be N_TO_N or SEQUENTIAL, not '${type ?? defaultType}' (in --depends-on ${spec})`,
          );
        return { jobId: jobId!, ...(t ? { type: t as 'N_TO_N' | 'SEQUENTIAL' } : {}) };
      }),
  );
}

function detailsPath(template: string, jobId: string): string {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  let p = template.replace(/\{time\}/g, stamp).replace(/\{jobId\}/g, jobId);
  if (p.endsWith('/') || (fs.existsSync(p) && fs.statSync(p).isDirectory()))
    p = path.join(p, `batch_job_${stamp}.json`);
  return p;
}

function writeDetails(file: string, rec: SubmissionRecord): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(rec, null, 2) + '\n');
}

function buildInput(
  ctx: Context,
  f: Flags,
  rest: string[],
): { input: SubmitJobCommandInput; key: string | undefined } {
  const d = ctx.settings.submit ?? {};
  const definition = f.str('definition') ?? d.definition;
  if (!definition)
    throw new CliError(
      'No job definition: pass --definition NAME[:REVISION] or set submit.definition in the config file',
    );
  const queue = f.str('queue') ?? d.queue ?? 'default';
  const name = f.str('name') ?? d.name ?? definitionName(definition)!.replace(/[^A-Za-z0-9_-]/g, '-');
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(name))
    throw new CliError(
      `Job name '${name}' is invalid: up to 128 letters, digits, hyphens and underscores, starting with a letter or digit`,
    );
  const commandText = f.str('command');
  const command = rest.length ? rest : commandText !== undefined ? splitShellWords(commandText) : d.command;
  const env = { ...d.env, ...parsePairs(f.list('env'), 'env') };
  const tags = { ...d.tags, ...parsePairs(f.list('tag'), 'tag') };
  const parameters = { ...d.parameters, ...parsePairs(f.list('parameter'), 'parameter') };
  const vcpus = f.num('vcpus') ?? d.vcpus;
  const memory = f.int('memory', 1) ?? d.memory;
  const gpus = f.int('gpus', 0) ?? d.gpus;
  const rr: ResourceRequirement[] = [];
  if (vcpus !== undefined) {
    if (!(vcpus > 0)) throw new CliError(`Option --vcpus must be positive, not ${vcpus}`);
    rr.push({ type: 'VCPU', value: String(vcpus) });
  }
  if (memory !== undefined) rr.push({ type: 'MEMORY', value: String(memory) });
  if (gpus !== undefined && gpus > 0) rr.push({ type: 'GPU', value: String(gpus) });
  const timeoutText = f.str('timeout');
  const timeout = timeoutText !== undefined ? parseDurationSeconds(timeoutText, 'timeout') : d.timeout;
  if (timeout !== undefined && timeout < 60)
    throw new CliError(`Option --timeout must be at least 60 seconds (AWS Batch's minimum), not ${timeout}`);
  const retry = f.int('retry-attempts', 1) ?? d.retryAttempts;
  if (retry !== undefined && retry > 10)
    throw new CliError(`Option --retry-attempts must be between 1 and 10, not ${retry}`);
  const arraySize = f.int('array-size', 2);
  if (arraySize !== undefined && arraySize > 10000)
    throw new CliError(`Option --array-size must be between 2 and 10000, not ${arraySize}`);
  const depType = f.str('dependency-type');
  const dependsOn = parseDependsOn(f.list('depends-on'), depType);
  const share = f.str('share-id') ?? d.shareIdentifier;
  const priority = f.int('priority', 0) ?? d.schedulingPriority;
  const key = f.str('idempotency-key');
  if (key !== undefined) {
    if (!key.trim() || key.length > 256)
      throw new CliError('Option --idempotency-key needs 1 to 256 characters');
    tags[IDEMPOTENCY_TAG] = key;
  }
  const overrides: NonNullable<SubmitJobCommandInput['containerOverrides']> = {};
  if (command) overrides.command = command;
  if (Object.keys(env).length)
    overrides.environment = Object.entries(env).map(([k, v]) => ({ name: k, value: v }));
  if (rr.length) overrides.resourceRequirements = rr;
  const input: SubmitJobCommandInput = {
    jobName: name,
    jobQueue: queue,
    jobDefinition: definition,
    ...(Object.keys(overrides).length ? { containerOverrides: overrides } : {}),
    ...(Object.keys(parameters).length ? { parameters } : {}),
    ...(Object.keys(tags).length ? { tags } : {}),
    ...(f.bool('propagate-tags') ? { propagateTags: true } : {}),
    ...(timeout !== undefined ? { timeout: { attemptDurationSeconds: timeout } } : {}),
    ...(retry !== undefined ? { retryStrategy: { attempts: retry } } : {}),
    ...(arraySize !== undefined ? { arrayProperties: { size: arraySize } } : {}),
    ...(dependsOn.length ? { dependsOn } : {}),
    ...(share !== undefined ? { shareIdentifier: share } : {}),
    ...(priority !== undefined ? { schedulingPriorityOverride: priority } : {}),
  };
  return { input, key };
}

function recordFor(
  ctx: Context,
  input: SubmitJobCommandInput,
  job: { jobId: string; jobName: string; jobArn?: string | undefined; createdAt?: number | undefined },
  extra: Partial<SubmissionRecord>,
): SubmissionRecord {
  return {
    jobId: job.jobId,
    jobName: job.jobName,
    jobArn: job.jobArn,
    jobQueue: input.jobQueue!,
    jobDefinition: input.jobDefinition!,
    submittedAt: new Date(job.createdAt ?? Date.now()).toISOString(),
    endpoint: ctx.endpoint ?? 'aws',
    region: ctx.client().region,
    ...(input.arrayProperties?.size !== undefined ? { arraySize: input.arrayProperties.size } : {}),
    ...extra,
  };
}

function finalOf(ctx: Context, job: JobDetail): NonNullable<SubmissionRecord['final']> {
  const streams = attemptStreams(job).map((s) => s.stream);
  const last = streams[streams.length - 1];
  return {
    status: job.status ?? 'UNKNOWN',
    ...(job.statusReason ? { statusReason: job.statusReason } : {}),
    ...(job.container?.exitCode !== undefined ? { exitCode: job.container.exitCode } : {}),
    ...(job.stoppedAt ? { stoppedAt: new Date(job.stoppedAt).toISOString() } : {}),
    logStreams: streams,
    ...(!ctx.endpoint && last ? { logUrl: consoleLogUrl(ctx.client().region, logGroupOf(job), last) } : {}),
  };
}

export const submitCommand: Command = {
  name: 'submit',
  summary: 'Submit a job (SubmitJob), optionally wait for it with live progress and stream its log.',
  usage: 'openbatch submit --definition DEF [options] [-- COMMAND ARGS...]',
  description: `
Defaults come from the config file's 'submit' section (and the selected profile). The job's
command can be given after '--' (exact argv) or with --command (split like a shell would).
With --wait the command exits 0 when the job SUCCEEDED and 1 (printing the reason) when it FAILED.
With --idempotency-key a repeated command returns the first job instead of submitting again: the
key is kept in $OPENBATCH_HOME/idempotency.json (default ~/.openbatch) and as the job tag
'openbatch:idempotency-key', so other machines find it via ListJobs on the same queue and name.`,
  flags: [
    {
      name: 'name',
      short: 'n',
      type: 'string',
      value: 'NAME',
      help: 'job name (default: the definition name)',
    },
    {
      name: 'queue',
      short: 'q',
      type: 'string',
      value: 'QUEUE',
      help: "job queue name or ARN (default: config or 'default')",
    },
    {
      name: 'definition',
      short: 'd',
      type: 'string',
      value: 'DEF',
      help: 'job definition name, name:revision or ARN',
    },
    {
      name: 'command',
      short: 'c',
      type: 'string',
      value: 'CMD',
      help: 'override the container command, e.g. "sh -c \'echo hi\'" (or put argv after --)',
    },
    {
      name: 'env',
      short: 'e',
      type: 'list',
      value: 'K=V',
      help: 'environment variable override (repeatable)',
    },
    { name: 'vcpus', type: 'number', value: 'N', help: 'vCPUs override (VCPU resource requirement)' },
    {
      name: 'memory',
      type: 'number',
      value: 'MiB',
      help: 'memory override in MiB (MEMORY resource requirement)',
    },
    { name: 'gpus', type: 'number', value: 'N', help: 'GPU override (GPU resource requirement)' },
    {
      name: 'timeout',
      type: 'string',
      value: 'DURATION',
      help: 'attempt timeout, e.g. 3600, 90m, 4h (minimum 60s)',
    },
    { name: 'tag', short: 't', type: 'list', value: 'K=V', help: 'job tag (repeatable)' },
    {
      name: 'parameter',
      short: 'p',
      type: 'list',
      value: 'K=V',
      help: 'job parameter for Ref:: substitution (repeatable)',
    },
    { name: 'array-size', type: 'number', value: 'N', help: 'submit an array job of N children (2..10000)' },
    {
      name: 'depends-on',
      type: 'list',
      value: 'ID[=TYPE]',
      help: 'dependency on a job id, TYPE N_TO_N or SEQUENTIAL (repeatable, or comma-separated)',
    },
    {
      name: 'dependency-type',
      type: 'string',
      value: 'TYPE',
      help: 'default type for --depends-on entries without one',
    },
    { name: 'retry-attempts', type: 'number', value: 'N', help: 'retry strategy attempts (1..10)' },
    { name: 'share-id', type: 'string', value: 'ID', help: 'fair-share identifier' },
    { name: 'priority', type: 'number', value: 'N', help: 'scheduling priority override (0..9999)' },
    { name: 'propagate-tags', type: 'boolean', help: 'propagate tags to the ECS task' },
    {
      name: 'idempotency-key',
      type: 'string',
      value: 'KEY',
      help: 'return the earlier job submitted with this key instead of a new one',
    },
    {
      name: 'details-file',
      type: 'string',
      value: 'FILE',
      help: 'write the submission record (id, name, ARN, time) as JSON; {time} and {jobId} expand',
    },
    {
      name: 'wait',
      short: 'w',
      type: 'boolean',
      help: 'wait until the job ends; exit 0 on SUCCEEDED, 1 otherwise',
    },
    {
      name: 'follow',
      short: 'f',
      type: 'boolean',
      help: 'stream the job log while waiting (implies --wait; follows retries)',
    },
    {
      name: 'wait-timeout',
      type: 'string',
      value: 'DURATION',
      help: 'give up waiting after this long (exit 4)',
    },
    {
      name: 'poll-interval',
      type: 'number',
      value: 'SECONDS',
      help: 'seconds between status polls (default: config or 1)',
    },
  ],
  examples: [
    'openbatch submit -d fred-sim -q fred-queue -- python run.py --runs 100',
    'openbatch submit -d hello --command "sh -c \'echo hi\'" --vcpus 2 --memory 4096 --timeout 4h --wait --follow',
    'openbatch submit -d sweep --array-size 100 --retry-attempts 3 --tag Project=Pulse --wait',
    'openbatch submit -d report --depends-on 1b2c...=SEQUENTIAL --env STAGE=prod --details-file runs/{time}.json',
    'openbatch submit -d nightly --idempotency-key nightly-2025-05-18 --output json',
  ],
  async run(ctx, f, positionals, rest) {
    if (positionals.length)
      throw new CliError(
        `Unexpected argument '${positionals[0]}'; put the job's command after '--' or use --command`,
      );
    const { input, key } = buildInput(ctx, f, rest);
    const client = ctx.client();
    const home = openbatchHome(ctx.env);
    let record: SubmissionRecord;
    let reusedJob: JobDetail | undefined;
    if (key !== undefined) {
      const store = new IdempotencyStore(home);
      const found = await findIdempotentJob(client, store, key, input.jobQueue!, input.jobName!);
      if (found) {
        reusedJob = found.job;
        record = recordFor(
          ctx,
          input,
          {
            jobId: found.job.jobId!,
            jobName: found.job.jobName!,
            jobArn: found.job.jobArn,
            createdAt: found.job.createdAt,
          },
          { idempotencyKey: key, reused: true },
        );
        record.jobQueue = found.job.jobQueue ?? record.jobQueue;
        record.jobDefinition = found.job.jobDefinition ?? record.jobDefinition;
        if (found.source === 'remote')
          store.put(client.endpoint, key, {
            jobId: record.jobId,
            jobName: record.jobName,
            jobArn: record.jobArn,
            jobQueue: record.jobQueue,
            createdAt: record.submittedAt,
          });
      } else {
        const res = await client.batch.submitJob(input);
        record = recordFor(
          ctx,
          input,
          { jobId: res.jobId!, jobName: res.jobName!, jobArn: res.jobArn },
          { idempotencyKey: key, reused: false },
        );
        store.put(client.endpoint, key, {
          jobId: record.jobId,
          jobName: record.jobName,
          jobArn: record.jobArn,
          jobQueue: record.jobQueue,
          createdAt: record.submittedAt,
        });
      }
    } else {
      const res = await client.batch.submitJob(input);
      record = recordFor(ctx, input, { jobId: res.jobId!, jobName: res.jobName!, jobArn: res.jobArn }, {});
    }
    const detailsFile = f.str('details-file') ? detailsPath(f.str('details-file')!, record.jobId) : undefined;
    if (detailsFile) writeDetails(detailsFile, record);
    const json = ctx.output === 'json';
    const wait = f.bool('wait') || f.bool('follow');
    if (!json) {
      const verb = reusedJob ? `Job already submitted with idempotency key '${key}'` : 'Submitted job';
      ctx.out(
        `${verb}: ${paint(ctx.style, 'bold', record.jobName)} ${record.jobId}${reusedJob ? ` (${reusedJob.status})` : ''}\n`,
      );
      ctx.out(
        `  queue ${record.jobQueue}  definition ${record.jobDefinition}${record.arraySize ? `  array size ${record.arraySize}` : ''}\n`,
      );
      if (detailsFile) ctx.out(`  details written to ${detailsFile}\n`);
      if (!wait)
        ctx.out(
          `  follow it with: openbatch logs ${record.jobId} -f   (or openbatch describe ${record.jobId})\n`,
        );
    }
    if (!wait) {
      if (json) ctx.out(JSON.stringify(record, null, 2) + '\n');
      return ExitCode.OK;
    }
    const poll = f.num('poll-interval');
    const waitCtx: Context =
      poll !== undefined ? { ...ctx, pollMs: Math.max(50, Math.round(poll * 1000)) } : ctx;
    const progress = json ? ctx.stderr : ctx.stdout;
    const timeoutText = f.str('wait-timeout');
    const { job, interrupted } = await waitForJob(waitCtx, record.jobId, {
      follow: f.bool('follow'),
      timeoutMs: timeoutText ? parseDurationSeconds(timeoutText, 'wait-timeout') * 1000 : undefined,
      progress,
      logs: json ? ctx.stderr : ctx.stdout,
      live: progress.isTTY,
    });
    record.final = finalOf(ctx, job);
    if (detailsFile) writeDetails(detailsFile, record);
    if (json) ctx.out(JSON.stringify(record, null, 2) + '\n');
    if (interrupted) {
      ctx.note(
        `Stopped waiting; job ${record.jobId} is ${job.status} and continues. Check it with 'openbatch describe ${record.jobId}'.`,
      );
      return 130;
    }
    if (job.status === 'SUCCEEDED') {
      if (!json)
        ctx.out(`Job ${record.jobName} (${record.jobId}) ${paint(ctx.style, 'green', 'SUCCEEDED')}\n`);
      return ExitCode.OK;
    }
    ctx.note(`Job ${record.jobName} (${record.jobId}) ${outcomeSentence(job)}`);
    return ExitCode.FAILED;
  },
};
