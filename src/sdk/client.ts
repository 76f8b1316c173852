/**
 * @module sdk/client
 * A small typed client for openbatch (or AWS Batch): the AWS SDK's `Batch` and `CloudWatchLogs`
 * clients with endpoint resolution, local dummy credentials and retry/backoff on transient
 * failures, plus openbatch's own extension API (the Spot-interruption drill).
 */
import {
  Batch,
  type JobDetail,
  type JobSummary,
  type JobStatus,
  type KeyValuesPair,
} from '@aws-sdk/client-batch';
import { CloudWatchLogs } from '@aws-sdk/client-cloudwatch-logs';

import { withRetry, type RetryOptions } from './retry.js';

/** The endpoint used when nothing else names one: a local openbatch server. */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4566';
/** Pass this as the endpoint to use real AWS (the SDK's own endpoint resolution). */
export const AWS_ENDPOINT_KEYWORD = 'aws';

export interface EndpointSources {
  flag?: string | undefined;
  env?: NodeJS.ProcessEnv;
  config?: string | undefined;
}

/**
 * The endpoint to use: `--endpoint`, then `OPENBATCH_ENDPOINT`, then `AWS_ENDPOINT_URL`, then the
 * config file, then {@link DEFAULT_ENDPOINT}. Returns undefined for `aws` (real AWS).
 */
export function resolveEndpoint(src: EndpointSources): string | undefined {
  const env = src.env ?? process.env;
  const raw =
    src.flag ??
    nonEmpty(env.OPENBATCH_ENDPOINT) ??
    nonEmpty(env.AWS_ENDPOINT_URL) ??
    src.config ??
    DEFAULT_ENDPOINT;
  if (raw === AWS_ENDPOINT_KEYWORD) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(
      `The endpoint '${raw}' is not a URL (expected something like ${DEFAULT_ENDPOINT}, or 'aws' for AWS itself).`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`The endpoint '${raw}' must start with http:// or https://.`);
  return raw.replace(/\/+$/, '');
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v.trim() : undefined;
}

export interface ClientOptions {
  /** Resolved endpoint (see {@link resolveEndpoint}); undefined means AWS itself. */
  endpoint: string | undefined;
  region?: string | undefined;
  retry?: RetryOptions;
  env?: NodeJS.ProcessEnv;
}

export interface InterruptSelector {
  computeEnvironment?: string;
  jobQueue?: string;
  jobIds?: string[];
  fraction?: number;
  count?: number;
}

export interface InterruptResult {
  interrupted: { jobId: string; instanceId: string }[];
}

export interface ListJobsQuery {
  jobQueue?: string;
  arrayJobId?: string;
  jobStatus?: JobStatus;
  filters?: KeyValuesPair[];
}

/** Every method of `client` retried with backoff on transient failures. */
function retrying<T extends object>(client: T, retry: RetryOptions): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'destroy' || prop === 'send' || prop === 'constructor')
        return value;
      return (...args: unknown[]) =>
        withRetry(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args), retry);
    },
  });
}

export class OpenbatchClient {
  readonly endpoint: string | undefined;
  readonly region: string;
  /** AWS Batch, every call retried on throttling, 5xx and connection failures. */
  readonly batch: Batch;
  /** CloudWatch Logs, retried likewise. */
  readonly logs: CloudWatchLogs;
  private readonly rawBatch: Batch;
  private readonly rawLogs: CloudWatchLogs;
  private readonly retry: RetryOptions;

  constructor(opts: ClientOptions) {
    const env = opts.env ?? process.env;
    this.endpoint = opts.endpoint;
    this.region = opts.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? 'us-east-1';
    this.retry = opts.retry ?? {};
    const haveAwsCreds = Boolean(
      nonEmpty(env.AWS_ACCESS_KEY_ID) ||
      nonEmpty(env.AWS_PROFILE) ||
      nonEmpty(env.AWS_WEB_IDENTITY_TOKEN_FILE),
    );
    const common = {
      region: this.region,
      maxAttempts: 1, // retries are ours (longer budget, covers connection refused)
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.endpoint && !haveAwsCreds
        ? { credentials: { accessKeyId: 'openbatch', secretAccessKey: 'openbatch' } }
        : {}),
    };
    this.rawBatch = new Batch(common);
    this.rawLogs = new CloudWatchLogs(common);
    this.batch = retrying(this.rawBatch, this.retry);
    this.logs = retrying(this.rawLogs, this.retry);
  }

  /** Release sockets. */
  destroy(): void {
    this.rawBatch.destroy();
    this.rawLogs.destroy();
  }

  /** DescribeJobs for any number of ids (batches of 100); unknown ids are omitted. */
  async describeJobs(ids: readonly string[]): Promise<JobDetail[]> {
    const out: JobDetail[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      const res = await this.batch.describeJobs({ jobs: ids.slice(i, i + 100) });
      out.push(...(res.jobs ?? []));
    }
    return out;
  }

  /** One job, or undefined when the service does not know it. */
  async describeJob(id: string): Promise<JobDetail | undefined> {
    return (await this.describeJobs([id]))[0];
  }

  /** ListJobs across all pages. */
  async listJobs(q: ListJobsQuery): Promise<JobSummary[]> {
    const out: JobSummary[] = [];
    let nextToken: string | undefined;
    do {
      const res = await this.batch.listJobs({ ...q, ...(nextToken ? { nextToken } : {}), maxResults: 100 });
      out.push(...(res.jobSummaryList ?? []));
      nextToken = res.nextToken;
    } while (nextToken);
    return out;
  }

  /** openbatch extension: end running attempts like a Spot reclaim. Not available on AWS. */
  async interrupt(sel: InterruptSelector): Promise<InterruptResult> {
    if (!this.endpoint)
      throw new Error('The interruption drill is an openbatch extension; AWS Batch itself has no such API.');
    const url = `${this.endpoint}/openbatch/v1/interrupt`;
    return withRetry(async () => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(sel),
      });
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        body = {};
      }
      if (!res.ok) {
        const message =
          typeof body === 'object' &&
          body !== null &&
          typeof (body as { message?: unknown }).message === 'string'
            ? (body as { message: string }).message
            : text;
        const err = new Error(
          res.status === 404
            ? `This endpoint has no interruption drill (${url} returned 404); is it an openbatch server?`
            : message,
        );
        Object.assign(err, {
          name: res.status >= 500 ? 'ServerException' : 'ClientException',
          $metadata: { httpStatusCode: res.status },
        });
        throw err;
      }
      return body as InterruptResult;
    }, this.retry);
  }
}

export function createOpenbatchClient(opts: ClientOptions): OpenbatchClient {
  return new OpenbatchClient(opts);
}
