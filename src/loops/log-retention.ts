/**
 * @module loops/log-retention
 * Deletes log events older than their group's retention (PutRetentionPolicy), every `intervalMs`.
 * The first pass runs right after start. Never overlaps itself; `stop()` waits for a running pass.
 */
import type { LogStore, RetentionResult } from '../logs/log-store.js';

export interface LogRetentionOptions {
  intervalMs: number;
  /** Epoch ms. */
  clock: () => number;
  onPass?: (result: RetentionResult) => void;
  onError?: (err: unknown) => void;
}

export interface LogRetentionLoop {
  stop(): Promise<void>;
}

export function startLogRetention(store: LogStore, opts: LogRetentionOptions): LogRetentionLoop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const pass = async (): Promise<void> => {
    try {
      const result = await store.deleteExpired(opts.clock());
      opts.onPass?.(result);
    } catch (err) {
      (opts.onError ?? ((e: unknown) => console.error('[logs] retention pass failed', e)))(err);
    }
  };

  const schedule = (delay: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = pass().finally(() => {
        running = undefined;
        schedule(opts.intervalMs);
      });
    }, delay);
    timer.unref();
  };

  schedule(0);

  return {
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (running) await running;
    },
  };
}
