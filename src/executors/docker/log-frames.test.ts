import { describe, expect, it } from 'vitest';

import { parseDockerHost, splitImageReference } from './docker-client.js';
import { LineAssembler, LogFrameDecoder, splitTimestamp, type AssembledLine } from './log-frames.js';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

describe('LogFrameDecoder', () => {
  it('decodes frames split at any byte boundary', () => {
    const all = Buffer.concat([frame(1, 'out-1\n'), frame(2, 'err-1\n'), frame(1, ''), frame(1, 'ünï\n')]);
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new LogFrameDecoder();
      const frames = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(frames.map((f) => [f.stream, f.payload.toString('utf8')])).toEqual([
        [1, 'out-1\n'],
        [2, 'err-1\n'],
        [1, ''],
        [1, 'ünï\n'],
      ]);
      expect(d.pendingBytes).toBe(0);
    }
  });

  it('keeps an incomplete frame until the rest arrives', () => {
    const d = new LogFrameDecoder();
    const f = frame(2, 'hello\n');
    expect(d.push(f.subarray(0, 10))).toEqual([]);
    expect(d.pendingBytes).toBe(10);
    expect(d.push(f.subarray(10)).map((x) => x.payload.toString())).toEqual(['hello\n']);
  });
});

describe('splitTimestamp', () => {
  it('reads Docker nanosecond and Podman whole-second timestamps', () => {
    const docker = splitTimestamp(Buffer.from('2024-05-01T10:20:30.123456789Z hello\n'));
    expect(docker.ts).toEqual({ ms: Date.UTC(2024, 4, 1, 10, 20, 30, 123), precise: true });
    expect(docker.content.toString()).toBe('hello\n');
    const podman = splitTimestamp(Buffer.from('2024-05-01T10:20:30Z  two spaces'));
    expect(podman.ts).toEqual({ ms: Date.UTC(2024, 4, 1, 10, 20, 30), precise: false });
    expect(podman.content.toString()).toBe(' two spaces');
    const offset = splitTimestamp(Buffer.from('2024-05-01T12:20:30.5+02:00 x'));
    expect(offset.ts?.ms).toBe(Date.UTC(2024, 4, 1, 10, 20, 30, 500));
  });

  it('leaves payloads without a timestamp alone', () => {
    const r = splitTimestamp(Buffer.from('2024-05-01 not a stamp'));
    expect(r.ts).toBeUndefined();
    expect(r.content.toString()).toBe('2024-05-01 not a stamp');
  });
});

describe('LineAssembler', () => {
  const collect = (): { out: AssembledLine[]; emit: (l: AssembledLine) => void } => {
    const out: AssembledLine[] = [];
    return { out, emit: (l) => out.push(l) };
  };

  it('joins fragments per stream, keeps the first fragment time, flushes the unterminated rest at the end', () => {
    const a = new LineAssembler();
    const { out, emit } = collect();
    const t1 = { ms: 1000, precise: false };
    const t2 = { ms: 2000, precise: false };
    a.push(1, Buffer.from('abc'), t1, emit);
    a.push(2, Buffer.from('err\n'), t2, emit);
    a.push(1, Buffer.from('def\nghi\n\n'), t2, emit);
    a.push(2, Buffer.from('no-newline'), t2, emit);
    a.end(emit);
    expect(out.map((l) => [l.stream, l.message, l.ts?.ms])).toEqual([
      [2, 'err', 2000],
      [1, 'abcdef', 1000],
      [1, 'ghi', 2000],
      [1, '', 2000],
      [2, 'no-newline', 2000],
    ]);
  });

  it('decodes multi-byte characters split across fragments and cuts over-long lines', () => {
    const a = new LineAssembler(4);
    const { out, emit } = collect();
    const bytes = Buffer.from('✓', 'utf8');
    a.push(1, bytes.subarray(0, 1), undefined, emit);
    a.push(1, Buffer.concat([bytes.subarray(1), Buffer.from('\n')]), undefined, emit);
    a.push(1, Buffer.from('abcdefghij\n'), undefined, emit);
    expect(out.map((l) => l.message)).toEqual(['✓', 'abcd', 'efgh', 'ij']);
  });
});

describe('parseDockerHost', () => {
  it('understands unix, tcp and http endpoints', () => {
    expect(parseDockerHost('unix:///run/podman/podman.sock')).toMatchObject({
      socketPath: '/run/podman/podman.sock',
      local: true,
    });
    expect(parseDockerHost(undefined, {})).toMatchObject({ socketPath: '/var/run/docker.sock', local: true });
    expect(parseDockerHost('tcp://10.1.2.3:2375', {})).toMatchObject({
      host: '10.1.2.3',
      port: 2375,
      local: false,
    });
    expect(parseDockerHost('tcp://localhost', {})).toMatchObject({
      host: 'localhost',
      port: 2375,
      local: true,
    });
    expect(parseDockerHost('tcp://[::1]:2376', {})).toMatchObject({ host: '::1', port: 2376, local: true });
    const tls = parseDockerHost('tcp://engine.example:2376', {
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: '/nonexistent',
    });
    expect(tls.tls).toEqual({ rejectUnauthorized: true });
    expect(() => parseDockerHost('ssh://user@host', {})).toThrow(/DOCKER_HOST/);
    expect(() => parseDockerHost('unix://relative.sock', {})).toThrow(/absolute/);
  });
});

describe('splitImageReference', () => {
  it.each([
    ['busybox', { name: 'busybox', tag: 'latest' }],
    ['localhost/openbatch-busybox:latest', { name: 'localhost/openbatch-busybox', tag: 'latest' }],
    ['registry:5000/ns/app:1.2', { name: 'registry:5000/ns/app', tag: '1.2' }],
    ['registry:5000/ns/app', { name: 'registry:5000/ns/app', tag: 'latest' }],
    ['app@sha256:abc', { name: 'app', tag: 'latest', digest: 'sha256:abc' }],
  ] as const)('%s', (ref, want) => {
    expect(splitImageReference(ref)).toEqual(want);
  });
});
