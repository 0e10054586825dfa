/**
 * logfmt over a line's UTF-8 bytes, extracting only the keys a query needs (see required-labels.ts),
 * without decoding the line. Like Loki's parser given label hints, it stops once every wanted key has
 * been found: the rest of the line is not read (a strict-mode error there goes unreported, a later
 * duplicate unseen). Pairs are delimited exactly as `scanLogfmt` delimits them on the decoded
 * string: every delimiter (space and control bytes ≤ 0x20, `=`, `"`, `\`) is ASCII, and in UTF-8 an
 * ASCII byte always stands for itself. A strict-mode syntax error reports `false` so the caller can
 * produce the error (whose position counts UTF-16 units) with the string scanner.
 */
import { awaitedFields } from './awaited-fields.js';
import { ByteInterner, utf8Text } from './byte-intern.js';
import { sanitizeLabelName } from './labels-builder.js';

const ESCAPES: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Key bytes: 0 for [a-zA-Z0-9_], KEY_ODD for others a key may hold, KEY_END for what ends it (≤ space, `=`, `"`). */
const KEY_ODD = 1;
const KEY_END = 2;
const KEY_BYTES = new Uint8Array(256).map((_, c) =>
  c <= 0x20 || c === 0x3d || c === 0x22 ? KEY_END : (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f ? 0 : KEY_ODD,
);
/** Unquoted value bytes: 0 to go on, VALUE_STOP at whitespace or control bytes, VALUE_BAD at `=` or `"`. */
const VALUE_STOP = 1;
const VALUE_BAD = 2;
const VALUE_BYTES = new Uint8Array(256).map((_, c) => (c <= 0x20 ? VALUE_STOP : c === 0x3d || c === 0x22 ? VALUE_BAD : 0));

export class LogfmtFieldScanner {
  /** The wanted pairs of the last scan, in line order, each name once (the first occurrence). */
  names: string[] = [];
  values: string[] = [];
  count = 0;
  private readonly lengths = new Uint8Array(257);
  /** The needed names as bytes, to match plain keys in place. */
  private readonly candidates: { name: string; bytes: Uint8Array; bit: number }[] = [];
  /** Every awaited name's bit set: the scan ends when `found` reaches it (see awaited-fields.ts). */
  private readonly allFound: number;
  private found = 0;
  private readonly values_ = new ByteInterner(utf8Text);

  /** `needed`: label names to extract (a key is extracted when its sanitised name is one of them). */
  constructor(
    private readonly needed: ReadonlySet<string>,
    private readonly strict: boolean,
    private readonly keepEmpty: boolean,
  ) {
    const awaited = awaitedFields(needed);
    for (const n of needed) {
      this.lengths[Math.min(n.length, 256)] = 1;
      this.candidates.push({ name: n, bytes: Buffer.from(n, 'utf8'), bit: awaited.bits.get(n) ?? 0 });
    }
    this.allFound = awaited.all;
  }

  /** Returns false only for a strict-mode syntax error (nothing applies then). */
  scan(b: Buffer, start: number, end: number): boolean {
    this.count = 0;
    this.found = 0;
    let i = start;
    const all = this.allFound;
    while (i < end) {
      if (this.found === all && all !== 0) return true;
      while (i < end && b[i]! <= 0x20) i++;
      if (i >= end) break;
      const keyStart = i;
      // One table lookup a byte: KEY_END stops the key, KEY_ODD makes it need sanitising.
      let odd = 0;
      while (i < end) {
        const k = KEY_BYTES[b[i]!]!;
        if (k === KEY_END) break;
        odd |= k;
        i++;
      }
      const plain = odd === 0 && !(b[keyStart]! >= 0x30 && b[keyStart]! <= 0x39);
      let bad = false;
      if (i === keyStart) bad = true;
      else {
        const keyEnd = i;
        if (i >= end || b[i]! <= 0x20) {
          if (this.keepEmpty) this.pair(b, keyStart, keyEnd, plain, '');
          continue;
        }
        if (b[i] === 0x22) bad = true;
        else {
          i++; // '='
          if (i < end && b[i] === 0x22) {
            const close = this.quotedEnd(b, i, end);
            if (close < 0 || (close + 1 < end && b[close + 1]! > 0x20)) {
              bad = true;
              if (close >= 0) i = close + 1;
            } else {
              if (this.wanted(b, keyStart, keyEnd, plain)) this.pair(b, keyStart, keyEnd, plain, this.unquote(b, i + 1, close));
              i = close + 1;
              continue;
            }
          } else {
            const valStart = i;
            let k = 0;
            while (i < end && (k = VALUE_BYTES[b[i]!]!) === 0) i++;
            if (k === VALUE_BAD) bad = true;
            if (!bad) {
              if (this.wanted(b, keyStart, keyEnd, plain)) this.pair(b, keyStart, keyEnd, plain, this.values_.get(b, valStart, i));
              continue;
            }
          }
        }
      }
      if (bad) {
        if (this.strict) return false;
        while (i < end && b[i]! > 0x20) i++;
      }
    }
    return true;
  }

  private wanted(b: Buffer, s: number, e: number, plain: boolean): boolean {
    return !plain || this.lengths[Math.min(e - s, 256)] === 1;
  }

  private pair(b: Buffer, s: number, e: number, plain: boolean, value: string): void {
    let name: string | null = null;
    let bit = 0;
    if (plain) {
      // A plain key is its own label name: compare it with the needed names in place.
      const len = e - s;
      for (const c of this.candidates) {
        const bytes = c.bytes;
        if (bytes.length !== len) continue;
        let k = 0;
        while (k < len && bytes[k] === b[s + k]) k++;
        if (k === len) {
          name = c.name;
          bit = c.bit;
          break;
        }
      }
    } else {
      const n = sanitizeLabelName(b.toString('utf8', s, e));
      if (n !== '' && this.needed.has(n)) {
        name = n;
        bit = this.candidates.find((c) => c.name === n)!.bit;
      }
    }
    if (name === null) return;
    // As in Loki: an empty value is skipped unless --keep-empty, and of a repeated key the first value wins.
    if (value === '' && !this.keepEmpty) return;
    for (let j = 0; j < this.count; j++) if (this.names[j] === name) return;
    const k = this.count++;
    this.names[k] = name;
    this.values[k] = value;
    this.found |= bit;
  }

  /** The index of the closing quote of a value opening at `open`, or -1 when it is unterminated or has a bad escape. */
  private quotedEnd(b: Buffer, open: number, end: number): number {
    let i = open + 1;
    while (i < end) {
      const c = b[i]!;
      if (c === 0x22) return i;
      if (c === 0x5c) {
        if (i + 1 >= end) return -1;
        const e = b[i + 1]!;
        if (e === 0x75) {
          if (i + 5 >= end || !isHex(b[i + 2]!) || !isHex(b[i + 3]!) || !isHex(b[i + 4]!) || !isHex(b[i + 5]!)) return -1;
          i += 6;
        } else {
          if (ESCAPES[e] === undefined) return -1;
          i += 2;
        }
        continue;
      }
      i++;
    }
    return -1;
  }

  /** The text of a validated quoted body [s, e). */
  private unquote(b: Buffer, s: number, e: number): string {
    let out = '';
    let from = s;
    for (let i = s; i < e; i++) {
      if (b[i] !== 0x5c) continue;
      out += b.toString('utf8', from, i);
      const x = b[i + 1]!;
      if (x === 0x75) {
        out += String.fromCharCode(parseInt(b.toString('latin1', i + 2, i + 6), 16));
        i += 5;
      } else {
        out += ESCAPES[x]!;
        i += 1;
      }
      from = i + 1;
    }
    return from === s ? b.toString('utf8', s, e) : out + b.toString('utf8', from, e);
  }
}
