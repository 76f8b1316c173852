/**
 * @module core/tags/resource-records
 * Small helpers shared by every control-plane resource: the AWS name rule, name-or-ARN lookup,
 * compare-and-set updates with retry, and the `resource:changed` event.
 */
import { isArn, parseArn, type ArnResourceType } from '../arns.js';
import { ValidationError, VersionConflictError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { ResourceKind, ResourceRecord, Store } from '../../store/store.js';

const NAME_RE = /^[A-Za-z0-9_-]{1,128}$/;

/** Names of CEs, queues, job definitions, policies, …: up to 128 letters, digits, `-` and `_`. */
export function validateResourceName(name: unknown, what: string, field: string): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new ValidationError(
      `${what} name should match valid pattern: it can be up to 128 characters long and contain uppercase and lowercase letters, numbers, hyphens (-), and underscores (_)`,
      field,
    );
  }
  return name;
}

/**
 * Find a resource by name or ARN. An ARN of another resource type, or an unknown name, gives
 * undefined (Describe* then simply leaves it out).
 */
export async function findByNameOrArn<T>(
  store: Store,
  kind: ResourceKind,
  arnType: ArnResourceType,
  ref: string,
): Promise<ResourceRecord<T> | undefined> {
  if (isArn(ref)) {
    const p = parseArn(ref);
    if (!p || p.resourceType !== arnType) return undefined;
    return store.getResourceByArn<T>(kind, ref);
  }
  return store.getResource<T>(kind, ref);
}

/**
 * Read-modify-write with compare-and-set, retried on concurrent writes. `mutate` returns the new
 * document (it may throw to refuse the change).
 */
export async function updateResource<T>(
  store: Store,
  kind: ResourceKind,
  key: string,
  mutate: (current: ResourceRecord<T>) => T | Promise<T>,
  onMissing: () => Error,
): Promise<ResourceRecord<T>> {
  for (let attempt = 0; ; attempt++) {
    const current = await store.getResource<T>(kind, key);
    if (!current) throw onMissing();
    const next = await mutate(current);
    try {
      return await store.putResource<T>(kind, key, current.arn, next, current.version);
    } catch (err) {
      if (err instanceof VersionConflictError && attempt < 10) continue;
      throw err;
    }
  }
}

export function emitChange(
  events: EventBus,
  kind: ResourceKind,
  key: string,
  arn: string,
  change: 'created' | 'updated' | 'deleted',
): void {
  events.emit('resource:changed', { kind, key, arn, change });
}

/** Deep copy of a JSON value (stored documents are plain JSON). */
export function cloneJson<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
