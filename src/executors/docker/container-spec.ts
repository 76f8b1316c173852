/**
 * @module executors/docker/container-spec
 * Job attempt → Docker Engine `POST /containers/create` body, as AWS Batch does it on ECS (EC2):
 *
 * | AWS Batch (containerProperties / attempt)  | Docker Engine API                                      |
 * |--------------------------------------------|--------------------------------------------------------|
 * | image                                      | Image                                                  |
 * | command (after Ref:: and overrides)        | Cmd (empty → the image's CMD); ENTRYPOINT is kept      |
 * | environment + AWS_BATCH_*                  | Env (AWS_ENDPOINT_URL rewritten per network mode)      |
 * | VCPU                                       | HostConfig.NanoCpus (hard quota) + CpuShares (1024/vCPU)|
 * | MEMORY (MiB)                               | HostConfig.Memory; MemorySwap = Memory + maxSwap       |
 * | user / privileged / readonlyRootFilesystem | User / Privileged / ReadonlyRootfs                     |
 * | ulimits                                    | HostConfig.Ulimits                                     |
 * | linuxParameters.devices                    | HostConfig.Devices                                     |
 * | linuxParameters.initProcessEnabled         | HostConfig.Init                                        |
 * | linuxParameters.sharedMemorySize (MiB)     | HostConfig.ShmSize (bytes)                             |
 * | linuxParameters.tmpfs                      | HostConfig.Tmpfs                                       |
 * | linuxParameters.maxSwap / swappiness       | MemorySwap / MemorySwappiness                          |
 * | volumes[].host.sourcePath + mountPoints    | HostConfig.Binds `src:dst[:ro]`                        |
 * | volumes[] without host                     | a per-attempt named volume, removed after the attempt  |
 * | GPUs assigned by the scheduler             | HostConfig.DeviceRequests (nvidia, DeviceIDs)          |
 * | job id, attempt, task id                   | Labels `openbatch.*`                                   |
 */
import type { AttemptSpec } from '../executor.js';
import type { ContainerCreateBody } from './docker-client.js';

const MIB = 1024 * 1024;

export const LABEL_JOB_ID = 'openbatch.job-id';
export const LABEL_ATTEMPT = 'openbatch.attempt';
export const LABEL_ATTEMPT_KEY = 'openbatch.attempt-key';
export const LABEL_TASK_ID = 'openbatch.task-id';
export const LABEL_OWNER = 'openbatch.owner';
export const LABEL_CE = 'openbatch.compute-environment';

/** Thrown for a job the engine can't run as asked; becomes `CannotCreateContainerError: …`. */
export class ContainerSpecError extends Error {
  override readonly name = 'ContainerSpecError';
}

export interface ContainerSpecOptions {
  /** HostConfig.NetworkMode: `host`, `bridge`, `none`, or a network name. */
  networkMode: string;
  engineKind: 'docker' | 'podman';
  /** Value of the `openbatch.owner` label (which server started the container). */
  owner: string;
}

export interface ContainerPlan {
  name: string;
  body: ContainerCreateBody;
  /** Named volumes created for this attempt (removed with it). */
  volumes: string[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function objects(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** The container name of an attempt (unique per attempt: a task id is never reused). */
export function containerNameFor(taskId: string): string {
  return `openbatch-${taskId.replace(/[^a-zA-Z0-9_.-]/g, '_')}`;
}

/** Where a container reaches the host's loopback, per engine, in a bridge-like network. */
export function hostGatewayName(engineKind: 'docker' | 'podman'): string {
  return engineKind === 'podman' ? 'host.containers.internal' : 'host.docker.internal';
}

/**
 * Rewrites a loopback host in AWS_ENDPOINT_URL so the container reaches the server:
 *  - `host` network: the container shares the host's loopback, nothing to do;
 *  - `none`: there is no route to the server at all; left as is (documented);
 *  - any other network: loopback → the engine's host gateway name.
 */
export function rewriteEndpointUrl(
  url: string,
  networkMode: string,
  engineKind: 'docker' | 'podman',
): string {
  if (networkMode === 'host' || networkMode === 'none') return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  const h = u.hostname.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0.0.0.0' || /^127\./.test(h)) {
    u.hostname = hostGatewayName(engineKind);
    const s = u.toString();
    // URL adds a trailing slash to a bare origin; keep the caller's form
    return url.endsWith('/') || u.pathname !== '/' ? s : s.replace(/\/$/, '');
  }
  return url;
}

const DEVICE_PERMS: Record<string, string> = { READ: 'r', WRITE: 'w', MKNOD: 'm' };

/** Builds the create body for an attempt. Throws ContainerSpecError for what the engine can't do. */
export function buildContainerPlan(spec: AttemptSpec, opts: ContainerSpecOptions): ContainerPlan {
  const image = spec.image ?? str(spec.container['image']);
  if (!image) throw new ContainerSpecError('the job has no container image');
  const c = spec.container;
  const name = containerNameFor(spec.taskId);

  const env: string[] = [];
  for (const [k, v] of Object.entries(spec.environment)) {
    env.push(
      `${k}=${k === 'AWS_ENDPOINT_URL' ? rewriteEndpointUrl(v, opts.networkMode, opts.engineKind) : v}`,
    );
  }

  const host: Obj = { NetworkMode: opts.networkMode };
  if (opts.networkMode !== 'host' && opts.networkMode !== 'none' && opts.engineKind === 'docker') {
    // Podman adds host.containers.internal by itself; Docker needs the host-gateway alias.
    host['ExtraHosts'] = [`${hostGatewayName('docker')}:host-gateway`];
  }

  // resources
  const { vcpus, memoryMiB } = spec.resources;
  if (vcpus > 0) {
    host['NanoCpus'] = Math.round(vcpus * 1e9);
    host['CpuShares'] = Math.max(2, Math.round(vcpus * 1024));
  }
  const lp = isObj(c['linuxParameters']) ? c['linuxParameters'] : {};
  const maxSwap = num(lp['maxSwap']);
  const swappiness = num(lp['swappiness']);
  if (memoryMiB > 0) {
    const mem = Math.floor(memoryMiB * MIB);
    host['Memory'] = mem;
    // Batch's ECS AMIs have no swap: without maxSwap the limit is a hard limit (Docker's default would
    // silently double it with swap). maxSwap: total = memory + maxSwap.
    host['MemorySwap'] = maxSwap !== undefined && maxSwap > 0 ? mem + Math.floor(maxSwap * MIB) : mem;
    if (maxSwap !== undefined && maxSwap > 0) host['MemorySwappiness'] = swappiness ?? 60;
  } else if (maxSwap !== undefined) {
    throw new ContainerSpecError('linuxParameters.maxSwap needs a MEMORY resource requirement');
  }

  // security and identity
  const user = str(c['user']);
  if (c['privileged'] === true) host['Privileged'] = true;
  if (c['readonlyRootFilesystem'] === true) host['ReadonlyRootfs'] = true;

  const ulimits = objects(c['ulimits']).map((u) => {
    const n = str(u['name']);
    const soft = num(u['softLimit']);
    const hard = num(u['hardLimit']);
    if (!n || soft === undefined || hard === undefined)
      throw new ContainerSpecError(`invalid ulimit ${JSON.stringify(u)}`);
    return { Name: n, Soft: soft, Hard: hard };
  });
  if (ulimits.length) host['Ulimits'] = ulimits;

  // linuxParameters
  const devices = objects(lp['devices']).map((d) => {
    const hostPath = str(d['hostPath']);
    if (!hostPath) throw new ContainerSpecError('linuxParameters.devices[].hostPath is required');
    const perms = Array.isArray(d['permissions'])
      ? d['permissions'].map((p) => (typeof p === 'string' ? (DEVICE_PERMS[p] ?? '') : '')).join('')
      : '';
    return {
      PathOnHost: hostPath,
      PathInContainer: str(d['containerPath']) ?? hostPath,
      CgroupPermissions: perms || 'rwm',
    };
  });
  if (devices.length) host['Devices'] = devices;
  if (lp['initProcessEnabled'] === true) host['Init'] = true;
  const shm = num(lp['sharedMemorySize']);
  if (shm !== undefined && shm > 0) host['ShmSize'] = Math.floor(shm * MIB);
  const tmpfs: Record<string, string> = {};
  for (const t of objects(lp['tmpfs'])) {
    const path = str(t['containerPath']);
    const size = num(t['size']);
    if (!path || size === undefined)
      throw new ContainerSpecError('linuxParameters.tmpfs[] needs containerPath and size');
    const options = Array.isArray(t['mountOptions'])
      ? t['mountOptions'].filter((o): o is string => typeof o === 'string')
      : [];
    tmpfs[path] = [`size=${Math.floor(size)}m`, ...options].join(',');
  }
  if (Object.keys(tmpfs).length) host['Tmpfs'] = tmpfs;

  // volumes + mountPoints
  const volumeSource = new Map<string, { kind: 'bind'; path: string } | { kind: 'named'; name: string }>();
  const namedVolumes: string[] = [];
  for (const v of objects(c['volumes'])) {
    const vname = str(v['name']);
    if (!vname) throw new ContainerSpecError('volumes[].name is required');
    if (v['efsVolumeConfiguration'] !== undefined) {
      throw new ContainerSpecError(`volume ${vname}: EFS volumes are not supported by the docker executor`);
    }
    const sourcePath = isObj(v['host']) ? str(v['host']['sourcePath']) : undefined;
    if (sourcePath) {
      if (!sourcePath.startsWith('/'))
        throw new ContainerSpecError(`volume ${vname}: host.sourcePath must be absolute`);
      volumeSource.set(vname, { kind: 'bind', path: sourcePath });
    } else {
      // ECS: no host path → a volume the engine manages, scoped to the task
      const named = `${name}-${vname.replace(/[^a-zA-Z0-9_.-]/g, '_')}`;
      volumeSource.set(vname, { kind: 'named', name: named });
      namedVolumes.push(named);
    }
  }
  const binds: string[] = [];
  for (const m of objects(c['mountPoints'])) {
    const src = str(m['sourceVolume']);
    const dst = str(m['containerPath']);
    if (!src || !dst) throw new ContainerSpecError('mountPoints[] needs sourceVolume and containerPath');
    const vol = volumeSource.get(src);
    if (!vol) throw new ContainerSpecError(`mountPoints: no volume named ${src}`);
    const from = vol.kind === 'bind' ? vol.path : vol.name;
    binds.push(`${from}:${dst}${m['readOnly'] === true ? ':ro' : ''}`);
  }
  if (binds.length) host['Binds'] = binds;

  if (spec.gpuIds && spec.gpuIds.length > 0) {
    host['DeviceRequests'] = [
      { Driver: 'nvidia', DeviceIDs: spec.gpuIds.map(String), Capabilities: [['gpu']] },
    ];
  }

  const labels: Record<string, string> = {
    [LABEL_JOB_ID]: spec.jobId,
    [LABEL_ATTEMPT]: String(spec.attempt),
    [LABEL_ATTEMPT_KEY]: spec.attemptKey,
    [LABEL_TASK_ID]: spec.taskId,
    [LABEL_OWNER]: opts.owner,
    [LABEL_CE]: spec.computeEnvironment.name,
  };

  const body: ContainerCreateBody = {
    Image: image,
    Env: env,
    Labels: labels,
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    HostConfig: host,
  };
  if (spec.command.length > 0) body['Cmd'] = [...spec.command];
  if (user) body['User'] = user;
  return { name, body, volumes: namedVolumes };
}
