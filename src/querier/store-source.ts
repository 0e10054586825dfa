import type { LogSource, SelectParams, StreamData } from '../../query/source.js';
import { blocksOverlapping, decodeBlock, readChunkHeader } from '../chunk/chunk.js';
import type { StreamSnapshot } from '../ingester/ingester.js';
import type { EntryBatch } from '../model/batch.js';
import { canonicalLabels } from '../model/labels.js';
import type { ChunkRef, LabelIndex } from '../store/label-index.js';
import type { ObjectStore } from '../store/object-store.js';
import { mergeBatches, trimBatch } from './batch-ops.js';
import type { MemorySource } from './memory-source.js';
import { resolveStreams } from './resolve-streams.js';

/** One ascending piece of a stream's data: a flushed chunk, or a batch still in memory. */
type Piece = { kind: 'chunk'; ref: ChunkRef; minTs: bigint; maxTs: bigint } | { kind: 'memory'; batch: EntryBatch; minTs: bigint; maxTs: bigint };

/**
 * The engine's data source over the label index, the chunk store and ingester memory. Each stream's
 * pieces are read in time order, one chunk at a time; pieces that overlap in time (late entries, data
 * both flushed and still in memory) are merged and de-duplicated, so the engine always sees one
 * ascending, duplicate-free sequence.
 */
export class StoreLogSource implements LogSource {
  constructor(
    private tenant: string,
    private index: LabelIndex,
    private store: ObjectStore,
    private memory: MemorySource,
  ) {}

  async *select(params: SelectParams): AsyncIterable<StreamData> {
    const { start, end, matchers } = params;
    const resolved = resolveStreams(this.index, this.tenant, matchers);
    const mem = new Map<string, StreamSnapshot>();
    for (const s of await this.memory.select(this.tenant, matchers, start, end)) mem.set(canonicalLabels(s.labels), s);
    const seen = new Set<string>();
    for (const s of resolved) {
      seen.add(s.canonical);
      const refs = this.index.chunksOf(s.streamId, start, end);
      const memBatches = mem.get(s.canonical)?.batches ?? [];
      if (refs.length === 0 && memBatches.length === 0) continue;
      yield { labels: s.labels, batches: this.batches(refs, memBatches, start, end) };
    }
    // Streams only memory knows (another ingester process registered them in its own index).
    for (const [canonical, snap] of mem) {
      if (seen.has(canonical) || snap.batches.length === 0) continue;
      yield { labels: snap.labels, batches: this.batches([], snap.batches, start, end) };
    }
  }

  private async *batches(refs: ChunkRef[], mem: EntryBatch[], start: bigint, end: bigint): AsyncIterable<EntryBatch> {
    const pieces: Piece[] = [
      ...refs.map((ref): Piece => ({ kind: 'chunk', ref, minTs: ref.minTs, maxTs: ref.maxTs })),
      ...mem.filter((b) => b.count > 0).map((batch): Piece => ({ kind: 'memory', batch, minTs: batch.ts[0]!, maxTs: batch.ts[batch.count - 1]! })),
    ].sort((a, b) => (a.minTs < b.minTs ? -1 : a.minTs > b.minTs ? 1 : 0));
    let i = 0;
    while (i < pieces.length) {
      // Gather the run of pieces that overlap one another.
      let j = i + 1;
      let hi = pieces[i]!.maxTs;
      while (j < pieces.length && pieces[j]!.minTs <= hi) {
        if (pieces[j]!.maxTs > hi) hi = pieces[j]!.maxTs;
        j++;
      }
      const run = pieces.slice(i, j);
      i = j;
      if (run.length === 1) {
        yield* this.pieceBatches(run[0]!, start, end);
        continue;
      }
      const all: EntryBatch[] = [];
      for (const p of run) for await (const b of this.pieceBatches(p, start, end)) all.push(b);
      if (all.length > 0) yield mergeBatches(all);
    }
  }

  /** A piece's entries in [start, end) as ascending batches; a chunk whose blocks overlap is merged. */
  private async *pieceBatches(p: Piece, start: bigint, end: bigint): AsyncIterable<EntryBatch> {
    if (p.kind === 'memory') {
      const t = trimBatch(p.batch, start, end);
      if (t) yield t;
      return;
    }
    const buf = await this.store.get(p.ref.key);
    const header = readChunkHeader(buf, p.ref.key);
    const wanted = blocksOverlapping(header, start, end);
    let ordered = true;
    for (let k = 1; k < wanted.length; k++) {
      if (header.blocks[wanted[k]!]!.minTs <= header.blocks[wanted[k - 1]!]!.maxTs) ordered = false;
    }
    if (ordered) {
      for (const bi of wanted) {
        const t = trimBatch(decodeBlock(buf, header, bi, p.ref.key), start, end);
        if (t) yield t;
      }
      return;
    }
    const parts: EntryBatch[] = [];
    for (const bi of wanted) {
      const t = trimBatch(decodeBlock(buf, header, bi, p.ref.key), start, end);
      if (t) parts.push(t);
    }
    if (parts.length > 0) yield mergeBatches(parts);
  }
}
