/**
 * @module api/openbatch/extension-routes
 * openbatch's own API, beside the AWS ones (JSON over `POST /openbatch/v1/<op>`):
 *  - `interrupt`: the Spot-interruption drill. Body `{computeEnvironment?, jobQueue?, jobIds?, fraction?, count?}`;
 *    ends matching RUNNING attempts like a Spot reclaim (`Host EC2 (instance i-…) terminated.`).
 *  - `stats`: engine counters.
 */
import type http from 'node:http';

import type { ExtraHandler } from '../http-server.js';

export interface ExtensionTarget {
  interrupt(sel: {
    computeEnvironment?: string;
    jobQueue?: string;
    jobIds?: string[];
    fraction?: number;
    count?: number;
  }): {
    interrupted: { jobId: string; instanceId: string }[];
  };
  stats(): Record<string, unknown>;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function clientError(res: http.ServerResponse, message: string): void {
  res.setHeader('x-amzn-errortype', 'ClientException');
  json(res, 400, { __type: 'ClientException', message });
}

export function createExtensionRoutes(engine: ExtensionTarget): Map<string, ExtraHandler> {
  const routes = new Map<string, ExtraHandler>();
  routes.set('POST /openbatch/v1/interrupt', (_req, res, body) => {
    let input: Record<string, unknown>;
    try {
      input = body.length ? (JSON.parse(body.toString()) as Record<string, unknown>) : {};
    } catch {
      return clientError(res, 'malformed JSON body');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      return clientError(res, 'body must be a JSON object');
    const { computeEnvironment, jobQueue, jobIds, fraction, count } = input;
    if (computeEnvironment !== undefined && typeof computeEnvironment !== 'string')
      return clientError(res, 'computeEnvironment must be a string');
    if (jobQueue !== undefined && typeof jobQueue !== 'string')
      return clientError(res, 'jobQueue must be a string');
    if (jobIds !== undefined && (!Array.isArray(jobIds) || jobIds.some((j) => typeof j !== 'string')))
      return clientError(res, 'jobIds must be a list of strings');
    if (fraction !== undefined && (typeof fraction !== 'number' || fraction <= 0 || fraction > 1))
      return clientError(res, 'fraction must be a number in (0, 1]');
    if (count !== undefined && (typeof count !== 'number' || !Number.isInteger(count) || count < 1))
      return clientError(res, 'count must be a positive integer');
    const out = engine.interrupt({
      ...(computeEnvironment !== undefined ? { computeEnvironment } : {}),
      ...(jobQueue !== undefined ? { jobQueue } : {}),
      ...(jobIds !== undefined ? { jobIds: jobIds as string[] } : {}),
      ...(fraction !== undefined ? { fraction } : {}),
      ...(count !== undefined ? { count } : {}),
    });
    json(res, 200, out);
  });
  routes.set('GET /openbatch/v1/stats', (_req, res) => json(res, 200, engine.stats()));
  return routes;
}
