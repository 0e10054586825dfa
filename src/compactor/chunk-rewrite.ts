/**
 * Re-encodes one stream's chunks as new ones: entries of every input chunk merged in time order, expired
 * and deleted entries left out, exact duplicates (timestamp, line and structured metadata) kept once, and
 * the result cut into blocks of `blockSize` raw bytes and chunks of `targetSize` compressed bytes the way
 * the ingester cuts them. Pure: bytes in, bytes out.
 */
import { assembleChunk, encodeBlock, type EncodedBlock } from '../chunk/chunk.js';
import type { EntryBatch } from '../model/batch.js';
import { sameMetadata } from '../model/entry.js';
import type { StreamPolicy } from './compaction-policy.js';

export interface RewrittenChunk {
  bytes: Buffer;
  minTs: bigint;
  maxTs: bigint;
  count: number;
  /** Bytes of the lines (what the index's raw_size holds). */
  lineBytes: number;
}

export interface RewriteResult {
  chunks: RewrittenChunk[];
  /** Entries read from the inputs. */
  read: number;
  /** Entries left out as expired (before the cutoff) or matched by the drop predicate. */
  removed: number;
  /** Exact duplicates kept once. */
  duplicates: number;
}

export interface RewriteSizes {
  blockSize: number;
  targetSize: number;
}

type Meta = Record<string, string> | null;

/** `inputs` are the decoded blocks of the chunks to replace, in any order; blocks may overlap in time. */
export function rewriteEntries(inputs: EntryBatch[], policy: StreamPolicy, sizes: RewriteSizes): RewriteResult {
  // Every entry as (batch, index), stably sorted by timestamp: equal timestamps keep input order.
  let read = 0;
  for (const b of inputs) read += b.count;
  const refs: { b: number; i: number; ts: bigint }[] = new Array(read);
  let n = 0;
  for (let b = 0; b < inputs.length; b++) {
    const batch = inputs[b]!;
    for (let i = 0; i < batch.count; i++) refs[n++] = { b, i, ts: batch.ts[i]! };
  }
  refs.sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : x.b - y.b || x.i - y.i));

  const out = new ChunkCutter(sizes);
  let removed = 0;
  let duplicates = 0;
  // Entries already kept at the current timestamp, for the duplicate check.
  let runTs: bigint | null = null;
  let run: { line: Buffer; meta: Meta }[] = [];
  for (const r of refs) {
    const batch = inputs[r.b]!;
    const line = batch.lines.subarray(batch.lineOffsets[r.i]!, batch.lineOffsets[r.i + 1]!);
    const meta = nonEmpty(batch.metadata?.[r.i] ?? null);
    if ((policy.cutoff !== null && r.ts < policy.cutoff) || (policy.drop && policy.drop(r.ts, line, meta))) {
      removed++;
      continue;
    }
    if (r.ts !== runTs) {
      runTs = r.ts;
      run = [];
    } else if (run.some((k) => k.line.equals(line) && sameMetadata(k.meta, meta))) {
      duplicates++;
      continue;
    }
    run.push({ line, meta });
    out.add(r.ts, line, meta);
  }
  return { chunks: out.finish(), read, removed, duplicates };
}

function nonEmpty(m: Meta): Meta {
  return m && Object.keys(m).length > 0 ? m : null;
}

/** Collects ascending entries into blocks and blocks into chunks, as the ingester's stream does. */
class ChunkCutter {
  private ts: bigint[] = [];
  private lines: Buffer[] = [];
  private metas: Meta[] = [];
  private anyMeta = false;
  private headBytes = 0;
  private blocks: EncodedBlock[] = [];
  private blocksCompressed = 0;
  private blocksLineBytes = 0;
  private done: RewrittenChunk[] = [];

  constructor(private sizes: RewriteSizes) {}

  add(ts: bigint, line: Buffer, meta: Meta): void {
    this.ts.push(ts);
    this.lines.push(line);
    this.metas.push(meta);
    if (meta) this.anyMeta = true;
    this.headBytes += line.length;
    if (this.headBytes >= this.sizes.blockSize) this.cutBlock();
  }

  private cutBlock(): void {
    const count = this.ts.length;
    if (count === 0) return;
    const batch: EntryBatch = { count, ts: BigInt64Array.from(this.ts), lineOffsets: new Uint32Array(count + 1), lines: Buffer.concat(this.lines, this.headBytes) };
    let off = 0;
    for (let i = 0; i < count; i++) {
      off += this.lines[i]!.length;
      batch.lineOffsets[i + 1] = off;
    }
    if (this.anyMeta) batch.metadata = this.metas;
    const block = encodeBlock(batch);
    this.blocks.push(block);
    this.blocksCompressed += block.data.length;
    this.blocksLineBytes += this.headBytes;
    this.ts = [];
    this.lines = [];
    this.metas = [];
    this.anyMeta = false;
    this.headBytes = 0;
    if (this.blocksCompressed >= this.sizes.targetSize) this.closeChunk();
  }

  private closeChunk(): void {
    if (this.blocks.length === 0) return;
    const bytes = assembleChunk(this.blocks);
    let count = 0;
    for (const b of this.blocks) count += b.count;
    this.done.push({ bytes, minTs: this.blocks[0]!.minTs, maxTs: this.blocks[this.blocks.length - 1]!.maxTs, count, lineBytes: this.blocksLineBytes });
    this.blocks = [];
    this.blocksCompressed = 0;
    this.blocksLineBytes = 0;
  }

  finish(): RewrittenChunk[] {
    this.cutBlock();
    this.closeChunk();
    return this.done;
  }
}
