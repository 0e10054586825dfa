/**
 * A validating JSON scanner over a line's UTF-8 bytes that extracts only the flattened fields a query
 * needs (see required-labels.ts), without decoding the line or building its object. Like Loki's parser
 * given label hints, it stops as soon as every wanted field has been found: the rest of the line is
 * neither read nor validated, and a later duplicate of a field is not seen. Up to that point it is
 * exactly as strict as JSON.parse on the decoded line (structure, escapes, numbers, literals,
 * whitespace), and it reports `false` — "use JSON.parse instead" — whenever its answer could differ
 * from the full path: invalid JSON (the error message must be JSON.parse's), a wanted name set twice
 * before the scan ends (duplicate keys, keys colliding after sanitisation, or integer-like keys that
 * JavaScript would reorder), or pathological depth. Whatever it extracts is only applied on success.
 *
 * Every bytes-level decision is sound because JSON's structural characters are ASCII, and in UTF-8 an
 * ASCII byte always stands for itself (a decoder never swallows one into a replacement character).
 * The positions are passed and returned as plain numbers so the hot loops keep them in registers.
 */
import { formatJsonNumber } from '../units.js';
import { awaitedFields } from './awaited-fields.js';
import { ByteInterner, utf8Text } from './byte-intern.js';
import { sanitizeLabelName } from './labels-builder.js';

/** A wanted name or a prefix on the way to one, as seen from the object whose keys can produce it. */
interface KeyCandidate {
  /** The full flattened name. */
  full: string;
  /** The part a key of that object must sanitise to, as bytes. */
  part: Uint8Array;
}

/** The flattened names to extract, and the object names on the way to them (`a` and `a_b` for `a_b_c`). */
export class JsonWant {
  readonly names: ReadonlySet<string>;
  readonly prefixes: ReadonlySet<string>;
  /** Lengths of every wanted or prefix name: a key whose full name has another length is skipped unread. */
  readonly lengths: Uint8Array;
  /** Each awaited name's bit in the scanner's found mask (see awaited-fields.ts). */
  readonly bits: ReadonlyMap<string, number>;
  /** The mask with every wanted name found; 0 when the scan must always read the whole line. */
  readonly allFound: number;
  /** By the flattened name of an object (`''` for the line's top level): the names its keys can produce. */
  readonly candidates: ReadonlyMap<string, KeyCandidate[]>;

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
    const all = new Set([...names, ...prefixes]);
    for (const n of all) this.lengths[Math.min(n.length, 256)] = 1;
    const awaited = awaitedFields(names);
    this.bits = awaited.bits;
    this.allFound = awaited.all;
    // A name `a_b_c` can come from key `a_b_c` at the top, key `b_c` inside object `a`, or `c` inside `a_b`.
    const candidates = new Map<string, KeyCandidate[]>();
    for (const full of all) {
      const add = (object: string, part: string) => {
        let list = candidates.get(object);
        if (!list) candidates.set(object, (list = []));
        list.push({ full, part: Buffer.from(part, 'latin1') });
      };
      add('', full);
      for (const p of prefixes) if (full.length > p.length + 1 && full.startsWith(p + '_')) add(p, full.slice(p.length + 1));
    }
    this.candidates = candidates;
  }

  relevant(name: string): boolean {
    return this.names.has(name) || this.prefixes.has(name);
  }
}

const NO_CANDIDATES: KeyCandidate[] = [];

/** Each ASCII byte as it stands in a sanitised label name: letters, digits and `_` kept, the rest `_`. */
const SANITISED = new Uint8Array(128).map((_, c) => ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f ? c : 0x5f));

/**
 * The candidate a plain key (ASCII, no escapes or spaces) in `[s, e)` sanitises to, compared in place;
 * null when it names nothing wanted. A key starting with a digit sanitises with a leading `_`.
 */
function matchPlainKey(b: Buffer, s: number, e: number, list: KeyCandidate[]): string | null {
  const len = e - s;
  const digit = b[s]! >= 0x30 && b[s]! <= 0x39 ? 1 : 0;
  for (let c = 0; c < list.length; c++) {
    const part = list[c]!.part;
    if (part.length !== len + digit) continue;
    if (digit === 1 && part[0] !== 0x5f) continue;
    let k = 0;
    while (k < len && SANITISED[b[s + k]!] === part[k + digit]) k++;
    if (k === len) return list[c]!.full;
  }
  return null;
}

/** Deepest JSON nesting the json stages walk; deeper lines get JSONParserErr (see json.ts). */
export const MAX_JSON_DEPTH = 512;
const MAX_DEPTH = MAX_JSON_DEPTH;

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

/** What `object` and `relevantValue` return once every wanted field is found: the scan ends there. */
const DONE = -1;

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

/** String body bytes: 0 plain, S_ODD for non-ASCII and space (IRREGULAR), then the quote, the backslash, control bytes. */
const S_ODD = 1;
const S_QUOTE = 2;
const S_ESCAPE = 3;
const S_CONTROL = 4;
const STRING_BYTES = new Uint8Array(256).map((_, c) => (c < 0x20 ? S_CONTROL : c === QUOTE ? S_QUOTE : c === BACKSLASH ? S_ESCAPE : c >= 0x80 || c === 0x20 ? S_ODD : 0));

/** Skips a string whose opening quote is at `i - 1`, validating it; returns the index after the closing quote. */
function skipStringBody(b: Uint8Array, i: number, end: number): number {
  let flags = 0;
  for (;;) {
    // One table lookup a byte while the bytes are plain, the common case.
    let k = 0;
    while (i < end && (k = STRING_BYTES[b[i]!]!) === 0) i++;
    if (i >= end) fail();
    if (k === S_QUOTE) break;
    if (k === S_ODD) {
      flags |= IRREGULAR;
      i++;
      continue;
    }
    if (k === S_CONTROL) fail();
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
  /** Bits of the wanted names found so far (see JsonWant.bits). */
  private found = 0;
  /** Where the last value `put` ends. */
  private valueEnd = 0;
  private readonly stack = new Uint8Array(MAX_DEPTH + 1);
  private readonly strings = new ByteInterner(utf8Text);
  private readonly numbers = new ByteInterner((b, s, e) => formatJsonNumber(Number(b.toString('latin1', s, e))));

  constructor(private readonly want: JsonWant) {}

  scan(buf: Buffer, start: number, end: number): boolean {
    this.count = 0;
    this.seen = 0;
    this.objects = 0;
    this.found = 0;
    this.buf = buf;
    try {
      let i = skipWs(buf, start, end);
      if (i >= end || buf[i] !== LBRACE) return false;
      i = this.object(buf, i, end, '', 0);
      // DONE: every wanted field found; the rest of the line is not read.
      if (i === DONE) return true;
      i = skipWs(buf, i, end);
      if (i !== end) return false;
    } catch (e) {
      if (e === FALLBACK) return false;
      throw e;
    }
    // A wanted name set twice: the full path keeps the first in the line's order (see json.ts); let it decide.
    const names = this.names;
    for (let x = 1; x < this.count; x++) for (let y = 0; y < x; y++) if (names[x] === names[y]) return false;
    return true;
  }

  /**
   * An object at `i` whose keys are considered for extraction; `prefix` is its flattened name. Returns the
   * index after it, or DONE once every wanted field has been found.
   */
  private object(b: Buffer, i: number, end: number, prefix: string, depth: number): number {
    if (depth > MAX_DEPTH) fail();
    const want = this.want;
    const lengths = want.lengths;
    const prefixLen = prefix === '' ? 0 : prefix.length + 1;
    const candidates = want.candidates.get(prefix) ?? NO_CANDIDATES;
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
      if (flags === 0) {
        if (len > 0 && lengths[Math.min(prefixLen + len, 256)] === 1) name = matchPlainKey(b, keyStart, keyEnd, candidates);
      } else {
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
        const next = this.relevantValue(b, i, end, name, depth);
        if (next === DONE) {
          // The last wanted value: it counts only if what follows shows it ended (`,` or `}`), so a
          // number like 01 or a string followed by junk is still the full parser's to judge.
          const j = skipWs(b, this.valueEnd, end);
          if (j >= end || (b[j] !== COMMA && b[j] !== RBRACE)) fail();
          return DONE;
        }
        i = next;
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
      if (wanted) return this.put(name, stringFlags & ESCAPED ? this.stringText(i + 1, e - 1) : this.strings.get(b, i + 1, e - 1), e);
      return e;
    }
    if (c === LBRACE) return this.want.prefixes.has(name) ? this.object(b, i, end, name, depth + 1) : skipValue(b, i, end, this.stack);
    if (c === LBRACKET) return skipValue(b, i, end, this.stack);
    if (c === 0x74 /* t */) {
      const e = skipLiteral(b, i, end, 'true');
      return wanted ? this.put(name, 'true', e) : e;
    }
    if (c === 0x66 /* f */) {
      const e = skipLiteral(b, i, end, 'false');
      return wanted ? this.put(name, 'false', e) : e;
    }
    if (c === 0x6e /* n */) {
      // null gives no label, as in Loki's json parser.
      return skipLiteral(b, i, end, 'null');
    }
    if (c !== MINUS && (c < ZERO || c > NINE)) fail();
    const e = skipNumber(b, i, end);
    return wanted ? this.put(name, this.numbers.get(b, i, e), e) : e;
  }

  /** Records a wanted value that ends before `next`; returns `next`, or DONE when it was the last one missing. */
  private put(name: string, value: string, next: number): number {
    this.valueEnd = next;
    const k = this.count++;
    this.names[k] = name;
    this.values[k] = value;
    const all = this.want.allFound;
    if (all === 0) return next;
    const bit = this.want.bits.get(name);
    if (bit === undefined) return next;
    // Seen already: a duplicate before the scan could end, which the full path resolves.
    if ((this.found & bit) !== 0) fail();
    this.found |= bit;
    return this.found === all ? DONE : next;
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
