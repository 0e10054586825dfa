/**
 * A parser for RE2 regular expression syntax (what LogQL regexes are), producing a small tree that
 * query/regex.ts prints as a JavaScript regex and analyses for literal prefilters. Parsing ourselves, rather than
 * patching the source text, is what lets us reject exactly what RE2 rejects, resolve inline flags per group, and
 * expand case folding so the result runs on V8's linear-time engine.
 */
import { quoteShort } from './parse-error.js';
import { complement, foldOrbit, foldRanges, normalize, PERL_CLASSES, POSIX_CLASSES, type Ranges, unicodeClass } from './regex-charset.js';

export class RegexSyntaxError extends Error {}

export type ReNode =
  /** One code point; `fold` when it matches case-insensitively. */
  | { t: 'lit'; cp: number; fold: boolean }
  /** A set of code points, case folding already applied; `neg` inverts it. */
  | { t: 'class'; ranges: Ranges; neg: boolean }
  /** `.`: `nl` when it also matches a newline ((?s)). */
  | { t: 'any'; nl: boolean }
  /** `^`/`$` (and `\A`/`\z`); `multi` for line anchors under (?m). */
  | { t: 'bol' | 'eol'; multi: boolean }
  | { t: 'wordb'; neg: boolean }
  /** `index` ≥ 1 for capturing groups, 0 for `(?:…)`. */
  | { t: 'group'; index: number; name?: string; sub: ReNode }
  | { t: 'concat'; subs: ReNode[] }
  | { t: 'alt'; subs: ReNode[] }
  /** `max` -1 means unbounded. */
  | { t: 'repeat'; min: number; max: number; greedy: boolean; sub: ReNode }
  | { t: 'empty' };

export interface ParsedRegex {
  root: ReNode;
  /** Index → name for capturing groups (index 0 unused); undefined for unnamed groups. */
  groupNames: (string | undefined)[];
}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

const UNSUPPORTED = 'is not supported: LogQL regexes use RE2 syntax, which has no backreferences/lookarounds';
const MAX_REPEAT = 1000;

/**
 * Deepest group nesting a regex may have. Parsing, printing and the literal analysis recurse once per group, and so
 * does V8's own regex compiler, so deeper nesting would overflow the stack; RE2 and Go refuse it near the same
 * depth ("expression nests too deeply").
 */
export const MAX_REGEX_NESTING = 1000;

export const REGEX_TOO_DEEP = `expression nests too deeply: more than ${MAX_REGEX_NESTING} nested groups (the limit is ${MAX_REGEX_NESTING})`;

/** `dotAll` starts the expression in (?s) mode, as label matchers are compiled. */
export function parseRegex(src: string, opts: { dotAll?: boolean } = {}): ParsedRegex {
  return new Parser(src).parse(opts.dotAll ?? false);
}

class Parser {
  private pos = 0;
  private readonly groupNames: (string | undefined)[] = [undefined];
  private readonly seenNames = new Set<string>();
  private depth = 0;

  constructor(private readonly src: string) {}

  parse(dotAll: boolean): ParsedRegex {
    const root = this.parseAlt({ i: false, m: false, s: dotAll, U: false });
    if (this.pos < this.src.length) {
      // Only an unmatched ')' stops the top-level alternation early.
      this.fail(`unexpected ) at offset ${this.pos}`);
    }
    return { root, groupNames: this.groupNames };
  }

  private fail(msg: string): never {
    throw new RegexSyntaxError(`invalid regex ${quoteShort(this.src)}: ${msg}`);
  }

  private cp(): number {
    return this.src.codePointAt(this.pos)!;
  }

  private eat(s: string): boolean {
    if (this.src.startsWith(s, this.pos)) {
      this.pos += s.length;
      return true;
    }
    return false;
  }

  /** Alternatives until ')' or the end; flags set inline persist to the end of the enclosing group. */
  private parseAlt(flags: Flags): ReNode {
    const alts: ReNode[] = [this.parseConcat(flags)];
    while (this.src[this.pos] === '|') {
      this.pos++;
      alts.push(this.parseConcat(flags));
    }
    return alts.length === 1 ? alts[0]! : { t: 'alt', subs: alts };
  }

  private parseConcat(flags: Flags): ReNode {
    const items: ReNode[] = [];
    const n = this.src.length;
    while (this.pos < n) {
      const c = this.src[this.pos]!;
      if (c === '|' || c === ')') break;
      if (c === '*' || c === '+' || c === '?') {
        this.applyRepeat(items, c === '*' ? 0 : c === '+' ? 1 : 0, c === '?' ? 1 : -1, 1, flags);
        continue;
      }
      if (c === '{') {
        const rep = /^\{(\d+)(?:(,)(\d*))?\}/.exec(this.src.slice(this.pos));
        if (rep) {
          const min = Number(rep[1]);
          const max = rep[2] === undefined ? min : rep[3] === '' ? -1 : Number(rep[3]);
          if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && max < min)) this.fail(`invalid repeat count ${rep[0]}`);
          this.applyRepeat(items, min, max, rep[0].length, flags);
          continue;
        }
        // RE2 reads a '{' that does not start a repetition as a literal.
        this.pos++;
        items.push({ t: 'lit', cp: 0x7b, fold: false });
        continue;
      }
      const atom = this.parseAtom(flags);
      if (atom) items.push(atom);
    }
    if (items.length === 0) return { t: 'empty' };
    return items.length === 1 ? items[0]! : { t: 'concat', subs: items };
  }

  private applyRepeat(items: ReNode[], min: number, max: number, len: number, flags: Flags): void {
    const op = this.src.slice(this.pos, this.pos + len);
    const prev = items[items.length - 1];
    if (!prev || (prev.t === 'empty')) this.fail(`missing argument to repetition operator ${op} at offset ${this.pos}`);
    if (prev.t === 'repeat') this.fail(`invalid nested repetition operator ${op} at offset ${this.pos}`);
    this.pos += len;
    let greedy = true;
    if (this.src[this.pos] === '?') {
      greedy = false;
      this.pos++;
    }
    if (flags.U) greedy = !greedy;
    // A repetition directly after another (`a**`) is rejected above, as RE2 does; `(a*)*` is fine.
    items[items.length - 1] = { t: 'repeat', min, max, greedy, sub: prev };
  }

  /** One atom, or null for constructs that only change flags. */
  private parseAtom(flags: Flags): ReNode | null {
    const c = this.src[this.pos]!;
    switch (c) {
      case '(':
        return this.parseGroup(flags);
      case '[':
        return this.parseClass(flags);
      case '.':
        this.pos++;
        return { t: 'any', nl: flags.s };
      case '^':
        this.pos++;
        return { t: 'bol', multi: flags.m };
      case '$':
        this.pos++;
        return { t: 'eol', multi: flags.m };
      case '\\':
        return this.parseEscape(flags);
      default: {
        const cp = this.cp();
        this.pos += cp > 0xffff ? 2 : 1;
        return this.literal(cp, flags);
      }
    }
  }

  private literal(cp: number, flags: Flags): ReNode {
    return { t: 'lit', cp, fold: flags.i && foldOrbit(cp).length > 1 };
  }

  private parseGroup(flags: Flags): ReNode | null {
    const start = this.pos;
    this.pos++; // (
    let index = 0;
    let name: string | undefined;
    const inner: Flags = { ...flags };
    if (this.src[this.pos] === '?') {
      const rest = this.src.slice(this.pos);
      if (rest.startsWith('?=') || rest.startsWith('?!')) this.fail(`lookahead ${rest.slice(0, 2) === '?=' ? '(?=' : '(?!'} at offset ${start} ${UNSUPPORTED}`);
      if (rest.startsWith('?<=') || rest.startsWith('?<!')) this.fail(`lookbehind (${rest.slice(0, 3)} at offset ${start} ${UNSUPPORTED}`);
      if (rest.startsWith('?P=') || rest.startsWith('?P>')) this.fail(`backreference (${rest.slice(0, 3)} at offset ${start} ${UNSUPPORTED}`);
      const named = /^\?P?<([^>]*)>/.exec(rest);
      if (named) {
        name = named[1]!;
        if (!/^[A-Za-z0-9_]+$/.test(name)) this.fail(`invalid capture group name ${JSON.stringify(name)} at offset ${start}: names use letters, digits and _`);
        if (this.seenNames.has(name)) this.fail(`duplicate capture group name ${JSON.stringify(name)}`);
        this.seenNames.add(name);
        this.pos += named[0].length;
        index = this.groupNames.length;
        this.groupNames.push(name);
      } else {
        const fl = /^\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
        if (!fl) this.fail(`invalid or unsupported group syntax ${JSON.stringify(rest.slice(0, 3))} at offset ${start}`);
        const target: Flags = fl[3] === ')' ? flags : inner;
        const apply = (letters: string, on: boolean) => {
          for (const f of letters) {
            if (f === 'i' || f === 'm' || f === 's' || f === 'U') target[f] = on;
            else this.fail(`unknown flag ${f} in ${JSON.stringify(fl[0])} at offset ${start}: RE2 flags are i, m, s, U`);
          }
        };
        if (fl[2] !== undefined && fl[2] === '') this.fail(`missing flags after - in ${JSON.stringify(fl[0])} at offset ${start}`);
        apply(fl[1]!, true);
        if (fl[2]) apply(fl[2], false);
        this.pos += fl[0].length;
        if (fl[3] === ')') return null; // (?i) changes the flags of the enclosing group from here on
      }
    } else {
      index = this.groupNames.length;
      this.groupNames.push(undefined);
    }
    if (++this.depth > MAX_REGEX_NESTING) this.fail(REGEX_TOO_DEEP);
    const sub = this.parseAlt(inner);
    if (this.src[this.pos] !== ')') this.fail(`missing ) to close the group opened at offset ${start}`);
    this.pos++;
    this.depth--;
    return name !== undefined ? { t: 'group', index, name, sub } : { t: 'group', index, sub };
  }

  private parseEscape(flags: Flags): ReNode {
    const start = this.pos;
    const e = this.src[this.pos + 1];
    if (e === undefined) this.fail('trailing backslash at end of expression');
    this.pos += 2;
    switch (e) {
      case 'A':
        return { t: 'bol', multi: false };
      case 'z':
        return { t: 'eol', multi: false };
      case 'b':
        return { t: 'wordb', neg: false };
      case 'B':
        return { t: 'wordb', neg: true };
      case 'Q': {
        const end = this.src.indexOf('\\E', this.pos);
        const text = this.src.slice(this.pos, end < 0 ? this.src.length : end);
        this.pos = end < 0 ? this.src.length : end + 2;
        const subs: ReNode[] = [];
        for (const ch of text) subs.push(this.literal(ch.codePointAt(0)!, flags));
        if (subs.length === 0) return { t: 'empty' };
        return subs.length === 1 ? subs[0]! : { t: 'group', index: 0, sub: { t: 'concat', subs } };
      }
      case 'k':
        this.fail(`backreference \\k at offset ${start} ${UNSUPPORTED}`);
      case 'C':
        this.fail(`\\C (any byte) at offset ${start} is not supported`);
    }
    this.pos = start;
    const set = this.classEscape(flags);
    if (set) return set;
    const cp = this.charEscape();
    return this.literal(cp, flags);
  }

  /** `\d \D \s \S \w \W \pL \p{Greek} \PL \p{^Greek}` as a class node, or null (position unchanged). */
  private classEscape(flags: Flags): { t: 'class'; ranges: Ranges; neg: boolean } | null {
    const e = this.src[this.pos + 1]!;
    const lower = e.toLowerCase();
    if (lower === 'd' || lower === 's' || lower === 'w') {
      this.pos += 2;
      return this.classNode(PERL_CLASSES[lower]!, e !== lower, flags);
    }
    if (e === 'p' || e === 'P') {
      let neg = e === 'P';
      let name: string;
      this.pos += 2;
      if (this.src[this.pos] === '{') {
        const close = this.src.indexOf('}', this.pos);
        if (close < 0) this.fail(`missing } in Unicode class at offset ${this.pos - 2}`);
        name = this.src.slice(this.pos + 1, close);
        this.pos = close + 1;
        if (name.startsWith('^')) {
          neg = !neg;
          name = name.slice(1);
        }
      } else {
        name = this.src[this.pos] ?? '';
        this.pos++;
      }
      const ranges = unicodeClass(name);
      if (!ranges) this.fail(`invalid character class range \\p{${name}}: not a Unicode category or script`);
      return this.classNode(ranges, neg, flags);
    }
    return null;
  }

  private classNode(ranges: Ranges, neg: boolean, flags: Flags): { t: 'class'; ranges: Ranges; neg: boolean } {
    const r = flags.i ? foldRanges(ranges) : ranges;
    return { t: 'class', ranges: r, neg };
  }

  /** A single-character escape at `pos` (which points at the backslash). */
  private charEscape(): number {
    const start = this.pos;
    const e = this.src[this.pos + 1]!;
    this.pos += 2;
    switch (e) {
      case 'a': return 7;
      case 'f': return 12;
      case 't': return 9;
      case 'n': return 10;
      case 'r': return 13;
      case 'v': return 11;
      case 'x': {
        if (this.src[this.pos] === '{') {
          const close = this.src.indexOf('}', this.pos);
          const hex = close < 0 ? '' : this.src.slice(this.pos + 1, close);
          if (!/^[0-9a-fA-F]{1,8}$/.test(hex) || Number.parseInt(hex, 16) > 0x10ffff) this.fail(`invalid escape sequence at offset ${start}`);
          this.pos = close + 1;
          return Number.parseInt(hex, 16);
        }
        const hex = this.src.slice(this.pos, this.pos + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) this.fail(`invalid escape sequence \\x${hex} at offset ${start}: use \\xHH or \\x{HHHH}`);
        this.pos += 2;
        return Number.parseInt(hex, 16);
      }
    }
    if (e >= '0' && e <= '7') {
      // Octal: \0 with up to two more digits, or \1-\7 followed by more digits. A lone \1 is a backreference.
      const m = /^[0-7]{1,3}/.exec(this.src.slice(this.pos - 1))!;
      if (e !== '0' && m[0].length === 1) this.fail(`backreference \\${e} at offset ${start} ${UNSUPPORTED}`);
      this.pos += m[0].length - 1;
      return Number.parseInt(m[0], 8);
    }
    if (e === '8' || e === '9') this.fail(`backreference \\${e} at offset ${start} ${UNSUPPORTED}`);
    const cp = e.codePointAt(0)!;
    if (cp < 0x80 && /[!-/:-@[-`{-~]/.test(e)) return cp;
    this.fail(`invalid escape sequence \\${e} at offset ${start}`);
  }

  private parseClass(flags: Flags): ReNode {
    const start = this.pos;
    this.pos++; // [
    let neg = false;
    if (this.src[this.pos] === '^') {
      neg = true;
      this.pos++;
    }
    const acc: Ranges = [];
    let first = true;
    for (;;) {
      if (this.pos >= this.src.length) this.fail(`missing ] to close the character class opened at offset ${start}`);
      const c = this.src[this.pos]!;
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (c === '[' && this.src[this.pos + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos));
        if (m) {
          const set = POSIX_CLASSES[m[2]!];
          if (!set) this.fail(`invalid character class range ${m[0]}: unknown POSIX class`);
          acc.push(...(m[1] ? complement(set) : set));
          this.pos += m[0].length;
          continue;
        }
      }
      if (c === '\\') {
        const n = this.src[this.pos + 1];
        if (n === 'd' || n === 'D' || n === 's' || n === 'S' || n === 'w' || n === 'W' || n === 'p' || n === 'P') {
          const node = this.classEscape({ ...flags, i: false })!;
          acc.push(...(node.neg ? complement(node.ranges) : node.ranges));
          continue;
        }
      }
      const lo = this.classChar();
      let hi = lo;
      if (this.src[this.pos] === '-' && this.src[this.pos + 1] !== ']' && this.pos + 1 < this.src.length) {
        this.pos++;
        hi = this.classChar();
        if (hi < lo) this.fail(`invalid character class range ${this.src.slice(start, this.pos)}: range end before start`);
      }
      acc.push(lo, hi);
    }
    let ranges = normalize(acc);
    if (flags.i) ranges = foldRanges(ranges);
    return { t: 'class', ranges, neg };
  }

  private classChar(): number {
    if (this.src[this.pos] === '\\') {
      const e = this.src[this.pos + 1];
      if (e === undefined) this.fail('trailing backslash at end of expression');
      if (e === 'b') {
        this.pos += 2;
        return 8; // inside a class \b is not a boundary; RE2 rejects it, but backspace is harmless
      }
      return this.charEscape();
    }
    const cp = this.cp();
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }
}
