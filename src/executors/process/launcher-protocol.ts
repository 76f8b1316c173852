/**
 * @module executors/process/launcher-protocol
 * The framed binary protocol between the process executor and its launcher (native/launcher.c, or the
 * Node fallback in node-launcher.ts). Both directions use `u32le body_len, u8 type, payload`; strings are
 * `u32le len, bytes`, so argv, env and output may hold arbitrary bytes. See docs/architecture/executors.md.
 */

export const PROTOCOL_VERSION = 1;
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export const CommandType = { START: 0x01, SIGNAL: 0x02, SHUTDOWN: 0x03 } as const;
export const ReportType = {
  READY: 0x80,
  STARTED: 0x81,
  OUTPUT: 0x82,
  EXIT: 0x83,
  SPAWN_ERROR: 0x84,
  ERROR: 0x85,
} as const;

/** Where a spawn failed, as reported in SPAWN_ERROR. */
export const SpawnStage = { EXEC: 1, CHDIR: 2, CGROUP: 3, SETUP: 4 } as const;
export type SpawnStage = (typeof SpawnStage)[keyof typeof SpawnStage];

export interface StartCommand {
  id: number;
  argv: readonly string[];
  /** `KEY=value` entries. */
  env: readonly string[];
  /** Working directory; empty string = the launcher's own. */
  cwd: string;
  /** `cgroup.procs` files the child joins before exec. */
  cgroupProcs: readonly string[];
}

export type LauncherReport =
  | { type: 'ready'; version: number; pid: number }
  | { type: 'started'; id: number; pid: number; at: number }
  | { type: 'output'; id: number; stream: 1 | 2; at: number; data: Buffer }
  | { type: 'exit'; id: number; signaled: boolean; value: number; coreDumped: boolean; at: number }
  | { type: 'spawnError'; id: number; stage: number; errno: number; at: number; message: string }
  | { type: 'error'; message: string };

export function encodeStart(cmd: StartCommand): Buffer {
  const strings = [...cmd.argv, ...cmd.env, cmd.cwd, ...cmd.cgroupProcs];
  let size = 4 + 1 + 4 + 4 + 4 + 4 + 4;
  const lengths = strings.map((s) => Buffer.byteLength(s, 'utf8'));
  for (const n of lengths) size += 4 + n;
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  off = buf.writeUInt32LE(size - 4, off);
  off = buf.writeUInt8(CommandType.START, off);
  off = buf.writeUInt32LE(cmd.id >>> 0, off);
  off = buf.writeUInt32LE(0, off);
  const putString = (s: string, n: number): void => {
    off = buf.writeUInt32LE(n, off);
    off += buf.write(s, off, n, 'utf8');
  };
  let i = 0;
  const next = (s: string): void => putString(s, lengths[i++] ?? 0);
  off = buf.writeUInt32LE(cmd.argv.length, off);
  for (const s of cmd.argv) next(s);
  off = buf.writeUInt32LE(cmd.env.length, off);
  for (const s of cmd.env) next(s);
  next(cmd.cwd);
  off = buf.writeUInt32LE(cmd.cgroupProcs.length, off);
  for (const s of cmd.cgroupProcs) next(s);
  return buf;
}

export function encodeSignal(id: number, signo: number, wholeGroup: boolean): Buffer {
  const buf = Buffer.allocUnsafe(4 + 1 + 12);
  buf.writeUInt32LE(13, 0);
  buf.writeUInt8(CommandType.SIGNAL, 4);
  buf.writeUInt32LE(id >>> 0, 5);
  buf.writeUInt32LE(signo, 9);
  buf.writeUInt32LE(wholeGroup ? 1 : 0, 13);
  return buf;
}

export function encodeShutdown(): Buffer {
  const buf = Buffer.allocUnsafe(5);
  buf.writeUInt32LE(1, 0);
  buf.writeUInt8(CommandType.SHUTDOWN, 4);
  return buf;
}

function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * 0x1_0000_0000;
}

/** Decodes one report body (type byte first). `body` may be a view: OUTPUT data is not copied. */
export function decodeReport(body: Buffer): LauncherReport {
  const type = body.readUInt8(0);
  switch (type) {
    case ReportType.READY:
      return { type: 'ready', version: body.readUInt32LE(1), pid: body.readUInt32LE(5) };
    case ReportType.STARTED:
      return { type: 'started', id: body.readUInt32LE(1), pid: body.readUInt32LE(5), at: readU64(body, 9) };
    case ReportType.OUTPUT: {
      const stream = body.readUInt8(5);
      return {
        type: 'output',
        id: body.readUInt32LE(1),
        stream: stream === 2 ? 2 : 1,
        at: readU64(body, 6),
        data: body.subarray(14),
      };
    }
    case ReportType.EXIT:
      return {
        type: 'exit',
        id: body.readUInt32LE(1),
        signaled: body.readUInt8(5) === 1,
        value: body.readUInt32LE(6),
        coreDumped: body.readUInt8(10) === 1,
        at: readU64(body, 11),
      };
    case ReportType.SPAWN_ERROR:
      return {
        type: 'spawnError',
        id: body.readUInt32LE(1),
        stage: body.readUInt8(5),
        errno: body.readUInt32LE(6),
        at: readU64(body, 10),
        message: body.subarray(18).toString('utf8'),
      };
    case ReportType.ERROR:
      return { type: 'error', message: body.subarray(1).toString('utf8') };
    default:
      throw new Error(`launcher protocol: unknown report type 0x${type.toString(16)}`);
  }
}

/**
 * Splits a byte stream into frame bodies. Complete frames inside one chunk are handed out as views of
 * that chunk (valid only during the callback); only a frame cut across chunks is copied.
 */
export class FrameDecoder {
  private pending: Buffer | undefined;

  constructor(private readonly onBody: (body: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32LE(off);
      if (len === 0 || len > MAX_FRAME_BYTES) throw new Error(`launcher protocol: bad frame length ${len}`);
      if (buf.length - off - 4 < len) break;
      this.onBody(buf.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    if (off < buf.length) this.pending = Buffer.from(buf.subarray(off));
  }
}

/** Frames a report body (used by the Node fallback launcher and by tests). */
export function frame(body: Buffer): Buffer {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32LE(body.length, 0);
  return Buffer.concat([head, body]);
}
