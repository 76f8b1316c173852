/** @module cli/commands  Client commands of `openbatch` (submit, jobs, describe, logs, ...). */
export async function runClientCommand(argv: readonly string[]): Promise<number> {
  const cmd = argv[0];
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write('Usage: openbatch <command> [options]\n\nCommands:\n  server    run the openbatch service\n');
    return 0;
  }
  if (cmd === '--version' || cmd === 'version') {
    const { VERSION } = await import('../../version.js');
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  process.stderr.write(`openbatch: unknown command '${cmd}'. Run 'openbatch help'.\n`);
  return 2;
}
