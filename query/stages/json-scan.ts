/**
 * A validating JSON scanner over a line's UTF-8 bytes that extracts only the flattened fields a query
 * needs (see required-labels.ts), without decoding the line or building its object. It is exactly as
 * strict as JSON.parse on the decoded line (structure, escapes, numbers, literals, whitespace) and
 * reports `false` — "use JSON.parse instead" — whenever its answer could differ from the full path:
 * invalid JSON (the error message must be JSON.parse's), a wanted name set twice (duplicate keys, keys
 * colliding after sanitisation, or integer-like keys that JavaScript would reorder), or pathological depth.
 * Whatever it extracts is only applied on success.
 *
 * Every bytes-level decision is sound because JSON's structural characters are ASCII, and in UTF-8 an
 * ASCII byte always stands for itself (a decoder never swallows one into a replacement character).
 * The positions are passed and returned as plain numbers so the hot loops keep them in registers.
 */
import { formatJsonNumber } from '../units.js';
import { sanitizeLabelName } from './labels-builder.js';

/** The flattened names to extract, and the object names on the way to them (`a` and `a_b` for `a_b_c`). */
export class JsonWant {
  readonly names: ReadonlySet<string>;
  readonly prefixes: ReadonlySet<string>;
  /** Lengths of every wanted or prefix name: a key whose full name has another length is skipped unread. */
  readonly lengths: Uint8Array;

  constructor(required: ReadonlySet<string>) {
    const names = new Set<string>();
    for (const r of required) {
      names.add(r);
      // A field clashing with a stream label is extracted as name_extracted.
      if (r.endsWith('_extracted')) names.add(r.slice(0, -'_extracted'.length));
    }
    const prefixes = new Set<string>();
    for (const n of names) for (let i = n.indexOf('_', 1); i > 0; i = n.indexOf('_', i + 1)) prefixes.add(n.slice(0, i));
    this.names = names;
    this.prefixes = prefixes;
    this.lengths = new Uint8Array(257);
    for (const n of [...names, ...prefixes]) this.lengths[Math.min(n.length, 256)] = 1;
  }

  relevant(name: string): boolean {
    return this.names.has(name) || this.prefixes.has(name);
  }
}

const MAX_DEPTH = 512;

const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Thrown inside the scanner to unwind to `scan`; never escapes this module. */
const FALLBACK = { fallback: true };

function fail(): never {
  throw FALLBACK;
}

function skipWs(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** Flags of the last string skipped. */
const ESCAPED = 1;
/** A byte that makes a key's label name differ in length from its bytes (non-ASCII, space). */
const IRREGULAR = 2;
let stringFlags = 0;

/** Skips a string whose opening quote is at `i - 1`, validating it; returns the index after the closing quote. */
function skipStringBody(b: Uint8Array, i: number, end: number): number {
  let flags = 0;
  for (;;) {
    if (i >= end) fail();
    const c = b[i]!;
    // Most bytes are letters above the backslash: one comparison.
    if (c > BACKSLASH) {
      if (c >= 0x80) flags |= IRREGULAR;
      i++;
      continue;
    }
    if (c === QUOTE) break;
    if (c < 0x20) fail();
    if (c === BACKSLASH) {
      flags |= ESCAPED;
      if (i + 1 >= end) fail();
      const e = b[i + 1]!;
      if (e === 0x75 /* u */) {
        if (i + 5 >= end || !isHex(b[i + 2]!) || !isHex(b[i + 3]!) || !isHex(b[i + 4]!) || !isHex(b[i + 5]!)) fail();
        i += 6;
        continue;
      }
      if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) fail();
      i += 2;
      continue;
    }
    if (c === 0x20) flags |= IRREGULAR;
    i++;
  }
  stringFlags = flags;
  return i + 1;
}

function skipDigits(b: Uint8Array, i: number, end: number): number {
  const s = i;
  while (i < end && b[i]! >= ZERO && b[i]! <= NINE) i++;
  if (i === s) fail();
  return i;
}

function skipNumber(b: Uint8Array, i: number, end: number): number {
  if (b[i] === MINUS) i++;
  if (i >= end) fail();
  if (b[i] === ZERO) i++;
  else i = skipDigits(b, i, end);
  if (i < end && b[i] === DOT) i = skipDigits(b, i + 1, end);
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    if (i < end && (b[i] === 0x2b || b[i] === MINUS)) i++;
    i = skipDigits(b, i, end);
  }
  return i;
}

function skipLiteral(b: Uint8Array, i: number, end: number, word: string): number {
  if (i + word.length > end) fail();
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) fail();
  return i + word.length;
}

/** Inside an object being skipped, at a key: the key, the colon, whitespace; returns the value's index. */
function skipKeyColon(b: Uint8Array, i: number, end: number): number {
  if (i >= end || b[i] !== QUOTE) fail();
  i = skipWs(b, skipStringBody(b, i + 1, end), end);
  if (i >= end || b[i] !== COLON) fail();
  return skipWs(b, i + 1, end);
}

/** Skips any value at `i`, validating it; nesting is tracked in `stack`, not by recursion. */
function skipValue(b: Uint8Array, i: number, end: number, stack: Uint8Array): number {
  if (i >= end) fail();
  const first = b[i]!;
  // Scalars, the common case, without the container machinery.
  if (first === QUOTE) return skipStringBody(b, i + 1, end);
  if (first === MINUS || (first >= ZERO && first <= NINE)) return skipNumber(b, i, end);
  let depth = 0;
  for (;;) {
    // At the start of a value.
    if (i >= end) fail();
    const c = b[i]!;
    if (c === QUOTE) i = skipStringBody(b, i + 1, end);
    else if (c === LBRACE || c === LBRACKET) {
      i = skipWs(b, i + 1, end);
      if (i >= end) fail();
      if (b[i] === (c === LBRACE ? RBRACE : RBRACKET)) i++;
      else {
        if (depth >= MAX_DEPTH) fail();
        stack[depth++] = c === LBRACE ? 1 : 0;
        if (c === LBRACE) i = skipKeyColon(b, i, end);
        continue;
      }
    } else if (c === 0x74) i = skipLiteral(b, i, end, 'true');
    else if (c === 0x66) i = skipLiteral(b, i, end, 'false');
    else if (c === 0x6e) i = skipLiteral(b, i, end, 'null');
    else if (c === MINUS || (c >= ZERO && c <= NINE)) i = skipNumber(b, i, end);
    else fail();
    // After a value: close containers, or move to the next element.
    for (;;) {
      if (depth === 0) return i;
      i = skipWs(b, i, end);
      if (i >= end) fail();
      const d = b[i]!;
      const inObject = stack[depth - 1] === 1;
      if (d === COMMA) {
        i = skipWs(b, i + 1, end);
        if (inObject) i = skipKeyColon(b, i, end);
        break;
      }
      if (d === (inObject ? RBRACE : RBRACKET)) {
        i++;
        depth--;
        continue;
      }
      fail();
    }
  }
}

/**
 * Scans one line. On success the wanted fields found, in document order, are `names[0..count)` /
 * `values[0..count)` and the result is true; on false the caller must use the full path.
 */
export class JsonFieldScanner {
  readonly names: string[] = [];
  readonly values: string[] = [];
  count = 0;
  private buf: Buffer = Buffer.alloc(0);
  /** (object id, name) of relevant keys already seen, for duplicate detection. */
  private readonly seenObj: number[] = [];
  private readonly seenName: string[] = [];
  private seen = 0;
  private objects = 0;
  private readonly stack = new Uint8Array(MAX_DEPTH + 1);

  constructor(private readonly want: JsonWant) {}

  scan(buf: Buffer, start: number, end: number): boolean {
    this.count = 0;
    this.seen = 0;
    this.objects = 0;
    this.buf = buf;
    try {
      let i = skipWs(buf, start, end);
      if (i >= end || buf[i] !== LBRACE) return false;
      i = skipWs(buf, this.object(buf, i, end, '', 0), end);
      if (i !== end) return false;
    } catch (e) {
      if (e === FALLBACK) return false;
      throw e;
    }
    // A wanted name set twice: which one wins depends on JavaScript's key order; let JSON.parse decide.
    const names = this.names;
    for (let x = 1; x < this.count; x++) for (let y = 0; y < x; y++) if (names[x] === names[y]) return false;
    return true;
  }

  /** An object at `i` whose keys are considered for extraction; `prefix` is its flattened name. Returns the index after it. */
  private object(b: Buffer, i: number, end: number, prefix: string, depth: number): number {
    if (depth > MAX_DEPTH) fail();
    const want = this.want;
    const lengths = want.lengths;
    const prefixLen = prefix === '' ? 0 : prefix.length + 1;
    const id = this.objects++;
    i = skipWs(b, i + 1, end);
    if (i < end && b[i] === RBRACE) return i + 1;
    for (;;) {
      if (i >= end || b[i] !== QUOTE) fail();
      const keyStart = i + 1;
      i = skipStringBody(b, keyStart, end);
      const keyEnd = i - 1;
      const flags = stringFlags;
      i = skipWs(b, i, end);
      if (i >= end || b[i] !== COLON) fail();
      i = skipWs(b, i + 1, end);
      if (i >= end) fail();

      // An ASCII key without spaces or escapes sanitises to a name of its own length (plus a `_` before a
      // leading digit), so most keys are dismissed by length without being decoded.
      let name: string | null = null;
      let len = keyEnd - keyStart;
      if (len > 0 && b[keyStart]! >= ZERO && b[keyStart]! <= NINE) len++;
      if (flags !== 0 || lengths[Math.min(prefixLen + len, 256)] === 1) {
        const raw = flags & ESCAPED ? this.stringText(keyStart, keyEnd) : b.toString(flags & IRREGULAR ? 'utf8' : 'latin1', keyStart, keyEnd);
        const part = sanitizeLabelName(raw);
        if (part !== '') {
          const full = prefix === '' ? part : prefix + '_' + part;
          if (want.relevant(full)) name = full;
        }
      }
      if (name !== null) {
        for (let k = 0; k < this.seen; k++) if (this.seenObj[k] === id && this.seenName[k] === name) fail();
        this.seenObj[this.seen] = id;
        this.seenName[this.seen++] = name;
        i = this.relevantValue(b, i, end, name, depth);
      } else {
        i = skipValue(b, i, end, this.stack);
      }
      i = skipWs(b, i, end);
      if (i >= end) fail();
      const c = b[i]!;
      if (c === COMMA) {
        i = skipWs(b, i + 1, end);
        continue;
      }
      if (c === RBRACE) return i + 1;
      fail();
    }
  }

  private relevantValue(b: Buffer, i: number, end: number, name: string, depth: number): number {
    const c = b[i]!;
    const wanted = this.want.names.has(name);
    if (c === QUOTE) {
      const e = skipStringBody(b, i + 1, end);
      if (wanted) this.put(name, stringFlags & ESCAPED ? this.stringText(i + 1, e - 1) : b.toString('utf8', i + 1, e - 1));
      return e;
    }
    if (c === LBRACE) return this.want.prefixes.has(name) ? this.object(b, i, end, name, depth + 1) : skipValue(b, i, end, this.stack);
    if (c === LBRACKET) return skipValue(b, i, end, this.stack);
    if (c === 0x74 /* t */) {
      if (wanted) this.put(name, 'true');
      return skipLiteral(b, i, end, 'true');
    }
    if (c === 0x66 /* f */) {
      if (wanted) this.put(name, 'false');
      return skipLiteral(b, i, end, 'false');
    }
    if (c === 0x6e /* n */) {
      if (wanted) this.put(name, '');
      return skipLiteral(b, i, end, 'null');
    }
    if (c !== MINUS && (c < ZERO || c > NINE)) fail();
    const e = skipNumber(b, i, end);
    if (wanted) this.put(name, formatJsonNumber(Number(b.toString('latin1', i, e))));
    return e;
  }

  private put(name: string, value: string): void {
    const k = this.count++;
    this.names[k] = name;
    this.values[k] = value;
  }

  /** The text of an already validated string body [s, e) that holds escapes. */
  private stringText(s: number, e: number): string {
    const buf = this.buf;
    let out = '';
    let from = s;
    for (let k = s; k < e; k++) {
      if (buf[k] !== BACKSLASH) continue;
      out += buf.toString('utf8', from, k);
      const x = buf[k + 1]!;
      if (x === 0x75) {
        out += String.fromCharCode(parseInt(buf.toString('latin1', k + 2, k + 6), 16));
        k += 5;
      } else {
        out += x === 0x62 ? '\b' : x === 0x66 ? '\f' : x === 0x6e ? '\n' : x === 0x72 ? '\r' : x === 0x74 ? '\t' : String.fromCharCode(x);
        k += 1;
      }
      from = k + 1;
    }
    return out + buf.toString('utf8', from, e);
  }
}
