/**
 * @module templates/deploy
 * `apply`, `destroy` and `outputs` for CloudFormation templates against the Batch and Logs APIs.
 *
 * apply: resolve parameters and conditions, order resources by their references (Ref, GetAtt,
 * Sub, DependsOn), then for each: create it, leave it untouched when its resolved properties are
 * unchanged, update it in place (CE / JQ via Update*, a job definition as a new revision with the
 * old one deregistered), or replace it. Resources no longer in the template are deleted in reverse
 * dependency order. State is saved after every step (see stack-state.ts).
 */
import type { OpenbatchClient } from '../sdk/client.js';
import { evaluate, NO_VALUE, referencedNames, type Resolver, type Value } from './intrinsics.js';
import type { Template } from './load-template.js';
import { resolveParameters, type ParameterValue, type ResolvedParameter } from './parameters.js';
import { handlerFor, type HandlerContext, type ResourceHandler } from './resource-types.js';
import type { ResourceState, StackState, StackStateStore } from './stack-state.js';
import { describeValue, isRecord, TemplateError } from './template-error.js';

export type Action = 'create' | 'update' | 'replace' | 'unchanged' | 'delete' | 'record' | 'skip';

export interface PlanStep {
  logicalId: string;
  type: string;
  action: Action;
  /** For recorded types: why nothing is created. */
  note?: string | undefined;
  /** After apply: what was done (ARN, revision, ...). */
  detail?: string | undefined;
  physicalId?: string | undefined;
}

export interface DeployOptions {
  client: OpenbatchClient;
  store: StackStateStore;
  template: Template;
  templateFile: string;
  stackName: string;
  params: Record<string, string>;
  paramsFromFile: Record<string, string>;
  usePrevious?: string[];
  dryRun: boolean;
  waitTimeoutMs?: number;
  pollMs?: number;
  /** Called as each step happens (apply) or is planned (dry run). */
  onStep?: (step: PlanStep) => void;
  onNote?: (message: string) => void;
}

export interface DeployResult {
  steps: PlanStep[];
  outputs: StackState['outputs'];
  parameters: Record<string, ResolvedParameter>;
  notes: string[];
  state: StackState | undefined;
}

const UNKNOWN = '(known after apply)';

async function accountOf(client: OpenbatchClient): Promise<string> {
  try {
    const q = await client.batch.describeJobQueues({ maxResults: 1 });
    const arn = q.jobQueues?.[0]?.jobQueueArn;
    const m = arn ? /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(arn) : null;
    if (m) return m[1]!;
  } catch {
    // fall through: the default below
  }
  return '123456789012';
}

function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    isRecord(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x,
  );
}

/** Topological order of `ids` by `deps`; throws on cycles. */
export function orderByDependencies(
  ids: readonly string[],
  deps: ReadonlyMap<string, ReadonlySet<string>>,
): string[] {
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, chain: string[]) => {
    const s = state.get(id);
    if (s === 'done') return;
    if (s === 'visiting')
      throw new TemplateError(
        'Resources',
        `circular dependency: ${[...chain.slice(chain.indexOf(id)), id].join(' → ')}`,
      );
    state.set(id, 'visiting');
    for (const d of [...(deps.get(id) ?? [])].sort()) if (ids.includes(d)) visit(d, [...chain, id]);
    state.set(id, 'done');
    out.push(id);
  };
  for (const id of ids) visit(id, []);
  return out;
}

export async function deployStack(o: DeployOptions): Promise<DeployResult> {
  const { client, template, stackName } = o;
  const previous = o.store.load(stackName);
  const notes: string[] = [];
  const note = (m: string) => {
    notes.push(m);
    o.onNote?.(m);
  };
  const prevParams: Record<string, ParameterValue> = {};
  // As CloudFormation's update: a parameter not given takes its Default; the previous value is
  // used for UsePreviousValue, and (friendlier than CloudFormation) for parameters without a Default.
  for (const [k, v] of Object.entries(previous?.parameters ?? {})) {
    const decl = template.Parameters?.[k];
    if (
      !(k in o.params) &&
      !(k in o.paramsFromFile) &&
      ((o.usePrevious ?? []).includes(k) || (isRecord(decl) && decl.Default === undefined))
    )
      prevParams[k] = v;
  }
  for (const k of o.usePrevious ?? []) {
    if (!previous || !(k in previous.parameters))
      throw new TemplateError(
        `Parameters.${k}`,
        'UsePreviousValue was given but the stack has no previous value',
      );
  }
  const parameters = resolveParameters(template, o.params, o.paramsFromFile, prevParams);
  for (const [k, p] of Object.entries(parameters)) {
    if (p.ssm)
      note(
        `Parameter ${k} (${p.type}) uses its value '${Array.isArray(p.value) ? p.value.join(',') : p.value}' as given: openbatch has no SSM Parameter Store.`,
      );
    if (p.source === 'previous') note(`Parameter ${k} keeps its previous value.`);
  }
  if (template.Rules && Object.keys(template.Rules).length) {
    note(`Rules (${Object.keys(template.Rules).join(', ')}) are not evaluated locally.`);
  }
  const region = client.region;
  const accountId = await accountOf(client);
  const pseudo: Record<string, Value> = {
    'AWS::Region': region,
    'AWS::AccountId': accountId,
    'AWS::StackName': stackName,
    'AWS::StackId': `arn:aws:cloudformation:${region}:${accountId}:stack/${stackName}/${stableId(stackName)}`,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::NotificationARNs': [],
  };
  const resources = template.Resources;
  const condDefs = template.Conditions ?? {};
  const condCache = new Map<string, boolean>();
  const condStack: string[] = [];
  const applied = new Map<string, { physicalId: string; attributes: Record<string, string | string[]> }>();
  const pending = new Set<string>(); // resources whose values are unknown in a dry run
  for (const [id, r] of Object.entries(previous?.resources ?? {}))
    applied.set(id, { physicalId: r.physicalId, attributes: r.attributes });

  const resolver: Resolver = {
    region,
    ref(name, path) {
      if (name === 'AWS::NoValue') return NO_VALUE;
      if (name in pseudo) return pseudo[name]!;
      if (name in parameters) return parameters[name]!.value;
      if (name in resources) {
        if (!active(name))
          throw new TemplateError(
            path,
            `refers to ${name}, which is not created because its condition ${resources[name]!.Condition} is false`,
          );
        if (pending.has(name)) return UNKNOWN;
        const a = applied.get(name);
        if (!a) throw new TemplateError(path, `refers to ${name} before it exists (add DependsOn?)`);
        return a.physicalId;
      }
      throw new TemplateError(
        path,
        `unresolved reference '${name}' (not a parameter, resource or pseudo parameter)`,
      );
    },
    getAtt(resource, attribute, path) {
      const r = resources[resource];
      if (!r)
        throw new TemplateError(
          path,
          `Fn::GetAtt refers to '${resource}', which is not a resource in this template`,
        );
      if (!active(resource))
        throw new TemplateError(
          path,
          `refers to ${resource}, which is not created because its condition ${r.Condition} is false`,
        );
      const h = handlerFor(r.Type);
      if (h.attributes && !h.attributes.includes(attribute))
        throw new TemplateError(
          path,
          `${r.Type} has no attribute '${attribute}' (it has: ${h.attributes.join(', ')})`,
        );
      if (pending.has(resource)) return UNKNOWN;
      const a = applied.get(resource);
      if (!a) throw new TemplateError(path, `refers to ${resource} before it exists`);
      const v = a.attributes[attribute];
      if (v === undefined) {
        if (h.mode === 'recorded') return `${a.physicalId}.${attribute}`;
        throw new TemplateError(path, `${r.Type} ${resource} has no attribute '${attribute}'`);
      }
      return v;
    },
    condition(name, path) {
      const cached = condCache.get(name);
      if (cached !== undefined) return cached;
      if (!(name in condDefs)) throw new TemplateError(path, `unknown condition '${name}'`);
      if (condStack.includes(name)) throw new TemplateError(`Conditions.${name}`, 'refers to itself');
      condStack.push(name);
      const v = evaluate(condDefs[name], resolver, `Conditions.${name}`);
      condStack.pop();
      if (typeof v !== 'boolean')
        throw new TemplateError(
          `Conditions.${name}`,
          `expected a condition function (Fn::Equals, Fn::And, ...), got ${describeValue(v)}`,
        );
      condCache.set(name, v);
      return v;
    },
    findInMap(map, top, second, path) {
      const v = template.Mappings?.[map]?.[top]?.[second];
      if (v === undefined) throw new TemplateError(path, `Mappings.${map}.${top}.${second} does not exist`);
      return v as Value;
    },
    importValue(name, path) {
      for (const s of o.store.all()) {
        if (s.stackName === stackName) continue;
        for (const out of Object.values(s.outputs)) if (out.exportName === name) return out.value;
      }
      throw new TemplateError(path, `no stack applied to this endpoint exports '${name}'`);
    },
  };
  const active = (id: string): boolean => {
    const c = resources[id]?.Condition;
    return c === undefined || resolver.condition(c, `Resources.${id}.Condition`);
  };

  // Dependency graph of the active resources.
  const ids = Object.keys(resources).filter(active);
  const deps = new Map<string, Set<string>>();
  for (const id of ids) {
    const r = resources[id]!;
    const d = referencedNames(r.Properties ?? {}, (c) => resolver.condition(c, `Resources.${id}`));
    const explicit =
      r.DependsOn === undefined ? [] : Array.isArray(r.DependsOn) ? r.DependsOn : [r.DependsOn];
    for (const e of explicit) {
      if (typeof e !== 'string' || !(e in resources))
        throw new TemplateError(
          `Resources.${id}.DependsOn`,
          `'${String(e)}' is not a resource in this template`,
        );
      d.add(e);
    }
    for (const x of [...d]) if (!(x in resources)) d.delete(x); // parameters
    deps.set(id, d);
  }
  const order = orderByDependencies(ids, deps);

  // Check every resource before touching anything (types, properties, references).
  const checkCtx = (id: string) => ({ path: `Resources.${id}.Properties`, stackName, logicalId: id });
  const dryResolver = (id: string, h: ResourceHandler) => {
    const r = resources[id]!;
    const props = evaluate(r.Properties ?? {}, resolver, `Resources.${id}.Properties`);
    if (!isRecord(props)) throw new TemplateError(`Resources.${id}.Properties`, 'expected an object');
    h.check(props as Record<string, Value>, checkCtx(id));
    return props as Record<string, Value>;
  };

  const steps: PlanStep[] = [];
  const now = () => new Date().toISOString();
  const state: StackState = previous
    ? {
        ...previous,
        templateFile: o.templateFile,
        parameters: Object.fromEntries(Object.entries(parameters).map(([k, p]) => [k, p.value])),
        resources: { ...previous.resources },
      }
    : {
        version: 1,
        stackName,
        endpoint: client.endpoint ?? 'aws',
        region,
        templateFile: o.templateFile,
        parameters: Object.fromEntries(Object.entries(parameters).map(([k, p]) => [k, p.value])),
        resources: {},
        outputs: {},
        createdAt: now(),
        updatedAt: now(),
      };
  const hctx = (id: string): HandlerContext => ({
    client,
    stackName,
    logicalId: id,
    region,
    accountId,
    path: `Resources.${id}.Properties`,
    waitTimeoutMs: o.waitTimeoutMs ?? 120_000,
    pollMs: o.pollMs ?? 100,
    log: (m) => o.onNote?.(m),
  });
  const emit = (s: PlanStep) => {
    steps.push(s);
    o.onStep?.(s);
  };
  const save = () => {
    if (!o.dryRun) {
      state.updatedAt = now();
      o.store.save(state);
    }
  };

  // Validate every resource before touching anything: values of resources are placeholders here.
  if (!o.dryRun) {
    for (const id of order) pending.add(id);
    for (const id of order) dryResolver(id, handlerFor(resources[id]!.Type));
    pending.clear();
  }

  for (const id of order) {
    const r = resources[id]!;
    const h = handlerFor(r.Type);
    const prev = state.resources[id];
    let props: Record<string, Value>;
    try {
      props = dryResolver(id, h);
    } catch (err) {
      if (
        err instanceof TemplateError &&
        !err.path.startsWith('Resources') &&
        !err.path.startsWith('Parameters') &&
        !err.path.startsWith('Conditions')
      ) {
        throw new TemplateError(
          `Resources.${id}${err.path ? `.${err.path}` : ''}`,
          err.message.replace(/^[^:]*: /, ''),
        );
      }
      throw err;
    }
    const unknownInside = stable(props).includes(UNKNOWN);
    let action: Action;
    if (h.mode === 'recorded')
      action =
        prev && prev.type === r.Type && stable(prev.properties) === stable(props) ? 'unchanged' : 'record';
    else if (!prev) action = 'create';
    else if (prev.type !== r.Type) action = 'replace';
    else if (!unknownInside && stable(prev.properties) === stable(props)) action = 'unchanged';
    else action = h.needsReplacement(prev.properties, props) ? 'replace' : 'update';

    if (o.dryRun) {
      emit({ logicalId: id, type: r.Type, action, note: h.note, physicalId: prev?.physicalId });
      if (
        action === 'create' ||
        action === 'record' ||
        action === 'replace' ||
        (action === 'update' && h.updateChangesId)
      )
        pending.add(id);
      continue;
    }

    // Apply.
    const ctx = hctx(id);
    let result:
      { physicalId: string; attributes: Record<string, string | string[]>; detail?: string } | undefined;
    if (action === 'unchanged') {
      emit({ logicalId: id, type: r.Type, action, note: h.note, physicalId: prev!.physicalId });
      continue;
    }
    if (action === 'create' || action === 'record') {
      result = await h.create(props, ctx);
    } else if (action === 'update') {
      const u = await h.update(prev!, props, ctx);
      if (u === 'replace') action = 'replace';
      else result = u;
    }
    if (action === 'replace') {
      const oldHandler = handlerFor(prev!.type);
      result = await h.create(props, ctx);
      await oldHandler.delete(prev!, hctx(id));
      result.detail = `${result.detail ? `${result.detail}; ` : ''}replaced ${prev!.physicalId}`;
    }
    applied.set(id, { physicalId: result!.physicalId, attributes: result!.attributes });
    state.resources[id] = {
      type: r.Type,
      physicalId: result!.physicalId,
      attributes: result!.attributes,
      properties: props,
      dependsOn: [...(deps.get(id) ?? [])],
      mode: h.mode,
      ...(h.note ? { note: h.note } : {}),
      updatedAt: now(),
    };
    save();
    emit({
      logicalId: id,
      type: r.Type,
      action,
      note: h.note,
      detail: result!.detail,
      physicalId: result!.physicalId,
    });
  }

  // Resources that left the template (or whose condition turned false): delete, dependents first.
  const gone = Object.keys(state.resources).filter((id) => !ids.includes(id));
  const goneDeps = new Map(gone.map((id) => [id, new Set(state.resources[id]!.dependsOn)]));
  for (const id of orderByDependencies(gone, goneDeps).reverse()) {
    const rs = state.resources[id]!;
    if (!o.dryRun) {
      await handlerFor(rs.type).delete(rs, hctx(id));
      delete state.resources[id];
      save();
    }
    emit({
      logicalId: id,
      type: rs.type,
      action: rs.mode === 'recorded' ? 'skip' : 'delete',
      note: rs.note,
      physicalId: rs.physicalId,
    });
  }

  // Outputs.
  const outputs: StackState['outputs'] = {};
  for (const [key, out] of Object.entries(template.Outputs ?? {})) {
    const at = `Outputs.${key}`;
    if (!isRecord(out) || !('Value' in out))
      throw new TemplateError(at, 'expected {Value, Description?, Export?}');
    if (out.Condition !== undefined && !resolver.condition(out.Condition, `${at}.Condition`)) continue;
    let v: ReturnType<typeof evaluate>;
    try {
      v = evaluate(out.Value, resolver, `${at}.Value`);
    } catch (err) {
      // In a plan, values built from resources not created yet are unknown.
      const refs = referencedNames(out.Value, (c) => resolver.condition(c, at));
      if (!o.dryRun || ![...refs].some((r) => pending.has(r))) throw err;
      v = UNKNOWN;
    }
    const value = Array.isArray(v)
      ? v.join(',')
      : v === NO_VALUE || v === null
        ? ''
        : typeof v === 'object'
          ? JSON.stringify(v)
          : String(v);
    const exportName = isRecord(out.Export)
      ? evaluate(out.Export.Name, resolver, `${at}.Export.Name`)
      : undefined;
    outputs[key] = {
      value,
      ...(typeof out.Description === 'string' ? { description: out.Description } : {}),
      ...(typeof exportName === 'string' ? { exportName } : {}),
    };
  }
  if (!o.dryRun) {
    state.outputs = outputs;
    save();
  }
  return { steps, outputs, parameters, notes, state: o.dryRun ? previous : state };
}

function stableId(stack: string): string {
  const h = Buffer.from(stack).toString('hex').padEnd(32, '0').slice(0, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface DestroyOptions {
  client: OpenbatchClient;
  store: StackStateStore;
  stackName: string;
  dryRun?: boolean;
  waitTimeoutMs?: number;
  pollMs?: number;
  onStep?: (step: PlanStep) => void;
}

/** Delete every resource of a stack, dependents first, then its state file. */
export async function destroyStack(o: DestroyOptions): Promise<PlanStep[] | undefined> {
  const state = o.store.load(o.stackName);
  if (!state) return undefined;
  const ids = Object.keys(state.resources);
  const deps = new Map(ids.map((id) => [id, new Set(state.resources[id]!.dependsOn)]));
  const steps: PlanStep[] = [];
  let accountId = '123456789012';
  const m = /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(
    Object.values(state.resources).find((r) => r.physicalId.startsWith('arn:'))?.physicalId ?? '',
  );
  if (m) accountId = m[1]!;
  for (const id of orderByDependencies(ids, deps).reverse()) {
    const rs: ResourceState = state.resources[id]!;
    if (!o.dryRun) {
      await handlerFor(rs.type).delete(rs, {
        client: o.client,
        stackName: o.stackName,
        logicalId: id,
        region: state.region,
        accountId,
        path: `Resources.${id}`,
        waitTimeoutMs: o.waitTimeoutMs ?? 120_000,
        pollMs: o.pollMs ?? 100,
        log: () => undefined,
      });
      delete state.resources[id];
      o.store.save({ ...state, updatedAt: new Date().toISOString() });
    }
    const step: PlanStep = {
      logicalId: id,
      type: rs.type,
      action: rs.mode === 'recorded' ? 'skip' : 'delete',
      note: rs.note,
      physicalId: rs.physicalId,
    };
    steps.push(step);
    o.onStep?.(step);
  }
  if (!o.dryRun) o.store.remove(o.stackName);
  return steps;
}
