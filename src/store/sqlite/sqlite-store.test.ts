import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runStoreConformance } from '../store.conformance.js';
import { SqliteStore } from './sqlite-store.js';

runStoreConformance({
  name: 'sqlite :memory:',
  create: async () => new SqliteStore({ path: ':memory:' }),
});

const files = new WeakMap<object, string>();
runStoreConformance({
  name: 'sqlite file',
  create: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openbatch-sqlite-'));
    const store = new SqliteStore({ path: path.join(dir, 'openbatch.db'), exclusive: true });
    files.set(store, dir);
    return store;
  },
  cleanup: async (store) => {
    await store.close();
    const dir = files.get(store);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  },
});
