import type { LogSelectorExpr } from '../ast.js';
import { lineAt } from '../../src/model/batch.js';
import { canonicalLabels, sortedLabels, type Labels } from '../../src/model/labels.js';
import type { ResultStream } from '../result.js';
import { buildPipeline } from '../pipeline.js';
import type { SelectParams } from '../source.js';
import { blockNeedles } from './block-needles.js';
import type { EvalContext } from './context.js';
import { EntryHeap, type Candidate } from './entry-heap.js';
import { addStats } from '../result.js';
import { EntriesLimitError, QueryParamError } from './errors.js';
import { RelClock } from './rel-time.js';
import { hasSlowStage } from '../slow-stages.js';

/**
 * A log query: the pipeline over every selected stream, then the `limit` entries first in the query's
 * direction across all streams (the oldest for forward, the newest for backward), grouped into result
 * streams by their final label set. Only `limit` candidates are ever held. Since each stream arrives in
 * ascending time, a forward query stops reading a stream once it is past the worst kept entry, and a
 * backward query skips whole batches older than it without running the pipeline on them — or, when the
 * source can hand batches newest first, stops reading the stream there.
 */
export async function evalLogQuery(expr: LogSelectorExpr, ctx: EvalContext): Promise<ResultStream[]> {
  const { params, stats, limits } = ctx;
  const limit = params.limit;
  if (!Number.isInteger(limit) || limit < 1) throw new QueryParamError(`limit must be a positive value: limit must be a positive integer, got ${limit}`);
  if (limits.maxEntries !== undefined && limit > limits.maxEntries) throw new EntriesLimitError(limit, limits.maxEntries);
  if (params.interval !== undefined && params.interval !== 0n) {
    throw new QueryParamError('the interval parameter is not supported for log queries; leave it out');
  }
  if (params.end < params.start) throw new QueryParamError('end timestamp must not be before start time: end must not be before start');
  let selected: Candidate[] | null = null;
  const parallel = ctx.source.parallel;
  if (parallel) {
    const req = { expr, params, optimize: limits.optimize !== false, isolate: hasSlowStage(expr.pipeline), deadline: limits.deadline, templateMaxBytes: limits.templateMaxBytes };
    const parts = await parallel.logQuery(req, limits.signal);
    if (parts) {
      const heap = new EntryHeap(limit, params.direction === 'backward');
      for (const p of parts) {
        addStats(stats, p.stats);
        for (const c of p.candidates) heap.offer(c);
      }
      selected = heap.drain();
    }
  }
  selected ??= (await collectCandidates(expr, ctx)).drain();

  const byKey = new Map<string, ResultStream>();
  for (const c of selected) {
    let s = byKey.get(c.key);
    if (!s) byKey.set(c.key, (s = { labels: sortedLabels(c.labels), entries: [] }));
    s.entries.push({ ts: c.ts, line: c.line });
  }
  stats.totalEntriesReturned = selected.length;
  // Loki orders result streams by their label string.
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
}

/** Streams are numbered this far apart in `seq`, so arrival order is (stream position, order within the stream). */
const SEQ_PER_STREAM = 2 ** 32;

/**
 * The best `limit` entries of the source's streams, as a heap. Also what a worker runs over its share
 * of the streams: `seq` orders ties by the stream's position among all streams, so merged shares rank
 * exactly as one pass would.
 */
export async function collectCandidates(expr: LogSelectorExpr, ctx: EvalContext): Promise<EntryHeap> {
  const { params, stats, limits } = ctx;
  const limit = params.limit;
  const backward = params.direction === 'backward';
  const pipeline = buildPipeline(expr.pipeline, null, ctx.pipelineOptions());
  const direct = expr.pipeline.length === 0;
  const clock = new RelClock(params.start, params.end);
  const endRel = clock.rel(params.end);
  const heap = new EntryHeap(limit, backward);
  let position = 0;

  const sel: SelectParams = { matchers: expr.matchers, start: params.start, end: params.end, direction: params.direction };
  // Backward, newest batches first when the source can: a stream stops at its first batch older than the worst kept entry.
  const reverse = backward && ctx.source.selectBackward !== undefined && limits.optimize !== false;
  const shared = limits.sharedBound;
  // The worst entry that can still make the result: our own heap's top once full, or tighter, the top
  // another thread published for its share of the streams.
  let bound = NaN;
  const refreshBound = () => {
    const own = heap.full ? heap.top.rel : NaN;
    const other = shared ? shared.read() : NaN;
    if (Number.isNaN(other)) bound = own;
    else if (Number.isNaN(own)) bound = other;
    else bound = backward ? Math.max(own, other) : Math.min(own, other);
  };
  const needles = limits.optimize === false ? null : blockNeedles(expr.pipeline);
  if (needles) {
    sel.prefilter = {
      needles,
      // A block with no wanted line ends the stream where a batch of its span would have.
      skipped(count, bytes, minTs, maxTs) {
        stats.totalLinesProcessed += count;
        stats.totalBytesProcessed += bytes;
        refreshBound();
        if (Number.isNaN(bound)) return false;
        return backward ? reverse && clock.rel(maxTs) < bound : clock.rel(minTs) > bound;
      },
    };
  }
  const streams = reverse ? ctx.source.selectBackward!(sel) : ctx.source.select(sel);
  const admits = (rel: number): boolean => (Number.isNaN(bound) ? true : backward ? rel >= bound : rel <= bound) && heap.admits(rel);
  for await (const stream of streams) {
    stats.totalStreamsSelected++;
    let seq = (stream.index ?? position++) * SEQ_PER_STREAM;
    let lastLabels: Labels | undefined;
    let lastKey = '';
    // When no stage changes labels, an entry's label set is its stream's plus its metadata object: one set
    // per object (decoded entries share frozen ones, e.g. per detected_level), so one canonical key each.
    const byMetadata = new Map<object | null, Labels>();
    for await (const batch of stream.batches) {
      await ctx.pace();
      const n = batch.count;
      if (n === 0) continue;
      const times = clock.batchTimes(batch);
      refreshBound();
      if (!Number.isNaN(bound)) {
        // Everything from here on in this stream is later than the worst entry that can still make it.
        if (!backward && times[0]! > bound) break;
        if (backward && times[n - 1]! < bound) {
          if (reverse) break;
          continue;
        }
      }
      stats.totalLinesProcessed += n;
      stats.totalBytesProcessed += batch.lineOffsets[n]! - batch.lineOffsets[0]!;
      const offer = (i: number, line: string | undefined, labels: Labels): void => {
        const rel = times[i]!;
        if (rel < 0 || rel >= endRel) return;
        stats.totalPostFilterLines++;
        if (!admits(rel)) return;
        if (labels !== lastLabels) {
          lastLabels = labels;
          lastKey = canonicalLabels(labels);
        }
        heap.offer({ rel, ts: batch.ts[i]!, line: line ?? lineAt(batch, i), labels, key: lastKey, seq: seq++ });
      };
      // Without stages a line is only decoded once it earns a place among the candidates.
      if (direct && !batch.metadata) for (let i = 0; i < n; i++) offer(i, undefined, stream.labels);
      else
        pipeline.runEntries(batch, stream.labels, (i, e) => {
          // Lines and label sets are only built for entries that earn a place among the candidates.
          const rel = times[i]!;
          if (rel < 0 || rel >= endRel) return;
          if (!admits(rel)) {
            stats.totalPostFilterLines++;
            return;
          }
          if (!pipeline.preservesLabels || e.hasError()) return offer(i, e.line, e.labels());
          const md = e.metadata();
          let labels = byMetadata.get(md);
          if (labels === undefined) {
            labels = e.labels();
            if (byMetadata.size < 256) byMetadata.set(md, labels);
          }
          offer(i, e.line, labels);
        });
      if (shared && heap.full) shared.publish(heap.top.rel);
      refreshBound();
      if (!backward && !Number.isNaN(bound) && times[n - 1]! > bound) break;
    }
  }
  return heap;
}
