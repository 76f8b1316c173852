/**
 * @module main
 * The composition root: config → store → log store → executors → engine → API. This is the only
 * module that imports adapters (store/sqlite, logs/sqlite, executors/*), together with wiring/*
 * (wiring/cluster-server.ts composes a cluster node on PostgreSQL).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

import { createBatchHandlers, type BatchDeps } from './api/batch/batch-api.js';
import { batchOperations } from './api/batch/operations/index.js';
import { createHttpServer, listen, type RunningHttpServer } from './api/http-server.js';
import { createDashboardRoutes, dashboardStaticDir } from './api/dashboard/dashboard-routes.js';
import { createExtensionRoutes } from './api/openbatch/extension-routes.js';
import type { ServerConfig } from './config/config.js';
import { systemClock, type Clock } from './core/clock.js';
import { ensureDefaults } from './core/defaults.js';
import { EventBus } from './core/events.js';
import { JobEngine } from './engine/job-engine.js';
import type { Executor } from './executors/executor.js';
import { createExecutors } from './executors/registry.js';
import { createLogStore, createLogsRoutes } from './wiring/logs.js';
import { startLogRetention } from './loops/log-retention.js';
import { startResourceLifecycle } from './loops/resource-lifecycle.js';
import { startJobRetention } from './loops/job-retention.js';
import { SqliteStore, DataDirInUseError } from './store/sqlite/sqlite-store.js';
import { startClusterServer, type ClusterServer } from './wiring/cluster-server.js';
import type { Store } from './store/store.js';
import { VERSION } from './version.js';

export interface RunningServer {
  url: string;
  port: number;
  config: ServerConfig;
  store: Store;
  engine: JobEngine;
  events: EventBus;
  close(): Promise<void>;
}

export class StartupError extends Error {}

function hostCapacity(): { vcpus: number; memoryMiB: number; gpus: number } {
  let gpus = 0;
  try {
    gpus = fs.readdirSync('/dev').filter((d) => /^nvidia\d+$/.test(d)).length;
  } catch {
    gpus = 0;
  }
  return { vcpus: os.availableParallelism(), memoryMiB: Math.floor(os.totalmem() / 1024 / 1024), gpus };
}

export async function startServer(
  config: ServerConfig,
  opts: { clock?: Clock } = {},
): Promise<RunningServer> {
  const clock = opts.clock ?? systemClock;
  fs.mkdirSync(config.dataDir, { recursive: true });
  if (config.databaseUrl) return startClusterNode(config, clock);
  const pidFile = path.join(config.dataDir, 'server.pid');

  let store: Store;
  try {
    store = new SqliteStore({
      path: path.join(config.dataDir, 'openbatch.db'),
      exclusive: true,
      now: () => clock.now(),
    });
  } catch (err) {
    if (err instanceof DataDirInUseError) {
      let holder = '';
      try {
        holder = fs.readFileSync(pidFile, 'utf8').trim();
      } catch {
        holder = '';
      }
      throw new StartupError(
        `data dir ${config.dataDir} is in use by another openbatch server${holder ? ` (pid ${holder})` : ''}; ` +
          `stop it or start this one with a different --data-dir`,
      );
    }
    throw err;
  }
  fs.writeFileSync(pidFile, `${process.pid}\n`);

  const scope = { region: config.region, accountId: config.accountId };
  const host = hostCapacity();
  if (!config.noDefaults) await ensureDefaults(store, scope, host, randomUUID());

  const events = new EventBus();
  const dashboard = createDashboardRoutes({ events, staticDir: dashboardStaticDir() });
  const logStore = createLogStore({ dataDir: config.dataDir, clock });
  const engine = new JobEngine({
    store,
    clock,
    events,
    logs: logStore,
    dataDir: config.dataDir,
    killGraceMs: config.killGraceMs,
    host,
    defaultExecutor: config.executor,
    schedulerIntervalMs: config.schedulerIntervalMs,
    verbose: config.verbose,
    createExecutors: (execEvents) =>
      createExecutors(
        { events: execEvents, dataDir: config.dataDir, killGraceMs: config.killGraceMs },
        {
          logs: logStore,
          process: { enforceResources: config.resourceLimits as 'auto' | 'cgroup' | 'poll' | 'off' },
          // The docker executor is always offered; it connects to the engine only when a job needs it.
          docker: {
            ...(config.dockerHost ? { dockerHost: config.dockerHost } : {}),
            keepContainers: config.keepContainers,
            owner: config.nodeId,
          },
          ...(config.slurmPartition
            ? {
                slurm: {
                  transport: config.slurmTransport as 'cli' | 'rest',
                  partition: config.slurmPartition,
                  workRoot: config.slurmWorkRoot || path.join(config.dataDir, 'slurm'),
                  ...(config.slurmConf ? { slurmConf: config.slurmConf } : {}),
                  ...(config.slurmRestUrl
                    ? {
                        rest: {
                          url: config.slurmRestUrl,
                          ...(config.slurmRestUser ? { user: config.slurmRestUser } : {}),
                          ...(config.slurmRestToken ? { token: config.slurmRestToken } : {}),
                        },
                      }
                    : {}),
                },
              }
            : {}),
        },
      ),
  });

  // CREATING → VALID, UPDATING → VALID, DELETING → gone; finishes transitions a crash interrupted.
  const lifecycle = startResourceLifecycle({ store, events, clock });
  const deps: BatchDeps = { store, clock, events, jobs: engine, defaultScope: scope };
  const batch = createBatchHandlers(deps, batchOperations);
  const logsRoutes = createLogsRoutes(logStore, clock);
  const startedAt = clock.now();
  const server = createHttpServer({
    batch,
    logs: logsRoutes,
    defaultScope: scope,
    health: () => ({
      status: 'ok',
      version: VERSION,
      nodeId: config.nodeId,
      startedAt,
      store: 'sqlite',
      jobs: engine.stats(),
    }),
    extra: new Map([...createExtensionRoutes(engine), ...dashboard.extra]),
    prefixRoutes: dashboard.prefixRoutes,
    onServerError: (err, op) => {
      process.stderr.write(
        `openbatch: internal error in ${op}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    },
  });

  let running: RunningHttpServer;
  try {
    running = await listen(server, config.host, config.port);
  } catch (err) {
    await store.close();
    throw new StartupError(`cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  engine.setEndpointUrl(running.url);
  await engine.start();
  const jobRetention = startJobRetention(store, {
    retentionDays: config.jobRetentionDays,
    intervalMs: 3_600_000,
    clock: () => clock.now(),
    onError: (err) => process.stderr.write(`openbatch: job retention: ${String(err)}\n`),
  });
  const retention = startLogRetention(logStore, {
    intervalMs: 60_000,
    clock: () => clock.now(),
    onError: (err) => process.stderr.write(`openbatch: log retention: ${String(err)}\n`),
  });

  let closed = false;
  return {
    url: running.url,
    port: running.port,
    config,
    store,
    engine,
    events,
    async close() {
      if (closed) return;
      closed = true;
      dashboard.close();
      await running.close();
      await engine.stop();
      await retention.stop();
      await jobRetention.stop();
      await lifecycle.stop();
      await logStore.close();
      await store.close();
      try {
        fs.unlinkSync(pidFile);
      } catch {
        // already gone
      }
    },
  };
}

/**
 * Cluster mode (`--database postgres://…`): shared PostgreSQL job and log stores, no data-dir lock
 * (the data dir only holds this node's work dirs and launcher state). See docs/architecture/cluster.md.
 */
async function startClusterNode(config: ServerConfig, clock: Clock): Promise<RunningServer> {
  let node: ClusterServer;
  try {
    node = await startClusterServer(config, hostCapacity(), { clock });
  } catch (err) {
    throw new StartupError(`cannot start cluster node ${config.nodeId}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return {
    url: node.url,
    port: node.port,
    config,
    store: node.store,
    events: node.events,
    get engine(): JobEngine {
      return node.engine;
    },
    close: () => node.close(),
  };
}

export type { Executor };
