/**
 * Unsigned LEB128 varints. Values up to 2^53 travel as plain numbers (no BigInt allocation on the hot
 * path); the rare larger timestamp delta goes through the BigInt helpers.
 */
const TWO_32 = 4294967296;

export function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes `v` (a non-negative safe integer) at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= TWO_32) {
    buf[pos++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  while (v >= 128) {
    buf[pos++] = (v & 127) | 128;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

export function writeVarintBig(buf: Uint8Array, pos: number, v: bigint): number {
  while (v >= 128n) {
    buf[pos++] = Number(v & 127n) | 128;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}

export function varintSizeBig(v: bigint): number {
  let n = 1;
  while (v >= 128n) {
    v >>= 7n;
    n++;
  }
  return n;
}

/**
 * Reads a varint of up to 64 bits starting at `pos`, not reading at or past `end`.
 * Returns undefined when the varint is unterminated or longer than 64 bits; the caller names the field.
 */
export function readVarintBig(buf: Uint8Array, pos: number, end: number): { value: bigint; next: number } | undefined {
  let value = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return undefined;
    const b = buf[pos++]!;
    value |= BigInt(b & 127) << shift;
    if (b < 128) return value > 0xffffffffffffffffn ? undefined : { value, next: pos };
    shift += 7n;
  }
  return undefined;
}
