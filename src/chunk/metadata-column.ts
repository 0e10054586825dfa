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
  for (let i = 0; i < count; i++) {
    const m = metadata[i];
    const p = m ? Object.entries(m) : [];
    pairs[i] = p.length > 0 ? p : null;
    bytes += varintSize(p.length);
    for (const [k, v] of p) {
      if (typeof v !== 'string') fail(`metadata value for "${k}" at entry ${i} must be a string, got ${typeof v}`);
      const kl = Buffer.byteLength(k, 'utf8');
      const vl = Buffer.byteLength(v, 'utf8');
      bytes += varintSize(kl) + kl + varintSize(vl) + vl;
      any = true;
    }
  }
  return { pairs, bytes: any ? bytes : 0 };
}

/** Writes the column sized by sizeMetadata at `pos`; returns the position after it. */
export function writeMetadata(buf: Buffer, pos: number, pairs: MetadataPairs): number {
  let p = pos;
  for (const entry of pairs) {
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
  for (let i = 0; i < count; i++) {
    const pairs = readLen('pair count', i);
    if (pairs === 0) {
      out[i] = null;
      continue;
    }
    const m: Record<string, string> = {};
    for (let j = 0; j < pairs; j++) {
      const k = readStr('name', i);
      const v = readStr('value', i);
      // A plain assignment to "__proto__" would be swallowed; define it as an ordinary property instead.
      if (k === '__proto__') Object.defineProperty(m, k, { value: v, enumerable: true, writable: true, configurable: true });
      else m[k] = v;
    }
    out[i] = m;
  }
  if (p !== end) corrupt(`metadata column has ${end - p} bytes left over`);
  return out;
}
