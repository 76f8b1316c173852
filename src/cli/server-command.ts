/** @module cli/server-command  `openbatch server`: run the service until SIGINT/SIGTERM. */
import { ConfigError, loadServerConfig, SERVER_FLAGS_HELP } from '../config/config.js';
import { startServer, StartupError } from '../main.js';
import { VERSION } from '../version.js';

export async function runServerCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`Usage: openbatch server [options]

Runs openbatch: the AWS Batch API and the CloudWatch Logs API on one port, an embedded store in
the data dir, and the job executors. Point any AWS client at it with --endpoint-url.

${SERVER_FLAGS_HELP}

Examples:
  openbatch server
  openbatch server --port 8080 --data-dir /var/lib/openbatch
  OPENBATCH_PORT=0 openbatch server --no-defaults
`);
    return 0;
  }
  let config;
  try {
    config = loadServerConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`openbatch server: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  let server;
  try {
    server = await startServer(config);
  } catch (err) {
    if (err instanceof StartupError) {
      process.stderr.write(`openbatch server: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  process.stdout.write(`openbatch ${VERSION} listening on ${server.url} (data dir ${config.dataDir})\n`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) {
        process.stderr.write(`openbatch: ${sig} again, exiting now\n`);
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`openbatch: ${sig} received, shutting down\n`);
      void server.close().then(resolve, (err: unknown) => {
        process.stderr.write(`openbatch: error during shutdown: ${String(err)}\n`);
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
