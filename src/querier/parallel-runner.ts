import type { Matcher } from '../../query/ast.js';
import { QueryEvalError } from '../../query/eval/errors.js';
import type { LogPartial, LogPartialRequest, ParallelRunner, RangePartial, RangePartialRequest } from '../../query/parallel.js';
import { pieceLineBytes, type MemoryPiece, type StreamSnapshot } from '../ingester/memory-piece.js';
import { canonicalLabels, type Labels } from '../model/labels.js';
import { deletesForStream, type CompiledDelete, type DeleteSpec } from '../store/delete-matcher.js';
import type { LabelIndex } from '../store/label-index.js';
import type { MemorySource } from './memory-source.js';
import type { Pacer } from './query-lifetime.js';
import { resolveStreams } from './resolve-streams.js';
import { effectiveStart, type StreamCutoff } from '../store/retention.js';
import { livePieces } from './store-source.js';
import type { ChunkDamage } from './chunk-damage.js';
import { NO_BOUND, type AssignedStream, type WorkerTask } from './workers/protocol.js';
import { WorkerTaskError, type QueryWorkerPool } from './workers/pool.js';

interface Planned extends AssignedStream {
  bytes: number;
}

/** A stream a query would read, with its raw size, before it is dealt to a share. */
export type FoundStream = Omit<Planned, 'index'>;

/**
 * Splits one query's streams across the worker pool: the same streams, in the same order, that
 * StoreLogSource would read, dealt into shares of about equal raw bytes (largest first, to the least
 * loaded share). A stream's unflushed entries travel with it, so each stream is merged and
 * de-duplicated in one place; it travels compressed, as the ingester holds it, and each worker decompresses
 * one block at a time. Small queries stay on the calling thread, unless the query is isolated (its regexes
 * run on a worker whatever its size; see query/parallel.ts).
 */
export class WorkerParallelRunner implements ParallelRunner {
  constructor(
    private readonly tenant: string,
    private readonly index: LabelIndex,
    private readonly memory: MemorySource,
    private readonly pool: QueryWorkerPool,
    /** The query's lifetime: planning (stream resolution, ingester memory) stops and yields with it. */
    private readonly life?: Pacer,
    /** Each stream's retention cutoff: a stream's share starts there (see AssignedStream.from). */
    private readonly cutoff?: StreamCutoff,
    /** The tenant's delete requests: each stream carries those that cover some of it, as plain specs. */
    private readonly deletes: readonly CompiledDelete[] = [],
    /** Where the workers' damaged chunks are gathered for the response. */
    private readonly damage?: ChunkDamage,
  ) {}

  async rangeAggregation(req: RangePartialRequest, signal?: AbortSignal): Promise<RangePartial[] | null> {
    const shares = await this.plan(req.select.matchers, req.select.start, req.select.end, req.split, req.isolate);
    if (!shares) return null;
    return this.dispatch<RangePartial>(shares.map((streams) => ({ kind: 'range', streams, req })), req.isolate, signal);
  }

  async logQuery(req: LogPartialRequest, signal?: AbortSignal): Promise<LogPartial[] | null> {
    const shares = await this.plan(req.expr.matchers, req.params.start, req.params.end, true, req.isolate);
    if (!shares) return null;
    return this.dispatch<LogPartial>(shares.map((streams) => ({ kind: 'log', streams, req })), req.isolate, signal);
  }

  /** The streams of this runner's tenant that `matchers` select, in reading order, with their sizes. */
  async collect(matchers: Matcher[], start: bigint, end: bigint): Promise<FoundStream[]> {
    const mem = new Map<string, StreamSnapshot>();
    for (const s of await this.memory.select(this.tenant, matchers, start, end, 'copy', this.life)) mem.set(canonicalLabels(s.labels), s);
    const found: FoundStream[] = [];
    const add = (p: FoundStream) => found.push(p);
    const seen = new Set<string>();
    for (const s of await resolveStreams(this.index, this.tenant, matchers, this.life)) {
      if (this.life?.due()) await this.life.pace();
      seen.add(s.canonical);
      const from = effectiveStart(this.cutoff, s.labels, start);
      if (from >= end) continue;
      const st = this.index.chunkStats(s.streamId, from, end);
      const memory = livePieces(mem.get(s.canonical)?.pieces ?? [], from);
      if (st.chunks === 0 && memory.length === 0) continue;
      add({ labels: s.labels, streamId: s.streamId, memory, bytes: Number(st.bytes) + memBytes(memory), ...(from > start ? { from } : {}), ...this.deletesOf(s.labels, from, end) });
    }
    for (const [canonical, snap] of mem) {
      if (seen.has(canonical)) continue;
      const from = effectiveStart(this.cutoff, snap.labels, start);
      const memory = from < end ? livePieces(snap.pieces, from) : [];
      if (memory.length === 0) continue;
      add({ labels: snap.labels, streamId: null, memory, bytes: memBytes(memory), ...(from > start ? { from } : {}), ...this.deletesOf(snap.labels, from, end) });
    }
    return found;
  }

  private async plan(matchers: Matcher[], start: bigint, end: bigint, split: boolean, isolate: boolean): Promise<AssignedStream[][] | null> {
    const planned: Planned[] = [];
    let total = 0;
    for (const p of await this.collect(matchers, start, end)) {
      planned.push({ ...p, index: planned.length });
      total += p.bytes;
    }
    if (planned.length === 0) return null;
    const worthSplitting = split && this.pool.size >= 2 && planned.length >= 2 && total >= this.pool.minBytes;
    if (!worthSplitting && !isolate) return null;
    const n = worthSplitting ? Math.min(this.pool.size, planned.length) : 1;
    const shares: Planned[][] = Array.from({ length: n }, () => []);
    const load = new Array<number>(n).fill(0);
    for (const p of [...planned].sort((a, b) => b.bytes - a.bytes || a.index - b.index)) {
      let k = 0;
      for (let j = 1; j < n; j++) if (load[j]! < load[k]!) k = j;
      shares[k]!.push(p);
      load[k]! += p.bytes;
    }
    // Each share reads its streams in their overall order.
    return shares.map((s) => s.sort((a, b) => a.index - b.index).map(({ bytes: _bytes, ...a }) => a));
  }

  private deletesOf(labels: Labels, start: bigint, end: bigint): { deletes?: DeleteSpec[] } {
    if (this.deletes.length === 0) return {};
    const sd = deletesForStream(labels, this.deletes, start, end);
    return sd ? { deletes: sd.requests.map((r) => r.spec) } : {};
  }

  /**
   * The shares' results; null when a worker failed for reasons of its own (the query then runs here),
   * except for an isolated query, which must never run here: its failure is the query's.
   */
  private async dispatch<T>(tasks: WorkerTask[], isolate: boolean, signal?: AbortSignal): Promise<T[] | null> {
    // Stops every share: when the query is aborted, and when one share fails.
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const bounds = new BigInt64Array(new SharedArrayBuffer(8 * tasks.length)).fill(NO_BOUND);
    try {
      const running = tasks.map((t, k) => this.pool.run<T>(k, t, stop.signal, bounds, (d) => this.damage?.merge(d)));
      running.forEach((p) => p.catch((err: unknown) => stop.abort(err)));
      const aborted = new Promise<never>((_, reject) => {
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
      return await Promise.race([Promise.all(running), aborted]);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (err instanceof WorkerTaskError && err.queryError) throw new QueryEvalError(err.message);
      if (isolate) throw err;
      // A worker that crashed or could not open the index or store must not fail the query.
      this.pool.failures++;
      return null;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // Shares still running once the answer is settled have nothing left to do.
      if (!stop.signal.aborted) stop.abort(new Error('query finished'));
    }
  }
}

function memBytes(pieces: MemoryPiece[]): number {
  let n = 0;
  for (const p of pieces) n += pieceLineBytes(p);
  return n;
}
