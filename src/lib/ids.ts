import { randomBytes, randomUUID } from 'node:crypto';

/** A lowercase UUIDv4, as AWS uses for job ids. */
export function newJobId(): string {
  return randomUUID();
}

/** 32 lowercase hex characters, the shape of a modern ECS task id. */
export function newTaskId(): string {
  return randomBytes(16).toString('hex');
}

export function newRequestId(): string {
  return randomUUID();
}
