/**
 * The CloudWatch Logs subset driven by unmodified clients: @aws-sdk/client-cloudwatch-logs, boto3
 * (with paginators) and the aws CLI v1, against an HTTP server on an ephemeral port.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  ListTagsForResourceCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  InvalidParameterException,
  TagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createHttpServer, listen, type RunningHttpServer } from '../../src/api/http-server.js';
import { createLogsHandlers, toLogsWireError } from '../../src/api/logs/logs-api.js';
import { SqliteLogStore } from '../../src/logs/sqlite/sqlite-log-store.js';

const run = promisify(execFile);

let server: RunningHttpServer;
let store: SqliteLogStore;
let sdk: CloudWatchLogsClient;
const JOB_STREAM = 'fred-sim/default/0123456789abcdef0123456789abcdef';
const T = Date.now() - 60_000;

function env(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
}

async function aws(...args: string[]): Promise<unknown> {
  const { stdout } = await run('aws', ['logs', ...args, '--endpoint-url', server.url, '--output', 'json'], {
    env: env(),
    timeout: 60_000,
  });
  return stdout.trim() ? (JSON.parse(stdout) as unknown) : {};
}

async function awsFails(...args: string[]): Promise<string> {
  try {
    await run('aws', ['logs', ...args, '--endpoint-url', server.url], { env: env(), timeout: 60_000 });
  } catch (err) {
    return String((err as { stderr?: string }).stderr);
  }
  throw new Error(`aws logs ${args.join(' ')} did not fail`);
}

async function python(script: string): Promise<unknown> {
  const { stdout } = await run('python3', ['-c', script, server.url], { env: env(), timeout: 60_000 });
  return JSON.parse(stdout) as unknown;
}

beforeAll(async () => {
  store = new SqliteLogStore({ path: ':memory:' });
  const http = createHttpServer({
    batch: new Map(),
    logs: { handlers: createLogsHandlers(store, {}), mapError: toLogsWireError },
    health: () => ({ status: 'ok' }),
    defaultScope: { region: 'us-east-1', accountId: '123456789012' },
  });
  server = await listen(http, '127.0.0.1', 0);
  sdk = new CloudWatchLogsClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  });

  // Job output as the engine writes it: default group, created lazily.
  store.append(
    '/aws/batch/job',
    JOB_STREAM,
    Array.from({ length: 30 }, (_, i) => ({
      timestamp: T + i * 10,
      message: i % 10 === 0 ? `ERROR step ${i}` : `INFO step ${i}`,
    })),
  );
  for (let s = 0; s < 12; s++) {
    store.append(
      '/aws/batch/loan-default-prediction',
      `data-${s % 2 ? 'taiwan_credit' : 'lending_club'}/default/${String(s).padStart(32, '0')}`,
      [
        {
          timestamp: T + s * 100,
          message: `processing dataset data-${s % 2 ? 'taiwan_credit' : 'lending_club'} part ${s}`,
        },
      ],
    );
  }
  await store.flush();
});

afterAll(async () => {
  sdk?.destroy();
  await server?.close();
  await store?.close();
});

describe('@aws-sdk/client-cloudwatch-logs', () => {
  it('manages groups, streams, events and tags with AWS error types', async () => {
    await sdk.send(new CreateLogGroupCommand({ logGroupName: '/sdk/app', tags: { team: 'a' } }));
    await expect(sdk.send(new CreateLogGroupCommand({ logGroupName: '/sdk/app' }))).rejects.toBeInstanceOf(
      ResourceAlreadyExistsException,
    );
    await sdk.send(new PutRetentionPolicyCommand({ logGroupName: '/sdk/app', retentionInDays: 14 }));
    await expect(
      sdk.send(new PutRetentionPolicyCommand({ logGroupName: '/sdk/app', retentionInDays: 2 })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    const groups = await sdk.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/sdk/' }));
    expect(groups.logGroups).toHaveLength(1);
    expect(groups.logGroups![0]).toMatchObject({
      logGroupName: '/sdk/app',
      retentionInDays: 14,
      arn: 'arn:aws:logs:us-east-1:123456789012:log-group:/sdk/app:*',
      logGroupArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/sdk/app',
      logGroupClass: 'STANDARD',
      storedBytes: 0,
    });
    await sdk.send(
      new TagResourceCommand({ resourceArn: groups.logGroups![0]!.logGroupArn!, tags: { env: 'dev' } }),
    );
    const tags = await sdk.send(
      new ListTagsForResourceCommand({ resourceArn: groups.logGroups![0]!.logGroupArn! }),
    );
    expect(tags.tags).toEqual({ team: 'a', env: 'dev' });

    await sdk.send(new CreateLogStreamCommand({ logGroupName: '/sdk/app', logStreamName: 'web/1' }));
    const now = Date.now();
    const put = await sdk.send(
      new PutLogEventsCommand({
        logGroupName: '/sdk/app',
        logStreamName: 'web/1',
        logEvents: [
          { timestamp: now - 2, message: 'hello' },
          { timestamp: now - 1, message: 'world ERROR' },
        ],
      }),
    );
    expect(put.nextSequenceToken).toMatch(/^\d{56}$/);
    expect(put.rejectedLogEventsInfo).toBeUndefined();
    const got = await sdk.send(
      new GetLogEventsCommand({ logGroupName: '/sdk/app', logStreamName: 'web/1', startFromHead: true }),
    );
    expect(got.events!.map((e) => e.message)).toEqual(['hello', 'world ERROR']);
    expect(got.events![0]!.ingestionTime).toBeGreaterThan(0);
    const filtered = await sdk.send(
      new FilterLogEventsCommand({ logGroupName: '/sdk/app', filterPattern: 'ERROR' }),
    );
    expect(filtered.events!.map((e) => [e.logStreamName, e.message])).toEqual([['web/1', 'world ERROR']]);
    expect(filtered.events![0]!.eventId).toMatch(/^\d{56}$/);

    await expect(
      sdk.send(new GetLogEventsCommand({ logGroupName: '/sdk/app', logStreamName: 'nope' })),
    ).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof ResourceNotFoundException && e.message === 'The specified log stream does not exist.',
    );
    await expect(
      sdk.send(new FilterLogEventsCommand({ logGroupName: '/sdk/app', filterPattern: '{ $.a = ' })),
    ).rejects.toSatisfy(
      (e: unknown) => e instanceof InvalidParameterException && e.message === 'Invalid filter pattern',
    );
    await sdk.send(new DeleteLogGroupCommand({ logGroupName: '/sdk/app' }));
    await expect(
      sdk.send(new DescribeLogStreamsCommand({ logGroupName: '/sdk/app' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('aws CLI v1 (seed commands)', () => {
  it('get-log-events on a job stream returns the newest page and both tokens', async () => {
    const out = (await aws(
      'get-log-events',
      '--log-group-name',
      '/aws/batch/job',
      '--log-stream-name',
      JOB_STREAM,
    )) as {
      events: Array<{ message: string; timestamp: number; ingestionTime: number }>;
      nextForwardToken: string;
      nextBackwardToken: string;
    };
    expect(out.events).toHaveLength(30);
    expect(out.events[0]!.message).toBe('ERROR step 0');
    expect(out.nextForwardToken).toMatch(/^f\/\d{56}$/);
    expect(out.nextBackwardToken).toMatch(/^b\/\d{56}$/);
  });

  it('describe-log-streams --order-by LastEventTime --descending --limit 10', async () => {
    const out = (await aws(
      'describe-log-streams',
      '--log-group-name',
      '/aws/batch/loan-default-prediction',
      '--order-by',
      'LastEventTime',
      '--descending',
      '--limit',
      '10',
    )) as {
      logStreams: Array<{ logStreamName: string; lastEventTimestamp: number; arn: string }>;
      nextToken?: string;
    };
    expect(out.logStreams).toHaveLength(10);
    expect(out.logStreams[0]!.logStreamName).toBe(`data-taiwan_credit/default/${'11'.padStart(32, '0')}`);
    const ts = out.logStreams.map((s) => s.lastEventTimestamp);
    expect([...ts].sort((a, b) => b - a)).toEqual(ts);
    expect(out.nextToken).toBeDefined();
  });

  it('filter-log-events with a pattern, and describe-log-groups (auto-paginated)', async () => {
    const out = (await aws(
      'filter-log-events',
      '--log-group-name',
      '/aws/batch/loan-default-prediction',
      '--filter-pattern',
      'data-taiwan_credit',
    )) as {
      events: Array<{ message: string; logStreamName: string; eventId: string }>;
    };
    expect(out.events).toHaveLength(6);
    expect(out.events.every((e) => e.logStreamName.startsWith('data-taiwan_credit/'))).toBe(true);
    const groups = (await aws('describe-log-groups', '--page-size', '1')) as {
      logGroups: Array<{ logGroupName: string }>;
    };
    expect(groups.logGroups.map((g) => g.logGroupName)).toEqual(
      expect.arrayContaining(['/aws/batch/job', '/aws/batch/loan-default-prediction']),
    );
  });

  it('reports AWS error codes', async () => {
    expect(
      await awsFails('get-log-events', '--log-group-name', '/aws/batch/job', '--log-stream-name', 'missing'),
    ).toContain(
      'An error occurred (ResourceNotFoundException) when calling the GetLogEvents operation: The specified log stream does not exist.',
    );
    expect(
      await awsFails(
        'describe-log-streams',
        '--log-group-name',
        '/aws/batch/job',
        '--order-by',
        'LastEventTime',
        '--log-stream-name-prefix',
        'x',
      ),
    ).toContain('InvalidParameterException');
  });
});

describe('boto3', () => {
  it('paginators, the get_log_events token loop and modeled exceptions', async () => {
    const out = (await python(`
import json, sys, boto3
c = boto3.client('logs', endpoint_url=sys.argv[1])
res = {}
res['streams'] = [s['logStreamName'] for p in c.get_paginator('describe_log_streams').paginate(logGroupName='/aws/batch/loan-default-prediction', PaginationConfig={'PageSize': 5}) for s in p['logStreams']]
res['groups'] = [g['logGroupName'] for p in c.get_paginator('describe_log_groups').paginate(PaginationConfig={'PageSize': 1}) for g in p['logGroups']]
res['filtered'] = [e['message'] for p in c.get_paginator('filter_log_events').paginate(logGroupName='/aws/batch/job', filterPattern='ERROR', PaginationConfig={'PageSize': 1}) for e in p['events']]
msgs, token, calls = [], None, 0
while True:
    kw = dict(logGroupName='/aws/batch/job', logStreamName='${JOB_STREAM}', startFromHead=True, limit=7)
    if token: kw['nextToken'] = token
    r = c.get_log_events(**kw)
    calls += 1
    msgs += [e['message'] for e in r['events']]
    if r['nextForwardToken'] == token: break
    token = r['nextForwardToken']
res['get'] = msgs
res['calls'] = calls
try:
    c.get_log_events(logGroupName='/nope', logStreamName='x')
except c.exceptions.ResourceNotFoundException as e:
    res['err'] = e.response['Error']['Message']
print(json.dumps(res))
`)) as { streams: string[]; groups: string[]; filtered: string[]; get: string[]; calls: number; err: string };
    expect(out.streams).toHaveLength(12);
    expect([...out.streams].sort()).toEqual(out.streams);
    expect(out.groups).toEqual(
      expect.arrayContaining(['/aws/batch/job', '/aws/batch/loan-default-prediction']),
    );
    expect(out.filtered).toEqual(['ERROR step 0', 'ERROR step 10', 'ERROR step 20']);
    expect(out.get).toEqual(
      Array.from({ length: 30 }, (_, i) => (i % 10 === 0 ? `ERROR step ${i}` : `INFO step ${i}`)),
    );
    expect(out.calls).toBe(6);
    expect(out.err).toBe('The specified log group does not exist.');
  });
});
