/**
 * @module bench/lib/report
 * Result rows, the console table and the markdown report (table + machine facts + date).
 */
import fs from 'node:fs';
import os from 'node:os';

export type Outcome = 'pass' | 'MISS' | 'info' | 'skipped' | 'error';

export interface Row {
  figure: string;
  openbatch: string;
  baseline: string;
  /** How many times better openbatch is than the baseline (higher = better), or '—'. */
  ratio: string;
  target: string;
  outcome: Outcome;
  /** For skipped/error rows: why. */
  note?: string;
}

export function ratio(better: number, worse: number): string {
  if (!Number.isFinite(better) || !Number.isFinite(worse) || worse === 0) return '—';
  const r = better / worse;
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

export function outcomeText(r: Row): string {
  return r.outcome === 'skipped' || r.outcome === 'error' ? `${r.outcome}: ${r.note ?? ''}` : r.outcome;
}

export function consoleTable(rows: readonly Row[]): string {
  const head = ['figure', 'openbatch', 'baseline', 'ratio', 'target', 'result'];
  const data = rows.map((r) => [r.figure, r.openbatch, r.baseline, r.ratio, r.target, outcomeText(r)]);
  const widths = head.map((h, i) => Math.min(70, Math.max(h.length, ...data.map((d) => d[i]!.length))));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...data.map(line)].join('\n');
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function markdownTable(rows: readonly Row[]): string {
  const out = ['| figure | openbatch | baseline | ratio | target | result |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const res = r.outcome === 'pass' ? 'pass' : r.outcome === 'MISS' ? '**MISS**' : outcomeText(r);
    out.push(`| ${[r.figure, r.openbatch, r.baseline, r.ratio, r.target, res].map(mdCell).join(' | ')} |`);
  }
  return out.join('\n');
}

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: string;
  node: string;
  kernel: string;
  os: string;
  date: string;
}

export function machineFacts(): Machine {
  let osName = `${os.type()} ${os.release()}`;
  try {
    const rel = fs.readFileSync('/etc/os-release', 'utf8');
    osName = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(rel)?.[1] ?? osName;
  } catch {
    // keep uname
  }
  return {
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: (os.totalmem() / 1024 ** 3).toFixed(1),
    node: process.version,
    kernel: os.release(),
    os: osName,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

export function machineMarkdown(m: Machine, extra: Record<string, string>): string {
  const lines = [
    `- date: ${m.date}`,
    `- cores: ${m.cores} (${m.cpuModel})`,
    `- memory: ${m.memoryGiB} GiB`,
    `- Node.js: ${m.node}`,
    `- kernel: ${m.kernel} (${m.os})`,
  ];
  for (const [k, v] of Object.entries(extra)) lines.push(`- ${k}: ${v}`);
  return lines.join('\n');
}
