/**
 * @module templates/intrinsics
 * Evaluate CloudFormation intrinsic functions: Ref, Fn::Sub (both forms), Fn::GetAtt, Fn::Join,
 * Fn::Select, Fn::Split, Fn::If, Fn::FindInMap, Fn::Base64, Fn::GetAZs, Fn::ImportValue,
 * Fn::Length, Fn::ToJsonString; conditions with Fn::Equals / And / Or / Not / Condition; pseudo
 * parameters; AWS::NoValue removes the property or list item.
 */
import { describeValue, isRecord, TemplateError } from './template-error.js';

/** The value of `Ref: AWS::NoValue`: dropped from objects and lists. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

export type Value = string | number | boolean | null | Value[] | { [k: string]: Value };

export interface Resolver {
  /** Ref to a parameter, pseudo parameter or resource; undefined when unknown. */
  ref(name: string, path: string): Value | typeof NO_VALUE;
  getAtt(resource: string, attribute: string, path: string): Value;
  condition(name: string, path: string): boolean;
  findInMap(map: string, top: string, second: string, path: string): Value;
  importValue(name: string, path: string): Value;
  region: string;
}

const FUNCTIONS = new Set([
  'Ref',
  'Condition',
  'Fn::Sub',
  'Fn::GetAtt',
  'Fn::Join',
  'Fn::Select',
  'Fn::Split',
  'Fn::If',
  'Fn::Equals',
  'Fn::And',
  'Fn::Or',
  'Fn::Not',
  'Fn::FindInMap',
  'Fn::Base64',
  'Fn::GetAZs',
  'Fn::ImportValue',
  'Fn::Length',
  'Fn::ToJsonString',
  'Fn::Cidr',
]);

/** The intrinsic function name of `node`, if it is one (`{ "Fn::X": ... }` with exactly one key). */
export function intrinsicName(node: unknown): string | undefined {
  if (!isRecord(node)) return undefined;
  const keys = Object.keys(node);
  return keys.length === 1 && FUNCTIONS.has(keys[0]!) ? keys[0] : undefined;
}

function asString(v: Value | typeof NO_VALUE, path: string, what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new TemplateError(
    path,
    `${what} must be a string, got ${v === NO_VALUE ? 'AWS::NoValue' : describeValue(v)}`,
  );
}

function asList(v: Value | typeof NO_VALUE, path: string, what: string): Value[] {
  if (Array.isArray(v)) return v;
  throw new TemplateError(
    path,
    `${what} must be a list, got ${v === NO_VALUE ? 'AWS::NoValue' : describeValue(v)}`,
  );
}

/** Evaluate `node` fully. */
export function evaluate(node: unknown, r: Resolver, path: string): Value | typeof NO_VALUE {
  if (Array.isArray(node)) {
    const out: Value[] = [];
    node.forEach((item, i) => {
      const v = evaluate(item, r, `${path}[${i}]`);
      if (v !== NO_VALUE) out.push(v);
    });
    return out;
  }
  if (!isRecord(node)) return node as Value;
  const fn = intrinsicName(node);
  if (!fn) {
    const out: Record<string, Value> = {};
    for (const [k, v] of Object.entries(node)) {
      const e = evaluate(v, r, path ? `${path}.${k}` : k);
      if (e !== NO_VALUE) out[k] = e;
    }
    return out;
  }
  const arg = node[fn];
  const at = `${path}.${fn}`;
  switch (fn) {
    case 'Ref': {
      if (typeof arg !== 'string')
        throw new TemplateError(at, `expected a parameter or resource name, got ${describeValue(arg)}`);
      return r.ref(arg, at);
    }
    case 'Condition':
      if (typeof arg !== 'string') throw new TemplateError(at, 'expected a condition name');
      return r.condition(arg, at);
    case 'Fn::GetAtt': {
      let parts: unknown[];
      if (typeof arg === 'string') {
        const i = arg.indexOf('.');
        parts = i < 0 ? [arg] : [arg.slice(0, i), arg.slice(i + 1)];
      } else parts = Array.isArray(arg) ? arg : [];
      if (parts.length !== 2) throw new TemplateError(at, 'expected [LogicalId, Attribute]');
      const attr = evaluate(parts[1], r, `${at}[1]`);
      return r.getAtt(
        asString(parts[0] as Value, `${at}[0]`, 'the resource'),
        asString(attr, `${at}[1]`, 'the attribute'),
        at,
      );
    }
    case 'Fn::Sub': {
      let text: unknown;
      let vars: Record<string, Value> = {};
      if (Array.isArray(arg)) {
        if (arg.length !== 2 || typeof arg[0] !== 'string' || !isRecord(arg[1]))
          throw new TemplateError(at, 'expected a string or [string, {Var: value}]');
        text = arg[0];
        for (const [k, v] of Object.entries(arg[1])) {
          const e = evaluate(v, r, `${at}[1].${k}`);
          vars[k] = e === NO_VALUE ? '' : e;
        }
      } else {
        text = arg;
        vars = {};
      }
      if (typeof text !== 'string')
        throw new TemplateError(at, `expected a string, got ${describeValue(text)}`);
      return text.replace(/\$\{([^}]*)\}/g, (_m, inner: string) => {
        if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
        const name = inner.trim();
        if (name in vars) return asString(vars[name]!, at, `\${${name}}`);
        const dot = name.indexOf('.');
        if (dot > 0 && !name.startsWith('AWS::'))
          return asString(r.getAtt(name.slice(0, dot), name.slice(dot + 1), at), at, `\${${name}}`);
        const v = r.ref(name, at);
        if (Array.isArray(v)) return v.join(',');
        return asString(v, at, `\${${name}}`);
      });
    }
    case 'Fn::Join': {
      if (!Array.isArray(arg) || arg.length !== 2)
        throw new TemplateError(at, 'expected [delimiter, [values]]');
      const delim = asString(evaluate(arg[0], r, `${at}[0]`), `${at}[0]`, 'the delimiter');
      const items = asList(evaluate(arg[1], r, `${at}[1]`), `${at}[1]`, 'the values');
      return items.map((v, i) => asString(v, `${at}[1][${i}]`, 'each value')).join(delim);
    }
    case 'Fn::Select': {
      if (!Array.isArray(arg) || arg.length !== 2) throw new TemplateError(at, 'expected [index, list]');
      const idx = Number(evaluate(arg[0], r, `${at}[0]`));
      const list = asList(evaluate(arg[1], r, `${at}[1]`), `${at}[1]`, 'the list');
      if (!Number.isInteger(idx) || idx < 0 || idx >= list.length)
        throw new TemplateError(at, `index ${String(arg[0])} is out of range for a list of ${list.length}`);
      return list[idx]!;
    }
    case 'Fn::Split': {
      if (!Array.isArray(arg) || arg.length !== 2)
        throw new TemplateError(at, 'expected [delimiter, string]');
      const delim = asString(evaluate(arg[0], r, `${at}[0]`), `${at}[0]`, 'the delimiter');
      const src = evaluate(arg[1], r, `${at}[1]`);
      return (Array.isArray(src) ? src.join(',') : asString(src, `${at}[1]`, 'the source')).split(delim);
    }
    case 'Fn::If': {
      if (!Array.isArray(arg) || arg.length !== 3 || typeof arg[0] !== 'string')
        throw new TemplateError(at, 'expected [ConditionName, valueIfTrue, valueIfFalse]');
      return r.condition(arg[0], `${at}[0]`)
        ? evaluate(arg[1], r, `${at}[1]`)
        : evaluate(arg[2], r, `${at}[2]`);
    }
    case 'Fn::Equals': {
      if (!Array.isArray(arg) || arg.length !== 2) throw new TemplateError(at, 'expected [value1, value2]');
      const a = evaluate(arg[0], r, `${at}[0]`);
      const b = evaluate(arg[1], r, `${at}[1]`);
      return (
        JSON.stringify(typeof a === 'number' ? String(a) : a) ===
        JSON.stringify(typeof b === 'number' ? String(b) : b)
      );
    }
    case 'Fn::And':
    case 'Fn::Or': {
      if (!Array.isArray(arg) || arg.length < 2 || arg.length > 10)
        throw new TemplateError(at, 'expected a list of 2 to 10 conditions');
      const vals = arg.map((c, i) => evaluate(c, r, `${at}[${i}]`));
      vals.forEach((v, i) => {
        if (typeof v !== 'boolean')
          throw new TemplateError(`${at}[${i}]`, `expected a condition, got ${describeValue(v)}`);
      });
      return fn === 'Fn::And' ? vals.every(Boolean) : vals.some(Boolean);
    }
    case 'Fn::Not': {
      if (!Array.isArray(arg) || arg.length !== 1) throw new TemplateError(at, 'expected [condition]');
      const v = evaluate(arg[0], r, `${at}[0]`);
      if (typeof v !== 'boolean')
        throw new TemplateError(`${at}[0]`, `expected a condition, got ${describeValue(v)}`);
      return !v;
    }
    case 'Fn::FindInMap': {
      if (!Array.isArray(arg) || arg.length < 3)
        throw new TemplateError(at, 'expected [MapName, TopLevelKey, SecondLevelKey]');
      const [m, t, s] = arg
        .slice(0, 3)
        .map((x, i) => asString(evaluate(x, r, `${at}[${i}]`), `${at}[${i}]`, 'each key'));
      return r.findInMap(m!, t!, s!, at);
    }
    case 'Fn::Base64':
      return Buffer.from(asString(evaluate(arg, r, at), at, 'the value')).toString('base64');
    case 'Fn::GetAZs': {
      const region =
        (arg === '' || arg === undefined ? r.region : asString(evaluate(arg, r, at), at, 'the region')) ||
        r.region;
      return ['a', 'b', 'c'].map((z) => `${region}${z}`);
    }
    case 'Fn::ImportValue':
      return r.importValue(asString(evaluate(arg, r, at), at, 'the export name'), at);
    case 'Fn::Length':
      return asList(evaluate(arg, r, at), at, 'the value').length;
    case 'Fn::ToJsonString': {
      const v = evaluate(arg, r, at);
      return JSON.stringify(v === NO_VALUE ? null : v);
    }
    default:
      throw new TemplateError(at, `${fn} is not supported by openbatch apply`);
  }
}

/**
 * Logical ids that `node` refers to (Ref, Fn::GetAtt, Fn::Sub variables), following only the taken
 * branch of Fn::If. Used for dependency order.
 */
export function referencedNames(
  node: unknown,
  condition: (name: string) => boolean,
  out = new Set<string>(),
): Set<string> {
  if (Array.isArray(node)) {
    for (const x of node) referencedNames(x, condition, out);
    return out;
  }
  if (!isRecord(node)) return out;
  const fn = intrinsicName(node);
  const arg = fn ? node[fn] : undefined;
  switch (fn) {
    case 'Ref':
      if (typeof arg === 'string' && !arg.startsWith('AWS::')) out.add(arg);
      return out;
    case 'Fn::GetAtt': {
      const id = typeof arg === 'string' ? arg.split('.')[0] : Array.isArray(arg) ? arg[0] : undefined;
      if (typeof id === 'string') out.add(id);
      if (Array.isArray(arg)) referencedNames(arg[1], condition, out);
      return out;
    }
    case 'Fn::Sub': {
      const text = Array.isArray(arg) ? arg[0] : arg;
      const vars = Array.isArray(arg) && isRecord(arg[1]) ? arg[1] : {};
      if (Array.isArray(arg)) referencedNames(arg[1], condition, out);
      if (typeof text === 'string') {
        for (const m of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
          const name = m[1]!.trim().split('.')[0]!;
          if (!name.startsWith('AWS::') && !(name in vars)) out.add(name);
        }
      }
      return out;
    }
    case 'Fn::If':
      if (Array.isArray(arg) && arg.length === 3 && typeof arg[0] === 'string')
        referencedNames(condition(arg[0]) ? arg[1] : arg[2], condition, out);
      return out;
    default:
      for (const v of Object.values(node)) referencedNames(v, condition, out);
      return out;
  }
}
