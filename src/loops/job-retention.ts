/**
 * @module loops/job-retention
 * Finished jobs are kept for `retentionDays` (AWS keeps them at least 7 days), then removed in
 * small batches so the store never blocks for long.
 */
import type { Store } from '../store/store.js';

export interface JobRetentionOptions {
  retentionDays: number;
  intervalMs: number;
  clock: () => number;
  onError?: (err: unknown) => void;
}

export function startJobRetention(
  store: Store,
  opts: JobRetentionOptions,
): { stop(): Promise<void>; runOnce(): Promise<number> } {
  let stopped = false;
  let running: Promise<number> | undefined;
  const runOnce = async (): Promise<number> => {
    const before = opts.clock() - opts.retentionDays * 86_400_000;
    let total = 0;
    for (let i = 0; i < 100 && !stopped; i++) {
      const n = await store.purgeJobs(before, 5000);
      total += n;
      if (n < 5000) break;
      await new Promise((r) => setImmediate(r));
    }
    return total;
  };
  const tick = () => {
    if (stopped || running) return;
    running = runOnce()
      .catch((err: unknown) => {
        opts.onError?.(err);
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, opts.intervalMs);
  timer.unref();
  tick();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
