/**
 * The structured-metadata column, the same in both block versions: per entry a varint pair count, then
 * per pair a varint-length-prefixed UTF-8 name and value. Sizing and writing are separate passes so the
 * encoder can lay out a block exactly before writing anything.
 */
import { varintSize, writeVarint } from './varint.js';

export type MetadataPairs = ([string, string][] | null)[];

function fail(problem: string): never {
  throw new RangeError(`encodeBlock: ${problem}`);
}

/** The pairs of each entry (null for none) and the column's size in bytes; 0 bytes when no entry has any. */
export function sizeMetadata(metadata: (Record<string, string> | null | undefined)[], count: number): { pairs: MetadataPairs; bytes: number } {
  const pairs: MetadataPairs = new Array(count);
  let bytes = 0;
  let any = false;
  // Runs of entries sharing one metadata object (detected_level, an OTLP resource's attributes) are sized once.
  let prev: Record<string, string> | null | undefined;
  let prevPairs: [string, string][] | null = null;
  let prevSize = 1;
  for (let i = 0; i < count; i++) {
    const m = metadata[i];
    if (i > 0 && m === prev) {
      pairs[i] = prevPairs;
      bytes += prevSize;
      continue;
    }
    const p = m ? Object.entries(m) : [];
    let size = varintSize(p.length);
    for (const [k, v] of p) {
      if (typeof v !== 'string') fail(`metadata value for "${k}" at entry ${i} must be a string, got ${typeof v}`);
      const kl = Buffer.byteLength(k, 'utf8');
      const vl = Buffer.byteLength(v, 'utf8');
      size += varintSize(kl) + kl + varintSize(vl) + vl;
      any = true;
    }
    pairs[i] = p.length > 0 ? p : null;
    bytes += size;
    prev = m;
    prevPairs = pairs[i]!;
    prevSize = size;
  }
  return { pairs, bytes: any ? bytes : 0 };
}

/** Writes the column sized by sizeMetadata at `pos`; returns the position after it. */
export function writeMetadata(buf: Buffer, pos: number, pairs: MetadataPairs): number {
  let p = pos;
  let prev: [string, string][] | null | undefined;
  let prevStart = 0;
  for (const entry of pairs) {
    if (entry === prev && entry) {
      // The same pairs as the entry before (see sizeMetadata): copy its bytes.
      const len = p - prevStart;
      buf.copyWithin(p, prevStart, p);
      prevStart = p;
      p += len;
      continue;
    }
    prev = entry;
    prevStart = p;
    p = writeVarint(buf, p, entry ? entry.length : 0);
    if (!entry) continue;
    for (const [k, v] of entry) {
      const kl = Buffer.byteLength(k, 'utf8');
      p = writeVarint(buf, p, kl);
      p += buf.write(k, p, kl, 'utf8');
      const vl = Buffer.byteLength(v, 'utf8');
      p = writeVarint(buf, p, vl);
      p += buf.write(v, p, vl, 'utf8');
    }
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
