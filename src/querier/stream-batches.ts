import { blocksOverlapping, decodeBlock, readChunkHeader } from '../chunk/chunk.js';
import type { EntryBatch } from '../model/batch.js';
import type { ChunkRef } from '../store/label-index.js';
import type { ObjectStore } from '../store/object-store.js';
import { trimBatch } from './batch-ops.js';
import { mergePieces } from './piece-merge.js';

/** One ascending piece of a stream's data: a flushed chunk, or a batch still in memory. */
type Piece = { kind: 'chunk'; ref: ChunkRef; minTs: bigint; maxTs: bigint } | { kind: 'memory'; batch: EntryBatch; minTs: bigint; maxTs: bigint };

/**
 * The stream's entries in [start, end) as non-overlapping ascending batches, oldest batch first, or
 * newest first when `reverse`. Pieces that overlap in time are merged as they are read (see
 * mergePieces), so a stream of chunks that all overlap a little is still read one block at a time.
 */
export function streamBatches(store: ObjectStore, refs: ChunkRef[], mem: EntryBatch[], start: bigint, end: bigint, reverse: boolean): AsyncIterable<EntryBatch> {
  const pieces: Piece[] = [
    ...refs.map((ref): Piece => ({ kind: 'chunk', ref, minTs: ref.minTs, maxTs: ref.maxTs })),
    ...mem.filter((b) => b.count > 0).map((batch): Piece => ({ kind: 'memory', batch, minTs: batch.ts[0]!, maxTs: batch.ts[batch.count - 1]! })),
  ].sort((a, b) => (a.minTs < b.minTs ? -1 : a.minTs > b.minTs ? 1 : 0));
  return mergePieces(
    pieces.map((p) => ({ minTs: p.minTs, maxTs: p.maxTs, open: (rev: boolean) => pieceBatches(store, p, start, end, rev)[Symbol.asyncIterator]() })),
    reverse,
  );
}

/** A piece's entries in [start, end) as ascending batches (in reverse order when asked); a chunk whose blocks overlap is merged. */
async function* pieceBatches(store: ObjectStore, p: Piece, start: bigint, end: bigint, reverse: boolean): AsyncIterable<EntryBatch> {
  if (p.kind === 'memory') {
    const t = trimBatch(p.batch, start, end);
    if (t) yield t;
    return;
  }
  const buf = await store.get(p.ref.key);
  const header = readChunkHeader(buf, p.ref.key);
  const wanted = blocksOverlapping(header, start, end);
  let ordered = true;
  for (let k = 1; k < wanted.length; k++) {
    if (header.blocks[wanted[k]!]!.minTs <= header.blocks[wanted[k - 1]!]!.maxTs) ordered = false;
  }
  if (ordered) {
    // Blocks are decoded only as the consumer asks: a query that stops early skips the rest.
    if (reverse) wanted.reverse();
    for (const bi of wanted) {
      const t = trimBatch(decodeBlock(buf, header, bi, p.ref.key), start, end);
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
          const t = trimBatch(decodeBlock(buf, header, bi, p.ref.key), start, end);
          if (t) yield t;
        })(),
    }))
    .sort((x, y) => (x.minTs < y.minTs ? -1 : x.minTs > y.minTs ? 1 : 0));
  yield* mergePieces(blocks, reverse);
}
