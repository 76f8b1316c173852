/**
 * @module executors/docker/log-frames
 * Decodes the Docker Engine's multiplexed log stream (no TTY): frames of an 8-byte header
 * `[stream, 0, 0, 0, size(be32)]` and `size` bytes of payload, stream 1 = stdout, 2 = stderr. With
 * `timestamps=1` every frame (one log entry: a whole line, or a fragment of a long/unterminated line)
 * starts with an RFC 3339 timestamp and a space. Docker gives nanoseconds, Podman 4 whole seconds.
 */

export type OutputStream = 1 | 2;

export interface LogFrame {
  stream: OutputStream;
  payload: Buffer;
}

/** Incremental frame decoder: push chunks as they arrive, get whole frames back. */
export class LogFrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): LogFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: LogFrame[] = [];
    let off = 0;
    while (this.buf.length - off >= 8) {
      const type = this.buf[off] ?? 0;
      const size = this.buf.readUInt32BE(off + 4);
      if (this.buf.length - off - 8 < size) break;
      const payload = this.buf.subarray(off + 8, off + 8 + size);
      // stdin (0) never appears in logs; treat anything but stderr as stdout
      out.push({ stream: type === 2 ? 2 : 1, payload });
      off += 8 + size;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(off));
    return out;
  }

  /** Bytes of an incomplete frame still buffered. */
  get pendingBytes(): number {
    return this.buf.length;
  }
}

const TS_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2}) /;

export interface FrameTimestamp {
  /** Epoch ms (sub-millisecond digits dropped). */
  ms: number;
  /** Whether the engine gave sub-second digits. */
  precise: boolean;
}

/** Splits the leading RFC 3339 timestamp off a frame payload. */
export function splitTimestamp(payload: Buffer): { ts: FrameTimestamp | undefined; content: Buffer } {
  const head = payload.subarray(0, 48).toString('latin1');
  const m = TS_RE.exec(head);
  if (!m) return { ts: undefined, content: payload };
  const frac = m[2] ?? '';
  const iso = `${m[1] ?? ''}${frac.slice(0, 4)}${m[3] ?? 'Z'}`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return { ts: undefined, content: payload };
  return { ts: { ms, precise: frac.length > 1 }, content: payload.subarray(m[0].length) };
}

export interface AssembledLine {
  stream: OutputStream;
  message: string;
  /** Timestamp of the line's first fragment, when the engine sent one. */
  ts: FrameTimestamp | undefined;
}

interface Partial {
  parts: Buffer[];
  bytes: number;
  ts: FrameTimestamp | undefined;
}

/** Joins frame contents into lines per stream; lines longer than `maxLineBytes` are cut. */
export class LineAssembler {
  private readonly partial = new Map<OutputStream, Partial>();

  constructor(private readonly maxLineBytes = 256 * 1024) {}

  push(
    stream: OutputStream,
    content: Buffer,
    ts: FrameTimestamp | undefined,
    emit: (line: AssembledLine) => void,
  ): void {
    let start = 0;
    while (start <= content.length) {
      const nl = content.indexOf(0x0a, start);
      const end = nl < 0 ? content.length : nl;
      if (end > start) this.add(stream, content.subarray(start, end), ts, emit);
      if (nl < 0) break;
      this.finish(stream, ts, emit);
      start = nl + 1;
    }
  }

  /** Emits what is left of unterminated lines (at the end of the stream). */
  end(emit: (line: AssembledLine) => void): void {
    for (const stream of [1, 2] as const) {
      const p = this.partial.get(stream);
      if (p && p.bytes > 0) this.finish(stream, p.ts, emit);
    }
    this.partial.clear();
  }

  private add(
    stream: OutputStream,
    piece: Buffer,
    ts: FrameTimestamp | undefined,
    emit: (line: AssembledLine) => void,
  ): void {
    let p = this.partial.get(stream);
    if (!p) {
      p = { parts: [], bytes: 0, ts };
      this.partial.set(stream, p);
    }
    let rest = piece;
    while (p.bytes + rest.length > this.maxLineBytes) {
      const take = this.maxLineBytes - p.bytes;
      p.parts.push(rest.subarray(0, take));
      p.bytes += take;
      rest = rest.subarray(take);
      this.finish(stream, ts, emit);
      p = { parts: [], bytes: 0, ts };
      this.partial.set(stream, p);
    }
    if (rest.length > 0) {
      p.parts.push(Buffer.from(rest));
      p.bytes += rest.length;
    }
  }

  private finish(
    stream: OutputStream,
    ts: FrameTimestamp | undefined,
    emit: (line: AssembledLine) => void,
  ): void {
    const p = this.partial.get(stream);
    this.partial.delete(stream);
    const message = p ? Buffer.concat(p.parts).toString('utf8') : '';
    emit({ stream, message, ts: p?.ts ?? ts });
  }
}
