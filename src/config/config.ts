/**
 * @module config/config
 * Server configuration: defaults < environment (`OPENBATCH_*`) < command-line flags.
 * Validated once at start; the rest of the server only reads the resulting object.
 */
import os from 'node:os';
import path from 'node:path';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  region: string;
  accountId: string;
  /** Don't create the `default` compute environment and job queue on first start. */
  noDefaults: boolean;
  /** Default executor for compute environments that don't name one. */
  executor: 'process' | 'docker';
  /** Grace between SIGTERM and SIGKILL when stopping a job (AWS: 30 s). */
  killGraceMs: number;
  /** PostgreSQL URL; empty = embedded SQLite in the data dir. */
  databaseUrl: string;
  nodeId: string;
  /** Print one line per request/transition to stderr. */
  verbose: boolean;
  /** Scheduler safety tick (the scheduler is also woken by every submit and exit). */
  schedulerIntervalMs: number;
  /** Days to keep finished jobs (AWS: at least 7). */
  jobRetentionDays: number;
  /** How the process executor enforces MEMORY and VCPU: cgroups when writable (root), RSS polling, or not at all. */
  resourceLimits: string;
  /** Docker Engine API address (DOCKER_HOST semantics) for the `docker` executor; empty = $DOCKER_HOST. */
  dockerHost: string;
  /** Keep job containers after their attempt (debugging). */
  keepContainers: boolean;
  /** Slurm partition for compute environments tagged `openbatch.io/executor=slurm`; empty = no Slurm executor. */
  slurmPartition: string;
  slurmTransport: string;
  /** Directory shared with the Slurm compute nodes (attempt scripts, output, exit records). */
  slurmWorkRoot: string;
  slurmConf: string;
  /** slurmrestd URL (`unix:/path.sock` or `http://host:6820`) for the `rest` transport. */
  slurmRestUrl: string;
  slurmRestUser: string;
  slurmRestToken: string;
}

export class ConfigError extends Error {}

export function defaultConfig(): ServerConfig {
  return {
    host: '127.0.0.1',
    port: 4566,
    dataDir: path.resolve('.openbatch'),
    region: 'us-east-1',
    accountId: '123456789012',
    noDefaults: false,
    executor: 'process',
    killGraceMs: 30_000,
    databaseUrl: '',
    nodeId: os.hostname(),
    verbose: false,
    schedulerIntervalMs: 1000,
    jobRetentionDays: 7,
    resourceLimits: 'auto',
    dockerHost: '',
    keepContainers: false,
    slurmPartition: '',
    slurmTransport: 'cli',
    slurmWorkRoot: '',
    slurmConf: '',
    slurmRestUrl: '',
    slurmRestUser: '',
    slurmRestToken: '',
  };
}

const ENV: Record<string, keyof ServerConfig> = {
  OPENBATCH_HOST: 'host',
  OPENBATCH_PORT: 'port',
  OPENBATCH_DATA_DIR: 'dataDir',
  OPENBATCH_REGION: 'region',
  OPENBATCH_ACCOUNT_ID: 'accountId',
  OPENBATCH_NO_DEFAULTS: 'noDefaults',
  OPENBATCH_EXECUTOR: 'executor',
  OPENBATCH_KILL_GRACE_MS: 'killGraceMs',
  OPENBATCH_DATABASE_URL: 'databaseUrl',
  OPENBATCH_NODE_ID: 'nodeId',
  OPENBATCH_VERBOSE: 'verbose',
  OPENBATCH_SCHEDULER_INTERVAL_MS: 'schedulerIntervalMs',
  OPENBATCH_JOB_RETENTION_DAYS: 'jobRetentionDays',
  OPENBATCH_RESOURCE_LIMITS: 'resourceLimits',
  OPENBATCH_DOCKER_HOST: 'dockerHost',
  OPENBATCH_KEEP_CONTAINERS: 'keepContainers',
  OPENBATCH_SLURM_PARTITION: 'slurmPartition',
  OPENBATCH_SLURM_TRANSPORT: 'slurmTransport',
  OPENBATCH_SLURM_WORK_ROOT: 'slurmWorkRoot',
  OPENBATCH_SLURM_CONF: 'slurmConf',
  OPENBATCH_SLURM_REST_URL: 'slurmRestUrl',
  OPENBATCH_SLURM_REST_USER: 'slurmRestUser',
  OPENBATCH_SLURM_REST_TOKEN: 'slurmRestToken',
};

const FLAGS: Record<string, keyof ServerConfig> = {
  '--host': 'host',
  '--port': 'port',
  '--data-dir': 'dataDir',
  '--region': 'region',
  '--account-id': 'accountId',
  '--no-defaults': 'noDefaults',
  '--executor': 'executor',
  '--kill-grace-ms': 'killGraceMs',
  '--database': 'databaseUrl',
  '--node-id': 'nodeId',
  '--verbose': 'verbose',
  '--scheduler-interval-ms': 'schedulerIntervalMs',
  '--job-retention-days': 'jobRetentionDays',
  '--resource-limits': 'resourceLimits',
  '--docker-host': 'dockerHost',
  '--keep-containers': 'keepContainers',
  '--slurm-partition': 'slurmPartition',
  '--slurm-transport': 'slurmTransport',
  '--slurm-work-root': 'slurmWorkRoot',
  '--slurm-conf': 'slurmConf',
  '--slurm-rest-url': 'slurmRestUrl',
  '--slurm-rest-user': 'slurmRestUser',
};

export const SERVER_FLAGS_HELP = `Options (each also as an environment variable OPENBATCH_<NAME>):
  --host HOST               address to listen on (default 127.0.0.1)
  --port PORT               port (default 4566; 0 = any free port)
  --data-dir DIR            where the embedded database and job files live (default ./.openbatch)
  --region REGION           region used in ARNs when a request is not signed (default us-east-1)
  --account-id ID           12-digit account id used in ARNs (default 123456789012)
  --no-defaults             don't create the 'default' compute environment and job queue
  --executor process|docker default executor (default process)
  --kill-grace-ms MS        SIGTERM→SIGKILL grace when stopping jobs (default 30000)
  --database URL            postgres://... to share work between several nodes (default: SQLite)
  --node-id ID              this node's name in a cluster (default: hostname)
  --verbose                 log requests and job transitions to stderr
  --job-retention-days N    keep finished jobs N days (default 7)
  --resource-limits auto|cgroup|poll|off
                            how process jobs are held to MEMORY/VCPU: a cgroup per attempt (root), polling
                            RSS, or not at all (fastest; no isolation). Default auto: cgroup if possible, else poll
  --scheduler-interval-ms MS  safety tick of the scheduler; it also runs on every submit and exit (default 1000)

Container executor (compute environments tagged openbatch.io/executor=docker, or --executor docker):
  --docker-host URL         Docker Engine API, DOCKER_HOST syntax (default $DOCKER_HOST or /var/run/docker.sock)
  --keep-containers         don't remove job containers after their attempt

Slurm executor (UNMANAGED compute environments tagged openbatch.io/executor=slurm):
  --slurm-partition NAME    partition to submit to (enables the Slurm executor)
  --slurm-transport cli|rest  sbatch/squeue/scancel (default) or slurmrestd
  --slurm-work-root DIR     directory shared with the compute nodes (default <data-dir>/slurm)
  --slurm-conf FILE         slurm.conf for the CLI transport (default: $SLURM_CONF)
  --slurm-rest-url URL      slurmrestd: unix:/path/rest.sock or http://host:6820
  --slurm-rest-user NAME    slurmrestd user (JWT); the token comes from OPENBATCH_SLURM_REST_TOKEN`;

function coerce(key: keyof ServerConfig, raw: string, cfg: ServerConfig): void {
  const cur = cfg[key];
  if (typeof cur === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || !Number.isInteger(n))
      throw new ConfigError(`${key} must be a non-negative integer, got '${raw}'`);
    (cfg as unknown as Record<string, unknown>)[key] = n;
  } else if (typeof cur === 'boolean') {
    (cfg as unknown as Record<string, unknown>)[key] = !['0', 'false', 'no', ''].includes(raw.toLowerCase());
  } else {
    (cfg as unknown as Record<string, unknown>)[key] = raw;
  }
}

export function loadServerConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ServerConfig {
  const cfg = defaultConfig();
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined) coerce(key, v, cfg);
  }
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const key = FLAGS[arg];
    if (!key) throw new ConfigError(`unknown option '${arg}' (see 'openbatch server --help')`);
    if (typeof cfg[key] === 'boolean' && value === undefined) {
      (cfg as unknown as Record<string, unknown>)[key] = true;
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new ConfigError(`option ${arg} needs a value`);
    }
    coerce(key, value, cfg);
  }
  return validate(cfg);
}

export function validate(cfg: ServerConfig): ServerConfig {
  if (cfg.port > 65535) throw new ConfigError(`port must be at most 65535, got ${cfg.port}`);
  if (!/^\d{12}$/.test(cfg.accountId))
    throw new ConfigError(`account id must be 12 digits, got '${cfg.accountId}'`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(cfg.region))
    throw new ConfigError(`'${cfg.region}' is not a region name like us-east-1`);
  if (cfg.executor !== 'process' && cfg.executor !== 'docker')
    throw new ConfigError(`executor must be process or docker, got '${cfg.executor}'`);
  if (!['auto', 'cgroup', 'poll', 'off'].includes(cfg.resourceLimits))
    throw new ConfigError(`resource limits must be auto, cgroup, poll or off, got '${cfg.resourceLimits}'`);
  if (cfg.slurmTransport !== 'cli' && cfg.slurmTransport !== 'rest')
    throw new ConfigError(`slurm transport must be cli or rest, got '${cfg.slurmTransport}'`);
  if (cfg.slurmTransport === 'rest' && cfg.slurmPartition && !cfg.slurmRestUrl)
    throw new ConfigError('--slurm-transport rest needs --slurm-rest-url');
  cfg.dataDir = path.resolve(cfg.dataDir);
  return cfg;
}
