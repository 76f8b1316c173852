/**
 * @module cli/commands/control
 * `openbatch cancel|terminate <job-id>...` and `openbatch interrupt` (the Spot drill).
 */
import type { Command } from '../command.js';
import { CliError, ExitCode } from '../errors.js';
import { table } from '../format.js';

function stopCommand(kind: 'cancel' | 'terminate'): Command {
  return {
    name: kind,
    summary:
      kind === 'cancel'
        ? 'Cancel jobs that have not started (CancelJob): SUBMITTED, PENDING and RUNNABLE jobs become FAILED.'
        : 'Terminate jobs (TerminateJob): running jobs are stopped, others cancelled; never retried.',
    usage: `openbatch ${kind} JOB_ID... [--reason TEXT]`,
    flags: [
      {
        name: 'reason',
        short: 'r',
        type: 'string',
        value: 'TEXT',
        help: `statusReason recorded on the job (default: '${kind === 'cancel' ? 'Cancelled' : 'Terminated'} with openbatch CLI')`,
      },
    ],
    examples: [
      `openbatch ${kind} 1b2c3d4e-...`,
      `openbatch ${kind} 1b2c3d4e-... 5f6a7b8c-... --reason "bad input"`,
    ],
    async run(ctx, f, positionals) {
      if (!positionals.length)
        throw new CliError(`'openbatch ${kind}' needs at least one job id; see 'openbatch ${kind} --help'`);
      const reason =
        f.str('reason') ?? `${kind === 'cancel' ? 'Cancelled' : 'Terminated'} with openbatch CLI`;
      const client = ctx.client();
      const found = await client.describeJobs(positionals);
      const known = new Set(found.map((j) => j.jobId));
      let rc: number = ExitCode.OK;
      for (const id of positionals) {
        if (!known.has(id)) {
          ctx.note(`Job ${id} was not found.`);
          rc = ExitCode.FAILED;
          continue;
        }
        if (kind === 'cancel') await client.batch.cancelJob({ jobId: id, reason });
        else await client.batch.terminateJob({ jobId: id, reason });
        const before = found.find((j) => j.jobId === id)!;
        const note =
          kind === 'cancel' && (before.status === 'STARTING' || before.status === 'RUNNING')
            ? ` (it is ${before.status}: CancelJob has no effect; use 'openbatch terminate')`
            : '';
        if (ctx.output === 'json')
          ctx.out(JSON.stringify({ jobId: id, action: kind, reason, statusBefore: before.status }) + '\n');
        else
          ctx.out(
            `${kind === 'cancel' ? 'Cancel' : 'Terminate'} requested for ${before.jobName} (${id}), was ${before.status}${note}\n`,
          );
      }
      return rc;
    },
  };
}

export const cancelCommand = stopCommand('cancel');
export const terminateCommand = stopCommand('terminate');

export const interruptCommand: Command = {
  name: 'interrupt',
  summary:
    'Spot-interruption drill (openbatch only): end running attempts as if EC2 reclaimed their instances.',
  usage:
    'openbatch interrupt (--compute-environment CE | --queue Q | --job ID...) [--fraction F | --count N]',
  description: `
Each chosen RUNNING attempt ends with statusReason 'Host EC2 (instance i-...) terminated.', so
retry rules such as evaluateOnExit onStatusReason 'Host EC2*' -> RETRY can be tested.`,
  flags: [
    {
      name: 'compute-environment',
      short: 'c',
      type: 'string',
      value: 'CE',
      help: 'interrupt attempts on this compute environment',
    },
    {
      name: 'queue',
      short: 'q',
      type: 'string',
      value: 'QUEUE',
      help: 'interrupt attempts of jobs in this queue',
    },
    { name: 'job', short: 'j', type: 'list', value: 'ID', help: 'interrupt these jobs (repeatable)' },
    {
      name: 'fraction',
      type: 'number',
      value: 'F',
      help: 'share of matching attempts to interrupt, in (0, 1]',
    },
    { name: 'count', type: 'number', value: 'N', help: 'number of matching attempts to interrupt' },
  ],
  examples: [
    'openbatch interrupt --compute-environment fred-spot --fraction 0.3',
    'openbatch interrupt --queue fred-queue --count 2',
    'openbatch interrupt --job 1b2c3d4e-...',
  ],
  async run(ctx, f, positionals) {
    const jobIds = [...f.list('job'), ...positionals];
    const ce = f.str('compute-environment');
    const queue = f.str('queue');
    if (!ce && !queue && !jobIds.length)
      throw new CliError(
        "Say what to interrupt: --compute-environment CE, --queue Q or --job ID; see 'openbatch interrupt --help'",
      );
    const fraction = f.num('fraction');
    const count = f.int('count', 1);
    if (fraction !== undefined && !(fraction > 0 && fraction <= 1))
      throw new CliError(`Option --fraction must be in (0, 1], not ${fraction}`);
    if (fraction !== undefined && count !== undefined)
      throw new CliError('Use --fraction or --count, not both');
    const res = await ctx.client().interrupt({
      ...(ce ? { computeEnvironment: ce } : {}),
      ...(queue ? { jobQueue: queue } : {}),
      ...(jobIds.length ? { jobIds } : {}),
      ...(fraction !== undefined ? { fraction } : {}),
      ...(count !== undefined ? { count } : {}),
    });
    if (ctx.output === 'json') {
      ctx.out(JSON.stringify(res, null, 2) + '\n');
      return ExitCode.OK;
    }
    if (!res.interrupted.length) {
      ctx.out('No running attempts matched; nothing interrupted.\n');
      return ExitCode.OK;
    }
    ctx.out(`Interrupted ${res.interrupted.length} attempt(s):\n`);
    ctx.out(
      table(
        ctx.style,
        ['JOB ID', 'INSTANCE'],
        res.interrupted.map((i) => [i.jobId, i.instanceId]),
      ),
    );
    return ExitCode.OK;
  },
};
