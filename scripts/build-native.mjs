#!/usr/bin/env node
// Compiles native/launcher.c into native/build/ob-launcher (the process executor's spawner).
// Without a C compiler this prints a warning and exits 0: the process executor then falls back to its
// slower Node helper (see docs/architecture/executors.md).
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'launcher.c');
const outDir = join(root, 'native', 'build');
const out = join(outDir, 'ob-launcher');
const cc = process.env.CC || 'cc';

mkdirSync(outDir, { recursive: true });
const tmp = `${out}.tmp-${process.pid}`;
const args = ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-Wno-unused-parameter', '-o', tmp, source];
const res = spawnSync(cc, args, { stdio: 'inherit' });
if (res.error || res.status !== 0) {
  const why = res.error ? res.error.message : `exit status ${res.status}`;
  console.warn(`build-native: warning: could not compile ${source} with ${cc} (${why}).`);
  console.warn('build-native: the process executor will use its slower Node fallback launcher.');
  process.exit(0);
}
renameSync(tmp, out); // atomic: a running server never sees a half-written binary
console.log(`build-native: built ${out}`);
