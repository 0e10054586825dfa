import { decodeBlockBytes } from '../chunk/block-decode.js';
import { encodeBlock, type EncodedBlock } from '../chunk/block-encode.js';
import type { EntryBatch } from '../model/batch.js';
import { sameMetadata, type IngestEntry } from '../model/entry.js';
import type { Labels } from '../model/labels.js';
import { Head } from './head.js';
import { memBlockInfo, type MemoryPiece } from './memory-piece.js';
import { entriesOfSpan, type PushStreamSpan } from './wal-record.js';

export interface StreamSettings {
  blockSize: number;
  targetSize: number;
  maxChunkAge: bigint;
  outOfOrderWindow: bigint;
}

/** A chunk that is cut and waits for the flush loop; it stays queryable until its index row is written. */
export interface ClosedChunk {
  blocks: EncodedBlock[];
  minTs: bigint;
  maxTs: bigint;
  count: number;
  /** Bytes of the lines themselves (what Loki's index stats and volumes report). */
  lineBytes: number;
  /** Bytes its compressed blocks hold in memory until it is flushed. */
  memoryBytes: number;
}

/** An entry held at some timestamp, for the duplicate check: its line and structured metadata. */
interface HeldEntry {
  line: Buffer;
  metadata: Record<string, string> | null | undefined;
}

export interface AppendResult {
  accepted: IngestEntry[];
  tooFarBehind: { entry: IngestEntry; oldest: bigint }[];
  duplicates: number;
}

/** encodeBlock's default level, used for blocks cut while serving. */
export const BLOCK_LEVEL = 3;
/** For blocks cut while the WAL replays (see Stream.blockLevel). */
export const REPLAY_BLOCK_LEVEL = 1;

export function decodeMemBlock(b: EncodedBlock, id: string, index: number): EntryBatch {
  return decodeBlockBytes(b.data, memBlockInfo(b), id, index);
}

/**
 * One stream's data in memory: the head (open block), the open chunk's cut blocks, and closed chunks
 * waiting for flush. Blocks are compressed as they are cut, so memory holds ~1/10 of the raw bytes.
 */
export class Stream {
  readonly head = new Head();
  blocks: EncodedBlock[] = [];
  closed: ClosedChunk[] = [];
  /**
   * The most recently flushed chunks, kept only for the duplicate check: a client that re-sends a batch
   * whose answer it lost (an agent restarted by kill -9) must not store it twice just because a flush
   * happened in between. Never read by queries or checkpoints.
   */
  private recentlyFlushed: ClosedChunk[] = [];
  private recentBytes = 0;
  /** Line bytes of the open chunk's cut blocks. */
  private blocksLineBytes = 0;
  private blocksCompressed = 0;
  private closedCompressed = 0;
  /** Newest timestamp accepted: the out-of-order window and the duplicate check hang off it. */
  newest: bigint | null = null;
  /** Counts commits: a classification made at one version holds only while the stream is still at it. */
  version = 0;
  /** Pushes classified and waiting for their WAL write: the stream must not be dropped as idle meanwhile. */
  pending = 0;
  /**
   * zstd level of the blocks this stream cuts: the ingester lowers it while the WAL replays, where
   * compressing every block of a large WAL is the largest cost. On the benchmark's access-log lines
   * level 1 (with encodeBlock's 6-byte minimum match) compressed ~40% faster than level 3 at the same
   * size (5.89× vs 5.75×).
   */
  blockLevel = BLOCK_LEVEL;
  /** Wall-clock ms of the open chunk's first append and of the last append. */
  chunkStartedAt = 0;
  lastAppendAt = 0;

  constructor(
    readonly tenant: string,
    readonly labels: Labels,
    readonly canonical: string,
    readonly fingerprint: string,
    readonly streamId: number,
    private settings: StreamSettings,
  ) {}

  get openEntries(): number {
    return this.head.count + this.blocks.reduce((n, b) => n + b.count, 0);
  }

  /**
   * What this stream holds in memory: the head, the open chunk's blocks, closed chunks waiting for
   * flush, and the flushed chunks kept for the duplicate check.
   */
  get memoryBytes(): number {
    return this.head.memoryBytes + this.blocksCompressed + this.closedCompressed + this.recentBytes;
  }

  /** Drops the flushed chunks kept for the duplicate check (under memory pressure); returns the bytes freed. */
  forgetFlushed(): number {
    const freed = this.recentBytes;
    this.recentlyFlushed = [];
    this.recentBytes = 0;
    return freed;
  }

  /** Bytes the open chunk would take off `memoryBytes` once closed and flushed. */
  get openBytes(): number {
    return this.head.rawBytes + this.blocksCompressed;
  }

  get isEmpty(): boolean {
    return this.head.count === 0 && this.blocks.length === 0 && this.closed.length === 0;
  }

  /**
   * Adds entries, dropping exact duplicates (same timestamp, line and structured metadata) of anything
   * still in memory and refusing entries older than the out-of-order window behind the newest.
   */
  append(entries: IngestEntry[], nowMs: number): AppendResult {
    const r = this.classify(entries);
    this.commit(r.accepted, nowMs);
    return r;
  }

  /**
   * Sorts entries into accepted, duplicates of what is held (or of an earlier entry of the same push) and
   * too far behind, without changing the stream: a push is written to the WAL first and committed only
   * once that write is durable. An entry newer than everything cannot be a duplicate, so the in-order
   * case never looks anything up.
   */
  classify(entries: IngestEntry[]): AppendResult {
    const accepted: IngestEntry[] = [];
    const tooFarBehind: AppendResult['tooFarBehind'] = [];
    let duplicates = 0;
    let newest = this.newest;
    // Built on the first entry that is not newer than everything: what is already held at the
    // timestamps this push carries. Concurrent pushers make that common, so it must stay cheap.
    let held: Map<bigint, HeldEntry[]> | null = null;
    const hold = (m: Map<bigint, HeldEntry[]>, e: IngestEntry) => {
      const h = { line: e.line, metadata: e.metadata };
      const same = m.get(e.ts);
      if (same) same.push(h);
      else m.set(e.ts, [h]);
    };
    for (const e of entries) {
      if (newest !== null && e.ts <= newest) {
        const oldest = newest - this.settings.outOfOrderWindow;
        if (e.ts < oldest) {
          tooFarBehind.push({ entry: e, oldest });
          continue;
        }
        if (!held) {
          held = this.heldAt(entries);
          for (const a of accepted) hold(held, a);
        }
        // Metadata is part of an entry's identity: the same line with other metadata is another entry.
        if (held.get(e.ts)?.some((h) => h.line.equals(e.line) && sameMetadata(h.metadata, e.metadata))) {
          duplicates++;
          continue;
        }
        hold(held, e);
      } else {
        newest = e.ts;
        if (held) hold(held, e);
      }
      accepted.push(e);
    }
    return { accepted, tooFarBehind, duplicates };
  }

  /** Appends entries `classify` accepted, while nothing else has been appended since it ran. */
  commit(accepted: IngestEntry[], nowMs: number): void {
    if (accepted.length === 0) return;
    this.version++;
    for (const e of accepted) {
      if (this.newest === null || e.ts > this.newest) this.newest = e.ts;
      if (this.head.count === 0 && this.blocks.length === 0) this.chunkStartedAt = nowMs;
      this.head.append(e);
      if (this.head.rawBytes >= this.settings.blockSize) this.cutBlock();
    }
    this.lastAppendAt = nowMs;
  }

  /**
   * Replays one stream of a WAL push record. When its entries are ascending and all newer than the
   * stream's newest, classify would accept every one without a lookup, so they are copied from the
   * record into the head directly (metadata shared by a run of entries is parsed once); anything else goes
   * through append, which drops duplicates of what replay already rebuilt exactly as the push path did.
   */
  replaySpan(buf: Buffer, span: PushStreamSpan, nowMs: number): void {
    if (span.count === 0) return;
    if (!span.ascending || (this.newest !== null && span.firstTs <= this.newest)) {
      this.append(entriesOfSpan(buf, span), nowMs);
      return;
    }
    this.version++;
    let p = span.start;
    let left = span.count;
    const blockSize = this.settings.blockSize;
    while (left > 0) {
      if (this.head.count === 0 && this.blocks.length === 0) this.chunkStartedAt = nowMs;
      const before = this.head.count;
      p = this.head.appendWalEntries(buf, p, left, blockSize, span.lastTs, span.metadata);
      left -= this.head.count - before;
      if (this.head.rawBytes >= blockSize) this.cutBlock();
    }
    this.newest = span.lastTs;
    this.lastAppendAt = nowMs;
  }

  /**
   * Takes a WAL checkpoint's blocks as they are (already compressed: a restart does not decompress and
   * compress them again). Only for a stream that holds nothing yet, as every stream is when its checkpoint
   * record is replayed first; the caller falls back to appending entries otherwise.
   */
  restoreBlocks(blocks: { block: EncodedBlock; lineBytes: number }[], nowMs: number): boolean {
    if (this.newest !== null || this.head.count > 0 || this.blocks.length > 0 || this.closed.length > 0 || blocks.length === 0) return false;
    this.chunkStartedAt = nowMs;
    this.lastAppendAt = nowMs;
    for (const { block, lineBytes } of blocks) {
      if (this.newest === null || block.maxTs > this.newest) this.newest = block.maxTs;
      this.blocks.push(block);
      this.blocksCompressed += block.data.length;
      this.blocksLineBytes += lineBytes;
      if (this.blocksCompressed >= this.settings.targetSize || this.spanOfOpenChunk() >= this.settings.maxChunkAge) this.closeChunk();
    }
    return true;
  }

  /** Compresses the head into a block; closes the chunk when it reaches its target size or time span. */
  cutBlock(): void {
    if (this.head.count === 0) return;
    const block = encodeBlock(this.head.view(), this.blockLevel);
    this.blocksLineBytes += this.head.rawBytes;
    this.head.reset();
    this.blocks.push(block);
    this.blocksCompressed += block.data.length;
    const span = this.spanOfOpenChunk();
    if (this.blocksCompressed >= this.settings.targetSize || span >= this.settings.maxChunkAge) this.closeChunk();
  }

  /** Cuts the head and moves the open chunk to the flush queue. */
  closeChunk(): void {
    if (this.head.count > 0) {
      const block = encodeBlock(this.head.view(), this.blockLevel);
      this.blocksLineBytes += this.head.rawBytes;
      this.head.reset();
      this.blocks.push(block);
    }
    if (this.blocks.length === 0) return;
    let lo = this.blocks[0]!.minTs;
    let hi = this.blocks[0]!.maxTs;
    let count = 0;
    let compressed = 0;
    for (const b of this.blocks) {
      if (b.minTs < lo) lo = b.minTs;
      if (b.maxTs > hi) hi = b.maxTs;
      count += b.count;
      compressed += b.data.length;
    }
    this.closed.push({ blocks: this.blocks, minTs: lo, maxTs: hi, count, lineBytes: this.blocksLineBytes, memoryBytes: compressed });
    this.closedCompressed += compressed;
    this.blocks = [];
    this.blocksCompressed = 0;
    this.blocksLineBytes = 0;
  }

  private spanOfOpenChunk(): bigint {
    if (this.blocks.length === 0) return 0n;
    let lo = this.blocks[0]!.minTs;
    let hi = this.blocks[0]!.maxTs;
    for (const b of this.blocks) {
      if (b.minTs < lo) lo = b.minTs;
      if (b.maxTs > hi) hi = b.maxTs;
    }
    return hi - lo;
  }

  /**
   * Entries held in memory at any timestamp `entries` carries, by timestamp. Only blocks whose time range
   * meets the entries' range are decompressed.
   */
  private heldAt(entries: IngestEntry[]): Map<bigint, HeldEntry[]> {
    const wanted = new Set<bigint>();
    let lo = entries[0]!.ts;
    let hi = lo;
    for (const e of entries) {
      wanted.add(e.ts);
      if (e.ts < lo) lo = e.ts;
      if (e.ts > hi) hi = e.ts;
    }
    const held = new Map<bigint, HeldEntry[]>();
    const add = (ts: bigint, line: Buffer, metadata: Record<string, string> | null | undefined) => {
      if (!wanted.has(ts)) return;
      const h = { line, metadata };
      const same = held.get(ts);
      if (same) same.push(h);
      else held.set(ts, [h]);
    };
    const blocks = [...this.recentlyFlushed.flatMap((c) => c.blocks), ...this.allBlocks()];
    for (const block of blocks) {
      if (block.maxTs < lo || block.minTs > hi) continue;
      const b = decodeMemBlock(block, this.canonical, 0);
      for (let i = 0; i < b.count; i++) add(b.ts[i]!, b.lines.subarray(b.lineOffsets[i]!, b.lineOffsets[i + 1]!), b.metadata?.[i]);
    }
    // Head lines are copied: the head's buffer is reused once it is cut.
    for (let i = 0; i < this.head.count; i++) {
      const t = this.head.tsAt(i);
      if (wanted.has(t)) add(t, Buffer.from(this.head.lineAt(i)), this.head.metadataAt(i));
    }
    return held;
  }

  /** Moves a closed chunk that is now in the store to the duplicate-check memory (at most two kept). */
  flushed(c: ClosedChunk): void {
    const i = this.closed.indexOf(c);
    if (i >= 0) {
      this.closed.splice(i, 1);
      this.closedCompressed -= c.memoryBytes;
    }
    this.recentlyFlushed.push(c);
    this.recentBytes += c.memoryBytes;
    if (this.recentlyFlushed.length > 2) this.recentBytes -= this.recentlyFlushed.shift()!.memoryBytes;
  }

  private *allBlocks(): Iterable<EncodedBlock> {
    for (const c of this.closed) yield* c.blocks;
    yield* this.blocks;
  }

  /**
   * In-memory data overlapping [start, end), each piece ascending; pieces may overlap one another.
   * Blocks are handed over compressed, as they are (the reader decompresses one at a time); only the
   * open head is copied, and only when `head` asks for its entries.
   */
  pieces(start: bigint, end: bigint, head: 'copy' | 'stats' = 'copy'): MemoryPiece[] {
    const out: MemoryPiece[] = [];
    for (const block of this.allBlocks()) {
      if (block.maxTs >= start && block.minTs < end) out.push({ kind: 'block', block });
    }
    if (this.head.count > 0 && this.head.maxTs >= start && this.head.minTs < end) {
      const h = this.head;
      out.push(head === 'copy' ? { kind: 'batch', batch: h.snapshot() } : { kind: 'summary', minTs: h.minTs, maxTs: h.maxTs, count: h.count, lineBytes: h.rawBytes });
    }
    return out;
  }

  /** Every unflushed entry, for a WAL checkpoint: the compressed blocks as they are, plus the head cut as one more. */
  checkpointBlocks(): EncodedBlock[] {
    const blocks = [...this.allBlocks()];
    if (this.head.count > 0) blocks.push(encodeBlock(this.head.view(), this.blockLevel));
    return blocks;
  }
}
