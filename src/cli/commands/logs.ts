/**
 * @module cli/commands/logs
 * `openbatch logs <job-id> [-f]`: print a job's output from CloudWatch Logs, every attempt; with
 * -f keep following (new attempts included) until the job ends.
 */
import type { Command } from '../command.js';
import { requireArg } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { paint } from '../format.js';
import { isArrayParent, isTerminal } from '../job-info.js';
import { LogFollower } from '../log-follower.js';

export const logsCommand: Command = {
  name: 'logs',
  summary: "Print a job's log (all attempts); -f follows it until the job ends.",
  usage: 'openbatch logs JOB_ID [-f] [--index N] [--attempt N]',
  flags: [
    {
      name: 'follow',
      short: 'f',
      type: 'boolean',
      help: 'keep printing new lines (and new attempts) until the job ends',
    },
    { name: 'index', type: 'number', value: 'N', help: 'child N of an array job' },
    { name: 'attempt', type: 'number', value: 'N', help: 'only attempt N (1-based)' },
    { name: 'timestamps', type: 'boolean', help: 'prefix each line with its timestamp' },
    {
      name: 'poll-interval',
      type: 'number',
      value: 'SECONDS',
      help: 'seconds between polls with -f (default: config or 1)',
    },
  ],
  examples: [
    'openbatch logs 1b2c3d4e-...',
    'openbatch logs 1b2c3d4e-... -f',
    'openbatch logs 1b2c3d4e-... --index 7 --timestamps',
  ],
  async run(ctx, f, positionals) {
    let id = requireArg(positionals[0], 'a job id', 'logs');
    const index = f.int('index', 0);
    if (index !== undefined) id = `${id}:${index}`;
    const only = f.int('attempt', 1);
    const client = ctx.client();
    const pollMs =
      f.num('poll-interval') !== undefined ? Math.max(50, f.num('poll-interval')! * 1000) : ctx.pollMs;
    const follower = new LogFollower(client);
    let stop = false;
    const onSigint = () => (stop = true);
    process.once('SIGINT', onSigint);
    try {
      for (let quiet = 0; ;) {
        const job = await client.describeJob(id);
        if (!job) throw new CliError(`Job ${id} was not found at ${ctx.endpoint ?? 'AWS'}`, ExitCode.FAILED);
        if (isArrayParent(job))
          throw new CliError(
            `Job ${id} is an array job of ${job.arrayProperties?.size} children; pick one with --index N (0..${(job.arrayProperties?.size ?? 1) - 1})`,
          );
        const lines = (await follower.poll(job)).filter((l) => only === undefined || l.attempt === only);
        const multi = follower.knownStreams().length > 1 || (job.retryStrategy?.attempts ?? 1) > 1;
        for (const l of lines) {
          if (l.firstOfStream && multi && ctx.output !== 'json') {
            ctx.out(`${paint(ctx.style, 'dim', `── attempt ${l.attempt} · log stream ${l.stream} ──`)}\n`);
          }
          if (ctx.output === 'json')
            ctx.out(
              JSON.stringify({
                attempt: l.attempt,
                logStreamName: l.stream,
                timestamp: l.timestamp,
                message: l.message,
              }) + '\n',
            );
          else
            ctx.out(
              `${f.bool('timestamps') ? `${paint(ctx.style, 'gray', new Date(l.timestamp).toISOString())} ` : ''}${l.message}\n`,
            );
        }
        if (!f.bool('follow')) {
          if (!follower.knownStreams().length)
            ctx.note(
              `Job ${id} is ${job.status} and has no log stream yet${job.status === 'SUCCEEDED' || job.status === 'FAILED' ? ' (it never ran)' : '; use -f to wait for it'}.`,
            );
          break;
        }
        if (isTerminal(job)) {
          // drain what arrives right after the status changed
          if (lines.length === 0 && ++quiet >= 2) break;
        }
        if (stop) break;
        await new Promise((r) => setTimeout(r, pollMs));
      }
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
    return ExitCode.OK;
  },
};
