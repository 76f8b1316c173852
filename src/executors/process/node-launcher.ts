/**
 * @module executors/process/node-launcher
 * Fallback launcher for hosts without a C compiler: a small Node helper process that speaks the same
 * protocol as native/launcher.c (see launcher-protocol.ts), so spawning never happens on the server's
 * event loop. It is slower (child_process.spawn costs several ms per process) and weaker:
 *  - cgroups are joined right after spawn by writing the pid to `cgroup.procs` (racy: the first
 *    instants of the payload, and processes it forks before that, run outside the cgroup);
 *  - no PR_SET_PDEATHSIG: if the helper itself is SIGKILLed, its jobs survive (recover() kills strays);
 *    on stdin EOF (server gone) it kills every job's process group and exits, as the C launcher does.
 *
 * `nodeLauncherMain` must stay self-contained: it is serialised with Function#toString and run by
 * `node -e` in the helper, so it may only use its parameters and globals.
 */
import type * as ChildProcessModule from 'node:child_process';
import type * as FsModule from 'node:fs';
import type * as OsModule from 'node:os';

export interface NodeLauncherDeps {
  cp: typeof ChildProcessModule;
  fs: typeof FsModule;
  os: typeof OsModule;
}

export function nodeLauncherMain(deps: NodeLauncherDeps): void {
  const { cp, fs, os } = deps;
  const EV_READY = 0x80;
  const EV_STARTED = 0x81;
  const EV_OUTPUT = 0x82;
  const EV_EXIT = 0x83;
  const EV_SPAWNERR = 0x84;
  const EV_ERROR = 0x85;
  interface Job {
    id: number;
    child: ChildProcessModule.ChildProcess;
    pid: number;
    open: number;
    exit: { signaled: boolean; value: number } | undefined;
    reported: boolean;
  }
  const jobs = new Map<number, Job>();
  let shuttingDown = false;
  let paused = false;

  const send = (type: number, fields: (b: Buffer) => void, size: number): void => {
    const buf = Buffer.allocUnsafe(4 + 1 + size);
    buf.writeUInt32LE(1 + size, 0);
    buf.writeUInt8(type, 4);
    fields(buf.subarray(5));
    if (!process.stdout.write(buf) && !paused) {
      paused = true;
      for (const j of jobs.values()) {
        j.child.stdout?.pause();
        j.child.stderr?.pause();
      }
      process.stdout.once('drain', () => {
        paused = false;
        for (const j of jobs.values()) {
          j.child.stdout?.resume();
          j.child.stderr?.resume();
        }
      });
    }
  };
  const u64 = (b: Buffer, off: number, v: number): void => {
    b.writeUInt32LE(v % 0x1_0000_0000, off);
    b.writeUInt32LE(Math.floor(v / 0x1_0000_0000), off + 4);
  };
  const text = (s: string): Buffer => Buffer.from(s, 'utf8');

  const maybeFinish = (j: Job): void => {
    if (j.reported || !j.exit || j.open > 0) return;
    j.reported = true;
    jobs.delete(j.id);
    const e = j.exit;
    send(
      EV_EXIT,
      (b) => {
        b.writeUInt32LE(j.id, 0);
        b.writeUInt8(e.signaled ? 1 : 0, 4);
        b.writeUInt32LE(e.value, 5);
        b.writeUInt8(0, 9);
        u64(b, 10, Date.now());
      },
      18,
    );
    if (shuttingDown && jobs.size === 0) process.exit(0);
  };

  const start = (id: number, argv: string[], env: string[], cwd: string, cgroups: string[]): void => {
    const envObj: Record<string, string> = {};
    for (const kv of env) {
      const eq = kv.indexOf('=');
      if (eq > 0) envObj[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    const spawnError = (err: NodeJS.ErrnoException, stage: number): void => {
      const code = err.code ?? 'EIO';
      const errno = (os.constants.errno as Record<string, number>)[code] ?? 5;
      const msg = text(
        code === 'ENOENT'
          ? 'No such file or directory'
          : code === 'EACCES'
            ? 'Permission denied'
            : err.message,
      );
      send(
        EV_SPAWNERR,
        (b) => {
          b.writeUInt32LE(id, 0);
          b.writeUInt8(stage, 4);
          b.writeUInt32LE(errno, 5);
          u64(b, 9, Date.now());
          msg.copy(b, 17);
        },
        17 + msg.length,
      );
    };
    if (cwd !== '') {
      try {
        if (!fs.statSync(cwd).isDirectory())
          throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      } catch (err) {
        spawnError(err as NodeJS.ErrnoException, 2);
        return;
      }
    }
    let child: ChildProcessModule.ChildProcess;
    try {
      child = cp.spawn(argv[0] ?? '', argv.slice(1), {
        env: envObj,
        cwd: cwd === '' ? undefined : cwd,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      spawnError(err as NodeJS.ErrnoException, 1);
      return;
    }
    const pid = child.pid;
    if (pid === undefined) {
      child.once('error', (err) => spawnError(err, 1));
      return;
    }
    for (const file of cgroups) {
      try {
        fs.writeFileSync(file, String(pid));
      } catch {
        /* best effort, see module doc */
      }
    }
    const job: Job = { id, child, pid, open: 2, exit: undefined, reported: false };
    jobs.set(id, job);
    send(
      EV_STARTED,
      (b) => {
        b.writeUInt32LE(id, 0);
        b.writeUInt32LE(pid, 4);
        u64(b, 8, Date.now());
      },
      16,
    );
    const wire = (stream: NodeJS.ReadableStream | null, n: 1 | 2): void => {
      if (!stream) {
        job.open--;
        return;
      }
      stream.on('data', (chunk: Buffer) => {
        send(
          EV_OUTPUT,
          (b) => {
            b.writeUInt32LE(id, 0);
            b.writeUInt8(n, 4);
            u64(b, 5, Date.now());
            chunk.copy(b, 13);
          },
          13 + chunk.length,
        );
      });
      stream.on('close', () => {
        job.open--;
        maybeFinish(job);
      });
      if (paused) stream.pause();
    };
    wire(child.stdout, 1);
    wire(child.stderr, 2);
    child.on('exit', (code, signal) => {
      try {
        process.kill(-pid, 'SIGKILL'); // the task ends with its main process
      } catch {
        /* group already empty */
      }
      const signo = signal ? ((os.constants.signals as Record<string, number>)[signal] ?? 9) : 0;
      job.exit = signal ? { signaled: true, value: signo } : { signaled: false, value: code ?? 0 };
      // a process that escaped the group may hold the pipes: don't wait for it forever
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, 200).unref();
      maybeFinish(job);
    });
  };

  const killAll = (): void => {
    for (const j of jobs.values()) {
      try {
        process.kill(-j.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  const shutdown = (): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    killAll();
    if (jobs.size === 0) process.exit(0);
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('SIGHUP', shutdown);
  process.stdout.on('error', shutdown);

  let pending: Buffer = Buffer.alloc(0);
  process.stdin.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let off = 0;
    while (pending.length - off >= 4) {
      const len = pending.readUInt32LE(off);
      if (pending.length - off - 4 < len) break;
      const body = pending.subarray(off + 4, off + 4 + len);
      off += 4 + len;
      const type = body.readUInt8(0);
      if (type === 0x01) {
        let p = 1;
        const u32 = (): number => {
          const v = body.readUInt32LE(p);
          p += 4;
          return v;
        };
        const str = (): string => {
          const n = u32();
          const s = body.toString('utf8', p, p + n);
          p += n;
          return s;
        };
        const id = u32();
        u32();
        const argv: string[] = [];
        for (let n = u32(); n > 0; n--) argv.push(str());
        const env: string[] = [];
        for (let n = u32(); n > 0; n--) env.push(str());
        const cwd = str();
        const cgroups: string[] = [];
        for (let n = u32(); n > 0; n--) cgroups.push(str());
        start(id, argv, env, cwd, cgroups);
      } else if (type === 0x02) {
        const j = jobs.get(body.readUInt32LE(1));
        const signo = body.readUInt32LE(5);
        if (j && !j.exit) {
          try {
            process.kill((body.readUInt32LE(9) & 1) === 1 ? -j.pid : j.pid, signo);
          } catch {
            /* gone */
          }
        }
      } else if (type === 0x03) {
        shutdown();
      } else {
        const msg = text('unknown command');
        send(EV_ERROR, (b) => msg.copy(b, 0), msg.length);
        shutdown();
      }
    }
    pending = off < pending.length ? Buffer.from(pending.subarray(off)) : Buffer.alloc(0);
  });
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);

  send(
    EV_READY,
    (b) => {
      b.writeUInt32LE(1, 0);
      b.writeUInt32LE(process.pid, 4);
    },
    8,
  );
}

/** Source for `node -e`: runs nodeLauncherMain with its dependencies. */
export function nodeLauncherSource(): string {
  return [
    "'use strict';",
    'var __name = (f) => f;', // in case a bundler's keepNames helper leaked into the function text
    `(${nodeLauncherMain.toString()})({ cp: require('node:child_process'), fs: require('node:fs'), os: require('node:os') });`,
  ].join('\n');
}
