/**
 * The structured-metadata column, the same in both block versions: per entry a varint pair count, then
 * per pair a varint-length-prefixed UTF-8 name and value. Sizing and writing are separate passes so the
 * encoder can lay out a block exactly before writing anything.
 */
import { varintSize, writeVarint } from './varint.js';

/** Each entry's column bytes: one shared buffer per distinct metadata object, NO_METADATA for none. */
export type EncodedMetadata = Buffer[];

const NO_METADATA: Buffer = Buffer.from([0]);
/** Distinct metadata objects a decoded block keeps for reuse: a block of all-different metadata stays bounded. */
const SEEN_LIMIT = 64;

function fail(problem: string): never {
  throw new RangeError(`encodeBlock: ${problem}`);
}

/**
 * Each entry's column bytes and the column's size; 0 bytes when no entry has any. A metadata object is
 * encoded once however many entries hold it (detected_level, an OTLP resource's attributes are shared).
 */
export function sizeMetadata(metadata: (Record<string, string> | null | undefined)[], count: number): { pairs: EncodedMetadata; bytes: number } {
  const out: EncodedMetadata = new Array(count);
  const seen = new Map<object, Buffer>();
  let bytes = 0;
  let any = false;
  let prev: Record<string, string> | null | undefined = null;
  let prevEnc = NO_METADATA;
  for (let i = 0; i < count; i++) {
    const m = metadata[i];
    let enc: Buffer;
    if (!m) enc = NO_METADATA;
    else if (m === prev) enc = prevEnc;
    else {
      enc = seen.get(m) ?? encodeOne(m, i);
      seen.set(m, enc);
    }
    out[i] = enc;
    bytes += enc.length;
    if (enc !== NO_METADATA) any = true;
    prev = m;
    prevEnc = enc;
  }
  return { pairs: out, bytes: any ? bytes : 0 };
}

/** One entry's metadata as column bytes: a varint pair count, then varint-length-prefixed names and values. */
function encodeOne(m: Record<string, string>, i: number): Buffer {
  const pairs = Object.entries(m);
  if (pairs.length === 0) return NO_METADATA;
  let size = varintSize(pairs.length);
  for (const [k, v] of pairs) {
    if (typeof v !== 'string') fail(`metadata value for "${k}" at entry ${i} must be a string, got ${typeof v}`);
    const kl = Buffer.byteLength(k, 'utf8');
    const vl = Buffer.byteLength(v, 'utf8');
    size += varintSize(kl) + kl + varintSize(vl) + vl;
  }
  const buf = Buffer.allocUnsafe(size);
  let p = writeVarint(buf, 0, pairs.length);
  for (const [k, v] of pairs) {
    p = writeVarint(buf, p, Buffer.byteLength(k, 'utf8'));
    p += buf.write(k, p, 'utf8');
    p = writeVarint(buf, p, Buffer.byteLength(v, 'utf8'));
    p += buf.write(v, p, 'utf8');
  }
  return buf;
}

/** Writes the column sized by sizeMetadata at `pos`; returns the position after it. */
export function writeMetadata(buf: Buffer, pos: number, pairs: EncodedMetadata): number {
  let p = pos;
  for (const enc of pairs) {
    const n = enc.length;
    // A byte loop for the usual few dozen bytes: cheaper than set()'s call.
    if (n <= 48) for (let k = 0; k < n; k++) buf[p + k] = enc[k]!;
    else buf.set(enc, p);
    p += n;
  }
  return p;
}

/** Reads the column from `raw[start, end)`; it must hold exactly `count` entries. */
export function decodeMetadata(
  raw: Uint8Array,
  start: number,
  end: number,
  count: number,
  corrupt: (problem: string) => never,
): (Record<string, string> | null)[] {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: (Record<string, string> | null)[] = new Array(count);
  let p = start;
  const readLen = (what: string, i: number): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (p >= end || mul > 2 ** 28) corrupt(`metadata ${what} of entry ${i} is malformed`);
      const b = buf[p++]!;
      v += (b & 127) * mul;
      if (b < 128) return v;
      mul *= 128;
    }
  };
  const readStr = (what: string, i: number): string => {
    const len = readLen(`${what} length`, i);
    if (p + len > end) corrupt(`metadata ${what} of entry ${i} overruns the column`);
    const s = buf.toString('utf8', p, p + len);
    p += len;
    return s;
  };
  // An entry whose bytes equal the one before's gets the same (frozen) object: runs of entries sharing their
  // metadata (detected_level, an OTLP resource's attributes) decode to one object, not one each.
  let prev: Record<string, string> | null = null;
  let prevStart = 0;
  let prevEnd = 0;
  const seen = new Map<string, Record<string, string>>();
  for (let i = 0; i < count; i++) {
    const at = p;
    const pairs = readLen('pair count', i);
    if (pairs === 0) {
      out[i] = null;
      continue;
    }
    const first = p;
    for (let j = 0; j < 2 * pairs; j++) {
      const len = readLen(j % 2 ? 'value length' : 'name length', i);
      if (p + len > end) corrupt(`metadata ${j % 2 ? 'value' : 'name'} of entry ${i} overruns the column`);
      p += len;
    }
    if (prev && p - at === prevEnd - prevStart && sameBytes(buf, prevStart, at, p - at)) {
      out[i] = prev;
      continue;
    }
    // Not the entry before's: maybe one seen earlier in the block (levels alternate).
    const key = buf.toString('latin1', at, p);
    const known = seen.get(key);
    if (known) {
      out[i] = prev = known;
      prevStart = at;
      prevEnd = p;
      continue;
    }
    const stop = p;
    p = first;
    const m: Record<string, string> = {};
    for (let j = 0; j < pairs; j++) {
      const k = readStr('name', i);
      const v = readStr('value', i);
      // A plain assignment to "__proto__" would be swallowed; define it as an ordinary property instead.
      if (k === '__proto__') Object.defineProperty(m, k, { value: v, enumerable: true, writable: true, configurable: true });
      else m[k] = v;
    }
    p = stop;
    out[i] = prev = Object.freeze(m);
    if (seen.size < SEEN_LIMIT) seen.set(key, prev);
    prevStart = at;
    prevEnd = stop;
  }
  if (p !== end) corrupt(`metadata column has ${end - p} bytes left over`);
  return out;
}

/** `buf[a, a+len)` equals `buf[b, b+len)`: a byte loop, cheaper than Buffer#compare for a few dozen bytes. */
function sameBytes(buf: Buffer, a: number, b: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (buf[a + i] !== buf[b + i]) return false;
  return true;
}
