/**
 * @module wiring/logs
 * Builds the log store (SQLite file `logs.db` in the data dir) and the CloudWatch Logs routes.
 */
import path from 'node:path';

import { createLogsHandlers, toLogsWireError } from '../api/logs/logs-api.js';
import type { ServiceRoutes } from '../api/http-server.js';
import type { Clock } from '../core/clock.js';
import type { LogStore } from '../logs/log-store.js';
import { createSqliteLogStore } from '../logs/sqlite/sqlite-log-store.js';

export function createLogStore(opts: { dataDir: string; clock: Clock }): LogStore {
  return createSqliteLogStore({
    path: path.join(opts.dataDir, 'logs.db'),
    now: () => opts.clock.now(),
    onError: (err) => process.stderr.write(`openbatch: log store: ${String(err)}\n`),
  });
}

export function createLogsRoutes(store: LogStore, clock: Clock): NonNullable<ServiceRoutes['logs']> {
  return { handlers: createLogsHandlers(store, { clock: () => clock.now() }), mapError: toLogsWireError };
}
