import { metadataBytes, type IngestEntry } from '../model/entry.js';

/** A push carries more entries than `distributor.max_push_entries` allows. */
export class TooManyEntriesError extends Error {
  constructor(readonly limit: number) {
    super(`push carries more than ${limit} entries, over distributor.max_push_entries (${limit}): split it into smaller pushes`);
  }
}

const PAGE = 65536;
const SPILLED = 0x80000000;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/**
 * The entries of a decoded push, column-wise: timestamps and line positions in fixed pages of typed
 * arrays, lines left where they are in the request body. A push of millions of tiny entries then costs
 * 16 bytes an entry instead of a JS object, a BigInt and a Buffer view each (~200 bytes); entries become
 * objects only a slice at a time. Lines that needed unescaping live in one spill buffer.
 */
export class EntryColumns {
  count = 0;
  /** Bytes of every line and every structured metadata name and value, before any validation. */
  bytes = 0;
  private ts: BigInt64Array[] = [];
  private start: Uint32Array[] = [];
  private len: Uint32Array[] = [];
  private spill = Buffer.alloc(0);
  private spillUsed = 0;
  private metadata: Map<number, Record<string, string>> | null = null;
  /** Timestamps a BigInt64Array would wrap (protobuf seconds reach ~2^63 s): kept exact for validation to refuse. */
  private wide: Map<number, bigint> | null = null;

  constructor(private readonly source: Buffer, private readonly maxEntries: number) {}

  private setTs(i: number, ts: bigint): void {
    if (ts < I64_MIN || ts > I64_MAX) {
      (this.wide ??= new Map()).set(i, ts);
      return;
    }
    this.ts[i >>> 16]![i & (PAGE - 1)] = ts;
  }

  private slot(): number {
    const i = this.count;
    if (i >= this.maxEntries) throw new TooManyEntriesError(this.maxEntries);
    if ((i & (PAGE - 1)) === 0) {
      this.ts.push(new BigInt64Array(PAGE));
      this.start.push(new Uint32Array(PAGE));
      this.len.push(new Uint32Array(PAGE));
    }
    this.count = i + 1;
    return i;
  }

  /** An entry whose line is `source[start, end)`. */
  add(ts: bigint, start: number, end: number): number {
    const i = this.slot();
    const p = i >>> 16;
    const o = i & (PAGE - 1);
    this.setTs(i, ts);
    this.start[p]![o] = start;
    this.len[p]![o] = end - start;
    this.bytes += end - start;
    return i;
  }

  /** An entry whose line is not in the source as is (it was unescaped or re-encoded). */
  addOwned(ts: bigint, line: Buffer): number {
    if (this.spillUsed + line.length > this.spill.length) {
      const grown = Buffer.allocUnsafe(Math.max(64 * 1024, this.spill.length * 2, this.spillUsed + line.length));
      this.spill.copy(grown, 0, 0, this.spillUsed);
      this.spill = grown;
    }
    const i = this.slot();
    const p = i >>> 16;
    const o = i & (PAGE - 1);
    this.setTs(i, ts);
    this.start[p]![o] = this.spillUsed;
    this.len[p]![o] = (line.length | SPILLED) >>> 0;
    this.spillUsed += line.copy(this.spill, this.spillUsed);
    this.bytes += line.length;
    return i;
  }

  setMetadata(i: number, md: Record<string, string>): void {
    this.bytes += metadataBytes(md);
    (this.metadata ??= new Map()).set(i, md);
  }

  /** Entries [from, to) as objects; their lines are views, valid while this push is being handled. */
  entries(from: number, to: number): IngestEntry[] {
    const out: IngestEntry[] = new Array(to - from);
    for (let i = from; i < to; i++) {
      const p = i >>> 16;
      const o = i & (PAGE - 1);
      const s = this.start[p]![o]!;
      const l = this.len[p]![o]!;
      const line = l & SPILLED ? this.spill.subarray(s, s + (l & ~SPILLED)) : this.source.subarray(s, s + l);
      // The metadata slot is part of the object from the start: detected_level, added to nearly every entry
      // later, then fills it instead of growing each object a property store.
      out[i - from] = { ts: this.wide?.get(i) ?? this.ts[p]![o]!, line, metadata: this.metadata?.get(i) };
    }
    return out;
  }
}

/** One pushed stream: its labels as the client sent them and its entries' range in the columns. */
export interface DecodedStream {
  labels: string | Record<string, string>;
  from: number;
  to: number;
}

export interface DecodedPush {
  streams: DecodedStream[];
  columns: EntryColumns;
}
