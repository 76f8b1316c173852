/**
 * @module cli/log-follower
 * Reads a job's log streams incrementally (GetLogEvents with forward tokens), across attempts:
 * a new attempt's stream is picked up as soon as DescribeJobs shows it.
 */
import type { JobDetail } from '@aws-sdk/client-batch';

import type { OpenbatchClient } from '../sdk/client.js';
import { attemptStreams, logGroupOf } from './job-info.js';

export interface LogLine {
  attempt: number;
  stream: string;
  timestamp: number;
  message: string;
  /** True for the first line printed from a stream. */
  firstOfStream: boolean;
}

interface StreamState {
  attempt: number;
  token: string | undefined;
  started: boolean;
}

export class LogFollower {
  private readonly streams = new Map<string, StreamState>();
  private group: string | undefined;

  constructor(private readonly client: OpenbatchClient) {}

  /** Streams known so far, oldest attempt first. */
  knownStreams(): { attempt: number; stream: string }[] {
    return [...this.streams.entries()].map(([stream, s]) => ({ attempt: s.attempt, stream }));
  }

  logGroup(): string | undefined {
    return this.group;
  }

  /** New lines of every stream of `job` since the last call. */
  async poll(job: JobDetail): Promise<LogLine[]> {
    this.group = logGroupOf(job);
    for (const a of attemptStreams(job)) {
      if (!this.streams.has(a.stream))
        this.streams.set(a.stream, { attempt: a.attempt, token: undefined, started: false });
    }
    const lines: LogLine[] = [];
    for (const [stream, st] of this.streams) {
      for (let page = 0; page < 100; page++) {
        let res;
        try {
          res = await this.client.logs.getLogEvents({
            logGroupName: this.group,
            logStreamName: stream,
            startFromHead: true,
            ...(st.token ? { nextToken: st.token } : {}),
          });
        } catch (err) {
          if ((err as { name?: string }).name === 'ResourceNotFoundException') break; // not created yet
          throw err;
        }
        for (const e of res.events ?? []) {
          lines.push({
            attempt: st.attempt,
            stream,
            timestamp: e.timestamp ?? 0,
            message: e.message ?? '',
            firstOfStream: !st.started,
          });
          st.started = true;
        }
        const next = res.nextForwardToken;
        const done = !next || next === st.token || (res.events ?? []).length === 0;
        if (next) st.token = next;
        if (done) break;
      }
    }
    return lines;
  }
}
