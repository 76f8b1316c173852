/**
 * What `aws logs tail --follow` (CLI v2) does, replayed with the SDK: FilterLogEvents with
 * interleaved=true from now-10m, paginate with nextToken; when no nextToken comes back, poll again
 * from the newest timestamp seen, de-duplicating events of that timestamp by eventId. Events keep
 * arriving in two streams while it runs; every event must be printed exactly once, in order.
 */
import {
  CloudWatchLogsClient,
  FilterLogEventsCommand,
  type FilterLogEventsCommandInput,
} from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createHttpServer, listen, type RunningHttpServer } from '../../src/api/http-server.js';
import { createLogsHandlers, toLogsWireError } from '../../src/api/logs/logs-api.js';
import { SqliteLogStore } from '../../src/logs/sqlite/sqlite-log-store.js';

let server: RunningHttpServer;
let store: SqliteLogStore;
let sdk: CloudWatchLogsClient;

beforeAll(async () => {
  store = new SqliteLogStore({ path: ':memory:', flushIntervalMs: 5 });
  server = await listen(
    createHttpServer({
      batch: new Map(),
      logs: { handlers: createLogsHandlers(store, {}), mapError: toLogsWireError },
      health: () => ({}),
      defaultScope: { region: 'us-east-1', accountId: '123456789012' },
    }),
    '127.0.0.1',
    0,
  );
  sdk = new CloudWatchLogsClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
});

afterAll(async () => {
  sdk?.destroy();
  await server?.close();
  await store?.close();
});

interface Printed {
  stream: string;
  message: string;
  timestamp: number;
  eventId: string;
}

/** awscli/customizations/logs/tail.py FollowLogEventsGenerator, with a short sleep. */
async function* followLogEvents(
  kwargs: FilterLogEventsCommandInput,
  stop: () => boolean,
): AsyncGenerator<Printed> {
  let idsPerTimestamp = new Map<number, Set<string>>();
  const params: FilterLogEventsCommandInput = { ...kwargs };
  for (;;) {
    const res = await sdk.send(new FilterLogEventsCommand(params));
    for (const e of res.events ?? []) {
      // tail.py converts both unconditionally; they must be present.
      expect(typeof e.timestamp).toBe('number');
      expect(typeof e.ingestionTime).toBe('number');
      const seen = idsPerTimestamp.get(e.timestamp!) ?? new Set<string>();
      idsPerTimestamp.set(e.timestamp!, seen);
      if (!seen.has(e.eventId!)) {
        seen.add(e.eventId!);
        yield { stream: e.logStreamName!, message: e.message!, timestamp: e.timestamp!, eventId: e.eventId! };
      }
    }
    if (idsPerTimestamp.size > 0) {
      const newest = Math.max(...idsPerTimestamp.keys());
      idsPerTimestamp = new Map([[newest, idsPerTimestamp.get(newest)!]]);
    }
    if (res.nextToken) {
      params.nextToken = res.nextToken;
    } else {
      if (idsPerTimestamp.size > 0) params.startTime = Math.max(...idsPerTimestamp.keys());
      delete params.nextToken;
      if (stop()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

describe('aws logs tail --follow replay', () => {
  it('prints every event exactly once while two job streams keep writing', async () => {
    const group = '/aws/batch/fred-simulations-dev';
    const streams = ['fred/default/aaaa', 'fred/default/bbbb'];
    let ts = Date.now() - 5_000;
    const produced: string[] = [];
    // Some lines before the tail starts.
    for (let i = 0; i < 50; i++) {
      const s = streams[i % 2]!;
      const m = `${s} early ${i}`;
      store.append(group, s, [{ timestamp: ts, message: m }]);
      produced.push(m);
      if (i % 3 === 0) ts++; // several events share a timestamp
    }
    let producing = true;
    const producer = (async () => {
      for (let round = 0; round < 40; round++) {
        for (let k = 0; k < 25; k++) {
          const s = streams[(round + k) % 2]!;
          const m = `${s} live ${round}.${k}`;
          store.append(group, s, [{ timestamp: ts, message: m }]);
          produced.push(m);
          if (k % 4 === 0) ts++;
        }
        await new Promise((r) => setTimeout(r, 3));
      }
      await store.flush();
      producing = false;
    })();

    const printed: Printed[] = [];
    let idleAfterDone = 0;
    for await (const e of followLogEvents(
      { logGroupName: group, interleaved: true, startTime: Date.now() - 10 * 60_000, limit: 37 },
      () => !producing && ++idleAfterDone > 2,
    )) {
      printed.push(e);
    }
    await producer;

    expect(printed.map((e) => e.message)).toEqual(produced);
    expect(new Set(printed.map((e) => e.eventId)).size).toBe(produced.length);
    const times = printed.map((e) => e.timestamp);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('tails with --log-stream-name-prefix and --filter-pattern', async () => {
    const group = '/aws/batch/loan-default-prediction';
    const t = Date.now() - 1000;
    store.append(group, 'data-taiwan_credit/default/1', [
      { timestamp: t, message: 'data-taiwan_credit step 1' },
      { timestamp: t + 1, message: 'other' },
    ]);
    store.append(group, 'train/default/2', [{ timestamp: t + 2, message: 'data-taiwan_credit in training' }]);
    const printed: string[] = [];
    let polls = 0;
    for await (const e of followLogEvents(
      {
        logGroupName: group,
        interleaved: true,
        startTime: t - 1,
        filterPattern: 'data-taiwan_credit',
        logStreamNamePrefix: 'data-',
      },
      () => ++polls > 2,
    )) {
      printed.push(e.message);
    }
    expect(printed).toEqual(['data-taiwan_credit step 1']);
  });
});
