import { describe, expect, it } from 'vitest';

import { compileFilterPattern, FilterPatternError } from './filter-pattern.js';

const match = (pattern: string, message: string): boolean => compileFilterPattern(pattern)(message);

describe('text filter patterns', () => {
  it('empty and blank patterns match everything', () => {
    expect(match('', 'anything')).toBe(true);
    expect(match('   ', '')).toBe(true);
    expect(compileFilterPattern(undefined)('x')).toBe(true);
  });

  it('plain terms must all occur, case-sensitively', () => {
    expect(match('ERROR', 'an ERROR happened')).toBe(true);
    expect(match('ERROR', 'an error happened')).toBe(false);
    expect(match('ERROR disk', 'ERROR: disk full')).toBe(true);
    expect(match('ERROR disk', 'ERROR: memory')).toBe(false);
  });

  it('hyphens inside a term are part of it', () => {
    expect(match('data-taiwan_credit', 'job data-taiwan_credit started')).toBe(true);
    expect(match('data-taiwan_credit', 'job data taiwan_credit started')).toBe(false);
  });

  it('quoted phrases match as a whole', () => {
    expect(match('"ERROR 42"', 'got ERROR 42 here')).toBe(true);
    expect(match('"ERROR 42"', 'ERROR 4 2')).toBe(false);
    expect(match('"say \\"hi\\""', 'they say "hi"')).toBe(true);
  });

  it('?terms are alternatives', () => {
    expect(match('?ERROR ?WARN', 'WARN low disk')).toBe(true);
    expect(match('?ERROR ?WARN', 'ERROR boom')).toBe(true);
    expect(match('?ERROR ?WARN', 'INFO ok')).toBe(false);
    expect(match('?"bad thing" ?WARN', 'a bad thing')).toBe(true);
  });

  it('-terms exclude', () => {
    expect(match('ERROR -Exiting', 'ERROR retrying')).toBe(true);
    expect(match('ERROR -Exiting', 'ERROR Exiting now')).toBe(false);
    expect(match('-"health check"', 'GET /healthz ok')).toBe(true);
    expect(match('-"health check"', 'a health check passed')).toBe(false);
  });

  it('regex patterns between %', () => {
    expect(match('%ERR(OR)?\\s+\\d+%', 'ERR 5')).toBe(true);
    expect(match('%^INFO%', 'WARN INFO')).toBe(false);
  });

  it('rejects malformed text patterns', () => {
    for (const bad of ['"unterminated', 'a"b', '? x', '-', '[ip, user]', '%(%']) {
      expect(() => compileFilterPattern(bad), bad).toThrow(FilterPatternError);
    }
  });
});

describe('JSON filter patterns', () => {
  const ev = JSON.stringify({
    level: 'ERROR',
    latency: 250,
    user: { id: 7, name: 'ann' },
    tags: ['a', 'b'],
    ok: false,
    gone: null,
  });

  it('string equality and inequality', () => {
    expect(match('{ $.level = "ERROR" }', ev)).toBe(true);
    expect(match('{ $.level = ERROR }', ev)).toBe(true);
    expect(match('{ $.level = "error" }', ev)).toBe(false);
    expect(match('{ $.level != "INFO" }', ev)).toBe(true);
    expect(match('{ $.level != "ERROR" }', ev)).toBe(false);
    expect(match('{ $.missing != "x" }', ev)).toBe(false);
  });

  it('numeric comparisons', () => {
    expect(match('{ $.latency > 100 }', ev)).toBe(true);
    expect(match('{ $.latency < 100 }', ev)).toBe(false);
    expect(match('{ $.latency >= 250 }', ev)).toBe(true);
    expect(match('{ $.latency <= 249.5 }', ev)).toBe(false);
    expect(match('{ $.latency = 250 }', ev)).toBe(true);
    expect(match('{ $.latency != 250 }', ev)).toBe(false);
    expect(match('{ $.level > 1 }', ev)).toBe(false);
  });

  it('nested members, array indexes, wildcards', () => {
    expect(match('{ $.user.id = 7 }', ev)).toBe(true);
    expect(match('{ $.user.name = "a*" }', ev)).toBe(true);
    expect(match('{ $.user.name = "*nn" }', ev)).toBe(true);
    expect(match('{ $.user.name = "b*" }', ev)).toBe(false);
    expect(match('{ $.tags[1] = "b" }', ev)).toBe(true);
    expect(match('{ $.tags[5] = "b" }', ev)).toBe(false);
    expect(match('{ $.level = "ERR*" }', ev)).toBe(true);
  });

  it('&&, || and parentheses with && binding tighter', () => {
    expect(match('{ ($.latency > 100) && ($.level != "INFO") }', ev)).toBe(true);
    expect(match('{ ($.latency > 1000) && ($.level = "ERROR") }', ev)).toBe(false);
    expect(match('{ $.latency > 1000 || $.level = "ERROR" }', ev)).toBe(true);
    expect(match('{ $.level = "INFO" && $.latency > 1 || $.user.id = 7 }', ev)).toBe(true);
    expect(match('{ $.level = "INFO" && ($.latency > 1 || $.user.id = 7) }', ev)).toBe(false);
  });

  it('IS NULL, NOT EXISTS, IS TRUE / FALSE', () => {
    expect(match('{ $.gone IS NULL }', ev)).toBe(true);
    expect(match('{ $.level IS NULL }', ev)).toBe(false);
    expect(match('{ $.nope NOT EXISTS }', ev)).toBe(true);
    expect(match('{ $.gone NOT EXISTS }', ev)).toBe(false);
    expect(match('{ $.ok IS FALSE }', ev)).toBe(true);
    expect(match('{ $.ok IS TRUE }', ev)).toBe(false);
  });

  it('non-JSON messages never match a JSON pattern', () => {
    expect(match('{ $.level = "ERROR" }', 'level=ERROR')).toBe(false);
    expect(match('{ $.level = "ERROR" }', '{ broken')).toBe(false);
  });

  it('rejects malformed JSON patterns', () => {
    for (const bad of [
      '{ $.a = }',
      '{ $.a "x" }',
      '{ a = 1 }',
      '{ $.a = 1',
      '{ ($.a = 1 }',
      '{ $.a > "x" }',
      '{ $.a = 1 && }',
      '{ $.a IS MAYBE }',
    ]) {
      expect(() => compileFilterPattern(bad), bad).toThrow(FilterPatternError);
    }
  });
});
