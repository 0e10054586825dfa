import type { BlockPrefilter } from '../../query/source.js';
import { peekBlockLines } from '../chunk/block-decode.js';
import { blocksOverlapping, ChunkCorruptError, decodeBlock, decodeBlockBytes, readChunkHeader, type BlockInfo, type ChunkHeader } from '../chunk/chunk.js';
import { memBlockInfo, openPiece, pieceCount, pieceMaxTs, pieceMinTs, type MemoryPiece } from '../ingester/memory-piece.js';
import type { EntryBatch } from '../model/batch.js';
import type { ChunkRef } from '../store/label-index.js';
import type { ObjectStore } from '../store/object-store.js';
import { trimBatch } from './batch-ops.js';
import { ChunkDamage } from './chunk-damage.js';
import { mergePieces } from './piece-merge.js';

/** One ascending piece of a stream's data: a flushed chunk, or a block or head copy still in memory. */
type Piece = { kind: 'chunk'; ref: ChunkRef; minTs: bigint; maxTs: bigint } | { kind: 'memory'; piece: MemoryPiece; minTs: bigint; maxTs: bigint };

/**
 * The stream's entries in [start, end) as non-overlapping ascending batches, oldest batch first, or
 * newest first when `reverse`. Pieces that overlap in time are merged as they are read (see
 * mergePieces), so a stream of chunks that all overlap a little is still read one block at a time.
 */
export function streamBatches(
  store: ObjectStore,
  refs: ChunkRef[],
  mem: MemoryPiece[],
  start: bigint,
  end: bigint,
  reverse: boolean,
  prefilter?: BlockPrefilter,
  /** Where damaged chunks are reported and skipped; without it, damage fails the read. */
  damage?: ChunkDamage,
): AsyncIterable<EntryBatch> {
  const pieces: Piece[] = [
    ...refs.map((ref): Piece => ({ kind: 'chunk', ref, minTs: ref.minTs, maxTs: ref.maxTs })),
    ...mem.filter((m) => pieceCount(m) > 0).map((piece): Piece => ({ kind: 'memory', piece, minTs: pieceMinTs(piece), maxTs: pieceMaxTs(piece) })),
  ].sort((a, b) => (a.minTs < b.minTs ? -1 : a.minTs > b.minTs ? 1 : 0));
  let disjoint = true;
  for (let k = 1; k < pieces.length; k++) if (pieces[k]!.minTs <= pieces[k - 1]!.maxTs) disjoint = false;
  // Ending the stream at a skipped block is only right when nothing merges around it.
  const reader = new BlockReader(prefilter, disjoint);
  return mergePieces(
    pieces.map((p) => ({ minTs: p.minTs, maxTs: p.maxTs, open: (rev: boolean) => pieceBatches(store, p, start, end, rev, reader, damage)[Symbol.asyncIterator]() })),
    reverse,
  );
}

/** A piece's entries in [start, end) as ascending batches (in reverse order when asked); a chunk whose blocks overlap is merged. */
async function* pieceBatches(store: ObjectStore, p: Piece, start: bigint, end: bigint, reverse: boolean, reader: BlockReader, damage?: ChunkDamage): AsyncIterable<EntryBatch> {
  if (reader.stopped) return;
  if (p.kind === 'memory') {
    // A block is decompressed only now, when the merge reaches it, and dropped once consumed.
    const m = p.piece;
    const b = m.kind === 'block' ? reader.decodeStored(m.block.data, memBlockInfo(m.block), 'in-memory block', 0, true) : openPiece(m, 'in-memory head');
    if (reader.stopped) return;
    const t = b && trimBatch(b, start, end);
    if (t) yield t;
    return;
  }
  const key = p.ref.key;
  // A damaged block costs that block; a missing object or an unreadable header, the chunk.
  const skipped = (err: unknown): boolean => {
    if (!damage || !ChunkDamage.isDamage(err)) return false;
    damage.report(key, err);
    return true;
  };
  let buf: Buffer;
  let header: ChunkHeader;
  try {
    buf = await store.get(key);
    header = readChunkHeader(buf, key);
  } catch (err) {
    if (skipped(err)) return;
    throw err;
  }
  const wanted = blocksOverlapping(header, start, end);
  let ordered = true;
  for (let k = 1; k < wanted.length; k++) {
    if (header.blocks[wanted[k]!]!.minTs <= header.blocks[wanted[k - 1]!]!.maxTs) ordered = false;
  }
  if (ordered) {
    // Blocks are decoded only as the consumer asks: a query that stops early skips the rest.
    if (reverse) wanted.reverse();
    for (const bi of wanted) {
      let b: EntryBatch | null;
      try {
        b = reader.decode(buf, header, bi, key, true);
      } catch (err) {
        if (skipped(err)) continue;
        throw err;
      }
      if (reader.stopped) return;
      const t = b && trimBatch(b, start, end);
      if (t) yield t;
    }
    return;
  }
  // Blocks that overlap (entries that arrived out of order): merged as they are read, like pieces.
  const blocks = wanted
    .map((bi) => ({
      minTs: header.blocks[bi]!.minTs,
      maxTs: header.blocks[bi]!.maxTs,
      open: () =>
        (function* () {
          let b: EntryBatch | null;
          try {
            b = reader.decode(buf, header, bi, key, false);
          } catch (err) {
            if (skipped(err)) return;
            throw err;
          }
          const t = b && trimBatch(b, start, end);
          if (t) yield t;
        })(),
    }))
    .sort((x, y) => (x.minTs < y.minTs ? -1 : x.minTs > y.minTs ? 1 : 0));
  yield* mergePieces(blocks, reverse);
}

/**
 * Decodes a stream's blocks, first ruling blocks out by the prefilter's needles over their line bytes
 * alone. A block ruled out is reported and dropped; once the report says the stream is done, `stopped`
 * ends every piece of it.
 */
class BlockReader {
  stopped = false;

  constructor(
    private readonly prefilter: BlockPrefilter | undefined,
    private readonly disjoint: boolean,
  ) {}

  /** The block's entries, or null when the prefilter rules it out. `inOrder`: the block is read in the stream's order, merged with nothing. */
  decode(buf: Buffer, header: ChunkHeader, bi: number, id: string, inOrder: boolean): EntryBatch | null {
    if (this.stopped) return null;
    if (!this.prefilter) return decodeBlock(buf, header, bi, id);
    const info = header.blocks[bi]!;
    if (info.offset + info.compressedSize > buf.length) {
      throw new ChunkCorruptError(id, `truncated: block needs bytes up to ${info.offset + info.compressedSize}, object has ${buf.length}`, bi);
    }
    return this.decodeStored(buf.subarray(info.offset, info.offset + info.compressedSize), info, id, bi, inOrder);
  }

  /** As decode, for one block's stored bytes and its table row. */
  decodeStored(stored: Buffer, info: BlockInfo, id: string, bi: number, inOrder: boolean): EntryBatch | null {
    const pf = this.prefilter;
    if (this.stopped) return null;
    if (!pf) return decodeBlockBytes(stored, info, id, bi);
    const lines = peekBlockLines(stored, info, id, bi);
    if (!lines) return decodeBlockBytes(stored, info, id, bi);
    for (const n of pf.needles) {
      if (lines.indexOf(n) < 0) {
        if (pf.skipped(info.count, lines.length, info.minTs, info.maxTs) && inOrder && this.disjoint) this.stopped = true;
        return null;
      }
    }
    // The peeked bytes live in a scratch buffer: the batch gets its own copy.
    return decodeBlockBytes(stored, info, id, bi, Buffer.from(lines));
  }
}
