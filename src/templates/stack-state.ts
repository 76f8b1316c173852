/**
 * @module templates/stack-state
 * Local stack state, like Terraform's local state: one JSON file per endpoint and stack under
 * `$OPENBATCH_HOME/stacks/<endpoint>/<stack>.json` (default `~/.openbatch/stacks/...`). It maps
 * each logical id to its physical id / ARN, attributes and the properties applied, and keeps the
 * parameters and outputs. openbatch has no stack API, so this file is the stack.
 */
import fs from 'node:fs';
import path from 'node:path';

import type { ParameterValue } from './parameters.js';

export interface ResourceState {
  type: string;
  /** What Ref returns. */
  physicalId: string;
  /** Fn::GetAtt values. */
  attributes: Record<string, string | string[]>;
  /** The resolved CloudFormation properties last applied (for change detection). */
  properties: unknown;
  /** Logical ids this resource depends on (destroy runs in reverse). */
  dependsOn: string[];
  /** `applied`: exists in the service; `recorded`: accepted with a stable id, no effect here. */
  mode: 'applied' | 'recorded';
  note?: string;
  updatedAt: string;
}

export interface StackState {
  version: 1;
  stackName: string;
  endpoint: string;
  region: string;
  templateFile: string;
  parameters: Record<string, ParameterValue>;
  resources: Record<string, ResourceState>;
  outputs: Record<string, { value: string; description?: string; exportName?: string }>;
  createdAt: string;
  updatedAt: string;
}

export function endpointSlug(endpoint: string | undefined, region: string): string {
  if (!endpoint) return `aws-${region}`;
  const u = new URL(endpoint);
  return `${u.hostname}_${u.port || (u.protocol === 'https:' ? '443' : '80')}${u.pathname.replace(/[^A-Za-z0-9]+/g, '_').replace(/_+$/, '')}`;
}

export class StackStateStore {
  readonly dir: string;
  constructor(home: string, endpoint: string | undefined, region: string) {
    this.dir = path.join(home, 'stacks', endpointSlug(endpoint, region));
  }

  file(stack: string): string {
    return path.join(this.dir, `${stack}.json`);
  }

  load(stack: string): StackState | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.file(stack), 'utf8')) as StackState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`The stack state file ${this.file(stack)} is unreadable: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  save(state: StackState): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = this.file(state.stackName);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
    fs.renameSync(tmp, file);
  }

  remove(stack: string): void {
    fs.rmSync(this.file(stack), { force: true });
  }

  /** Every stack for this endpoint (for Fn::ImportValue). */
  all(): StackState[] {
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    return names.map((n) => this.load(n.slice(0, -5))).filter((s): s is StackState => s !== undefined);
  }
}
