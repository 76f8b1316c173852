/**
 * @module cli/main
 * The `openbatch` command. `openbatch server` runs the service; every other command is a client
 * of the AWS Batch API (see `openbatch help`).
 */
import { runServerCommand } from './server-command.js';

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'server') return runServerCommand(rest);
  const { runClientCommand } = await import('./commands/index.js');
  return runClientCommand(argv);
}
