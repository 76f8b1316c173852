import { describe, expect, it } from 'vitest';

import { LineSplitter } from './line-splitter.js';

const collect = (chunks: (string | Buffer)[], max?: number): string[] => {
  const out: string[] = [];
  const s = new LineSplitter(max);
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c) : c, (l) => out.push(l));
  s.end((l) => out.push(l));
  return out;
};

describe('LineSplitter', () => {
  it('joins lines cut across chunks and keeps a final partial line', () => {
    expect(collect(['ab', 'c\nde', 'f\ng', 'h'])).toEqual(['abc', 'def', 'gh']);
  });
  it('treats CRLF as a line end and drops empty lines', () => {
    expect(collect(['a\r\n\r\n\nb\r', '\nc'])).toEqual(['a', 'b', 'c']);
  });
  it('does not split a UTF-8 character cut across chunks', () => {
    const bytes = Buffer.from('héllo ✓\n');
    expect(collect([bytes.subarray(0, 2), bytes.subarray(2, 8), bytes.subarray(8)])).toEqual(['héllo ✓']);
  });
  it('cuts long lines at the limit on character boundaries, within and across chunks', () => {
    expect(collect(['aaaaaaaaaa\n'], 4)).toEqual(['aaaa', 'aaaa', 'aa']);
    expect(collect(['aaa', 'aaa', 'aaa', 'a\nb'], 4)).toEqual(['aaaa', 'aaaa', 'aa', 'b']);
    // 'é' is 2 bytes: a 5-byte cut would split it, so the first piece stops before it
    expect(collect(['aaaaé\n'], 5)).toEqual(['aaaa', 'é']);
  });
  it("does not hold on to the caller's buffer", () => {
    const out: string[] = [];
    const s = new LineSplitter();
    const buf = Buffer.from('abc');
    s.push(buf, (l) => out.push(l));
    buf.fill(0x7a);
    s.push(Buffer.from('\n'), (l) => out.push(l));
    expect(out).toEqual(['abc']);
  });
});
