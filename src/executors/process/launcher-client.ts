/**
 * @module executors/process/launcher-client
 * Owns one launcher process (native/build/ob-launcher, or the Node fallback helper) and speaks the
 * protocol in launcher-protocol.ts with it. Spawning happens in the launcher, never on this event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  decodeReport,
  encodeShutdown,
  encodeSignal,
  encodeStart,
  FrameDecoder,
  PROTOCOL_VERSION,
  type LauncherReport,
  type StartCommand,
} from './launcher-protocol.js';
import { nodeLauncherSource } from './node-launcher.js';

export type LauncherKind = 'native' | 'node';

/** native/build/ob-launcher, found from src/executors/process/ and dist/executors/process/ alike. */
export function defaultNativeLauncherPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, '..', '..', '..', 'native', 'build', 'ob-launcher');
}

export function isNativeLauncherAvailable(path = defaultNativeLauncherPath()): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface LauncherClientOptions {
  kind: LauncherKind;
  nativePath?: string;
  onReport: (report: LauncherReport) => void;
  /** The launcher went away (crash, kill, or after close()). */
  onGone: (reason: string) => void;
}

export class LauncherClient {
  readonly kind: LauncherKind;
  private readonly child: ChildProcess;
  private readonly decoder: FrameDecoder;
  private stderrTail = '';
  private gone = false;
  private readonly exited: Promise<void>;
  readonly ready: Promise<number>;

  constructor(private readonly opts: LauncherClientOptions) {
    this.kind = opts.kind;
    const stdio: ['pipe', 'pipe', 'pipe'] = ['pipe', 'pipe', 'pipe'];
    this.child =
      opts.kind === 'native'
        ? spawn(opts.nativePath ?? defaultNativeLauncherPath(), [String(process.pid)], { stdio })
        : spawn(process.execPath, ['-e', nodeLauncherSource()], { stdio });
    let resolveReady!: (pid: number) => void;
    let rejectReady!: (err: Error) => void;
    this.ready = new Promise<number>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    this.ready.catch(() => undefined); // observed by callers; avoid an unhandled rejection otherwise
    this.decoder = new FrameDecoder((body) => {
      const report = decodeReport(body);
      if (report.type === 'ready') {
        if (report.version !== PROTOCOL_VERSION) {
          rejectReady(new Error(`launcher speaks protocol ${report.version}, expected ${PROTOCOL_VERSION}`));
          this.child.kill('SIGKILL');
          return;
        }
        resolveReady(report.pid);
        return;
      }
      opts.onReport(report);
    });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk);
      } catch (err) {
        this.stderrTail += `\n${(err as Error).message}`;
        this.child.kill('SIGKILL');
      }
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-4096);
    });
    this.child.stdin?.on('error', () => undefined); // EPIPE when the launcher died; handled by 'close'
    this.exited = new Promise<void>((resolve) => {
      const finish = (why: string): void => {
        if (this.gone) return;
        this.gone = true;
        const reason = `${this.kind} launcher ${why}${this.stderrTail ? `: ${this.stderrTail.trim()}` : ''}`;
        rejectReady(new Error(reason));
        opts.onGone(reason);
        resolve();
      };
      this.child.once('error', (err) => finish(`failed: ${err.message}`));
      this.child.once('close', (code, signal) => finish(`exited (${signal ?? `code ${code}`})`));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get isGone(): boolean {
    return this.gone;
  }

  start(cmd: StartCommand): void {
    this.write(encodeStart(cmd));
  }

  signal(id: number, signo: number, wholeGroup = true): void {
    this.write(encodeSignal(id, signo, wholeGroup));
  }

  /** Asks the launcher to kill and reap everything, then waits for it to exit. */
  async close(): Promise<void> {
    if (!this.gone) {
      this.write(encodeShutdown());
      this.child.stdin?.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
  }

  /** Closes stdin only (what happens when the server dies); for tests. */
  closeStdin(): void {
    this.child.stdin?.end();
  }

  whenGone(): Promise<void> {
    return this.exited;
  }

  private write(buf: Buffer): void {
    if (this.gone || !this.child.stdin || this.child.stdin.destroyed) return;
    this.child.stdin.write(buf);
  }
}
