import { describe, expect, it } from 'vitest';

import { evaluate, NO_VALUE, referencedNames, type Resolver, type Value } from './intrinsics.js';
import { parseTemplate } from './load-template.js';
import { resolveParameters } from './parameters.js';
import { mapProperties } from './property-mapping.js';
import { handlerFor } from './resource-types.js';

const resolver = (params: Record<string, Value>, conds: Record<string, boolean> = {}): Resolver => ({
  region: 'us-east-1',
  ref: (n, p) => {
    if (n === 'AWS::NoValue') return NO_VALUE;
    if (n === 'AWS::Region') return 'us-east-1';
    if (n === 'AWS::StackName') return 'st';
    if (n in params) return params[n]!;
    throw new Error(`${p}: unknown ${n}`);
  },
  getAtt: (r, a) => `${r}.${a}`,
  condition: (n) => conds[n] ?? false,
  findInMap: (m, t, s) => `${m}/${t}/${s}`,
  importValue: (n) => `imported:${n}`,
});

describe('intrinsics', () => {
  it('evaluates Sub (both forms), Join, Select, Split, If, GetAtt, NoValue', () => {
    const r = resolver({ Env: 'dev', Subnets: ['s1', 's2'] }, { Prod: false });
    expect(evaluate({ 'Fn::Sub': 'q-${Env}-${AWS::Region}-${!Literal}-${Res.Arn}' }, r, 'x')).toBe(
      'q-dev-us-east-1-${Literal}-Res.Arn',
    );
    expect(evaluate({ 'Fn::Sub': ['${A}/${Env}', { A: { Ref: 'Env' } }] }, r, 'x')).toBe('dev/dev');
    expect(evaluate({ 'Fn::Join': [',', { Ref: 'Subnets' }] }, r, 'x')).toBe('s1,s2');
    expect(evaluate({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] }, r, 'x')).toBe('b');
    expect(
      evaluate(
        { A: { 'Fn::If': ['Prod', 1, { Ref: 'AWS::NoValue' }] }, B: [1, { Ref: 'AWS::NoValue' }] },
        r,
        'x',
      ),
    ).toEqual({ B: [1] });
    expect(evaluate({ 'Fn::GetAtt': 'Role.Arn' }, r, 'x')).toBe('Role.Arn');
    expect(
      evaluate(
        { 'Fn::And': [{ 'Fn::Equals': [{ Ref: 'Env' }, 'dev'] }, { 'Fn::Not': [{ Condition: 'Prod' }] }] },
        r,
        'x',
      ),
    ).toBe(true);
    expect(() => evaluate({ 'Fn::Select': [5, ['a']] }, r, 'Resources.X.Properties.Y')).toThrow(
      'Resources.X.Properties.Y.Fn::Select: index 5 is out of range for a list of 1',
    );
  });
  it('finds references for dependency order, following only the taken Fn::If branch', () => {
    const refs = referencedNames(
      {
        a: { Ref: 'A' },
        b: { 'Fn::Sub': '${B.Arn}-${AWS::Region}-${V}' },
        c: { 'Fn::If': ['C', { Ref: 'Yes' }, { Ref: 'No' }] },
        d: { 'Fn::GetAtt': ['D', 'Arn'] },
      },
      () => false,
    );
    expect([...refs].sort()).toEqual(['A', 'B', 'D', 'No', 'V']);
  });
});

describe('parameters', () => {
  const t = parseTemplate(
    JSON.stringify({
      Parameters: {
        Env: { Type: 'String', Default: 'dev', AllowedValues: ['dev', 'prod'] },
        Max: { Type: 'Number', Default: 256 },
        Subnets: { Type: 'List<AWS::EC2::Subnet::Id>' },
        Boot: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/cdk-bootstrap/hnb659fds/version' },
      },
      Resources: { X: { Type: 'AWS::CDK::Metadata' } },
    }),
    't.json',
  );
  it('applies defaults, lists, and names bad values', () => {
    const p = resolveParameters(t, { Subnets: 'subnet-1, subnet-2' }, {}, {});
    expect(p.Env!.value).toBe('dev');
    expect(p.Subnets!.value).toEqual(['subnet-1', 'subnet-2']);
    expect(p.Boot!.ssm).toBe(true);
    expect(() => resolveParameters(t, { Subnets: 'a', Env: 'qa' }, {}, {})).toThrow(
      "Parameters.Env: value 'qa' is not one of the AllowedValues: dev, prod",
    );
    expect(() => resolveParameters(t, { Subnets: 'a', Max: 'lots' }, {}, {})).toThrow(
      "Parameters.Max: value 'lots' is not a number",
    );
    expect(() => resolveParameters(t, {}, {}, {})).toThrow(
      /Parameters.Subnets: no value given and no Default/,
    );
    expect(() => resolveParameters(t, { Subnets: 'a', Nope: '1' }, {}, {})).toThrow(
      /Parameters.Nope: a value was given but the template declares no such parameter/,
    );
  });
});

describe('property mapping', () => {
  it('maps PascalCase to the API, coerces parameter strings, and names bad types', () => {
    const out = mapProperties(
      {
        JobQueueName: 'q',
        Priority: '10',
        ComputeEnvironmentOrder: [{ Order: 1, ComputeEnvironment: 'arn:ce' }],
        Tags: { Team: 'A' },
      },
      { allowed: ['JobQueueName', 'Priority', 'ComputeEnvironmentOrder', 'Tags'] },
      'Resources.Q.Properties',
    );
    expect(out).toEqual({
      jobQueueName: 'q',
      priority: 10,
      computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'arn:ce' }],
      tags: { Team: 'A' },
    });
    expect(() =>
      mapProperties({ Priority: 'high' }, { allowed: ['Priority'] }, 'Resources.BatchJobQueue.Properties'),
    ).toThrow('Resources.BatchJobQueue.Properties.Priority: expected integer, got string "high"');
    expect(() => mapProperties({ Prio: 1 }, { allowed: ['Priority'] }, 'Resources.Q.Properties')).toThrow(
      /Resources.Q.Properties.Prio: unknown property/,
    );
  });
  it('maps job definition container properties and keeps option maps verbatim', () => {
    const jd = handlerFor('AWS::Batch::JobDefinition');
    expect(() =>
      jd.check(
        { Type: 'container', ContainerProperties: { Command: ['x'] } },
        { path: 'Resources.JD.Properties', stackName: 's', logicalId: 'JD' },
      ),
    ).toThrow('Resources.JD.Properties.ContainerProperties.Image: required property is missing');
    const out = mapProperties(
      {
        ContainerProperties: {
          Image: 'busybox',
          ResourceRequirements: [{ Type: 'VCPU', Value: 4 }],
          LogConfiguration: { LogDriver: 'awslogs', Options: { 'awslogs-group': 'g' } },
          Environment: [{ Name: 'A', Value: 1 }],
        },
        RetryStrategy: { Attempts: '3', EvaluateOnExit: [{ OnStatusReason: 'Host EC2*', Action: 'RETRY' }] },
        Timeout: { AttemptDurationSeconds: '14400' },
      },
      { allowed: ['ContainerProperties', 'RetryStrategy', 'Timeout'] },
      'p',
    );
    expect(out).toEqual({
      containerProperties: {
        image: 'busybox',
        resourceRequirements: [{ type: 'VCPU', value: '4' }],
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } },
        environment: [{ name: 'A', value: '1' }],
      },
      retryStrategy: { attempts: 3, evaluateOnExit: [{ onStatusReason: 'Host EC2*', action: 'RETRY' }] },
      timeout: { attemptDurationSeconds: 14400 },
    });
  });
  it('reads YAML short forms', () => {
    const t = parseTemplate(
      'Resources:\n  A:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: !Sub "/x/${AWS::StackName}"\n      RetentionInDays: !If [Long, 30, 7]\n',
      'a.yaml',
    );
    expect(t.Resources.A!.Properties).toEqual({
      LogGroupName: { 'Fn::Sub': '/x/${AWS::StackName}' },
      RetentionInDays: { 'Fn::If': ['Long', 30, 7] },
    });
    expect(() => parseTemplate('Resourcez: {}\n', 'b.yaml')).toThrow(/Resourcez: unknown template section/);
  });
});
