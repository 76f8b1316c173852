/**
 * @module executors/process/line-splitter
 * Turns output chunks of one stream into log lines: handles lines cut across chunks, strips CR before
 * LF, cuts lines longer than `maxLineBytes` (at a UTF-8 character boundary) and skips empty lines, as
 * Docker's awslogs driver does (CloudWatch rejects empty messages).
 */

export const MAX_LINE_BYTES = 256 * 1024;

export type LineCallback = (line: string) => void;

/** Length of the longest prefix of `buf[0..max)` that does not end inside a UTF-8 sequence. */
function utf8Boundary(buf: Buffer, max: number): number {
  let end = max;
  // step back over continuation bytes (10xxxxxx) to the start of the last character
  let i = end - 1;
  let steps = 0;
  while (i > 0 && steps < 3 && ((buf[i] ?? 0) & 0xc0) === 0x80) {
    i--;
    steps++;
  }
  const lead = buf[i] ?? 0;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  if (i + need > end) end = i; // the last character is incomplete: cut before it
  return end > 0 ? end : max;
}

export class LineSplitter {
  private parts: Buffer[] = [];
  private partLen = 0;

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  /** Emits every line completed by `data`. `data` may be reused by the caller afterwards. */
  push(data: Buffer, emit: LineCallback): void {
    let start = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl < 0) break;
      if (this.partLen > 0) {
        this.parts.push(data.subarray(start, nl));
        const whole = Buffer.concat(this.parts, this.partLen + (nl - start));
        this.parts = [];
        this.partLen = 0;
        this.emitLine(whole, 0, whole.length, emit);
      } else {
        this.emitLine(data, start, nl, emit);
      }
      start = nl + 1;
    }
    if (start < data.length) {
      this.parts.push(Buffer.from(data.subarray(start))); // copy: the caller's buffer is transient
      this.partLen += data.length - start;
      if (this.partLen >= this.maxLineBytes) this.cutLongPartial(emit);
    }
  }

  /** Emits what is left (output that did not end with a newline). */
  end(emit: LineCallback): void {
    if (this.partLen === 0) return;
    const whole = Buffer.concat(this.parts, this.partLen);
    this.parts = [];
    this.partLen = 0;
    this.emitLine(whole, 0, whole.length, emit);
  }

  private cutLongPartial(emit: LineCallback): void {
    let whole = Buffer.concat(this.parts, this.partLen);
    while (whole.length >= this.maxLineBytes) {
      const cut = utf8Boundary(whole, this.maxLineBytes);
      emit(whole.toString('utf8', 0, cut));
      whole = whole.subarray(cut);
    }
    this.parts = whole.length > 0 ? [Buffer.from(whole)] : [];
    this.partLen = whole.length;
  }

  private emitLine(buf: Buffer, start: number, end: number, emit: LineCallback): void {
    if (end > start && buf[end - 1] === 0x0d) end--;
    while (end - start > this.maxLineBytes) {
      const cut = start + utf8Boundary(buf.subarray(start), this.maxLineBytes);
      emit(buf.toString('utf8', start, cut));
      start = cut;
    }
    if (end > start) emit(buf.toString('utf8', start, end));
  }
}
