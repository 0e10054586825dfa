/**
 * RE2 regexes (LogQL's dialect) compiled for V8. The expression is parsed (query/regex-syntax.ts) and printed
 * back as a JavaScript regex that uses no `u` or `i` flag, because V8's linear-time fallback engine
 * (--enable-experimental-regexp-engine-on-excessive-backtracks) refuses both: case folding and Unicode classes
 * are expanded into explicit sets instead, so a catastrophic pattern from a user degrades to linear time rather
 * than hanging the process.
 *
 * Known differences from RE2, all on characters outside the Basic Multilingual Plane: `.` and negated classes
 * step over UTF-16 code units, so `^.$` does not match a lone emoji (it takes two steps). Under (?m), `^`/`$`
 * also treat \r, U+2028 and U+2029 as line ends.
 */
import type { Matcher } from './ast.js';
import { complement, foldOrbit as foldOrbitOf, type Ranges } from './regex-charset.js';
import { exactLiterals, type LiteralSet, requiredLiterals } from './regex-literals.js';
import { parseRegex, type ReNode, RegexSyntaxError } from './regex-syntax.js';

export { RegexSyntaxError } from './regex-syntax.js';
export type { LiteralSet } from './regex-literals.js';

export interface RegexOptions {
  /** Fully anchored (`^(?:…)$`), as stream selectors and label matchers are. */
  anchored: boolean;
  /** `.` matches newlines too. Defaults to true when anchored (Prometheus matcher semantics), else false. */
  dotAll?: boolean;
  /**
   * false when the caller only tests for a match (line filters, label matchers): groups are emitted
   * non-capturing, which lets counted repetitions be spelled out (see LINEAR_MAX_REPEAT). Default true.
   */
  captures?: boolean;
}

/**
 * V8's linear-time fallback engine refuses a whole regex that has a counted repetition above this count
 * (its replication limit), leaving only the backtracking engine: `(.*a){25}!` would then run for hours on
 * one short string. Without captures, such a repetition is spelled out as copies, which it accepts.
 */
const LINEAR_MAX_REPEAT = 16;
/** Spelled-out repetitions stop growing a regex past this many characters (the counted form is kept). */
const MAX_SPELLED_OUT = 64 * 1024;

export interface TranslatedRegex {
  source: string;
  flags: string;
  /** Capture group index → RE2 name (index 0 unused); JavaScript numbers groups the same way. */
  groupNames: (string | undefined)[];
  tree: ReNode;
}

/** Translates RE2 syntax to an equivalent JavaScript regex source. Throws RegexSyntaxError. */
export function translateRegex(src: string, opts: RegexOptions): TranslatedRegex {
  const dotAll = opts.dotAll ?? opts.anchored;
  const { root, groupNames } = parseRegex(src, { dotAll });
  const anchors = { multi: false, text: opts.anchored };
  scanAnchors(root, anchors);
  if (anchors.multi && anchors.text) {
    throw new RegexSyntaxError(
      `invalid regex ${JSON.stringify(src)}: (?m) line anchors cannot be combined with text anchors (\\A, \\z${opts.anchored ? ', or a fully anchored matcher' : ''}) here`,
    );
  }
  const body = emit(root, opts.captures !== false);
  const source = opts.anchored ? `^(?:${body})$` : body;
  return { source, flags: anchors.multi ? 'm' : '', groupNames, tree: root };
}

/**
 * Translations by pattern, bounded by bytes as well as entries: patterns are client input, and one may be
 * 64 KB of written-out repetitions. Past either bound the cache starts over.
 */
const cache = new Map<string, TranslatedRegex>();
const CACHE_LIMIT = 500;
const CACHE_MAX_BYTES = 8 * 1024 * 1024;
let cacheBytes = 0;

/** Bytes the translation cache holds now (tests). */
export function regexCacheBytes(): number {
  return cacheBytes;
}

function cachedTranslate(src: string, opts: RegexOptions): TranslatedRegex {
  const key = `${opts.anchored ? 'a' : 'u'}${(opts.dotAll ?? opts.anchored) ? 's' : '-'}${opts.captures === false ? 'n' : 'c'}${src}`;
  let t = cache.get(key);
  if (!t) {
    t = translateRegex(src, opts);
    // UTF-16 key and translated source; the parse tree is about as large as the pattern again.
    const size = 2 * (2 * key.length + t.source.length);
    if (size > CACHE_MAX_BYTES / 8) return t;
    if (cache.size >= CACHE_LIMIT || cacheBytes + size > CACHE_MAX_BYTES) {
      cache.clear();
      cacheBytes = 0;
    }
    cache.set(key, t);
    cacheBytes += size;
  }
  return t;
}

/** Compiles an RE2 regex for V8. Line filters are unanchored; selectors and label matchers are anchored. */
export function compileRegex(src: string, opts: RegexOptions): RegExp {
  const t = cachedTranslate(src, opts);
  return new RegExp(t.source, t.flags);
}

/** The compiled regex with its group names, for stages that extract named groups. */
export function compileRegexWithGroups(src: string, opts: RegexOptions): { regex: RegExp; groupNames: (string | undefined)[] } {
  const t = cachedTranslate(src, opts);
  return { regex: new RegExp(t.source, t.flags), groupNames: t.groupNames };
}

export interface RegexLiterals {
  /** Set when the regex matches exactly the lines containing one of these strings. */
  exact: LiteralSet | null;
  /** Set when every match contains one of these strings (a prefilter). */
  required: LiteralSet | null;
}

/** Literal facts about an unanchored line-filter regex, for indexOf prefilters. */
export function regexLiterals(src: string): RegexLiterals {
  const t = cachedTranslate(src, { anchored: false });
  const exact = exactLiterals(t.tree);
  return { exact, required: exact && exact.values.every((v) => v !== '') ? exact : requiredLiterals(t.tree) };
}

/** A label matcher as a predicate on the label's value ("" when the label is absent). */
export function compileMatcher(m: Matcher): (value: string) => boolean {
  const want = m.value;
  switch (m.op) {
    case '=':
      return (v) => v === want;
    case '!=':
      return (v) => v !== want;
    case '=~':
      return regexPredicate(want);
    case '!~': {
      const p = regexPredicate(want);
      return (v) => !p(v);
    }
  }
}

function regexPredicate(src: string): (value: string) => boolean {
  const t = cachedTranslate(src, { anchored: true, captures: false });
  if (src === '.*') return () => true;
  if (src === '.+') return (v) => v.length > 0;
  const exact = exactLiterals(t.tree);
  if (exact && exact.fold !== 'yes') {
    if (exact.values.length === 1) {
      const only = exact.values[0]!;
      return (v) => v === only;
    }
    const set = new Set(exact.values);
    return (v) => set.has(v);
  }
  const re = new RegExp(t.source, t.flags);
  return (v) => re.test(v);
}

// ---------------------------------------------------------------- printing

function scanAnchors(n: ReNode, acc: { multi: boolean; text: boolean }): void {
  switch (n.t) {
    case 'bol':
    case 'eol':
      if (n.multi) acc.multi = true;
      else acc.text = true;
      return;
    case 'group':
    case 'repeat':
      scanAnchors(n.sub, acc);
      return;
    case 'concat':
    case 'alt':
      for (const s of n.subs) scanAnchors(s, acc);
      return;
    default:
      return;
  }
}

function hex4(u: number): string {
  return '\\u' + u.toString(16).padStart(4, '0');
}

const SAFE = /[A-Za-z0-9 _!"#%&',:;<=>@`~-]/;
const SPECIAL = /[\\^$.*+?()[\]{}|/]/;

function emitChar(cp: number): string {
  if (cp < 0x80) {
    const ch = String.fromCharCode(cp);
    if (SAFE.test(ch)) return ch;
    if (SPECIAL.test(ch)) return '\\' + ch;
    return hex4(cp);
  }
  if (cp <= 0xffff) return hex4(cp);
  const s = String.fromCodePoint(cp);
  return hex4(s.charCodeAt(0)) + hex4(s.charCodeAt(1));
}

function classUnit(u: number): string {
  return (u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x5a) || (u >= 0x61 && u <= 0x7a) ? String.fromCharCode(u) : hex4(u);
}

function bmpClassBody(r: Ranges): string {
  let out = '';
  for (let i = 0; i < r.length; i += 2) {
    const lo = r[i]!;
    const hi = Math.min(r[i + 1]!, 0xffff);
    if (lo > 0xffff) break;
    out += lo === hi ? classUnit(lo) : `${classUnit(lo)}-${classUnit(hi)}`;
  }
  return out;
}

function withoutSurrogates(r: Ranges): Ranges {
  const out: Ranges = [];
  for (let i = 0; i < r.length; i += 2) {
    const lo = r[i]!;
    const hi = r[i + 1]!;
    if (hi < 0xd800 || lo > 0xdfff) out.push(lo, hi);
    else {
      if (lo < 0xd800) out.push(lo, 0xd7ff);
      if (hi > 0xdfff) out.push(0xe000, hi);
    }
  }
  return out;
}

function hasAstral(r: Ranges): boolean {
  return r.length > 0 && r[r.length - 1]! > 0xffff;
}

/** Astral ranges as surrogate-pair alternatives. */
function astralAlternatives(r: Ranges): string[] {
  const alts: string[] = [];
  for (let i = 0; i < r.length; i += 2) {
    const lo = Math.max(r[i]!, 0x10000);
    const hi = r[i + 1]!;
    if (hi < 0x10000) continue;
    const [lh, ll] = surrogates(lo);
    const [hh, hl] = surrogates(hi);
    if (lh === hh) {
      alts.push(hex4(lh) + (ll === hl ? hex4(ll) : `[${hex4(ll)}-${hex4(hl)}]`));
      continue;
    }
    alts.push(hex4(lh) + `[${hex4(ll)}-\\udfff]`);
    if (hh - lh > 1) alts.push(`[${hex4(lh + 1)}-${hex4(hh - 1)}][\\udc00-\\udfff]`);
    alts.push(hex4(hh) + `[\\udc00-${hex4(hl)}]`);
  }
  return alts;
}

function surrogates(cp: number): [number, number] {
  const v = cp - 0x10000;
  return [0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff)];
}

/** Whether the printed form is a single atom a quantifier can follow. */
function emitClass(ranges: Ranges, neg: boolean): { src: string; atom: boolean } {
  if (neg && !hasAstral(ranges)) return { src: `[^${bmpClassBody(ranges)}]`, atom: true };
  const r = neg ? complement(ranges) : ranges;
  if (r.length === 0) return { src: '[]', atom: true };
  if (!hasAstral(r)) return { src: `[${bmpClassBody(r)}]`, atom: true };
  const alts = astralAlternatives(r);
  // Surrogate halves are left out of the single-unit part so it cannot match half of an excluded pair.
  const bmp = bmpClassBody(withoutSurrogates(r));
  if (bmp) alts.push(`[${bmp}]`);
  return { src: `(?:${alts.join('|')})`, atom: true };
}

function emitNode(n: ReNode, captures: boolean): { src: string; atom: boolean } {
  switch (n.t) {
    case 'lit': {
      if (n.fold) {
        const orbit: Ranges = [];
        for (const cp of foldOrbitOf(n.cp)) orbit.push(cp, cp);
        return emitClass(orbit.sort((a, b) => a - b), false);
      }
      return { src: emitChar(n.cp), atom: n.cp <= 0xffff };
    }
    case 'class':
      return emitClass(n.ranges, n.neg);
    case 'any':
      return { src: n.nl ? '[\\s\\S]' : '[^\\n]', atom: true };
    case 'bol':
      return { src: '^', atom: false };
    case 'eol':
      return { src: '$', atom: false };
    case 'wordb':
      return { src: n.neg ? '\\B' : '\\b', atom: false };
    case 'empty':
      return { src: '', atom: false };
    case 'group': {
      const body = emit(n.sub, captures);
      if (n.index === 0 || !captures) return { src: `(?:${body})`, atom: true };
      if (n.name !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(n.name)) return { src: `(?<${n.name}>${body})`, atom: true };
      return { src: `(${body})`, atom: true };
    }
    case 'concat':
      return { src: n.subs.map((s) => emitNode(s, captures).src).join(''), atom: false };
    case 'alt':
      return { src: n.subs.map((s) => emitNode(s, captures).src).join('|'), atom: false };
    case 'repeat': {
      const sub = emitNode(n.sub, captures);
      const atom = sub.atom ? sub.src : `(?:${sub.src})`;
      if (!captures && (n.min > LINEAR_MAX_REPEAT || n.max > LINEAR_MAX_REPEAT)) {
        const spelled = spellOut(atom, n.min, n.max, n.greedy);
        if (spelled !== null) return { src: spelled, atom: false };
      }
      let q: string;
      if (n.min === 0 && n.max === -1) q = '*';
      else if (n.min === 1 && n.max === -1) q = '+';
      else if (n.min === 0 && n.max === 1) q = '?';
      else if (n.max === -1) q = `{${n.min},}`;
      else if (n.min === n.max) q = `{${n.min}}`;
      else q = `{${n.min},${n.max}}`;
      return { src: atom + q + (n.greedy ? '' : '?'), atom: false };
    }
  }
}

function emit(n: ReNode, captures: boolean): string {
  return emitNode(n, captures).src;
}

/** `atom{min,max}` (max −1: unbounded) as copies: `min` of them, then nested optional ones; null when too large. */
function spellOut(atom: string, min: number, max: number, greedy: boolean): string | null {
  const lazy = greedy ? '' : '?';
  const copies = min + (max === -1 ? 1 : max - min);
  if (copies * (atom.length + 5) > MAX_SPELLED_OUT) return null;
  const out = atom.repeat(min);
  if (max === -1) return `${out}${atom}*${lazy}`;
  let optional = '';
  for (let k = 0; k < max - min; k++) optional = `(?:${atom}${optional})?${lazy}`;
  return out + optional;
}
