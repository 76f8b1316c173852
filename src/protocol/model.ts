/**
 * @module protocol/model
 * The AWS service models (copied from botocore by `npm run gen`) and a validator that checks a
 * decoded JSON request against an operation's input shape: required members, JSON types, enums,
 * and the min/max the model declares. Semantic rules live in core/.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface ShapeMemberRef {
  shape: string;
  location?: string;
  locationName?: string;
}

export interface Shape {
  type: string;
  members?: Record<string, ShapeMemberRef>;
  required?: string[];
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  enum?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  exception?: boolean;
}

export interface ServiceModel {
  metadata: Record<string, unknown>;
  operations: Record<
    string,
    { http: { method: string; requestUri: string }; input?: string; output?: string }
  >;
  shapes: Record<string, Shape>;
}

let batch: ServiceModel | undefined;
let logs: ServiceModel | undefined;

export function batchModel(): ServiceModel {
  return (batch ??= require('./batch-model.json') as ServiceModel);
}

export function logsModel(): ServiceModel {
  return (logs ??= require('./logs-model.json') as ServiceModel);
}

export interface ValidationProblem {
  path: string;
  message: string;
}

/**
 * Validate `value` against `shapeName`. Returns the problems found (empty when valid).
 * Members with a non-body location (uri, querystring, header) are skipped: the router fills them.
 */
export function validateShape(
  model: ServiceModel,
  shapeName: string,
  value: unknown,
  path = '',
): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  check(model, shapeName, value, path, problems, 0);
  return problems;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  return typeof v;
}

function check(
  model: ServiceModel,
  shapeName: string,
  value: unknown,
  path: string,
  out: ValidationProblem[],
  depth: number,
): void {
  if (out.length > 20 || depth > 40) return;
  const shape = model.shapes[shapeName];
  if (!shape) return;
  const at = path || 'request';
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        out.push({ path: at, message: `Expected an object at '${at}' but found ${describe(value)}` });
        return;
      }
      const obj = value as Record<string, unknown>;
      for (const req of shape.required ?? []) {
        const ref = shape.members?.[req];
        if (ref?.location && ref.location !== 'body') continue;
        if (obj[req] === undefined || obj[req] === null) {
          out.push({
            path: join(path, req),
            message: `Value null at '${join(path, req)}' failed to satisfy constraint: Member must not be null`,
          });
        }
      }
      for (const [k, v] of Object.entries(obj)) {
        const ref = shape.members?.[k];
        if (!ref || v === null || v === undefined) continue; // unknown members are ignored, as AWS does
        if (ref.location && ref.location !== 'body') continue;
        check(model, ref.shape, v, join(path, k), out, depth + 1);
      }
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) {
        out.push({ path: at, message: `Expected a list at '${at}' but found ${describe(value)}` });
        return;
      }
      if (shape.min !== undefined && value.length < shape.min) {
        out.push({
          path: at,
          message: `Value at '${at}' failed to satisfy constraint: Member must have length greater than or equal to ${shape.min}`,
        });
      }
      if (shape.max !== undefined && value.length > shape.max) {
        out.push({
          path: at,
          message: `Value at '${at}' failed to satisfy constraint: Member must have length less than or equal to ${shape.max}`,
        });
      }
      value.forEach((item, i) => {
        if (item === null) {
          out.push({
            path: `${at}.${i + 1}`,
            message: `Value null at '${at}.${i + 1}' failed to satisfy constraint: Member must not be null`,
          });
        } else if (shape.member) check(model, shape.member.shape, item, `${at}.${i + 1}`, out, depth + 1);
      });
      return;
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        out.push({ path: at, message: `Expected a map at '${at}' but found ${describe(value)}` });
        return;
      }
      const entries = Object.entries(value as Record<string, unknown>);
      if (shape.max !== undefined && entries.length > shape.max) {
        out.push({
          path: at,
          message: `Value at '${at}' failed to satisfy constraint: Map must have at most ${shape.max} entries`,
        });
      }
      for (const [k, v] of entries) {
        if (shape.key) check(model, shape.key.shape, k, `${at}.key`, out, depth + 1);
        if (v === null) {
          out.push({
            path: `${at}.${k}`,
            message: `Value null at '${at}.${k}' failed to satisfy constraint: Member must not be null`,
          });
        } else if (shape.value) check(model, shape.value.shape, v, `${at}.${k}`, out, depth + 1);
      }
      return;
    }
    case 'string': {
      if (typeof value !== 'string') {
        out.push({ path: at, message: `Expected a string at '${at}' but found ${describe(value)}` });
        return;
      }
      // "" means "unset" on updates (Terraform); RetryAction is case-insensitive (Terraform sends `retry`/`exit`).
      const ci = CASE_INSENSITIVE_ENUMS.has(shapeName);
      if (
        shape.enum &&
        value !== '' &&
        !shape.enum.some((e) => e === value || (ci && e.toUpperCase() === value.toUpperCase()))
      ) {
        out.push({
          path: at,
          message: `Value '${value}' at '${at}' failed to satisfy constraint: Member must satisfy enum value set: [${shape.enum.join(', ')}]`,
        });
      }
      if (shape.min !== undefined && value.length < shape.min) {
        out.push({
          path: at,
          message: `Value at '${at}' failed to satisfy constraint: Member must have length greater than or equal to ${shape.min}`,
        });
      }
      if (shape.max !== undefined && value.length > shape.max) {
        out.push({
          path: at,
          message: `Value at '${at}' failed to satisfy constraint: Member must have length less than or equal to ${shape.max}`,
        });
      }
      return;
    }
    case 'integer':
    case 'long': {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        out.push({ path: at, message: `Expected an integer at '${at}' but found ${describe(value)}` });
        return;
      }
      if (shape.min !== undefined && value < shape.min) {
        out.push({
          path: at,
          message: `Value '${value}' at '${at}' failed to satisfy constraint: Member must have value greater than or equal to ${shape.min}`,
        });
      }
      if (shape.max !== undefined && value > shape.max) {
        out.push({
          path: at,
          message: `Value '${value}' at '${at}' failed to satisfy constraint: Member must have value less than or equal to ${shape.max}`,
        });
      }
      return;
    }
    case 'float':
    case 'double': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        out.push({ path: at, message: `Expected a number at '${at}' but found ${describe(value)}` });
      }
      return;
    }
    case 'boolean': {
      if (typeof value !== 'boolean') {
        out.push({ path: at, message: `Expected a boolean at '${at}' but found ${describe(value)}` });
      }
      return;
    }
    case 'timestamp': {
      if (typeof value !== 'number' && typeof value !== 'string') {
        out.push({ path: at, message: `Expected a timestamp at '${at}' but found ${describe(value)}` });
      }
      return;
    }
    default:
      return;
  }
}

const CASE_INSENSITIVE_ENUMS = new Set(['RetryAction']);

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
