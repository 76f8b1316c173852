/**
 * @module logs/filter-pattern
 * CloudWatch Logs filter patterns, compiled to a predicate over a log message. Pure: no I/O.
 *
 * Supported syntax (case-sensitive, as CloudWatch):
 *  - empty / blank pattern: every event matches;
 *  - text patterns: space-separated terms that must all occur (substring match), quoted phrases
 *    (`"ERROR 42"`), `?term` alternatives (at least one `?` term must occur), `-term` / `-"phrase"`
 *    exclusions (a `-` inside a term, as in `data-set`, is part of the term);
 *  - regex patterns `%…%` (JavaScript RegExp syntax);
 *  - JSON patterns `{ $.a.b[0] = "x" }`, `!=`, numeric `= != < > <= >=`, `&&`, `||` (`&&` binds
 *    tighter), parentheses, `*` wildcards in string values, `IS NULL`, `NOT EXISTS`, `IS TRUE`, `IS FALSE`.
 *
 * Not supported: space-delimited patterns (`[ip, user, ...]`); they are rejected as invalid.
 */

export type MessagePredicate = (message: string) => boolean;

/** Thrown for a pattern that does not parse; the API maps it to InvalidParameterException. */
export class FilterPatternError extends Error {
  constructor(readonly detail: string) {
    super('Invalid filter pattern');
    this.name = 'FilterPatternError';
  }
}

const MATCH_ALL: MessagePredicate = () => true;

/** Compile a filter pattern. Throws `FilterPatternError` when the pattern is invalid. */
export function compileFilterPattern(pattern: string | undefined): MessagePredicate {
  if (pattern === undefined) return MATCH_ALL;
  const p = pattern.trim();
  if (p === '') return MATCH_ALL;
  if (p.startsWith('{')) return compileJsonPattern(p);
  if (p.startsWith('[')) throw new FilterPatternError('space-delimited filter patterns are not supported');
  if (p.length >= 2 && p.startsWith('%') && p.endsWith('%')) {
    try {
      const re = new RegExp(p.slice(1, -1));
      return (m) => re.test(m);
    } catch (err) {
      throw new FilterPatternError(`bad regular expression: ${(err as Error).message}`);
    }
  }
  return compileTextPattern(p);
}

// ---------------------------------------------------------------------------------------------
// Text patterns

interface TextTerms {
  all: string[];
  any: string[];
  none: string[];
}

function compileTextPattern(p: string): MessagePredicate {
  const terms: TextTerms = { all: [], any: [], none: [] };
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    let kind: keyof TextTerms = 'all';
    if (c === '?' || c === '-') {
      kind = c === '?' ? 'any' : 'none';
      i++;
      if (i >= p.length || p[i] === ' ' || p[i] === '\t') throw new FilterPatternError(`dangling '${c}'`);
    }
    let term: string;
    if (p[i] === '"') {
      const end = readQuoted(p, i);
      term = end.value;
      i = end.next;
      if (i < p.length && p[i] !== ' ' && p[i] !== '\t')
        throw new FilterPatternError('text after closing quote');
    } else {
      const start = i;
      while (i < p.length && p[i] !== ' ' && p[i] !== '\t') {
        if (p[i] === '"') throw new FilterPatternError('quote inside a term');
        i++;
      }
      term = p.slice(start, i);
    }
    if (term === '') throw new FilterPatternError('empty term');
    terms[kind].push(term);
  }
  const { all, any, none } = terms;
  return (m) => {
    for (const t of all) if (!m.includes(t)) return false;
    for (const t of none) if (m.includes(t)) return false;
    if (any.length === 0) return true;
    for (const t of any) if (m.includes(t)) return true;
    return false;
  };
}

function readQuoted(p: string, start: number): { value: string; next: number } {
  let i = start + 1;
  let out = '';
  while (i < p.length) {
    const c = p[i]!;
    if (c === '\\' && i + 1 < p.length) {
      out += p[i + 1]!;
      i += 2;
      continue;
    }
    if (c === '"') return { value: out, next: i + 1 };
    out += c;
    i++;
  }
  throw new FilterPatternError('unterminated quote');
}

// ---------------------------------------------------------------------------------------------
// JSON patterns

type Tok =
  | { t: 'sel'; path: Array<string | number> }
  | { t: 'op'; v: '=' | '!=' | '<' | '>' | '<=' | '>=' }
  | { t: 'and' }
  | { t: 'or' }
  | { t: 'lp' }
  | { t: 'rp' }
  | { t: 'str'; v: string; quoted: boolean }
  | { t: 'num'; v: number };

type JsonNode =
  | { k: 'and' | 'or'; l: JsonNode; r: JsonNode }
  | {
      k: 'cmp';
      path: Array<string | number>;
      op: '=' | '!=' | '<' | '>' | '<=' | '>=';
      value: { num: number } | { str: string; quoted: boolean };
    }
  | { k: 'isnull' | 'notexists' | 'istrue' | 'isfalse'; path: Array<string | number> };

function compileJsonPattern(p: string): MessagePredicate {
  if (!p.endsWith('}')) throw new FilterPatternError('JSON pattern must end with }');
  const toks = tokenizeJson(p.slice(1, -1));
  let pos = 0;
  const peek = (): Tok | undefined => toks[pos];
  const next = (): Tok => {
    const t = toks[pos++];
    if (!t) throw new FilterPatternError('unexpected end of pattern');
    return t;
  };
  const parseOr = (): JsonNode => {
    let l = parseAnd();
    while (peek()?.t === 'or') {
      pos++;
      l = { k: 'or', l, r: parseAnd() };
    }
    return l;
  };
  const parseAnd = (): JsonNode => {
    let l = parsePrimary();
    while (peek()?.t === 'and') {
      pos++;
      l = { k: 'and', l, r: parsePrimary() };
    }
    return l;
  };
  const parsePrimary = (): JsonNode => {
    const t = next();
    if (t.t === 'lp') {
      const inner = parseOr();
      if (next().t !== 'rp') throw new FilterPatternError('missing )');
      return inner;
    }
    if (t.t !== 'sel') throw new FilterPatternError('expected a $. selector');
    const o = next();
    if (o.t === 'str' && !o.quoted) {
      const w1 = o.v.toUpperCase();
      const w2 = next();
      const w2v = w2.t === 'str' && !w2.quoted ? w2.v.toUpperCase() : '';
      if (w1 === 'IS' && w2v === 'NULL') return { k: 'isnull', path: t.path };
      if (w1 === 'IS' && w2v === 'TRUE') return { k: 'istrue', path: t.path };
      if (w1 === 'IS' && w2v === 'FALSE') return { k: 'isfalse', path: t.path };
      if (w1 === 'NOT' && w2v === 'EXISTS') return { k: 'notexists', path: t.path };
      throw new FilterPatternError(`unknown keyword ${o.v}`);
    }
    if (o.t !== 'op') throw new FilterPatternError('expected an operator');
    const v = next();
    if (v.t === 'num') return { k: 'cmp', path: t.path, op: o.v, value: { num: v.v } };
    if (v.t === 'str') {
      if (o.v !== '=' && o.v !== '!=') throw new FilterPatternError('strings support only = and !=');
      return { k: 'cmp', path: t.path, op: o.v, value: { str: v.v, quoted: v.quoted } };
    }
    throw new FilterPatternError('expected a value');
  };
  const tree = parseOr();
  if (pos !== toks.length) throw new FilterPatternError('unexpected trailing tokens');
  const test = buildJsonPredicate(tree);
  return (m) => {
    const s = m.trimStart();
    if (!s.startsWith('{') && !s.startsWith('[')) return false;
    let doc: unknown;
    try {
      doc = JSON.parse(s);
    } catch {
      return false;
    }
    return test(doc);
  };
}

function tokenizeJson(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const isWordChar = (c: string): boolean => /[A-Za-z0-9_.\-*:/@+]/.test(c);
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '(') {
      out.push({ t: 'lp' });
      i++;
    } else if (c === ')') {
      out.push({ t: 'rp' });
      i++;
    } else if (src.startsWith('&&', i)) {
      out.push({ t: 'and' });
      i += 2;
    } else if (src.startsWith('||', i)) {
      out.push({ t: 'or' });
      i += 2;
    } else if (src.startsWith('!=', i) || src.startsWith('<=', i) || src.startsWith('>=', i)) {
      out.push({ t: 'op', v: src.slice(i, i + 2) as '!=' | '<=' | '>=' });
      i += 2;
    } else if (c === '=' || c === '<' || c === '>') {
      out.push({ t: 'op', v: c });
      i++;
    } else if (c === '"') {
      const q = readQuoted(src, i);
      out.push({ t: 'str', v: q.value, quoted: true });
      i = q.next;
    } else if (c === '$') {
      const r = readSelector(src, i);
      out.push({ t: 'sel', path: r.path });
      i = r.next;
    } else if (isWordChar(c)) {
      const start = i;
      while (i < src.length && isWordChar(src[i]!)) i++;
      const word = src.slice(start, i);
      if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(word)) out.push({ t: 'num', v: Number(word) });
      else out.push({ t: 'str', v: word, quoted: false });
    } else {
      throw new FilterPatternError(`unexpected character '${c}'`);
    }
  }
  return out;
}

function readSelector(src: string, start: number): { path: Array<string | number>; next: number } {
  let i = start + 1;
  const path: Array<string | number> = [];
  while (i < src.length) {
    const c = src[i]!;
    if (c === '.') {
      i++;
      const s = i;
      while (i < src.length && /[A-Za-z0-9_\-@$]/.test(src[i]!)) i++;
      if (i === s) {
        if (src[i] === '*') throw new FilterPatternError('wildcard selectors are not supported');
        throw new FilterPatternError('empty selector member');
      }
      path.push(src.slice(s, i));
    } else if (c === '[') {
      const close = src.indexOf(']', i);
      if (close < 0) throw new FilterPatternError('missing ]');
      const idx = src.slice(i + 1, close).trim();
      if (!/^\d+$/.test(idx)) throw new FilterPatternError('array index must be a number');
      path.push(Number(idx));
      i = close + 1;
    } else {
      break;
    }
  }
  if (path.length === 0) throw new FilterPatternError('selector must start with $.');
  return { path, next: i };
}

const MISSING = Symbol('missing');

function select(doc: unknown, path: ReadonlyArray<string | number>): unknown {
  let cur: unknown = doc;
  for (const key of path) {
    if (typeof key === 'number') {
      if (!Array.isArray(cur) || key >= cur.length) return MISSING;
      cur = cur[key];
    } else {
      if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return MISSING;
      if (!Object.prototype.hasOwnProperty.call(cur, key)) return MISSING;
      cur = (cur as Record<string, unknown>)[key];
    }
  }
  return cur;
}

function wildcardRegExp(value: string): RegExp {
  const escaped = value.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 's');
}

function buildJsonPredicate(node: JsonNode): (doc: unknown) => boolean {
  switch (node.k) {
    case 'and': {
      const l = buildJsonPredicate(node.l);
      const r = buildJsonPredicate(node.r);
      return (d) => l(d) && r(d);
    }
    case 'or': {
      const l = buildJsonPredicate(node.l);
      const r = buildJsonPredicate(node.r);
      return (d) => l(d) || r(d);
    }
    case 'isnull':
      return (d) => select(d, node.path) === null;
    case 'notexists':
      return (d) => select(d, node.path) === MISSING;
    case 'istrue':
      return (d) => select(d, node.path) === true;
    case 'isfalse':
      return (d) => select(d, node.path) === false;
    case 'cmp': {
      const { path, op, value } = node;
      if ('num' in value) {
        const n = value.num;
        return (d) => {
          const v = select(d, path);
          if (typeof v !== 'number') return false;
          switch (op) {
            case '=':
              return v === n;
            case '!=':
              return v !== n;
            case '<':
              return v < n;
            case '>':
              return v > n;
            case '<=':
              return v <= n;
            case '>=':
              return v >= n;
          }
        };
      }
      const re = value.str.includes('*') ? wildcardRegExp(value.str) : undefined;
      const want = value.str;
      const eq = (v: unknown): boolean => {
        if (typeof v === 'string') return re ? re.test(v) : v === want;
        // Unquoted true/false/null compare with JSON literals.
        if (!value.quoted && (typeof v === 'boolean' || v === null)) return String(v) === want;
        return false;
      };
      return op === '='
        ? (d) => eq(select(d, path))
        : (d) => {
            const v = select(d, path);
            return v !== MISSING && !eq(v);
          };
    }
  }
}
