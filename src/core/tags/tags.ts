/**
 * @module core/tags/tags
 * Batch resource tags (aws-batch-semantics §12, §13 #14): 1–50 per resource, key 1–128 chars,
 * value 0–256 chars, `aws:` keys reserved. TagResource merges; UntagResource removes keys.
 */
import { ValidationError } from '../errors.js';

export type Tags = Record<string, string>;

export const MAX_TAGS = 50;

export function validateTags(tags: unknown, field = 'tags'): Tags {
  if (tags === undefined || tags === null) return {};
  if (typeof tags !== 'object' || Array.isArray(tags))
    throw new ValidationError(`${field} must be a map of strings`, field);
  const out: Tags = {};
  for (const [k, v] of Object.entries(tags as Record<string, unknown>)) {
    if (k.length < 1 || k.length > 128)
      throw new ValidationError(`Tag key '${k}' must be between 1 and 128 characters`, field);
    if (typeof v !== 'string' || v.length > 256) {
      throw new ValidationError(`Tag value for key '${k}' must be a string of at most 256 characters`, field);
    }
    if (k.toLowerCase().startsWith('aws:')) {
      throw new ValidationError(`Tag keys starting with 'aws:' are reserved for system use: ${k}`, field);
    }
    out[k] = v;
  }
  if (Object.keys(out).length > MAX_TAGS) {
    throw new ValidationError(`A resource can have at most ${MAX_TAGS} tags`, field);
  }
  return out;
}

/** TagResource: add or overwrite keys. Throws when the result would exceed 50 tags. */
export function mergeTags(current: Tags | undefined, added: Tags): Tags {
  const merged: Tags = { ...(current ?? {}), ...added };
  if (Object.keys(merged).length > MAX_TAGS) {
    throw new ValidationError(`A resource can have at most ${MAX_TAGS} tags`, 'tags');
  }
  return merged;
}

/** UntagResource: remove keys (absent keys are ignored). */
export function removeTags(current: Tags | undefined, keys: readonly string[]): Tags {
  const out: Tags = { ...(current ?? {}) };
  for (const k of keys) delete out[k];
  return out;
}
