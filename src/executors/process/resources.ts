/**
 * @module executors/process/resources
 * Resource enforcement for the process executor.
 *  - cgroup v1 (memory + cpu controllers writable, as root): one cgroup per attempt under
 *    `<server's own cgroup>/openbatch/<taskId>` with `memory.limit_in_bytes` and `cpu.cfs_quota_us`;
 *    the kernel OOM killer enforces memory and `memory.oom_control`'s `oom_kill` counter tells us.
 *  - cgroup v2 (unified hierarchy with the memory controller delegated): `memory.max`, `cpu.max`,
 *    `memory.events` `oom_kill`.
 *  - poll (best effort): every 250 ms sum the RSS of each job's session/process group from /proc and kill the
 *    group when it is over the limit. Processes that start their own session are not counted; a fast
 *    allocation spike between two polls goes unseen; CPU is not limited.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rmdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

import type { ResourceAmounts } from '../executor.js';

export type EnforceResources = 'auto' | 'cgroup' | 'poll' | 'off';
export type ResourceMode = 'cgroup-v1' | 'cgroup-v2' | 'poll' | 'off';

const CFS_PERIOD_US = 100_000;
const MIB = 1024 * 1024;

export interface AttemptCgroup {
  version: 1 | 2;
  /** Directories created for the attempt (removed by destroy). */
  dirs: string[];
  /** `cgroup.procs` files the payload joins before exec. */
  procsFiles: string[];
  /** Directory holding the memory controller files. */
  memoryDir: string | undefined;
}

interface MountEntry {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

function readMounts(): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(' ');
    const right = line.slice(dash + 3).split(' ');
    const root = left[3];
    const mountPoint = left[4];
    const fsType = right[0];
    if (root === undefined || mountPoint === undefined || fsType === undefined) continue;
    const unescape = (s: string): string =>
      s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({
      root: unescape(root),
      mountPoint: unescape(mountPoint),
      fsType,
      superOptions: (right[2] ?? '').split(','),
    });
  }
  return out;
}

/** controller ('' for the v2 line) → the server's own cgroup path. */
function readOwnCgroups(): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (controllers === '') map.set('', path);
    for (const c of controllers.split(',')) if (c) map.set(c, path);
  }
  return map;
}

function ownDir(mount: MountEntry, ownPath: string | undefined): string {
  if (ownPath !== undefined) {
    const rel = relative(mount.root, ownPath);
    if (!rel.startsWith('..')) {
      const dir = join(mount.mountPoint, rel);
      if (existsSync(dir)) return dir;
    }
  }
  return mount.mountPoint;
}

function tryWrite(file: string, value: string): boolean {
  try {
    writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

function readCounter(file: string, key: string): number | undefined {
  try {
    const m = new RegExp(`(?:^|\\n)${key} (\\d+)`).exec(readFileSync(file, 'utf8'));
    return m?.[1] !== undefined ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export interface CgroupLayout {
  version: 1 | 2;
  /** v1: `<memory mount>/<own>/openbatch`; v2: `<mount>/<own>/openbatch`. */
  memoryParent: string;
  /** v1 only: the cpu controller's `openbatch` dir, when writable. */
  cpuParent: string | undefined;
  /** v2: whether cpu is delegated. */
  v2Cpu: boolean;
}

/** Finds writable cgroups for per-attempt limits, or undefined (then poll or off). */
export function detectCgroupLayout(): CgroupLayout | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  let mounts: MountEntry[];
  let own: Map<string, string>;
  try {
    mounts = readMounts();
    own = readOwnCgroups();
  } catch {
    return undefined;
  }
  const v1 = (controller: string): string | undefined => {
    const m = mounts.find((e) => e.fsType === 'cgroup' && e.superOptions.includes(controller));
    if (!m) return undefined;
    const parent = join(ownDir(m, own.get(controller)), 'openbatch');
    try {
      mkdirSync(parent, { recursive: true });
      return parent;
    } catch {
      return undefined;
    }
  };
  const memoryParent = v1('memory');
  if (memoryParent && existsSync(join(memoryParent, 'memory.limit_in_bytes'))) {
    const cpuParent = v1('cpu');
    return {
      version: 1,
      memoryParent,
      cpuParent: cpuParent && existsSync(join(cpuParent, 'cpu.cfs_quota_us')) ? cpuParent : undefined,
      v2Cpu: false,
    };
  }
  const m2 = mounts.find((e) => e.fsType === 'cgroup2');
  if (!m2) return undefined;
  try {
    const base = ownDir(m2, own.get(''));
    const available = readFileSync(join(base, 'cgroup.controllers'), 'utf8').split(/\s+/);
    if (!available.includes('memory')) return undefined;
    const wantCpu = available.includes('cpu');
    // Delegate to our subtree (fails with EBUSY if our own cgroup holds processes and is not the root).
    const enable = wantCpu ? '+memory +cpu' : '+memory';
    tryWrite(join(base, 'cgroup.subtree_control'), enable);
    const parent = join(base, 'openbatch');
    mkdirSync(parent, { recursive: true });
    const inParent = readFileSync(join(parent, 'cgroup.controllers'), 'utf8').split(/\s+/);
    if (!inParent.includes('memory')) return undefined;
    tryWrite(join(parent, 'cgroup.subtree_control'), inParent.includes('cpu') ? '+memory +cpu' : '+memory');
    return { version: 2, memoryParent: parent, cpuParent: undefined, v2Cpu: inParent.includes('cpu') };
  } catch {
    return undefined;
  }
}

let swapKnown: boolean | undefined;
function hasSwap(): boolean {
  if (swapKnown === undefined) {
    try {
      swapKnown = readFileSync('/proc/swaps', 'utf8').trim().split('\n').length > 1;
    } catch {
      swapKnown = true;
    }
  }
  return swapKnown;
}

/**
 * Creates the attempt's cgroup(s) and writes its limits. Throws if the cgroup can't be made.
 * Asynchronous: creating a cgroup is a slow kernel operation that must not block the event loop.
 */
export async function createAttemptCgroup(
  layout: CgroupLayout,
  taskId: string,
  res: ResourceAmounts,
): Promise<AttemptCgroup> {
  const name = taskId.replace(/[^A-Za-z0-9_.-]/g, '_');
  const memBytes = res.memoryMiB > 0 ? Math.floor(res.memoryMiB * MIB) : undefined;
  const quota = res.vcpus > 0 ? Math.max(1000, Math.round(res.vcpus * CFS_PERIOD_US)) : undefined;
  const mk = async (dir: string): Promise<string> => {
    await mkdir(dir, { recursive: true });
    return dir;
  };
  if (layout.version === 1) {
    const cpuDir = layout.cpuParent && quota !== undefined ? join(layout.cpuParent, name) : undefined;
    const [mem] = await Promise.all([mk(join(layout.memoryParent, name)), cpuDir ? mk(cpuDir) : undefined]);
    const cg: AttemptCgroup = {
      version: 1,
      dirs: [mem],
      procsFiles: [join(mem, 'cgroup.procs')],
      memoryDir: mem,
    };
    const writes: Promise<unknown>[] = [];
    if (memBytes !== undefined) writes.push(writeFile(join(mem, 'memory.limit_in_bytes'), String(memBytes)));
    if (hasSwap()) tryWrite(join(mem, 'memory.swappiness'), '0'); // a hard limit: don't swap instead
    if (cpuDir) {
      cg.dirs.push(cpuDir);
      cg.procsFiles.push(join(cpuDir, 'cgroup.procs'));
      // a new cgroup's period is the kernel default, 100 ms (= CFS_PERIOD_US): only the quota is written
      writes.push(writeFile(join(cpuDir, 'cpu.cfs_quota_us'), String(quota)));
    }
    await Promise.all(writes);
    return cg;
  }
  const dir = await mk(join(layout.memoryParent, name));
  const writes: Promise<unknown>[] = [];
  if (memBytes !== undefined) writes.push(writeFile(join(dir, 'memory.max'), String(memBytes)));
  writes.push(writeFile(join(dir, 'memory.swap.max'), '0').catch(() => undefined));
  if (layout.v2Cpu && quota !== undefined)
    writes.push(writeFile(join(dir, 'cpu.max'), `${quota} ${CFS_PERIOD_US}`));
  await Promise.all(writes);
  return { version: 2, dirs: [dir], procsFiles: [join(dir, 'cgroup.procs')], memoryDir: dir };
}

/** Whether the kernel OOM killer fired inside the attempt's cgroup. */
export function cgroupSawOomKill(cg: AttemptCgroup): boolean {
  if (!cg.memoryDir) return false;
  if (cg.version === 2) return (readCounter(join(cg.memoryDir, 'memory.events'), 'oom_kill') ?? 0) > 0;
  const kills = readCounter(join(cg.memoryDir, 'memory.oom_control'), 'oom_kill');
  if (kills !== undefined) return kills > 0;
  // kernels before 4.13 lack the counter: hitting the limit is the best hint left
  try {
    return Number(readFileSync(join(cg.memoryDir, 'memory.failcnt'), 'utf8').trim()) > 0;
  } catch {
    return false;
  }
}

function killCgroupMembers(dir: string): void {
  if (tryWrite(join(dir, 'cgroup.kill'), '1')) return;
  let pids: string[] = [];
  try {
    pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n');
  } catch {
    return;
  }
  for (const p of pids) {
    const pid = Number(p);
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Kills what is left in the cgroup dirs (escapees) and removes them. */
export async function destroyCgroupDirs(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    for (let i = 0; i < 50; i++) {
      try {
        await rmdir(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY') throw err;
        killCgroupMembers(dir);
        await sleep(Math.min(5 * (i + 1), 50));
      }
    }
  }
}

// ---------- /proc scanning (poll mode, stray detection) ----------

export interface ProcStat {
  pid: number;
  pgrp: number;
  session: number;
  rssPages: number;
  /** Start time in clock ticks since boot. */
  startTicks: number;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state): pgrp = field 5, session = 6, starttime = 22, rss = 24
  return {
    pid,
    pgrp: Number(f[2]),
    session: Number(f[3]),
    startTicks: Number(f[19]),
    rssPages: Number(f[21]),
  };
}

export function listProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const st = readProcStat(Number(name));
    if (st) out.push(st);
  }
  return out;
}

const USER_HZ = 100; // the kernel's user-visible clock tick is 100 Hz on every Linux ABI

let bootTimeMs: number | undefined;
/** Epoch ms of a process start time from /proc/<pid>/stat (±1 s: btime has second precision). */
export function startTicksToEpochMs(ticks: number): number {
  if (bootTimeMs === undefined) {
    const m = /\nbtime (\d+)/.exec(readFileSync('/proc/stat', 'utf8'));
    bootTimeMs = m?.[1] !== undefined ? Number(m[1]) * 1000 : 0;
  }
  return bootTimeMs + (ticks * 1000) / USER_HZ;
}

let pageSize: number | undefined;
function getPageSize(): number {
  if (pageSize === undefined) {
    pageSize = 4096;
    try {
      const pages = Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]);
      const rss = process.memoryUsage().rss;
      if (pages > 0) {
        const guess = rss / pages;
        for (const size of [4096, 16384, 65536]) if (Math.abs(guess - size) / size < 0.25) pageSize = size;
      }
    } catch {
      /* keep 4096 */
    }
  }
  return pageSize;
}

interface Watched {
  limitBytes: number;
  onExceeded: (rssBytes: number) => void;
}

/** Polls the RSS of watched process groups and reports the ones over their limit (once each). */
export class RssPoller {
  private readonly watched = new Map<number, Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 250) {}

  watch(pgid: number, limitBytes: number, onExceeded: (rssBytes: number) => void): void {
    this.watched.set(pgid, { limitBytes, onExceeded });
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
  }

  unwatch(pgid: number): void {
    this.watched.delete(pgid);
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  stop(): void {
    this.watched.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  tick(): void {
    if (this.watched.size === 0) return;
    const page = getPageSize();
    const rss = new Map<number, number>();
    for (const p of listProcesses()) {
      // a job is its session (setsid): count every group in it, keyed by the session id = leader pid
      const key = this.watched.has(p.session) ? p.session : this.watched.has(p.pgrp) ? p.pgrp : undefined;
      if (key !== undefined) rss.set(key, (rss.get(key) ?? 0) + p.rssPages * page);
    }
    for (const [pgid, w] of [...this.watched]) {
      const used = rss.get(pgid) ?? 0;
      if (used > w.limitBytes) {
        this.unwatch(pgid);
        w.onExceeded(used);
      }
    }
  }
}
