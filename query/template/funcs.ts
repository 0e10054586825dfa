/**
 * The template functions Loki offers in line_format and label_format: Go's builtins (comparisons, printf, len),
 * Go strings functions (ToUpper, TrimPrefix — subject first) and sprig functions (trimPrefix, replace, add —
 * subject last, so they read well after a pipe), plus __line__ and __timestamp__.
 */
import { compileRegex } from '../regex.js';
import { parseGoDuration, parseHumanBytes } from '../units.js';
import { sprintf } from './printf.js';
import { formatGoTime } from './time-layout.js';
import {
  asString,
  GoInt,
  GoTime,
  isEmpty,
  LabelMap,
  NO_VALUE,
  printValue,
  TemplateExecError,
  toFloat,
  toInt,
  type TValue,
  typeName,
} from './values.js';

/** What functions can see of the entry being formatted, and the budget they build strings from. */
export interface ExecContext {
  line: string;
  ts: bigint;
  /**
   * Charges `chars` characters a function is about to build to this execution's budget; throws
   * TemplateSizeError past it. Functions whose output can outgrow their inputs (repeat, padding,
   * replace) charge before they allocate, so a template cannot make the process allocate gigabytes.
   */
  reserve(chars: number, fn: string): void;
}

export interface TemplateFunc {
  min: number;
  max: number;
  call(args: TValue[], ctx: ExecContext): TValue;
}

const fn = (min: number, max: number, call: (a: TValue[], ctx: ExecContext) => TValue): TemplateFunc => ({ min, max, call });
const str1 = (name: string, f: (s: string) => string) => fn(1, 1, (a) => f(asString(a[0]!, name)));
const str2 = (name: string, f: (x: string, y: string) => TValue) => fn(2, 2, (a) => f(asString(a[0]!, name), asString(a[1]!, name)));

/** Occurrences of `sub` in `s` as Go's strings.Count counts them (an empty `sub` matches between every character). */
function countOf(s: string, sub: string): number {
  if (sub === '') return s.length + 1;
  let n = 0;
  for (let at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length)) n++;
  return n;
}

function intResult(v: number): GoInt {
  return new GoInt(Math.trunc(v));
}

function trimSet(s: string, cutset: string, left: boolean, right: boolean): string {
  const set = new Set([...cutset]);
  const chars = [...s];
  let a = 0;
  let b = chars.length;
  if (left) while (a < b && set.has(chars[a]!)) a++;
  if (right) while (b > a && set.has(chars[b - 1]!)) b--;
  return chars.slice(a, b).join('');
}

function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, pre: string, ch: string) => pre + ch.toUpperCase());
}

const regexCache = new Map<string, RegExp>();

function globalRegex(src: string, fnName: string): RegExp {
  let re = regexCache.get(src);
  if (!re) {
    try {
      const base = compileRegex(src, { anchored: false });
      re = new RegExp(base.source, base.flags + 'g');
    } catch (e) {
      throw new TemplateExecError(`error calling ${fnName}: ${(e as Error).message}`);
    }
    if (regexCache.size > 200) regexCache.clear();
    regexCache.set(src, re);
  }
  re.lastIndex = 0;
  return re;
}

/** Go's Regexp.Expand template syntax: `$1`, `${1}`, `$name`, `${name}`, `$$`; a name takes the longest word run. */
function expand(repl: string, m: RegExpExecArray): string {
  return repl.replace(/\$(?:\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (all, braced: string | undefined, bare: string | undefined) => {
    if (all === '$$') return '$';
    const name = braced ?? bare!;
    if (/^\d+$/.test(name)) return m[Number(name)] ?? '';
    return m.groups?.[name] ?? '';
  });
}

function timeArg(v: TValue, name: string): bigint {
  if (v instanceof GoTime) return v.ns;
  if (v instanceof GoInt) return BigInt(v.v) * 1_000_000_000n;
  if (typeof v === 'number') return BigInt(Math.trunc(v)) * 1_000_000_000n;
  throw new TemplateExecError(`error calling ${name}: wrong type for value; expected time.Time; got ${typeName(v)}`);
}

/** Go's comparison rules for eq/lt/…: same basic kind (numbers together), never a missing value. */
function comparable(a: TValue, b: TValue, name: string): [number | string | boolean, number | string | boolean] {
  const norm = (v: TValue): number | string | boolean => {
    if (v instanceof GoInt) return v.v;
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
    throw new TemplateExecError(`error calling ${name}: invalid type for comparison`);
  };
  const x = norm(a);
  const y = norm(b);
  if (typeof x !== typeof y) throw new TemplateExecError(`error calling ${name}: incompatible types for comparison`);
  return [x, y];
}

function ordered(name: string, test: (c: number) => boolean): TemplateFunc {
  return fn(2, 2, (a) => {
    const [x, y] = comparable(a[0]!, a[1]!, name);
    if (typeof x === 'boolean') throw new TemplateExecError(`error calling ${name}: invalid type for comparison`);
    return test(x < y ? -1 : x > y ? 1 : 0);
  });
}

function unixToTime(s: string): GoTime {
  if (!/^-?\d+$/.test(s)) throw new TemplateExecError(`error calling unixToTime: invalid epoch ${JSON.stringify(s)}`);
  const digits = s.replace('-', '').length;
  const v = BigInt(s);
  if (digits <= 10) return new GoTime(v * 1_000_000_000n);
  if (digits <= 13) return new GoTime(v * 1_000_000n);
  if (digits <= 16) return new GoTime(v * 1000n);
  return new GoTime(v);
}

export const FUNCS: Record<string, TemplateFunc> = {
  __line__: fn(0, 0, (_a, ctx) => ctx.line),
  __timestamp__: fn(0, 0, (_a, ctx) => new GoTime(ctx.ts)),

  // Go strings package: the subject comes first.
  ToUpper: str1('ToUpper', (s) => s.toUpperCase()),
  ToLower: str1('ToLower', (s) => s.toLowerCase()),
  TrimSpace: str1('TrimSpace', (s) => s.trim()),
  Title: str1('Title', title),
  Trim: str2('Trim', (s, c) => trimSet(s, c, true, true)),
  TrimLeft: str2('TrimLeft', (s, c) => trimSet(s, c, true, false)),
  TrimRight: str2('TrimRight', (s, c) => trimSet(s, c, false, true)),
  TrimPrefix: str2('TrimPrefix', (s, p) => (s.startsWith(p) ? s.slice(p.length) : s)),
  TrimSuffix: str2('TrimSuffix', (s, p) => (p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s)),
  Replace: fn(4, 4, (a, ctx) => {
    const s = asString(a[0]!, 'Replace');
    const oldS = asString(a[1]!, 'Replace');
    const newS = asString(a[2]!, 'Replace');
    let n = toInt(a[3]!);
    const hits = countOf(s, oldS);
    ctx.reserve(s.length + (n < 0 ? hits : Math.min(n, hits)) * newS.length, 'Replace');
    if (n < 0) return s.split(oldS).join(newS);
    let out = '';
    let rest = s;
    while (n-- > 0) {
      const at = rest.indexOf(oldS);
      if (at < 0) break;
      out += rest.slice(0, at) + newS;
      rest = rest.slice(at + oldS.length);
    }
    return out + rest;
  }),

  // sprig: the subject comes last.
  lower: str1('lower', (s) => s.toLowerCase()),
  upper: str1('upper', (s) => s.toUpperCase()),
  title: str1('title', title),
  trim: str1('trim', (s) => s.trim()),
  trimAll: str2('trimAll', (c, s) => trimSet(s, c, true, true)),
  trimPrefix: str2('trimPrefix', (p, s) => (s.startsWith(p) ? s.slice(p.length) : s)),
  trimSuffix: str2('trimSuffix', (p, s) => (p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s)),
  contains: str2('contains', (sub, s) => s.includes(sub)),
  hasPrefix: str2('hasPrefix', (p, s) => s.startsWith(p)),
  hasSuffix: str2('hasSuffix', (p, s) => s.endsWith(p)),
  replace: fn(3, 3, (a, ctx) => {
    const s = asString(a[2]!, 'replace');
    const oldS = asString(a[0]!, 'replace');
    const newS = asString(a[1]!, 'replace');
    ctx.reserve(s.length + countOf(s, oldS) * newS.length, 'replace');
    return s.split(oldS).join(newS);
  }),
  repeat: fn(2, 2, (a, ctx) => {
    const n = Math.max(0, toInt(a[0]!));
    const s = asString(a[1]!, 'repeat');
    ctx.reserve(n * s.length, 'repeat');
    return s.repeat(n);
  }),
  trunc: fn(2, 2, (a) => {
    const n = toInt(a[0]!);
    const s = asString(a[1]!, 'trunc');
    if (n >= 0) return s.length > n ? s.slice(0, n) : s;
    return s.length + n > 0 ? s.slice(s.length + n) : s;
  }),
  substr: fn(3, 3, (a) => {
    const start = toInt(a[0]!);
    const end = toInt(a[1]!);
    const s = asString(a[2]!, 'substr');
    if (start < 0) return s.slice(0, end);
    if (end < 0 || end > s.length) return s.slice(start);
    return s.slice(start, end);
  }),
  indent: fn(2, 2, (a, ctx) => {
    const n = Math.max(0, toInt(a[0]!));
    const s = asString(a[1]!, 'indent');
    ctx.reserve(s.length + (countOf(s, '\n') + 1) * n, 'indent');
    const pad = ' '.repeat(n);
    return pad + s.replace(/\n/g, '\n' + pad);
  }),
  nindent: fn(2, 2, (a, ctx) => {
    const n = Math.max(0, toInt(a[0]!));
    const s = asString(a[1]!, 'nindent');
    ctx.reserve(1 + s.length + (countOf(s, '\n') + 1) * n, 'nindent');
    const pad = ' '.repeat(n);
    return '\n' + pad + s.replace(/\n/g, '\n' + pad);
  }),
  alignLeft: fn(2, 2, (a, ctx) => {
    const n = toInt(a[0]!);
    ctx.reserve(n, 'alignLeft');
    const s = asString(a[1]!, 'alignLeft');
    const chars = [...s];
    return chars.length >= n ? chars.slice(0, n).join('') : s + ' '.repeat(n - chars.length);
  }),
  alignRight: fn(2, 2, (a, ctx) => {
    const n = toInt(a[0]!);
    ctx.reserve(n, 'alignRight');
    const s = asString(a[1]!, 'alignRight');
    const chars = [...s];
    return chars.length >= n ? chars.slice(chars.length - n).join('') : ' '.repeat(n - chars.length) + s;
  }),
  default: fn(2, 2, (a) => (isEmpty(a[1]!) ? a[0]! : a[1]!)),
  regexReplaceAll: fn(3, 3, (a, ctx) => {
    const re = globalRegex(asString(a[0]!, 'regexReplaceAll'), 'regexReplaceAll');
    const repl = asString(a[2]!, 'regexReplaceAll');
    const s = asString(a[1]!, 'regexReplaceAll');
    ctx.reserve(s.length, 'regexReplaceAll');
    return s.replace(re, (...args) => {
      const groups = args[args.length - 1];
      const hasGroups = typeof groups === 'object' && groups !== null;
      const caps = args.slice(0, hasGroups ? -3 : -2) as string[];
      const m = Object.assign(caps, { groups: hasGroups ? groups : undefined, index: 0, input: '' }) as unknown as RegExpExecArray;
      const out = expand(repl, m);
      ctx.reserve(out.length, 'regexReplaceAll');
      return out;
    });
  }),
  regexReplaceAllLiteral: fn(3, 3, (a, ctx) => {
    const re = globalRegex(asString(a[0]!, 'regexReplaceAllLiteral'), 'regexReplaceAllLiteral');
    const repl = asString(a[2]!, 'regexReplaceAllLiteral');
    const s = asString(a[1]!, 'regexReplaceAllLiteral');
    ctx.reserve(s.length, 'regexReplaceAllLiteral');
    return s.replace(re, () => {
      ctx.reserve(repl.length, 'regexReplaceAllLiteral');
      return repl;
    });
  }),
  b64enc: str1('b64enc', (s) => Buffer.from(s, 'utf8').toString('base64')),
  b64dec: str1('b64dec', (s) => Buffer.from(s, 'base64').toString('utf8')),
  urlencode: str1('urlencode', (s) => new URLSearchParams({ q: s }).toString().slice(2)),
  urldecode: str1('urldecode', (s) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      throw new TemplateExecError(`error calling urldecode: invalid escape in ${JSON.stringify(s)}`);
    }
  }),

  // Numbers: sprig's integer arithmetic truncates, the `f` variants work in float64.
  int: fn(1, 1, (a) => new GoInt(toInt(a[0]!))),
  float64: fn(1, 1, (a) => toFloat(a[0]!)),
  add: fn(1, Infinity, (a) => intResult(a.reduce((s: number, v) => s + toInt(v), 0))),
  sub: fn(2, 2, (a) => intResult(toInt(a[0]!) - toInt(a[1]!))),
  mul: fn(1, Infinity, (a) => intResult(a.reduce((s: number, v) => s * toInt(v), 1))),
  div: fn(2, 2, (a) => {
    const d = toInt(a[1]!);
    if (d === 0) throw new TemplateExecError('error calling div: runtime error: integer divide by zero');
    return intResult(toInt(a[0]!) / d);
  }),
  mod: fn(2, 2, (a) => {
    const d = toInt(a[1]!);
    if (d === 0) throw new TemplateExecError('error calling mod: runtime error: integer divide by zero');
    return intResult(toInt(a[0]!) % d);
  }),
  addf: fn(1, Infinity, (a) => a.reduce((s: number, v) => s + toFloat(v), 0)),
  subf: fn(1, Infinity, (a) => a.slice(1).reduce((s: number, v) => s - toFloat(v), toFloat(a[0]!))),
  mulf: fn(1, Infinity, (a) => a.reduce((s: number, v) => s * toFloat(v), 1)),
  divf: fn(1, Infinity, (a) => a.slice(1).reduce((s: number, v) => s / toFloat(v), toFloat(a[0]!))),
  max: fn(1, Infinity, (a) => new GoInt(Math.max(...a.map(toInt)))),
  min: fn(1, Infinity, (a) => new GoInt(Math.min(...a.map(toInt)))),
  maxf: fn(1, Infinity, (a) => Math.max(...a.map(toFloat))),
  minf: fn(1, Infinity, (a) => Math.min(...a.map(toFloat))),
  ceil: fn(1, 1, (a) => Math.ceil(toFloat(a[0]!))),
  floor: fn(1, 1, (a) => Math.floor(toFloat(a[0]!))),
  round: fn(1, 3, (a) => {
    const p = a.length > 1 ? toInt(a[1]!) : 0;
    const f = 10 ** p;
    return Math.round(toFloat(a[0]!) * f) / f;
  }),
  bytes: fn(1, 1, (a) => {
    try {
      return new GoInt(parseHumanBytes(asString(a[0]!, 'bytes')));
    } catch (e) {
      throw new TemplateExecError(`error calling bytes: ${(e as Error).message}`);
    }
  }),
  duration: fn(1, 1, (a) => durationSeconds(a[0]!, 'duration')),
  duration_seconds: fn(1, 1, (a) => durationSeconds(a[0]!, 'duration_seconds')),

  // Time.
  date: fn(2, 2, (a) => formatGoTime(timeArg(a[1]!, 'date'), asString(a[0]!, 'date'))),
  unixEpoch: fn(1, 1, (a) => String(timeArg(a[0]!, 'unixEpoch') / 1_000_000_000n)),
  unixEpochMillis: fn(1, 1, (a) => String(timeArg(a[0]!, 'unixEpochMillis') / 1_000_000n)),
  unixEpochNanos: fn(1, 1, (a) => String(timeArg(a[0]!, 'unixEpochNanos'))),
  unixToTime: fn(1, 1, (a) => unixToTime(asString(a[0]!, 'unixToTime'))),

  // Go builtins. `and`/`or` are evaluated lazily by the executor; these are for completeness.
  and: fn(1, Infinity, (a) => a.find((v) => isEmpty(v)) ?? a[a.length - 1]!),
  or: fn(1, Infinity, (a) => a.find((v) => !isEmpty(v)) ?? a[a.length - 1]!),
  not: fn(1, 1, (a) => isEmpty(a[0]!)),
  len: fn(1, 1, (a) => {
    const v = a[0]!;
    if (typeof v === 'string') return new GoInt(Buffer.byteLength(v));
    if (v instanceof LabelMap) return new GoInt(v.entries().length);
    throw new TemplateExecError(`error calling len: len of ${v === NO_VALUE ? 'nil pointer' : `type ${typeName(v)}`}`);
  }),
  eq: fn(2, Infinity, (a) => {
    for (let i = 1; i < a.length; i++) {
      const [x, y] = comparable(a[0]!, a[i]!, 'eq');
      if (x === y) return true;
    }
    return false;
  }),
  ne: fn(2, 2, (a) => {
    const [x, y] = comparable(a[0]!, a[1]!, 'ne');
    return x !== y;
  }),
  lt: ordered('lt', (c) => c < 0),
  le: ordered('le', (c) => c <= 0),
  gt: ordered('gt', (c) => c > 0),
  ge: ordered('ge', (c) => c >= 0),
  printf: fn(1, Infinity, (a, ctx) => sprintf(asString(a[0]!, 'printf'), a.slice(1), (n) => ctx.reserve(n, 'printf'))),
  print: fn(0, Infinity, (a) => {
    // Go's fmt.Sprint puts spaces between operands when neither is a string.
    let out = '';
    a.forEach((v, i) => {
      if (i > 0 && typeof v !== 'string' && typeof a[i - 1] !== 'string') out += ' ';
      out += printValue(v);
    });
    return out;
  }),
  println: fn(0, Infinity, (a) => a.map(printValue).join(' ') + '\n'),
};

function durationSeconds(v: TValue, name: string): number {
  try {
    return Number(parseGoDuration(asString(v, name))) / 1e9;
  } catch (e) {
    if (e instanceof TemplateExecError) throw e;
    throw new TemplateExecError(`error calling ${name}: ${(e as Error).message}`);
  }
}
