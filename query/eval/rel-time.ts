import type { EntryBatch } from '../../src/model/batch.js';
import { QueryParamError } from './errors.js';

const TWO_32 = 4294967296;
const MAX_SPAN = 2n ** 53n - 1n;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Timestamps as float64 nanoseconds relative to a base instant. Within a span below 2^53 ns (~104 days)
 * these are exact integers, so window boundaries compare exactly while the hot loops avoid allocating a
 * BigInt per entry. Whole batches convert through 32-bit views of the BigInt64Array.
 */
export class RelClock {
  private readonly baseHi: number;
  private readonly baseLo: number;
  private scratch = new Float64Array(1024);

  constructor(readonly base: bigint, end: bigint) {
    if (end - base > MAX_SPAN) {
      throw new QueryParamError('query time range too long: the range plus the range-vector window must stay under 104 days');
    }
    this.baseHi = Number(BigInt.asIntN(32, base >> 32n));
    this.baseLo = Number(BigInt.asUintN(32, base));
  }

  rel(t: bigint): number {
    return Number(t - this.base);
  }

  abs(rel: number): bigint {
    return this.base + BigInt(rel);
  }

  /** The batch's timestamps as relative numbers, in a scratch array valid until the next call. */
  batchTimes(batch: EntryBatch): Float64Array {
    const n = batch.count;
    if (this.scratch.length < n) this.scratch = new Float64Array(Math.max(n, this.scratch.length * 2));
    const out = this.scratch;
    if (!LITTLE_ENDIAN) {
      for (let i = 0; i < n; i++) out[i] = Number(batch.ts[i]! - this.base);
      return out;
    }
    const buf = batch.ts.buffer;
    const off = batch.ts.byteOffset;
    const lo = new Uint32Array(buf, off, n * 2);
    const hi = new Int32Array(buf, off, n * 2);
    const bh = this.baseHi;
    const bl = this.baseLo;
    for (let i = 0; i < n; i++) out[i] = (hi[2 * i + 1]! - bh) * TWO_32 + (lo[2 * i]! - bl);
    return out;
  }
}
