/**
 * @module cli/idempotency
 * `submit --idempotency-key K`: a repeated submission returns the first job.
 *
 * Two layers: (1) a local map in `$OPENBATCH_HOME/idempotency.json` (default
 * `~/.openbatch/idempotency.json`) from `<endpoint>|<key>` to the job; (2) the job is tagged
 * `openbatch:idempotency-key=K`, so another machine finds it with ListJobs (queue + JOB_NAME
 * filter) and a tag check. A mapped job the service no longer knows is ignored.
 */
import fs from 'node:fs';
import path from 'node:path';

import type { JobDetail } from '@aws-sdk/client-batch';

import type { OpenbatchClient } from '../sdk/client.js';

export const IDEMPOTENCY_TAG = 'openbatch:idempotency-key';

export interface IdempotencyEntry {
  jobId: string;
  jobName: string;
  jobArn?: string | undefined;
  jobQueue: string;
  createdAt: string;
}

interface FileShape {
  version: 1;
  entries: Record<string, IdempotencyEntry>;
}

export class IdempotencyStore {
  readonly file: string;
  constructor(home: string) {
    this.file = path.join(home, 'idempotency.json');
  }

  private read(): FileShape {
    try {
      const data = JSON.parse(fs.readFileSync(this.file, 'utf8')) as FileShape;
      if (data && typeof data === 'object' && data.entries && typeof data.entries === 'object') return data;
    } catch {
      // missing or unreadable: start afresh
    }
    return { version: 1, entries: {} };
  }

  get(endpoint: string | undefined, key: string): IdempotencyEntry | undefined {
    return this.read().entries[`${endpoint ?? 'aws'}|${key}`];
  }

  put(endpoint: string | undefined, key: string, entry: IdempotencyEntry): void {
    const data = this.read();
    data.entries[`${endpoint ?? 'aws'}|${key}`] = entry;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
    fs.renameSync(tmp, this.file);
  }

  delete(endpoint: string | undefined, key: string): void {
    const data = this.read();
    delete data.entries[`${endpoint ?? 'aws'}|${key}`];
    if (fs.existsSync(this.file)) fs.writeFileSync(this.file, JSON.stringify(data, null, 2) + '\n');
  }
}

/** Look for an earlier job with this key: local map first, then the service (queue + name + tag). */
export async function findIdempotentJob(
  client: OpenbatchClient,
  store: IdempotencyStore,
  key: string,
  queue: string,
  jobName: string,
): Promise<{ job: JobDetail; source: 'local' | 'remote' } | undefined> {
  const local = store.get(client.endpoint, key);
  if (local) {
    const job = await client.describeJob(local.jobId);
    if (job && job.tags?.[IDEMPOTENCY_TAG] === key) return { job, source: 'local' };
    store.delete(client.endpoint, key);
  }
  const summaries = await client.listJobs({
    jobQueue: queue,
    filters: [{ name: 'JOB_NAME', values: [jobName] }],
  });
  if (!summaries.length) return undefined;
  const jobs = await client.describeJobs(summaries.map((s) => s.jobId!).filter(Boolean));
  const match = jobs
    .filter((j) => j.tags?.[IDEMPOTENCY_TAG] === key)
    .sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0))[0];
  return match ? { job: match, source: 'remote' } : undefined;
}
