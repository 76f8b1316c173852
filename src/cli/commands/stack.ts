/**
 * @module cli/commands/stack
 * `openbatch apply`, `openbatch outputs` and `openbatch destroy`: CloudFormation templates applied
 * through the Batch and Logs APIs, with local stack state (see src/templates/stack-state.ts).
 */
import path from 'node:path';

import { deployStack, destroyStack, type PlanStep } from '../../templates/deploy.js';
import { loadTemplate } from '../../templates/load-template.js';
import { readParametersFile } from '../../templates/parameters.js';
import { StackStateStore } from '../../templates/stack-state.js';
import { parseDurationSeconds, parsePairs } from '../args.js';
import type { Command } from '../command.js';
import { openbatchHome } from '../config.js';
import type { Context } from '../context.js';
import { requireArg } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { paint, table, type ColorName } from '../format.js';

const SYMBOL: Record<PlanStep['action'], [string, ColorName, string]> = {
  create: ['+', 'green', 'create'],
  update: ['~', 'yellow', 'update'],
  replace: ['±', 'magenta', 'replace'],
  unchanged: ['=', 'gray', 'unchanged'],
  delete: ['-', 'red', 'delete'],
  record: ['·', 'cyan', 'record'],
  skip: ['·', 'gray', 'forget'],
};

const PAST: Record<PlanStep['action'], string> = {
  create: 'created',
  update: 'updated',
  replace: 'replaced',
  unchanged: 'unchanged',
  delete: 'deleted',
  record: 'recorded (no-op)',
  skip: 'forgotten (no-op)',
};

function stepLine(ctx: Context, s: PlanStep, dryRun: boolean): string {
  const [sym, color, verb] = SYMBOL[s.action];
  const what = dryRun ? verb : PAST[s.action];
  const extra = [
    s.detail,
    s.action === 'unchanged' || s.action === 'delete' || s.action === 'skip' || !dryRun
      ? s.physicalId
      : undefined,
    s.note && s.action !== 'unchanged' ? `not applied locally: ${s.note}` : undefined,
  ]
    .filter(Boolean)
    .join('  ');
  return `  ${paint(ctx.style, color, sym)} ${s.logicalId.padEnd(28)} ${s.type.padEnd(34)} ${paint(ctx.style, color, what)}${extra ? `  ${paint(ctx.style, 'dim', extra)}` : ''}\n`;
}

function storeFor(ctx: Context): StackStateStore {
  return new StackStateStore(openbatchHome(ctx.env), ctx.endpoint, ctx.client().region);
}

function summary(steps: PlanStep[], dryRun: boolean): string {
  const n = (a: PlanStep['action']) => steps.filter((s) => s.action === a).length;
  const parts = [
    `${n('create')} to create`,
    `${n('update')} to update`,
    `${n('replace')} to replace`,
    `${n('delete')} to delete`,
    `${n('unchanged')} unchanged`,
    `${n('record') + n('skip')} recorded without effect`,
  ];
  return (
    (dryRun ? 'Plan: ' : 'Applied: ') +
    (dryRun
      ? parts
      : parts.map((p) => p.replace(/to (\w+)/, (_m, v: string) => PAST[v as PlanStep['action']] ?? v))
    ).join(', ')
  );
}

export const applyCommand: Command = {
  name: 'apply',
  summary: 'Create or update a stack from a CloudFormation template (JSON or YAML).',
  usage: 'openbatch apply -f TEMPLATE [--stack NAME] [--param K=V ...] [--parameters FILE] [--dry-run]',
  description: `
Supported: AWS::Batch::ComputeEnvironment, JobQueue, JobDefinition, SchedulingPolicy,
ConsumableResource and AWS::Logs::LogGroup are applied through the API. AWS::IAM::*, AWS::EC2::*
(security groups, VPCs, subnets, ...), other AWS types, custom resources and AWS::CDK::Metadata
are accepted and recorded with stable fake ids/ARNs, and the output says so. Parameters (Default,
AllowedValues, List and SSM types), Conditions, Mappings, Ref, Fn::Sub/GetAtt/Join/Select/Split/If
and pseudo parameters work; Rules are not evaluated.
Re-applying is idempotent: unchanged resources are left alone, a changed job definition gets a new
revision (the old one is deregistered), changed compute environments and queues are updated in
place. Stack state is kept in $OPENBATCH_HOME/stacks/<endpoint>/<stack>.json (default ~/.openbatch).`,
  flags: [
    {
      name: 'file',
      short: 'f',
      type: 'string',
      value: 'TEMPLATE',
      help: 'template file (.json, .yaml, .yml)',
    },
    {
      name: 'stack',
      short: 's',
      type: 'string',
      value: 'NAME',
      help: 'stack name (default: the template file name)',
    },
    {
      name: 'param',
      short: 'p',
      type: 'list',
      value: 'K=V',
      help: 'parameter value (repeatable; lists comma-separated)',
    },
    {
      name: 'parameters',
      type: 'string',
      value: 'FILE',
      help: 'parameters file: [{"ParameterKey": ..., "ParameterValue": ...}] (as for aws cloudformation) or {"K": "V"}',
    },
    { name: 'dry-run', type: 'boolean', help: 'print the plan and change nothing' },
    {
      name: 'wait-timeout',
      type: 'string',
      value: 'DURATION',
      help: 'longest wait for a resource to become VALID or be deleted (default 2m)',
    },
  ],
  examples: [
    'openbatch apply -f batch-infrastructure.json --parameters config/dev/batch-infrastructure-params.json --stack fred-batch-infrastructure-dev',
    'openbatch apply -f stack.yaml --param Environment=staging --param MaxvCpus=128 --dry-run',
    'openbatch apply -f cdk.out/MyStack.template.json',
  ],
  async run(ctx, f, positionals) {
    const file = f.str('file') ?? positionals[0];
    if (!file)
      throw new CliError("'openbatch apply' needs a template: -f TEMPLATE; see 'openbatch apply --help'");
    const stackName =
      f.str('stack') ??
      path
        .basename(file)
        .replace(/\.(template\.)?(json|ya?ml)$/i, '')
        .replace(/[^A-Za-z0-9-]/g, '-');
    if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName))
      throw new CliError(
        `Stack name '${stackName}' is invalid: letters, digits and hyphens, starting with a letter (use --stack)`,
      );
    const template = loadTemplate(file);
    const fromFile = f.str('parameters')
      ? readParametersFile(f.str('parameters')!)
      : { values: {}, usePrevious: [] };
    const dryRun = f.bool('dry-run');
    const json = ctx.output === 'json';
    const store = storeFor(ctx);
    if (!json)
      ctx.out(
        `${dryRun ? 'Plan for' : 'Applying'} stack ${paint(ctx.style, 'bold', stackName)} from ${file} at ${ctx.endpoint ?? 'AWS'}\n`,
      );
    const waitText = f.str('wait-timeout');
    const result = await deployStack({
      client: ctx.client(),
      store,
      template,
      templateFile: path.resolve(file),
      stackName,
      params: parsePairs(f.list('param'), 'param'),
      paramsFromFile: fromFile.values,
      usePrevious: fromFile.usePrevious,
      dryRun,
      ...(waitText ? { waitTimeoutMs: parseDurationSeconds(waitText, 'wait-timeout') * 1000 } : {}),
      pollMs: Math.min(ctx.pollMs, 250),
      onStep: json ? undefined : (s) => ctx.out(stepLine(ctx, s, dryRun)),
      onNote: json ? undefined : (m) => ctx.out(`  ${paint(ctx.style, 'dim', `note: ${m}`)}\n`),
    });
    if (json) {
      ctx.out(
        JSON.stringify(
          {
            stack: stackName,
            dryRun,
            steps: result.steps,
            outputs: Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value])),
            notes: result.notes,
            stateFile: store.file(stackName),
          },
          null,
          2,
        ) + '\n',
      );
      return ExitCode.OK;
    }
    ctx.out(`${summary(result.steps, dryRun)}.\n`);
    const outs = Object.entries(result.outputs);
    if (outs.length) {
      ctx.out(`\nOutputs${dryRun ? ' (values known after apply are marked)' : ''}:\n`);
      ctx.out(
        table(
          ctx.style,
          ['KEY', 'VALUE', 'EXPORT'],
          outs.map(([k, v]) => [k, v.value, v.exportName ?? '-']),
        ),
      );
    }
    if (!dryRun) ctx.out(`\nState: ${store.file(stackName)}\n`);
    return ExitCode.OK;
  },
};

export const outputsCommand: Command = {
  name: 'outputs',
  summary: "Print a stack's outputs (or one value, for scripts).",
  usage: 'openbatch outputs STACK [KEY]',
  flags: [],
  examples: [
    'openbatch outputs fred-batch-infrastructure-dev',
    'export AWS_BATCH_JOB_QUEUE=$(openbatch outputs fred-batch-infrastructure-dev BatchJobQueueName)',
    'openbatch outputs fred-dev --output json',
  ],
  async run(ctx, _f, positionals) {
    const stack = requireArg(positionals[0], 'a stack name', 'outputs');
    const store = storeFor(ctx);
    const state = store.load(stack);
    if (!state)
      throw new CliError(
        `No stack '${stack}' has been applied to ${ctx.endpoint ?? 'AWS'} from this machine (looked in ${store.file(stack)})`,
        ExitCode.FAILED,
      );
    const key = positionals[1];
    if (key !== undefined) {
      const o = state.outputs[key];
      if (!o)
        throw new CliError(
          `Stack '${stack}' has no output '${key}' (it has: ${Object.keys(state.outputs).join(', ') || 'none'})`,
          ExitCode.FAILED,
        );
      ctx.out(`${o.value}\n`);
      return ExitCode.OK;
    }
    if (ctx.output === 'json') {
      ctx.out(
        JSON.stringify(
          Object.fromEntries(Object.entries(state.outputs).map(([k, v]) => [k, v.value])),
          null,
          2,
        ) + '\n',
      );
      return ExitCode.OK;
    }
    const rows = Object.entries(state.outputs).map(([k, v]) => [
      k,
      v.value,
      v.exportName ?? '-',
      v.description ?? '',
    ]);
    ctx.out(
      rows.length
        ? table(ctx.style, ['KEY', 'VALUE', 'EXPORT', 'DESCRIPTION'], rows)
        : `Stack '${stack}' has no outputs.\n`,
    );
    return ExitCode.OK;
  },
};

export const destroyCommand: Command = {
  name: 'destroy',
  summary:
    "Delete a stack's resources in reverse dependency order (disabling queues and environments first).",
  usage: 'openbatch destroy STACK [--dry-run]',
  flags: [
    { name: 'dry-run', type: 'boolean', help: 'print what would be deleted' },
    {
      name: 'wait-timeout',
      type: 'string',
      value: 'DURATION',
      help: 'longest wait for each resource to be disabled / deleted (default 2m)',
    },
  ],
  examples: ['openbatch destroy fred-batch-infrastructure-dev', 'openbatch destroy fred-dev --dry-run'],
  async run(ctx, f, positionals) {
    const stack = requireArg(positionals[0], 'a stack name', 'destroy');
    const store = storeFor(ctx);
    const dryRun = f.bool('dry-run');
    const json = ctx.output === 'json';
    if (!json)
      ctx.out(
        `${dryRun ? 'Plan to destroy' : 'Destroying'} stack ${paint(ctx.style, 'bold', stack)} at ${ctx.endpoint ?? 'AWS'}\n`,
      );
    const waitText = f.str('wait-timeout');
    const steps = await destroyStack({
      client: ctx.client(),
      store,
      stackName: stack,
      dryRun,
      ...(waitText ? { waitTimeoutMs: parseDurationSeconds(waitText, 'wait-timeout') * 1000 } : {}),
      pollMs: Math.min(ctx.pollMs, 250),
      onStep: json ? undefined : (s) => ctx.out(stepLine(ctx, s, dryRun)),
    });
    if (!steps)
      throw new CliError(
        `No stack '${stack}' has been applied to ${ctx.endpoint ?? 'AWS'} from this machine (looked in ${store.file(stack)})`,
        ExitCode.FAILED,
      );
    if (json) ctx.out(JSON.stringify({ stack, dryRun, steps }, null, 2) + '\n');
    else
      ctx.out(
        `${dryRun ? 'Would delete' : 'Deleted'} ${steps.filter((s) => s.action === 'delete').length} resource(s); ${steps.filter((s) => s.action === 'skip').length} recorded resource(s) forgotten.\n`,
      );
    return ExitCode.OK;
  },
};
