/**
 * @module templates/load-template
 * Read a CloudFormation template from JSON or YAML, including YAML short-form intrinsics
 * (`!Ref`, `!Sub`, `!GetAtt A.B`, `!If [...]`, ...), and check its top-level sections.
 */
import fs from 'node:fs';

import YAML, { type YAMLMap, type YAMLSeq } from 'yaml';

import { isRecord, TemplateError } from './template-error.js';

export interface Template {
  AWSTemplateFormatVersion?: string;
  Description?: string;
  Metadata?: Record<string, unknown>;
  Parameters?: Record<string, Record<string, unknown>>;
  Rules?: Record<string, unknown>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Conditions?: Record<string, unknown>;
  Transform?: unknown;
  Resources: Record<
    string,
    {
      Type: string;
      Properties?: Record<string, unknown>;
      DependsOn?: string | string[];
      Condition?: string;
      Metadata?: unknown;
      DeletionPolicy?: string;
      UpdateReplacePolicy?: string;
      [k: string]: unknown;
    }
  >;
  Outputs?: Record<
    string,
    { Value: unknown; Description?: string; Export?: { Name: unknown }; Condition?: string }
  >;
}

const SECTIONS = [
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Rules',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
  'Hooks',
];
const FN_TAGS = [
  'Sub',
  'Join',
  'Select',
  'Split',
  'If',
  'Equals',
  'And',
  'Or',
  'Not',
  'FindInMap',
  'Base64',
  'ImportValue',
  'GetAZs',
  'Cidr',
  'Contains',
  'EachMemberEquals',
  'EachMemberIn',
  'RefAll',
  'ValueOf',
  'ValueOfAll',
  'Length',
  'ToJsonString',
  'Transform',
];

type TagDef = NonNullable<YAML.ParseOptions & YAML.DocumentOptions & YAML.SchemaOptions>['customTags'];

function cfnTags(): TagDef {
  const tags: YAML.ScalarTag[] | YAML.CollectionTag[] = [];
  const list = tags as unknown as (YAML.ScalarTag | YAML.CollectionTag)[];
  const scalar = (tag: string, fn: (s: string) => unknown) =>
    list.push({ tag: `!${tag}`, resolve: (s: string) => fn(s) } as YAML.ScalarTag);
  const coll = (tag: string, kind: 'seq' | 'map', key: string) =>
    list.push({
      tag: `!${tag}`,
      collection: kind,
      resolve: (node: YAMLSeq | YAMLMap) => ({ [key]: node.toJSON() }),
    } as unknown as YAML.CollectionTag);
  scalar('Ref', (s) => ({ Ref: s }));
  scalar('Condition', (s) => ({ Condition: s }));
  scalar('GetAtt', (s) => {
    const i = s.indexOf('.');
    return { 'Fn::GetAtt': i < 0 ? [s] : [s.slice(0, i), s.slice(i + 1)] };
  });
  coll('GetAtt', 'seq', 'Fn::GetAtt');
  for (const fn of FN_TAGS) {
    scalar(fn, (s) => ({ [`Fn::${fn}`]: s }));
    coll(fn, 'seq', `Fn::${fn}`);
    coll(fn, 'map', `Fn::${fn}`);
  }
  return list;
}

export function parseTemplate(text: string, file: string): Template {
  let data: unknown;
  const trimmed = text.trimStart();
  try {
    data = trimmed.startsWith('{')
      ? JSON.parse(text)
      : YAML.parse(text, { customTags: cfnTags(), uniqueKeys: false });
  } catch (err) {
    throw new TemplateError(
      '',
      `${file} is not valid ${trimmed.startsWith('{') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
      { cause: err },
    );
  }
  if (!isRecord(data))
    throw new TemplateError(
      '',
      `${file} does not contain a template (expected a mapping with a Resources section)`,
    );
  for (const k of Object.keys(data)) {
    if (!SECTIONS.includes(k))
      throw new TemplateError(k, `unknown template section (allowed: ${SECTIONS.join(', ')})`);
  }
  if (!isRecord(data.Resources) || Object.keys(data.Resources).length === 0)
    throw new TemplateError('Resources', 'a template needs at least one resource');
  for (const [id, r] of Object.entries(data.Resources)) {
    if (!/^[A-Za-z0-9]+$/.test(id))
      throw new TemplateError(`Resources.${id}`, 'logical ids must be alphanumeric');
    if (!isRecord(r))
      throw new TemplateError(`Resources.${id}`, 'expected a resource definition (an object with Type)');
    if (typeof r.Type !== 'string')
      throw new TemplateError(`Resources.${id}.Type`, 'required, a string such as AWS::Batch::JobQueue');
    if (r.Properties !== undefined && !isRecord(r.Properties))
      throw new TemplateError(`Resources.${id}.Properties`, 'expected an object');
  }
  if (data.Transform !== undefined) {
    throw new TemplateError(
      'Transform',
      `template transforms (${JSON.stringify(data.Transform)}) are not supported; deploy the processed template (e.g. 'sam build' / 'cdk synth' output)`,
    );
  }
  return data as unknown as Template;
}

export function loadTemplate(file: string): Template {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new TemplateError(
      '',
      `cannot read template ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  return parseTemplate(text, file);
}
