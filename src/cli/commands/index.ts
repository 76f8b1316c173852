/**
 * @module cli/commands
 * Client commands of `openbatch` (submit, jobs, describe, logs, ...): dispatch, global options,
 * help, and turning every error into a plain sentence with an exit code.
 */
import { Flags, parseArgs, suggest } from '../args.js';
import { commandHelp, type Command } from '../command.js';
import { createContext, GLOBAL_FLAGS, type Context } from '../context.js';
import { describeError, ExitCode } from '../errors.js';
import { cancelCommand, interruptCommand, terminateCommand } from './control.js';
import { costCommand } from './cost.js';
import { describeCommand } from './describe.js';
import { jobsCommand } from './jobs.js';
import { logsCommand } from './logs.js';
import { nodesCommand } from '../nodes-command.js';
import { envsCommand, queuesCommand } from './resources.js';
import { applyCommand, destroyCommand, outputsCommand } from './stack.js';
import { submitCommand } from './submit.js';

export const COMMANDS: readonly Command[] = [
  submitCommand,
  jobsCommand,
  describeCommand,
  logsCommand,
  cancelCommand,
  terminateCommand,
  queuesCommand,
  envsCommand,
  nodesCommand,
  interruptCommand,
  applyCommand,
  outputsCommand,
  destroyCommand,
  costCommand,
];

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

function mainHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length), 6);
  return [
    'Usage: openbatch <command> [options]',
    '',
    'openbatch runs AWS Batch-compatible jobs. These commands talk to an openbatch server (or AWS Batch',
    'itself with --endpoint aws) through the public API.',
    '',
    'Commands:',
    `  ${'server'.padEnd(w)}  run the openbatch service (see 'openbatch server --help')`,
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    `  ${'help'.padEnd(w)}  show help for a command: openbatch help submit`,
    '',
    'Global options (every command):',
    ...GLOBAL_FLAGS.map(
      (f) => `  ${`--${f.name}${f.type === 'boolean' ? '' : ` ${f.value}`}`.padEnd(22)}${f.help}`,
    ),
    '',
    'Files: config ~/.openbatch/config.yaml (or $OPENBATCH_HOME, --config); stack state and idempotency',
    'keys live beside it. Full reference: docs/cli.md.',
    '',
    'Examples:',
    '  openbatch submit -d hello -c "sh -c \'echo hi\'" --wait --follow',
    '  openbatch apply -f batch-infrastructure.json --parameters params.json --stack fred-dev',
    '  openbatch cost --since 24h',
    '',
  ].join('\n');
}

export async function runClientCommand(argv: readonly string[]): Promise<number> {
  const name = argv[0];
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? argv[1] : undefined;
    const cmd = topic ? findCommand(topic) : undefined;
    if (topic && !cmd) {
      process.stderr.write(`openbatch: unknown command '${topic}'. Run 'openbatch help'.\n`);
      return ExitCode.USAGE;
    }
    process.stdout.write(cmd ? commandHelp(cmd) : mainHelp());
    return ExitCode.OK;
  }
  if (name === '--version' || name === 'version' || name === '-v') {
    const { VERSION } = await import('../../version.js');
    process.stdout.write(`${VERSION}\n`);
    return ExitCode.OK;
  }
  const cmd = findCommand(name);
  if (!cmd) {
    const hint = suggest(name, [...COMMANDS.map((c) => c.name), 'server', 'help']);
    process.stderr.write(
      `openbatch: unknown command '${name}'.${hint ? ` Did you mean '${hint}'?` : ''} Run 'openbatch help'.\n`,
    );
    return ExitCode.USAGE;
  }
  // The SDK warns about Node 20 on stderr at every run; the CLI's output is not the place for it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let ctx: Context | undefined;
  try {
    const parsed = parseArgs(argv.slice(1), [...cmd.flags, ...GLOBAL_FLAGS], cmd.name);
    const flags = new Flags(parsed);
    if (flags.bool('help')) {
      process.stdout.write(commandHelp(cmd));
      return ExitCode.OK;
    }
    ctx = createContext(flags);
    return await cmd.run(ctx, flags, parsed.positionals, parsed.rest);
  } catch (err) {
    const { message, exitCode } = describeError(err, ctx?.endpoint);
    process.stderr.write(`openbatch ${cmd.name}: ${message}\n`);
    if (process.env.OPENBATCH_DEBUG && err instanceof Error && err.stack)
      process.stderr.write(`${err.stack}\n`);
    return exitCode;
  } finally {
    ctx?.close();
  }
}
