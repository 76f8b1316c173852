/**
 * @module cli/format
 * Terminal output helpers: colours (only when enabled), aligned tables, durations, money, and the
 * per-status count bar used by `--wait` for array jobs.
 */

export interface Style {
  readonly color: boolean;
}

const CODES = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  gray: 90,
  bold: 1,
  dim: 2,
} as const;
export type ColorName = keyof typeof CODES;

export function paint(style: Style, color: ColorName, text: string): string {
  return style.color ? `\x1b[${CODES[color]}m${text}\x1b[0m` : text;
}

/** Strip ANSI escapes (for width computations). */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').length;
}

const STATUS_COLORS: Record<string, ColorName> = {
  SUBMITTED: 'gray',
  PENDING: 'gray',
  RUNNABLE: 'yellow',
  STARTING: 'cyan',
  RUNNING: 'blue',
  SUCCEEDED: 'green',
  FAILED: 'red',
  VALID: 'green',
  INVALID: 'red',
  ENABLED: 'green',
  DISABLED: 'yellow',
  CREATING: 'cyan',
  UPDATING: 'cyan',
  DELETING: 'yellow',
  DELETED: 'gray',
};

export function statusText(style: Style, status: string | undefined): string {
  const s = status ?? '-';
  const c = STATUS_COLORS[s];
  return c ? paint(style, c, s) : s;
}

/** An aligned table with a header row. */
export function table(
  style: Style,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) =>
        i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, widths[i]! - visibleLength(c))),
      )
      .join('  ')
      .trimEnd();
  return [paint(style, 'bold', line(headers)), ...rows.map(line)].join('\n') + '\n';
}

/** `1h02m`, `3m05s`, `12.3s`, `450ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const total = Math.floor(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  return `${m}m${String(sec).padStart(2, '0')}s`;
}

export function formatTime(epochMs: number | undefined): string {
  if (epochMs === undefined) return '-';
  return new Date(epochMs)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** `$2.55`, `$0.0255`, `$0.000012`. */
export function formatUsd(v: number): string {
  if (v === 0) return '$0.00';
  if (Math.abs(v) >= 1) return `$${v.toFixed(2)}`;
  if (Math.abs(v) >= 0.01) return `$${v.toFixed(4)}`;
  return `$${v.toPrecision(2)}`;
}

export const ARRAY_STATUSES = [
  'SUBMITTED',
  'PENDING',
  'RUNNABLE',
  'STARTING',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
] as const;

/** A fixed-width bar with one segment per status (characters proportional to counts). */
export function countBar(style: Style, counts: Readonly<Record<string, number>>, width = 30): string {
  const total = ARRAY_STATUSES.reduce((a, s) => a + (counts[s] ?? 0), 0);
  if (total === 0) return `[${' '.repeat(width)}]`;
  const glyph: Record<string, string> = {
    SUCCEEDED: '█',
    FAILED: 'x',
    RUNNING: '▓',
    STARTING: '▒',
    RUNNABLE: '░',
    PENDING: '·',
    SUBMITTED: '·',
  };
  let out = '';
  let used = 0;
  const order = ['SUCCEEDED', 'FAILED', 'RUNNING', 'STARTING', 'RUNNABLE', 'PENDING', 'SUBMITTED'];
  order.forEach((s, idx) => {
    const n = counts[s] ?? 0;
    if (n === 0) return;
    let chars = Math.round((n / total) * width);
    if (chars === 0) chars = 1;
    if (idx === order.length - 1 || used + chars > width) chars = Math.max(0, width - used);
    used += chars;
    out += paint(style, STATUS_COLORS[s] ?? 'gray', glyph[s]!.repeat(chars));
  });
  if (used < width) out += ' '.repeat(width - used);
  return `[${out}]`;
}

/** `3 SUCCEEDED, 1 RUNNING, 6 RUNNABLE` (non-zero counts only). */
export function countSummary(counts: Readonly<Record<string, number>>): string {
  const parts = ARRAY_STATUSES.filter((s) => (counts[s] ?? 0) > 0).map((s) => `${counts[s]} ${s}`);
  return parts.length ? parts.join(', ') : 'no children yet';
}
