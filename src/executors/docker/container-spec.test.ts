import { describe, expect, it } from 'vitest';

import type { AttemptSpec } from '../executor.js';
import { MemoryLogSink } from '../executor.conformance.js';
import {
  buildContainerPlan,
  ContainerSpecError,
  LABEL_ATTEMPT,
  LABEL_ATTEMPT_KEY,
  LABEL_CE,
  LABEL_JOB_ID,
  LABEL_OWNER,
  LABEL_TASK_ID,
  rewriteEndpointUrl,
  type ContainerSpecOptions,
} from './container-spec.js';

const TASK = '0123456789abcdef0123456789abcdef';
const MIB = 1024 * 1024;

function spec(over: Partial<AttemptSpec> = {}): AttemptSpec {
  return {
    attemptKey: 'job-1#2',
    jobId: 'job-1',
    attempt: 2,
    taskId: TASK,
    computeEnvironment: {
      name: 'ce-a',
      arn: 'arn:aws:batch:us-east-1:123456789012:compute-environment/ce-a',
    },
    command: ['python', 'train.py', '--epochs', '3'],
    environment: { AWS_BATCH_JOB_ID: 'job-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' },
    resources: { vcpus: 2, memoryMiB: 2048, gpus: 0 },
    image: 'my/image:1',
    container: {},
    log: { group: '/aws/batch/job', stream: `jd/default/${TASK}`, sink: new MemoryLogSink() },
    workDir: '/tmp/w',
    ...over,
  };
}

const HOST: ContainerSpecOptions = { networkMode: 'host', engineKind: 'podman', owner: 'own1' };

describe('buildContainerPlan', () => {
  it('maps image, command, env, resources and labels', () => {
    const plan = buildContainerPlan(spec(), HOST);
    expect(plan.name).toBe(`openbatch-${TASK}`);
    expect(plan.body).toMatchObject({
      Image: 'my/image:1',
      Cmd: ['python', 'train.py', '--epochs', '3'],
      Env: ['AWS_BATCH_JOB_ID=job-1', 'AWS_ENDPOINT_URL=http://127.0.0.1:4566'],
      Labels: {
        [LABEL_JOB_ID]: 'job-1',
        [LABEL_ATTEMPT]: '2',
        [LABEL_ATTEMPT_KEY]: 'job-1#2',
        [LABEL_TASK_ID]: TASK,
        [LABEL_OWNER]: 'own1',
        [LABEL_CE]: 'ce-a',
      },
      HostConfig: {
        NetworkMode: 'host',
        NanoCpus: 2e9,
        CpuShares: 2048,
        Memory: 2048 * MIB,
        MemorySwap: 2048 * MIB,
      },
    });
    expect(plan.body).not.toHaveProperty('Entrypoint');
    expect(plan.body.HostConfig).not.toHaveProperty('Init');
    expect(plan.body.HostConfig).not.toHaveProperty('DeviceRequests');
    expect(plan.volumes).toEqual([]);
  });

  it('leaves Cmd out for an empty command (image default) and limits out for zero resources', () => {
    const plan = buildContainerPlan(
      spec({ command: [], resources: { vcpus: 0, memoryMiB: 0, gpus: 0 } }),
      HOST,
    );
    expect(plan.body).not.toHaveProperty('Cmd');
    expect(plan.body.HostConfig).not.toHaveProperty('Memory');
    expect(plan.body.HostConfig).not.toHaveProperty('NanoCpus');
  });

  it('takes the image from containerProperties when the spec has none, and refuses a job without one', () => {
    const s = spec({ container: { image: 'from/props:2' } });
    delete s.image;
    expect(buildContainerPlan(s, HOST).body.Image).toBe('from/props:2');
    const none = spec();
    delete none.image;
    expect(() => buildContainerPlan(none, HOST)).toThrow(ContainerSpecError);
  });

  it('maps user, privileged, readonlyRootFilesystem, ulimits and linuxParameters', () => {
    const plan = buildContainerPlan(
      spec({
        container: {
          user: '1000:1000',
          privileged: true,
          readonlyRootFilesystem: true,
          ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 4096 }],
          linuxParameters: {
            devices: [
              { hostPath: '/dev/fuse', permissions: ['READ', 'WRITE'] },
              { hostPath: '/dev/sda', containerPath: '/dev/xvda' },
            ],
            initProcessEnabled: true,
            sharedMemorySize: 256,
            tmpfs: [{ containerPath: '/scratch', size: 100, mountOptions: ['noexec', 'nosuid'] }],
            maxSwap: 1024,
            swappiness: 10,
          },
        },
      }),
      HOST,
    );
    expect(plan.body['User']).toBe('1000:1000');
    expect(plan.body.HostConfig).toMatchObject({
      Privileged: true,
      ReadonlyRootfs: true,
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 4096 }],
      Devices: [
        { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rw' },
        { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'rwm' },
      ],
      Init: true,
      ShmSize: 256 * MIB,
      Tmpfs: { '/scratch': 'size=100m,noexec,nosuid' },
      Memory: 2048 * MIB,
      MemorySwap: (2048 + 1024) * MIB,
      MemorySwappiness: 10,
    });
  });

  it('rejects maxSwap without a memory limit, and malformed ulimits/tmpfs', () => {
    const noMem = spec({
      resources: { vcpus: 1, memoryMiB: 0, gpus: 0 },
      container: { linuxParameters: { maxSwap: 10 } },
    });
    expect(() => buildContainerPlan(noMem, HOST)).toThrow(/maxSwap/);
    expect(() => buildContainerPlan(spec({ container: { ulimits: [{ name: 'nofile' }] } }), HOST)).toThrow(
      /ulimit/,
    );
    expect(() =>
      buildContainerPlan(spec({ container: { linuxParameters: { tmpfs: [{ size: 1 }] } } }), HOST),
    ).toThrow(/tmpfs/);
  });

  it('turns host volumes into binds and host-less volumes into per-attempt named volumes', () => {
    const plan = buildContainerPlan(
      spec({
        container: {
          volumes: [
            { name: 'data', host: { sourcePath: '/srv/data' } },
            { name: 'scratch' },
            { name: 'unused', host: {} },
          ],
          mountPoints: [
            { sourceVolume: 'data', containerPath: '/data', readOnly: true },
            { sourceVolume: 'scratch', containerPath: '/scratch' },
            { sourceVolume: 'data', containerPath: '/data2', readOnly: false },
          ],
        },
      }),
      HOST,
    );
    expect(plan.body.HostConfig['Binds']).toEqual([
      '/srv/data:/data:ro',
      `openbatch-${TASK}-scratch:/scratch`,
      '/srv/data:/data2',
    ]);
    expect(plan.volumes).toEqual([`openbatch-${TASK}-scratch`, `openbatch-${TASK}-unused`]);
  });

  it('refuses EFS volumes, relative host paths and mount points without a volume', () => {
    expect(() =>
      buildContainerPlan(
        spec({ container: { volumes: [{ name: 'e', efsVolumeConfiguration: { fileSystemId: 'fs-1' } }] } }),
        HOST,
      ),
    ).toThrow(/EFS/);
    expect(() =>
      buildContainerPlan(
        spec({ container: { volumes: [{ name: 'r', host: { sourcePath: 'rel' } }] } }),
        HOST,
      ),
    ).toThrow(/absolute/);
    expect(() =>
      buildContainerPlan(
        spec({ container: { mountPoints: [{ sourceVolume: 'nope', containerPath: '/x' }] } }),
        HOST,
      ),
    ).toThrow(/no volume named nope/);
  });

  it('requests the assigned GPUs', () => {
    const plan = buildContainerPlan(spec({ gpuIds: [0, 3] }), HOST);
    expect(plan.body.HostConfig['DeviceRequests']).toEqual([
      { Driver: 'nvidia', DeviceIDs: ['0', '3'], Capabilities: [['gpu']] },
    ]);
  });

  it('rewrites a loopback AWS_ENDPOINT_URL for bridge networks only', () => {
    const bridgePodman = buildContainerPlan(spec(), {
      networkMode: 'bridge',
      engineKind: 'podman',
      owner: 'o',
    });
    expect(bridgePodman.body['Env']).toContain('AWS_ENDPOINT_URL=http://host.containers.internal:4566');
    expect(bridgePodman.body.HostConfig).not.toHaveProperty('ExtraHosts');
    const bridgeDocker = buildContainerPlan(spec(), {
      networkMode: 'bridge',
      engineKind: 'docker',
      owner: 'o',
    });
    expect(bridgeDocker.body['Env']).toContain('AWS_ENDPOINT_URL=http://host.docker.internal:4566');
    expect(bridgeDocker.body.HostConfig['ExtraHosts']).toEqual(['host.docker.internal:host-gateway']);
    const none = buildContainerPlan(spec(), { networkMode: 'none', engineKind: 'docker', owner: 'o' });
    expect(none.body['Env']).toContain('AWS_ENDPOINT_URL=http://127.0.0.1:4566');
  });
});

describe('rewriteEndpointUrl', () => {
  it.each([
    ['http://127.0.0.1:4566', 'bridge', 'docker', 'http://host.docker.internal:4566'],
    ['http://localhost:4566/', 'mynet', 'podman', 'http://host.containers.internal:4566/'],
    ['http://[::1]:4566/base', 'bridge', 'docker', 'http://host.docker.internal:4566/base'],
    ['http://10.0.0.5:4566', 'bridge', 'docker', 'http://10.0.0.5:4566'],
    ['http://127.0.0.1:4566', 'host', 'docker', 'http://127.0.0.1:4566'],
    ['not a url', 'bridge', 'docker', 'not a url'],
  ] as const)('%s on %s (%s) → %s', (url, net, kind, want) => {
    expect(rewriteEndpointUrl(url, net, kind)).toBe(want);
  });
});
