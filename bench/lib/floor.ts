/**
 * @module bench/lib/floor
 * The raw process-start floor: a tiny C program, compiled here with `cc`, that keeps `concurrency`
 * children of `true` alive at once with posix_spawnp + waitpid until `count` have exited.
 */
import fs from 'node:fs';
import path from 'node:path';

import { BenchError, run, which } from './util.js';

const SOURCE = String.raw`
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
extern char **environ;
int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: floor COUNT CONCURRENCY\n"); return 2; }
  long count = atol(argv[1]), conc = atol(argv[2]), started = 0, done = 0, running = 0;
  char *args[] = { "true", NULL };
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (done < count) {
    while (running < conc && started < count) {
      pid_t pid;
      if (posix_spawnp(&pid, "true", NULL, NULL, args, environ) != 0) { perror("posix_spawnp"); return 1; }
      started++; running++;
    }
    int st;
    if (waitpid(-1, &st, 0) > 0) { done++; running--; }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("%ld %.6f\n", done, s);
  return 0;
}
`;

export function floorMissing(): string | undefined {
  return which('cc') ? undefined : 'no C compiler (`cc`) on PATH';
}

export async function buildFloor(dir: string): Promise<string> {
  const src = path.join(dir, 'floor.c');
  const bin = path.join(dir, 'floor');
  fs.writeFileSync(src, SOURCE);
  const r = await run('cc', ['-O2', '-o', bin, src], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new BenchError(`cc failed: ${r.stderr}`);
  return bin;
}

/** Jobs per second of the floor for `count` processes at `concurrency`. */
export async function runFloor(bin: string, count: number, concurrency: number): Promise<number> {
  const r = await run(bin, [String(count), String(concurrency)], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new BenchError(`floor failed: ${r.stderr}`);
  const [n, s] = r.stdout.trim().split(/\s+/).map(Number);
  return (n ?? 0) / (s ?? 1);
}
