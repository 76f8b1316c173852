/**
 * @module wiring/cluster-server
 * Composition of one node of a cluster sharing a PostgreSQL database (`--database postgres://…`).
 * See docs/architecture/cluster.md.
 *
 * Every node: the HTTP API, the Logs API (served locally from the shared PostgreSQL log store),
 * membership heartbeats, and an agent that runs attempts placed on it. The scheduler leader (lease
 * `scheduler`) additionally runs a fresh JobEngine per election, whose `process` executor is the
 * ClusterExecutor, plus the background loops (resource lifecycle, retention, dead-node checks).
 * Non-leaders forward `/v1/*` and `/openbatch/v1/*` to the leader unchanged.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import path from 'node:path';

import { createBatchHandlers, type BatchDeps } from '../api/batch/batch-api.js';
import type { JobService } from '../api/batch/job-service.js';
import { batchOperations } from '../api/batch/operations/index.js';
import { createHttpServer, listen, type ExtraHandler, type RunningHttpServer } from '../api/http-server.js';
import { createExtensionRoutes, type ExtensionTarget } from '../api/openbatch/extension-routes.js';
import { Agent, AgentRefusal } from '../cluster/agent.js';
import { ClusterExecutor, type LiveNode } from '../cluster/cluster-executor.js';
import { ClusterNode, type ClusterStoreOps, type LeaderSession } from '../cluster/cluster-node.js';
import { parseBody, sendJson } from '../cluster/http-json.js';
import {
  AGENT_PREFIX,
  type EventsRequest,
  type LeaderEpoch,
  type RecoverRequest,
  type StartRequest,
  type StopRequest,
} from '../cluster/protocol.js';
import { FORWARDED_HEADER, forward, isLeaderPath, sendUnavailable } from '../cluster/proxy.js';
import type { ServerConfig } from '../config/config.js';
import type { Clock } from '../core/clock.js';
import { ensureDefaults } from '../core/defaults.js';
import { ConflictError } from '../core/errors.js';
import { EventBus } from '../core/events.js';
import { JobEngine } from '../engine/job-engine.js';
import type { Executor } from '../executors/executor.js';
import { createProcessExecutor } from '../executors/process/process-executor.js';
import { createSlurmExecutor } from '../executors/slurm/slurm-executor.js';
import { createPostgresLogStore } from '../logs/postgres/postgres-log-store.js';
import { startJobRetention } from '../loops/job-retention.js';
import { startLogRetention } from '../loops/log-retention.js';
import { startResourceLifecycle } from '../loops/resource-lifecycle.js';
import { createPostgresStore } from '../store/postgres/postgres-store.js';
import type { Store } from '../store/store.js';
import { VERSION } from '../version.js';
import { createLogsRoutes } from './logs.js';

export interface ClusterServer {
  url: string;
  port: number;
  store: Store;
  events: EventBus;
  /** The running engine while this node leads (throws otherwise). */
  readonly engine: JobEngine;
  readonly node: ClusterNode;
  close(): Promise<void>;
}

class NoLeaderError extends Error {
  constructor() {
    super('this node is not the scheduler leader right now; retry');
    this.name = 'NoLeaderError';
  }
}

interface Leadership {
  epoch: LeaderEpoch;
  engine: JobEngine;
  executor: ClusterExecutor;
  ready: boolean;
}

export async function startClusterServer(
  config: ServerConfig,
  host: { vcpus: number; memoryMiB: number; gpus: number },
  opts: { clock: Clock },
): Promise<ClusterServer> {
  const clock = opts.clock;
  const log = (m: string): void => void process.stderr.write(`openbatch[${config.nodeId}]: ${m}\n`);
  const store = await createPostgresStore({
    url: config.databaseUrl,
    applicationName: `openbatch-${config.nodeId}`,
    now: () => clock.now(),
  });
  const s = store as Store & ClusterStoreOps;
  const logStore = await createPostgresLogStore({
    url: config.databaseUrl,
    schema: store.schema,
    now: () => clock.now(),
    onError: (err) => log(`log store: ${String(err)}`),
  });
  const scope = { region: config.region, accountId: config.accountId };
  if (!config.noDefaults) {
    try {
      await ensureDefaults(store, scope, host, randomUUID());
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err; // another node created them at the same time
    }
  }

  const events = new EventBus();
  const boot = randomUUID();
  let lead: Leadership | undefined;
  let url = '';
  // eslint-disable-next-line prefer-const -- assigned once below; the closures above run only after that
  let node!: ClusterNode;

  const liveNodes = (): LiveNode[] =>
    node
      .membership()
      .nodes.filter((m) => m.live && m.url && typeof m.meta['boot'] === 'string')
      .map((m) => ({
        nodeId: m.nodeId,
        url: m.url!,
        boot: m.meta['boot'] as string,
        accepting: m.meta['accepting'] !== false,
      }));

  const agent = new Agent({
    nodeId: config.nodeId,
    dataDir: config.dataDir,
    killGraceMs: config.killGraceMs,
    logs: logStore,
    selfUrl: () => url,
    leader: () => node.leader(),
    localLeader: () =>
      lead?.ready
        ? {
            acceptEvents: (from, evs) => {
              const l = lead;
              if (!l?.ready) return false;
              l.executor.acceptEvents(from, evs);
              return true;
            },
          }
        : undefined,
    refreshLeader: () => void node.refreshMembers(),
    createExecutor: (execEvents) =>
      createProcessExecutor(
        { events: execEvents, dataDir: config.dataDir, killGraceMs: config.killGraceMs },
        { host: config.nodeId },
      ),
  });

  const current = (): JobEngine => {
    if (!lead?.ready) throw new NoLeaderError();
    return lead.engine;
  };

  const jobService: JobService = {
    submitJob: (input, ctx) => current().submitJob(input, ctx),
    describeJobs: (ids, ctx) => current().describeJobs(ids, ctx),
    listJobs: (input, ctx) => current().listJobs(input, ctx),
    cancelJob: (id, reason) => current().cancelJob(id, reason),
    terminateJob: (id, reason) => current().terminateJob(id, reason),
    getJobQueueSnapshot: (arn) => current().getJobQueueSnapshot(arn),
    consumableInUse: (arn) => current().consumableInUse(arn),
    listJobsByConsumableResource: (arn, input) => current().listJobsByConsumableResource(arn, input),
    getJobTags: (arn) => current().getJobTags(arn),
    setJobTags: (arn, tags) => current().setJobTags(arn, tags),
    onJobQueueDeleted: (arn) => current().onJobQueueDeleted(arn),
    activeJobCount: (arn) => current().activeJobCount(arn),
  };
  const extension: ExtensionTarget = {
    interrupt: (sel) => current().interrupt(sel),
    stats: () => ({ ...current().stats(), placedPerNode: lead?.executor.stats() ?? {} }),
  };

  const onElected = async (epoch: LeaderEpoch): Promise<LeaderSession> => {
    const engineEvents = events;
    let executor!: ClusterExecutor;
    const fence = { name: 'scheduler', holder: config.nodeId, term: epoch.term };
    const writingJobs = new Map<string, number>();
    let writes = 0;
    const writing = (jobId?: string): boolean => (jobId === undefined ? writes > 0 : writingJobs.has(jobId));
    const engine: JobEngine = new JobEngine({
      store,
      clock,
      events: engineEvents,
      logs: logStore,
      dataDir: config.dataDir,
      killGraceMs: config.killGraceMs,
      host,
      defaultExecutor: 'process',
      schedulerIntervalMs: config.schedulerIntervalMs,
      verbose: config.verbose,
      writeJobs: async (updates) => {
        for (const u of updates) writingJobs.set(u.row.jobId, (writingJobs.get(u.row.jobId) ?? 0) + 1);
        writes++;
        try {
          await store.updateJobsFenced(updates, fence);
          executor.afterWrite(updates);
        } finally {
          writes--;
          for (const u of updates) {
            const n = (writingJobs.get(u.row.jobId) ?? 1) - 1;
            if (n <= 0) writingJobs.delete(u.row.jobId);
            else writingJobs.set(u.row.jobId, n);
          }
          // After the engine's own continuation has recorded the write.
          setImmediate(() => executor.drain());
        }
      },
      onFenceLost: () =>
        void node.stepDown('a fenced write was refused: another node holds the scheduler lease'),
      createExecutors: (execEvents) => {
        executor = new ClusterExecutor({
          selfId: config.nodeId,
          epoch,
          events: execEvents,
          nodes: liveNodes,
          localAgent: agent,
          writing,
          warn: log,
        });
        const map = new Map<string, Executor>([['process', executor]]);
        if (config.slurmPartition) {
          map.set(
            'slurm',
            createSlurmExecutor(
              { events: execEvents, dataDir: config.dataDir, killGraceMs: config.killGraceMs },
              {
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
            ),
          );
        }
        return map;
      },
    });
    engine.setEndpointUrl(url);
    const l: Leadership = { epoch, engine, executor: undefined as unknown as ClusterExecutor, ready: false };
    lead = l;
    await node.refreshMembers();
    try {
      await engine.start();
    } catch (err) {
      lead = undefined;
      await engine.stop().catch(() => undefined);
      throw err;
    }
    l.executor = executor;
    l.ready = true;
    void executor.greetAll();
    const lifecycle = startResourceLifecycle({ store, events, clock });
    const jobRetention = startJobRetention(store, {
      retentionDays: config.jobRetentionDays,
      intervalMs: 3_600_000,
      clock: () => clock.now(),
      onError: (err) => log(`job retention: ${String(err)}`),
    });
    const logRetention = startLogRetention(logStore, {
      intervalMs: 60_000,
      clock: () => clock.now(),
      onError: (err) => log(`log retention: ${String(err)}`),
    });
    // Dead or restarted nodes: their attempts end like a lost host and retry per their strategy.
    const checkNodes = (): void => {
      if (!l.ready) return;
      const m = node.membership();
      const live = new Map(m.nodes.filter((n) => n.live).map((n) => [n.nodeId, n.meta['boot']]));
      // Through the executor's gate: never while a job write is in flight (see ClusterExecutor.emit).
      executor.emit(undefined, () => {
        if (!l.ready) return;
        for (const n of m.nodes) {
          if (live.has(n.nodeId)) continue;
          const lost = engine.loseAttempts((h) => h['node'] === n.nodeId, n.nodeId);
          if (lost.length > 0) {
            log(`node ${n.nodeId} is gone (lease expired): ${lost.length} attempts lost`);
            executor.forgetNode(n.nodeId);
          }
        }
        const stale = engine.loseAttempts(
          (h) => typeof h['node'] === 'string' && live.has(h['node']) && live.get(h['node']) !== h['boot'],
          'restarted',
        );
        if (stale.length > 0) log(`${stale.length} attempts lost on restarted nodes`);
      });
    };
    const unsubscribe = node.onMembership(checkNodes);
    log(`scheduler running (term ${epoch.term})`);
    return {
      stop: async () => {
        l.ready = false;
        unsubscribe();
        if (lead === l) lead = undefined;
        await engine.stop(); // the ClusterExecutor's close() only stops dispatching
        await lifecycle.stop();
        await jobRetention.stop();
        await logRetention.stop();
      },
    };
  };

  node = new ClusterNode({
    store: s,
    nodeId: config.nodeId,
    boot,
    startedAt: clock.now(),
    meta: () => ({
      capacity: host,
      accepting: agent.accepting,
      running: agent.runningCount,
      version: VERSION,
    }),
    onElected,
    onFenced: (f) => agent.setFenced(f),
    log,
  });

  // --- HTTP ----------------------------------------------------------------------------------
  const internal = new Map<string, ExtraHandler>();
  const agentRoute =
    <T, R>(fn: (req: T) => Promise<R>): ExtraHandler =>
    async (_req, res, body) => {
      let input: T;
      try {
        input = parseBody<T>(body);
      } catch {
        return sendJson(res, 400, { error: 'malformed JSON', code: 'bad-request' });
      }
      try {
        sendJson(res, 200, (await fn(input)) ?? {});
      } catch (err) {
        if (err instanceof AgentRefusal) return sendJson(res, 409, { error: err.message, code: err.code });
        sendJson(res, 500, { error: (err as Error).message, code: 'bad-request' });
      }
    };
  internal.set(
    `POST ${AGENT_PREFIX}/start`,
    agentRoute((r: StartRequest) => agent.start(r)),
  );
  internal.set(
    `POST ${AGENT_PREFIX}/stop`,
    agentRoute((r: StopRequest) => agent.stop(r)),
  );
  internal.set(
    `POST ${AGENT_PREFIX}/recover`,
    agentRoute((r: RecoverRequest) => agent.recover(r)),
  );
  internal.set(`POST ${AGENT_PREFIX}/events`, (_req, res, body) => {
    const l = lead;
    if (!l?.ready) return sendJson(res, 503, { error: 'not the scheduler leader', code: 'not-leader' });
    let input: EventsRequest;
    try {
      input = parseBody<EventsRequest>(body);
    } catch {
      return sendJson(res, 400, { error: 'malformed JSON', code: 'bad-request' });
    }
    l.executor.acceptEvents(input.node, input.events ?? []);
    sendJson(res, 200, { accepted: input.events?.length ?? 0 });
  });
  for (const [k, v] of createExtensionRoutes(extension)) internal.set(k, v);

  const deps: BatchDeps = { store, clock, events, jobs: jobService, defaultScope: scope };
  const startedAt = clock.now();
  const server = createHttpServer({
    batch: createBatchHandlers(deps, batchOperations),
    logs: createLogsRoutes(logStore, clock),
    defaultScope: scope,
    health: () => {
      const m = node.membership();
      return {
        status: 'ok',
        version: VERSION,
        nodeId: config.nodeId,
        startedAt,
        store: 'postgres',
        cluster: {
          leader: m.leader ?? null,
          isLeader: node.isLeader,
          accepting: agent.accepting,
          runningHere: agent.runningCount,
          nodes: m.nodes.map((n) => ({
            nodeId: n.nodeId,
            url: n.url,
            live: n.live,
            leader: n.nodeId === m.leader,
            heartbeatAgeMs: m.dbNow - n.heartbeatAt,
            leaseUntil: n.leaseUntil,
            running: n.meta['running'],
            accepting: n.meta['accepting'],
          })),
        },
        ...(lead?.ready ? { jobs: lead.engine.stats() } : {}),
      };
    },
    extra: internal,
    onServerError: (err, op) => {
      if (err instanceof NoLeaderError) return;
      log(`internal error in ${op}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    },
  });

  // Route leader-only requests before the API's own dispatch (which reads the body itself).
  const apiListener = server.listeners('request')[0] as (
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ) => void;
  server.removeAllListeners('request');
  const waitReady = async (ms: number): Promise<boolean> => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (lead?.ready) return true;
      if (!node.isLeader) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
    return Boolean(lead?.ready);
  };
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const raw = req.url ?? '/';
    if (!isLeaderPath(raw) || lead?.ready) return apiListener(req, res);
    if (node.isLeader) {
      void waitReady(20_000).then((ok) =>
        ok ? apiListener(req, res) : sendUnavailable(res, 'the scheduler is starting; retry'),
      );
      return;
    }
    const target = node.leader();
    if (!target || target.nodeId === config.nodeId || req.headers[FORWARDED_HEADER]) {
      req.resume();
      sendUnavailable(res, 'no scheduler leader is known right now (election in progress); retry');
      return;
    }
    forward(req, res, target.url, config.nodeId);
  });

  let running: RunningHttpServer;
  try {
    running = await listen(server, config.host, config.port);
  } catch (err) {
    await logStore.close();
    await store.close();
    throw err;
  }
  url = running.url;
  await node.start(url);

  let closed = false;
  return {
    url: running.url,
    port: running.port,
    store,
    events,
    node,
    get engine(): JobEngine {
      return current();
    },
    async close() {
      if (closed) return;
      closed = true;
      await node.close(); // steps down (engine stopped, lease released)
      await agent.close(); // kills local attempts, reports them as lost hosts
      await node.leave();
      await running.close();
      await logStore.close();
      await store.close();
    },
  };
}
