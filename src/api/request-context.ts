/** @module api/request-context  What every handler knows about the request it serves. */
import type { AccountScope } from '../core/arns.js';

export interface RequestContext extends AccountScope {
  readonly requestId: string;
  /** Size in bytes of the raw request body. */
  readonly bodyBytes: number;
  /** The access key id from the SigV4 credential scope, if any. */
  readonly accessKeyId?: string;
}

export interface SigV4Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

/** Parse `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/batch/aws4_request, ...`. */
export function parseSigV4Scope(authorization: string | undefined): SigV4Scope | undefined {
  if (!authorization) return undefined;
  const m = /Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/.exec(authorization);
  if (!m) return undefined;
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]! };
}
