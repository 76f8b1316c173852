import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { SqliteLogStore } from '../../logs/sqlite/sqlite-log-store.js';
import type { JsonHandler } from '../http-server.js';
import type { RequestContext } from '../request-context.js';
import { createLogsHandlers, toLogsWireError } from './logs-api.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const ctx: RequestContext = {
  region: 'eu-west-1',
  accountId: '111122223333',
  requestId: 'r-1',
  bodyBytes: 0,
};

let now = 1_700_000_000_000;
let store: SqliteLogStore;
let handlers: Map<string, JsonHandler>;

beforeEach(() => {
  now = 1_700_000_000_000;
  store = new SqliteLogStore({ path: ':memory:', now: () => now });
  handlers = createLogsHandlers(store, { clock: () => now });
});
afterEach(async () => {
  await store.close();
});

async function call<T = Record<string, unknown>>(op: string, input: Record<string, unknown>): Promise<T> {
  const h = handlers.get(op);
  if (!h) throw new Error(`no handler ${op}`);
  return (await h(input, ctx)) as T;
}

async function callError(
  op: string,
  input: Record<string, unknown>,
): Promise<{ status: number; type: string; message: string }> {
  try {
    await call(op, input);
  } catch (err) {
    return toLogsWireError(err);
  }
  throw new Error(`${op} did not fail`);
}

interface GetOut {
  events: Array<{ timestamp: number; message: string; ingestionTime: number }>;
  nextForwardToken: string;
  nextBackwardToken: string;
}

describe('GetLogEvents tokens', () => {
  beforeEach(() => {
    store.append(
      '/aws/batch/job',
      's',
      Array.from({ length: 25 }, (_, i) => ({ timestamp: now - 1000 + i, message: `m${i}` })),
    );
  });

  it('reads forward from the head until the forward token repeats (boto3/CLI loop)', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let calls = 0;
    for (;;) {
      const out = await call<GetOut>('GetLogEvents', {
        logGroupName: '/aws/batch/job',
        logStreamName: 's',
        startFromHead: true,
        limit: 10,
        ...(token ? { nextToken: token } : {}),
      });
      calls++;
      expect(out.nextForwardToken).toMatch(/^f\/\d{56}$/);
      expect(out.nextBackwardToken).toMatch(/^b\/\d{56}$/);
      seen.push(...out.events.map((e) => e.message));
      if (out.nextForwardToken === token) {
        expect(out.events).toEqual([]);
        break;
      }
      token = out.nextForwardToken;
      if (calls > 10) throw new Error('did not terminate');
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
    expect(calls).toBe(4);
  });

  it('defaults to the newest page, ascending, and pages backward until the backward token repeats', async () => {
    const first = await call<GetOut>('GetLogEvents', {
      logGroupName: '/aws/batch/job',
      logStreamName: 's',
      limit: 10,
    });
    expect(first.events.map((e) => e.message)).toEqual(Array.from({ length: 10 }, (_, i) => `m${15 + i}`));
    const pages: string[][] = [first.events.map((e) => e.message)];
    let token = first.nextBackwardToken;
    for (;;) {
      const out = await call<GetOut>('GetLogEvents', {
        logGroupName: '/aws/batch/job',
        logStreamName: 's',
        limit: 10,
        nextToken: token,
      });
      if (out.nextBackwardToken === token) {
        expect(out.events).toEqual([]);
        // From the start, the forward token leads back to the first event.
        const again = await call<GetOut>('GetLogEvents', {
          logGroupName: '/aws/batch/job',
          logStreamName: 's',
          limit: 1,
          nextToken: out.nextForwardToken,
        });
        expect(again.events.map((e) => e.message)).toEqual(['m0']);
        break;
      }
      pages.unshift(out.events.map((e) => e.message));
      token = out.nextBackwardToken;
    }
    expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
  });

  it('a follower at the end sees new events on the same forward token', async () => {
    const head = await call<GetOut>('GetLogEvents', { logGroupName: '/aws/batch/job', logStreamName: 's' });
    expect(head.events).toHaveLength(25);
    const idle = await call<GetOut>('GetLogEvents', {
      logGroupName: '/aws/batch/job',
      logStreamName: 's',
      nextToken: head.nextForwardToken,
    });
    expect(idle.events).toEqual([]);
    expect(idle.nextForwardToken).toBe(head.nextForwardToken);
    store.append('/aws/batch/job', 's', [{ timestamp: now, message: 'late' }]);
    const more = await call<GetOut>('GetLogEvents', {
      logGroupName: '/aws/batch/job',
      logStreamName: 's',
      nextToken: idle.nextForwardToken,
    });
    expect(more.events.map((e) => e.message)).toEqual(['late']);
    expect(more.events[0]!.ingestionTime).toBe(now);
  });

  it('an empty stream returns both tokens and no events', async () => {
    await call('CreateLogStream', { logGroupName: '/aws/batch/job', logStreamName: 'empty' });
    const out = await call<GetOut>('GetLogEvents', {
      logGroupIdentifier: 'arn:aws:logs:eu-west-1:111122223333:log-group:/aws/batch/job',
      logStreamName: 'empty',
    });
    expect(out.events).toEqual([]);
    const again = await call<GetOut>('GetLogEvents', {
      logGroupName: '/aws/batch/job',
      logStreamName: 'empty',
      nextToken: out.nextForwardToken,
    });
    expect(again.nextForwardToken).toBe(out.nextForwardToken);
  });

  it('rejects bad tokens and unknown streams', async () => {
    expect(
      await callError('GetLogEvents', {
        logGroupName: '/aws/batch/job',
        logStreamName: 's',
        nextToken: 'x/123',
      }),
    ).toMatchObject({
      status: 400,
      type: 'InvalidParameterException',
    });
    expect(
      await callError('GetLogEvents', { logGroupName: '/aws/batch/job', logStreamName: 'nope' }),
    ).toEqual({
      status: 400,
      type: 'ResourceNotFoundException',
      message: 'The specified log stream does not exist.',
    });
    expect(await callError('GetLogEvents', { logGroupName: '/nope', logStreamName: 's' })).toMatchObject({
      type: 'ResourceNotFoundException',
      message: 'The specified log group does not exist.',
    });
    expect(await callError('GetLogEvents', { logStreamName: 's' })).toMatchObject({
      type: 'InvalidParameterException',
    });
    expect(
      await callError('GetLogEvents', { logGroupName: '/aws/batch/job', logStreamName: 's', limit: 10_001 }),
    ).toMatchObject({
      type: 'InvalidParameterException',
    });
  });
});

describe('PutLogEvents batch rules', () => {
  beforeEach(async () => {
    await call('CreateLogGroup', { logGroupName: 'app' });
    await call('CreateLogStream', { logGroupName: 'app', logStreamName: 'web' });
  });

  it('stores events and returns a sequence token; sequenceToken input is ignored', async () => {
    const out = await call<{ nextSequenceToken: string }>('PutLogEvents', {
      logGroupName: 'app',
      logStreamName: 'web',
      sequenceToken: 'whatever',
      logEvents: [
        { timestamp: now - 2, message: 'a' },
        { timestamp: now - 1, message: 'b' },
      ],
    });
    expect(out.nextSequenceToken).toMatch(/^\d{56}$/);
    const got = await call<GetOut>('GetLogEvents', {
      logGroupName: 'app',
      logStreamName: 'web',
      startFromHead: true,
    });
    expect(got.events.map((e) => e.message)).toEqual(['a', 'b']);
  });

  it('rejects out-of-order batches, batches spanning > 24 h and batches over 1 MiB', async () => {
    const base = { logGroupName: 'app', logStreamName: 'web' };
    expect(
      await callError('PutLogEvents', {
        ...base,
        logEvents: [
          { timestamp: now, message: 'b' },
          { timestamp: now - 1, message: 'a' },
        ],
      }),
    ).toMatchObject({
      type: 'InvalidParameterException',
      message: 'Log events in a single PutLogEvents request must be in chronological order.',
    });
    expect(
      await callError('PutLogEvents', {
        ...base,
        logEvents: [
          { timestamp: now - 25 * HOUR, message: 'a' },
          { timestamp: now, message: 'b' },
        ],
      }),
    ).toMatchObject({ type: 'InvalidParameterException', message: expect.stringContaining('24 hours') });
    // 4 events of 262,144 bytes + 4*26 > 1,048,576.
    const big = 'x'.repeat(262_144);
    expect(
      await callError('PutLogEvents', {
        ...base,
        logEvents: Array.from({ length: 4 }, (_, i) => ({ timestamp: now + i, message: big })),
      }),
    ).toMatchObject({
      type: 'InvalidParameterException',
      message: expect.stringContaining('exceeds limit of 1048576'),
    });
    // Exactly at the limit is fine: 4 * (262,118 + 26) = 1,048,576.
    await call('PutLogEvents', {
      ...base,
      logEvents: Array.from({ length: 4 }, (_, i) => ({ timestamp: now + i, message: 'y'.repeat(262_118) })),
    });
    expect(await callError('PutLogEvents', { ...base, logEvents: [] })).toMatchObject({
      type: 'InvalidParameterException',
    });
    expect(
      await callError('PutLogEvents', { ...base, logEvents: [{ timestamp: now, message: '' }] }),
    ).toMatchObject({ type: 'InvalidParameterException' });
    const tooMany = Array.from({ length: 10_001 }, (_, i) => ({ timestamp: now, message: `${i}` }));
    expect(await callError('PutLogEvents', { ...base, logEvents: tooMany })).toMatchObject({
      type: 'InvalidParameterException',
    });
  });

  it('reports too-old, expired and too-new events instead of failing', async () => {
    await call('PutRetentionPolicy', { logGroupName: 'app', retentionInDays: 1 });
    const expired = await call<{ rejectedLogEventsInfo?: Record<string, number> }>('PutLogEvents', {
      logGroupName: 'app',
      logStreamName: 'web',
      logEvents: [
        { timestamp: now - DAY - 1000, message: 'expired' },
        { timestamp: now - 1000, message: 'ok 1' },
      ],
    });
    expect(expired.rejectedLogEventsInfo).toEqual({ expiredLogEventEndIndex: 0 });
    const tooNew = await call<{ rejectedLogEventsInfo?: Record<string, number> }>('PutLogEvents', {
      logGroupName: 'app',
      logStreamName: 'web',
      logEvents: [
        { timestamp: now + HOUR, message: 'ok 2' },
        { timestamp: now + 3 * HOUR, message: 'too new' },
        { timestamp: now + 4 * HOUR, message: 'too new too' },
      ],
    });
    expect(tooNew.rejectedLogEventsInfo).toEqual({ tooNewLogEventStartIndex: 1 });
    const got = await call<GetOut>('GetLogEvents', {
      logGroupName: 'app',
      logStreamName: 'web',
      startFromHead: true,
    });
    expect(got.events.map((e) => e.message)).toEqual(['ok 1', 'ok 2']);

    await call('DeleteRetentionPolicy', { logGroupName: 'app' });
    await call('CreateLogStream', { logGroupName: 'app', logStreamName: 'old' });
    const old = await call<{ rejectedLogEventsInfo?: Record<string, number> }>('PutLogEvents', {
      logGroupName: 'app',
      logStreamName: 'old',
      logEvents: [
        { timestamp: now - 14 * DAY - HOUR, message: 'too old' },
        { timestamp: now - 14 * DAY + HOUR, message: 'fine' },
      ],
    });
    expect(old.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 0 });
  });

  it('needs an existing group and stream', async () => {
    expect(
      await callError('PutLogEvents', {
        logGroupName: 'app',
        logStreamName: 'nope',
        logEvents: [{ timestamp: now, message: 'x' }],
      }),
    ).toMatchObject({
      type: 'ResourceNotFoundException',
      message: 'The specified log stream does not exist.',
    });
  });
});

describe('groups, streams and tags', () => {
  it('creates, describes and deletes groups with AWS errors', async () => {
    await call('CreateLogGroup', { logGroupName: '/aws/batch/fred-dev', tags: { team: 'x' } });
    expect(await callError('CreateLogGroup', { logGroupName: '/aws/batch/fred-dev' })).toEqual({
      status: 400,
      type: 'ResourceAlreadyExistsException',
      message: 'The specified log group already exists',
    });
    expect(await callError('CreateLogGroup', { logGroupName: 'bad name!' })).toMatchObject({
      type: 'InvalidParameterException',
      message: expect.stringContaining('regular expression pattern'),
    });
    await call('PutRetentionPolicy', { logGroupName: '/aws/batch/fred-dev', retentionInDays: 7 });
    expect(
      await callError('PutRetentionPolicy', { logGroupName: '/aws/batch/fred-dev', retentionInDays: 8 }),
    ).toMatchObject({
      type: 'InvalidParameterException',
    });
    const out = await call<{ logGroups: Array<Record<string, unknown>> }>('DescribeLogGroups', {
      logGroupNamePrefix: '/aws/batch/',
    });
    expect(out.logGroups).toEqual([
      {
        logGroupName: '/aws/batch/fred-dev',
        creationTime: now,
        retentionInDays: 7,
        metricFilterCount: 0,
        arn: 'arn:aws:logs:eu-west-1:111122223333:log-group:/aws/batch/fred-dev:*',
        storedBytes: 0,
        logGroupClass: 'STANDARD',
        logGroupArn: 'arn:aws:logs:eu-west-1:111122223333:log-group:/aws/batch/fred-dev',
      },
    ]);
    const tags = await call('ListTagsForResource', {
      resourceArn: 'arn:aws:logs:eu-west-1:111122223333:log-group:/aws/batch/fred-dev',
    });
    expect(tags).toEqual({ tags: { team: 'x' } });
    await call('TagResource', {
      resourceArn: 'arn:aws:logs:eu-west-1:111122223333:log-group:/aws/batch/fred-dev',
      tags: { env: 'dev' },
    });
    await call('UntagLogGroup', { logGroupName: '/aws/batch/fred-dev', tags: ['team'] });
    expect(await call('ListTagsLogGroup', { logGroupName: '/aws/batch/fred-dev' })).toEqual({
      tags: { env: 'dev' },
    });
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    expect(
      await callError('TagLogGroup', { logGroupName: '/aws/batch/fred-dev', tags: fifty }),
    ).toMatchObject({ type: 'TooManyTagsException' });
    await call('DeleteLogGroup', { logGroupName: '/aws/batch/fred-dev' });
    expect(await callError('DeleteLogGroup', { logGroupName: '/aws/batch/fred-dev' })).toEqual({
      status: 400,
      type: 'ResourceNotFoundException',
      message: 'The specified log group does not exist.',
    });
  });

  it('pages DescribeLogGroups and filters by pattern', async () => {
    for (const n of ['a1', 'a2', 'b-Data', 'c3', 'Data-x']) await call('CreateLogGroup', { logGroupName: n });
    const names: string[] = [];
    let token: string | undefined;
    do {
      const out = await call<{ logGroups: Array<{ logGroupName: string }>; nextToken?: string }>(
        'DescribeLogGroups',
        {
          limit: 2,
          ...(token ? { nextToken: token } : {}),
        },
      );
      names.push(...out.logGroups.map((g) => g.logGroupName));
      token = out.nextToken;
    } while (token);
    expect(names).toEqual(['Data-x', 'a1', 'a2', 'b-Data', 'c3']);
    const pat = await call<{ logGroups: Array<{ logGroupName: string }> }>('DescribeLogGroups', {
      logGroupNamePattern: 'Data',
    });
    expect(pat.logGroups.map((g) => g.logGroupName)).toEqual(['Data-x', 'b-Data']);
    expect(await callError('DescribeLogGroups', { limit: 51 })).toMatchObject({
      type: 'InvalidParameterException',
    });
  });

  it('DescribeLogStreams orders by LastEventTime and forbids a prefix with it', async () => {
    store.append('g', 'old', [{ timestamp: now - 3000, message: 'x' }]);
    store.append('g', 'new', [{ timestamp: now - 1000, message: 'x' }]);
    store.append('g', 'mid', [{ timestamp: now - 2000, message: 'x' }]);
    const out = await call<{ logStreams: Array<Record<string, unknown>>; nextToken?: string }>(
      'DescribeLogStreams',
      {
        logGroupName: 'g',
        orderBy: 'LastEventTime',
        descending: true,
        limit: 2,
      },
    );
    expect(out.logStreams.map((s) => s.logStreamName)).toEqual(['new', 'mid']);
    expect(out.logStreams[0]).toMatchObject({
      creationTime: now,
      firstEventTimestamp: now - 1000,
      lastEventTimestamp: now - 1000,
      lastIngestionTime: now,
      arn: 'arn:aws:logs:eu-west-1:111122223333:log-group:g:log-stream:new',
      storedBytes: 1,
    });
    const rest = await call<{ logStreams: Array<Record<string, unknown>>; nextToken?: string }>(
      'DescribeLogStreams',
      {
        logGroupName: 'g',
        orderBy: 'LastEventTime',
        descending: true,
        limit: 2,
        nextToken: out.nextToken,
      },
    );
    expect(rest.logStreams.map((s) => s.logStreamName)).toEqual(['old']);
    expect(rest.nextToken).toBeUndefined();
    expect(
      await callError('DescribeLogStreams', {
        logGroupName: 'g',
        orderBy: 'LastEventTime',
        logStreamNamePrefix: 'o',
      }),
    ).toMatchObject({
      type: 'InvalidParameterException',
    });
    const pre = await call<{ logStreams: Array<{ logStreamName: string }> }>('DescribeLogStreams', {
      logGroupName: 'g',
      logStreamNamePrefix: 'm',
    });
    expect(pre.logStreams.map((s) => s.logStreamName)).toEqual(['mid']);
  });
});

describe('FilterLogEvents', () => {
  it('filters a group with patterns, eventIds and nextToken paging', async () => {
    store.append('g', 'a', [
      { timestamp: now - 50, message: 'ERROR one' },
      { timestamp: now - 30, message: '{"level":"ERROR","ms":120}' },
    ]);
    store.append('g', 'b', [
      { timestamp: now - 40, message: 'INFO two' },
      { timestamp: now - 20, message: 'ERROR three' },
    ]);
    const out = await call<{ events: Array<Record<string, unknown>>; nextToken?: string }>(
      'FilterLogEvents',
      { logGroupName: 'g', filterPattern: 'ERROR' },
    );
    expect(out.events.map((e) => [e.logStreamName, e.message])).toEqual([
      ['a', 'ERROR one'],
      ['a', '{"level":"ERROR","ms":120}'],
      ['b', 'ERROR three'],
    ]);
    for (const e of out.events) {
      expect(e.eventId).toMatch(/^\d{56}$/);
      expect(typeof e.ingestionTime).toBe('number');
    }
    expect(new Set(out.events.map((e) => e.eventId)).size).toBe(3);
    const json = await call<{ events: Array<{ message: string }> }>('FilterLogEvents', {
      logGroupName: 'g',
      filterPattern: '{ $.ms > 100 }',
    });
    expect(json.events.map((e) => e.message)).toEqual(['{"level":"ERROR","ms":120}']);

    const paged: string[] = [];
    let token: string | undefined;
    do {
      const p = await call<{ events: Array<{ message: string }>; nextToken?: string }>('FilterLogEvents', {
        logGroupName: 'g',
        limit: 1,
        interleaved: true,
        ...(token ? { nextToken: token } : {}),
      });
      paged.push(...p.events.map((e) => e.message));
      token = p.nextToken;
    } while (token);
    expect(paged).toHaveLength(4);

    expect(await callError('FilterLogEvents', { logGroupName: 'g', filterPattern: '{ $.x = ' })).toEqual({
      status: 400,
      type: 'InvalidParameterException',
      message: 'Invalid filter pattern',
    });
    expect(
      await callError('FilterLogEvents', {
        logGroupName: 'g',
        logStreamNames: ['a'],
        logStreamNamePrefix: 'a',
      }),
    ).toMatchObject({
      type: 'InvalidParameterException',
    });
    expect(await callError('FilterLogEvents', { logGroupName: 'nope' })).toMatchObject({
      type: 'ResourceNotFoundException',
    });
  });
});

describe('toLogsWireError', () => {
  it('maps unknown failures to a 500 ServiceUnavailableException', () => {
    expect(toLogsWireError(new Error('boom'))).toMatchObject({
      status: 500,
      type: 'ServiceUnavailableException',
    });
  });
});
