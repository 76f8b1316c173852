/**
 * @module templates/parameters
 * Resolve template parameters from `--param K=V`, a CloudFormation parameters file
 * (`[{"ParameterKey","ParameterValue"}]`), earlier values kept in the stack state, and Defaults;
 * check Type, AllowedValues, AllowedPattern, Min/MaxLength and Min/MaxValue.
 */
import fs from 'node:fs';

import type { Template } from './load-template.js';
import { isRecord, TemplateError } from './template-error.js';

export type ParameterValue = string | string[];

export interface ResolvedParameter {
  value: ParameterValue;
  source: 'argument' | 'file' | 'previous' | 'default';
  noEcho: boolean;
  type: string;
  /** SSM-typed parameters are used as given (no SSM lookup locally). */
  ssm: boolean;
}

/** Read a parameters file: CloudFormation's list form, or a plain `{Key: Value}` object. */
export function readParametersFile(file: string): { values: Record<string, string>; usePrevious: string[] } {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TemplateError(
      '',
      `cannot read parameters file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  const values: Record<string, string> = {};
  const usePrevious: string[] = [];
  if (Array.isArray(data)) {
    data.forEach((p, i) => {
      if (!isRecord(p) || typeof p.ParameterKey !== 'string')
        throw new TemplateError(`${file}[${i}]`, 'expected {"ParameterKey": ..., "ParameterValue": ...}');
      if (p.UsePreviousValue === true) usePrevious.push(p.ParameterKey);
      else if (p.ParameterValue === undefined)
        throw new TemplateError(`${file}[${i}].ParameterValue`, 'required (or "UsePreviousValue": true)');
      else
        values[p.ParameterKey] = Array.isArray(p.ParameterValue)
          ? p.ParameterValue.join(',')
          : String(p.ParameterValue);
    });
  } else if (isRecord(data)) {
    const obj = isRecord(data.Parameters) ? data.Parameters : data;
    for (const [k, v] of Object.entries(obj)) values[k] = Array.isArray(v) ? v.join(',') : String(v);
  } else {
    throw new TemplateError(
      '',
      `parameters file ${file} must hold a list of {"ParameterKey","ParameterValue"} or an object`,
    );
  }
  return { values, usePrevious };
}

function isListType(type: string): boolean {
  return (
    type === 'CommaDelimitedList' ||
    type.startsWith('List<') ||
    /^AWS::SSM::Parameter::Value<(List<.*>|CommaDelimitedList)>$/.test(type)
  );
}

const KNOWN_TYPES =
  /^(String|Number|CommaDelimitedList|List<Number>|List<String>|AWS::EC2::[A-Za-z:]+|AWS::Route53::HostedZone::Id|AWS::SSM::Parameter::Name|AWS::SSM::Parameter::Value<.+>|List<AWS::EC2::[A-Za-z:]+>|List<AWS::Route53::HostedZone::Id>)$/;

export function resolveParameters(
  template: Template,
  given: Record<string, string>,
  fromFile: Record<string, string>,
  previous: Record<string, ParameterValue>,
): Record<string, ResolvedParameter> {
  const decl = template.Parameters ?? {};
  for (const k of [...Object.keys(given), ...Object.keys(fromFile)]) {
    if (!(k in decl)) {
      const names = Object.keys(decl);
      throw new TemplateError(
        `Parameters.${k}`,
        `a value was given but the template declares no such parameter${names.length ? ` (it has: ${names.join(', ')})` : ''}`,
      );
    }
  }
  const out: Record<string, ResolvedParameter> = {};
  for (const [name, p] of Object.entries(decl)) {
    const at = `Parameters.${name}`;
    if (!isRecord(p)) throw new TemplateError(at, 'expected an object with Type');
    const type = p.Type;
    if (typeof type !== 'string')
      throw new TemplateError(
        `${at}.Type`,
        'required (String, Number, CommaDelimitedList, List<...>, AWS::EC2::..., AWS::SSM::Parameter::Value<...>)',
      );
    if (!KNOWN_TYPES.test(type))
      throw new TemplateError(`${at}.Type`, `unsupported parameter type '${type}'`);
    let raw: string | undefined;
    let source: ResolvedParameter['source'];
    if (name in given) {
      raw = given[name];
      source = 'argument';
    } else if (name in fromFile) {
      raw = fromFile[name];
      source = 'file';
    } else if (name in previous) {
      const prev = previous[name]!;
      raw = Array.isArray(prev) ? prev.join(',') : prev;
      source = 'previous';
    } else if (p.Default !== undefined) {
      raw = Array.isArray(p.Default) ? p.Default.join(',') : String(p.Default);
      source = 'default';
    } else {
      throw new TemplateError(
        at,
        `no value given and no Default (pass --param ${name}=VALUE or put it in --parameters FILE)`,
      );
    }
    const list = isListType(type);
    const value: ParameterValue = list ? (raw === '' ? [] : raw!.split(',').map((s) => s.trim())) : raw!;
    const items = Array.isArray(value) ? value : [value];
    const numeric = type === 'Number' || type === 'List<Number>';
    for (const item of items) {
      if (numeric && (item.trim() === '' || !Number.isFinite(Number(item))))
        throw new TemplateError(at, `value '${item}' is not a number (Type ${type})`);
      if (Array.isArray(p.AllowedValues) && !p.AllowedValues.map(String).includes(item)) {
        throw new TemplateError(
          at,
          `value '${item}' is not one of the AllowedValues: ${p.AllowedValues.map(String).join(', ')}`,
        );
      }
      if (typeof p.AllowedPattern === 'string' && !new RegExp(`^(?:${p.AllowedPattern})$`).test(item)) {
        throw new TemplateError(
          at,
          `value '${item}' does not match AllowedPattern ${p.AllowedPattern}${typeof p.ConstraintDescription === 'string' ? ` (${p.ConstraintDescription})` : ''}`,
        );
      }
      if (numeric && p.MinValue !== undefined && Number(item) < Number(p.MinValue))
        throw new TemplateError(at, `value ${item} is below MinValue ${String(p.MinValue)}`);
      if (numeric && p.MaxValue !== undefined && Number(item) > Number(p.MaxValue))
        throw new TemplateError(at, `value ${item} is above MaxValue ${String(p.MaxValue)}`);
    }
    if (!list && p.MinLength !== undefined && raw!.length < Number(p.MinLength))
      throw new TemplateError(at, `value is shorter than MinLength ${String(p.MinLength)}`);
    if (!list && p.MaxLength !== undefined && raw!.length > Number(p.MaxLength))
      throw new TemplateError(at, `value is longer than MaxLength ${String(p.MaxLength)}`);
    out[name] = {
      value,
      source,
      noEcho: p.NoEcho === true || p.NoEcho === 'true',
      type,
      ssm: type.startsWith('AWS::SSM::Parameter::Value<'),
    };
  }
  return out;
}
