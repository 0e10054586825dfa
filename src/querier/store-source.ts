import type { LogSource, SelectParams, StreamData } from '../../query/source.js';
import { pieceCount, pieceMaxTs, type MemoryPiece, type StreamSnapshot } from '../ingester/memory-piece.js';
import type { EntryBatch } from '../model/batch.js';
import { canonicalLabels, type Labels } from '../model/labels.js';
import type { LabelIndex } from '../store/label-index.js';
import type { ObjectStore } from '../store/object-store.js';
import type { ParallelRunner } from '../../query/parallel.js';
import { WorkerParallelRunner } from './parallel-runner.js';
import { streamBatches } from './stream-batches.js';
import type { QueryWorkerPool } from './workers/pool.js';
import type { MemorySource } from './memory-source.js';
import type { Pacer } from './query-lifetime.js';
import { resolveStreams } from './resolve-streams.js';
import { effectiveStart, type StreamCutoff } from '../store/retention.js';
import { deletesForStream, type CompiledDelete } from '../store/delete-matcher.js';
import { withoutDeleted } from './deleted-lines.js';
import type { ChunkDamage } from './chunk-damage.js';

/**
 * The engine's data source over the label index, the chunk store and ingester memory. Each stream's
 * pieces are read in time order, one chunk at a time; pieces that overlap in time (late entries, data
 * both flushed and still in memory) are merged and de-duplicated, so the engine always sees one
 * ascending, duplicate-free sequence.
 */
export class StoreLogSource implements LogSource {
  /** Set when a worker pool is given: queries over enough data split their streams across its threads. */
  readonly parallel?: ParallelRunner;

  constructor(
    private tenant: string,
    private index: LabelIndex,
    private store: ObjectStore,
    private memory: MemorySource,
    pool?: QueryWorkerPool | null,
    /** The query's lifetime: resolving streams and reading ingester memory stop and yield with it. */
    private life?: Pacer,
    /** Each stream's retention cutoff: nothing older is read, here or on a worker. */
    private cutoff?: StreamCutoff,
    /** The tenant's delete requests: the entries they cover are never returned. */
    private deletes: readonly CompiledDelete[] = [],
    /** Damaged chunks are skipped and reported here (the response's warnings). */
    private damage?: ChunkDamage,
  ) {
    if (pool) this.parallel = new WorkerParallelRunner(tenant, index, memory, pool, life, cutoff, deletes, damage);
  }

  select(params: SelectParams): AsyncIterable<StreamData> {
    return this.streams(params, false);
  }

  selectBackward(params: SelectParams): AsyncIterable<StreamData> {
    return this.streams(params, true);
  }

  private async *streams(params: SelectParams, reverse: boolean): AsyncIterable<StreamData> {
    const { start, end, matchers } = params;
    const resolved = await resolveStreams(this.index, this.tenant, matchers, this.life);
    const mem = new Map<string, StreamSnapshot>();
    for (const s of await this.memory.select(this.tenant, matchers, start, end, 'copy', this.life)) mem.set(canonicalLabels(s.labels), s);
    const seen = new Set<string>();
    for (const s of resolved) {
      seen.add(s.canonical);
      const from = effectiveStart(this.cutoff, s.labels, start);
      if (from >= end) continue;
      const refs = this.index.chunksOf(s.streamId, from, end);
      const memPieces = livePieces(mem.get(s.canonical)?.pieces ?? [], from);
      if (refs.length === 0 && memPieces.length === 0) continue;
      yield { labels: s.labels, batches: this.filtered(s.labels, from, end, streamBatches(this.store, refs, memPieces, from, end, reverse, params.prefilter, this.damage)) };
    }
    // Streams only memory knows (another ingester process registered them in its own index).
    for (const [canonical, snap] of mem) {
      if (seen.has(canonical)) continue;
      const from = effectiveStart(this.cutoff, snap.labels, start);
      const pieces = from < end ? livePieces(snap.pieces, from) : [];
      if (pieces.length === 0) continue;
      yield { labels: snap.labels, batches: this.filtered(snap.labels, from, end, streamBatches(this.store, [], pieces, from, end, reverse)) };
    }
  }

  private filtered(labels: Labels, start: bigint, end: bigint, batches: AsyncIterable<EntryBatch>): AsyncIterable<EntryBatch> {
    if (this.deletes.length === 0) return batches;
    const sd = deletesForStream(labels, this.deletes, start, end);
    return sd ? withoutDeleted(batches, sd) : batches;
  }
}

/** The pieces holding an entry at or after `from` (older ones are past retention). */
export function livePieces(pieces: MemoryPiece[], from: bigint): MemoryPiece[] {
  return pieces.filter((p) => pieceCount(p) > 0 && pieceMaxTs(p) >= from);
}
