/**
 * A query worker thread: opens the label index read-only and the chunk store, then evaluates the
 * per-stream part of queries over the streams it is given (see query/parallel.ts). Runs until the
 * pool terminates it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EvalContext, type SharedBound } from '../../../query/eval/context.js';
import { QueryEvalError } from '../../../query/eval/errors.js';
import { collectCandidates } from '../../../query/eval/log-query.js';
import { accumulateRangeAggregation } from '../../../query/eval/range-agg.js';
import type { LogPartial, RangePartial } from '../../../query/parallel.js';
import type { LogSource, SelectParams, StreamData } from '../../../query/source.js';
import { revivePiece } from '../../ingester/memory-piece.js';
import { FsObjectStore } from '../../store/fs-object-store.js';
import { LabelIndex } from '../../store/label-index.js';
import type { ObjectStore } from '../../store/object-store.js';
import { S3ObjectStore } from '../../store/s3-object-store.js';
import { CompiledDelete, type DeleteSpec } from '../../store/delete-matcher.js';
import { withoutDeleted } from '../deleted-lines.js';
import { ChunkDamage } from '../chunk-damage.js';
import { streamBatches } from '../stream-batches.js';
import { NO_BOUND, type AssignedStream, type TaskMessage, type TaskReply, type WorkerInit } from './protocol.js';

const init = workerData as WorkerInit;
const index = new LabelIndex(init.indexPath, { readonly: true });
const store: ObjectStore = init.store.kind === 'fs' ? new FsObjectStore(init.store.root) : new S3ObjectStore(init.store.config);

/** Delete requests parsed once per worker: the same few come with every task of their tenant. */
const compiledDeletes = new Map<string, CompiledDelete>();

function compiledDelete(spec: DeleteSpec): CompiledDelete {
  const key = `${spec.id}\u0000${spec.query}\u0000${spec.startMs}\u0000${spec.endMs}`;
  let c = compiledDeletes.get(key);
  if (!c) {
    // Bounded: requests are few, and a long-running worker must not keep cancelled ones for good.
    if (compiledDeletes.size >= 1000) compiledDeletes.clear();
    compiledDeletes.set(key, (c = new CompiledDelete(spec)));
  }
  return c;
}

/** The worker's share of a query's streams, read from the chunk store and the entries sent along. */
class AssignedSource implements LogSource {
  constructor(
    private readonly streams: AssignedStream[],
    readonly damage: ChunkDamage,
  ) {}

  select(params: SelectParams): AsyncIterable<StreamData> {
    return this.read(params, false);
  }

  selectBackward(params: SelectParams): AsyncIterable<StreamData> {
    return this.read(params, true);
  }

  private async *read(params: SelectParams, reverse: boolean): AsyncIterable<StreamData> {
    for (const s of this.streams) {
      const start = s.from !== undefined && s.from > params.start ? s.from : params.start;
      if (start >= params.end) continue;
      const refs = s.streamId === null ? [] : index.chunksOf(s.streamId, start, params.end);
      const batches = streamBatches(store, refs, s.memory.map(revivePiece), start, params.end, reverse, params.prefilter, this.damage);
      yield { labels: s.labels, index: s.index, batches: s.deletes ? withoutDeleted(batches, { labels: s.labels, requests: s.deletes.map(compiledDelete) }) : batches };
    }
  }
}

/** The shares' published bounds as a SharedBound: the tightest of them (newest for backward queries). */
function sharedBound(slots: BigInt64Array, own: number, backward: boolean): SharedBound {
  return {
    read() {
      let best = NaN;
      for (let k = 0; k < slots.length; k++) {
        const v = Atomics.load(slots, k);
        if (v === NO_BOUND) continue;
        const n = Number(v);
        if (Number.isNaN(best) || (backward ? n > best : n < best)) best = n;
      }
      return best;
    },
    publish(rel) {
      Atomics.store(slots, own, BigInt(rel));
    },
  };
}

async function run(m: TaskMessage): Promise<{ result: RangePartial | LogPartial; transfer: ArrayBuffer[]; damage: ChunkDamage }> {
  const cancel = m.cancel;
  // checkAbort() reads `aborted` every few lines; the flag is shared memory, so it is current.
  const signal = {
    get aborted() {
      return Atomics.load(cancel, 0) === 1;
    },
    reason: new Error('query cancelled'),
  } as unknown as AbortSignal;
  const t = m.task;
  const damage = new ChunkDamage();
  const source = new AssignedSource(t.streams, damage);
  // The deadline is checked here too: the query thread's timer may fire late.
  const bounds = { signal, deadline: t.req.deadline, deadlineError: () => new Error('query deadline exceeded'), templateMaxBytes: t.req.templateMaxBytes };
  if (t.kind === 'range') {
    const { expr, grid, optimize, maxSeries } = t.req;
    const params = { start: grid.start, end: grid.start, step: grid.step, direction: 'forward' as const, limit: 1, instant: false };
    const ctx = new EvalContext(params, source, { optimize, maxSeries, ...bounds }, grid);
    const state = await accumulateRangeAggregation(expr, ctx);
    const stores = [...state.stepStores.values()].map((s) => s.serialize());
    const samples = [...state.sampleStores.values()].map((s) => s.serialize());
    const transfer: ArrayBuffer[] = [];
    for (const s of stores) for (const a of [s.has, s.a, s.b, s.c]) if (a) transfer.push(a.buffer as ArrayBuffer);
    for (const s of samples) transfer.push(s.rel.buffer as ArrayBuffer, s.val.buffer as ArrayBuffer);
    return { result: { stores, samples, stats: ctx.stats }, transfer, damage };
  }
  const ctx = new EvalContext(t.req.params, source, { optimize: t.req.optimize, ...bounds, sharedBound: sharedBound(m.bounds, m.slot, t.req.params.direction === 'backward') }, { start: t.req.params.start, step: 0n, count: 0 });
  const heap = await collectCandidates(t.req.expr, ctx);
  return { result: { candidates: heap.drain(), stats: ctx.stats }, transfer: [], damage };
}

parentPort!.on('message', (m: TaskMessage) => {
  run(m).then(
    ({ result, transfer, damage }) => parentPort!.postMessage({ id: m.id, ok: true, result, damaged: damage.entries() } satisfies TaskReply, transfer),
    (err: unknown) =>
      parentPort!.postMessage({
        id: m.id,
        ok: false,
        error: { message: err instanceof Error ? err.message : String(err), queryError: err instanceof QueryEvalError },
      } satisfies TaskReply),
  );
});
