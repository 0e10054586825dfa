import type { LogSelectorExpr } from '../ast.js';
import { lineAt } from '../../src/model/batch.js';
import { canonicalLabels, sortedLabels, type Labels } from '../../src/model/labels.js';
import type { ResultStream } from '../result.js';
import { buildPipeline } from '../pipeline.js';
import type { EvalContext } from './context.js';
import { EntryHeap } from './entry-heap.js';
import { EntriesLimitError, QueryParamError } from './errors.js';
import { RelClock } from './rel-time.js';

/**
 * A log query: the pipeline over every selected stream, then the `limit` entries first in the query's
 * direction across all streams (the oldest for forward, the newest for backward), grouped into result
 * streams by their final label set. Only `limit` candidates are ever held. Since each stream arrives in
 * ascending time, a forward query stops reading a stream once it is past the worst kept entry, and a
 * backward query skips whole batches older than it without running the pipeline on them.
 */
export async function evalLogQuery(expr: LogSelectorExpr, ctx: EvalContext): Promise<ResultStream[]> {
  const { params, stats, limits } = ctx;
  const limit = params.limit;
  if (!Number.isInteger(limit) || limit < 1) throw new QueryParamError(`limit must be a positive integer, got ${limit}`);
  if (limits.maxEntries !== undefined && limit > limits.maxEntries) throw new EntriesLimitError(limit, limits.maxEntries);
  if (params.interval !== undefined && params.interval !== 0n) {
    throw new QueryParamError('the interval parameter is not supported for log queries; leave it out');
  }
  if (params.end < params.start) throw new QueryParamError('end must not be before start');
  const backward = params.direction === 'backward';
  const pipeline = buildPipeline(expr.pipeline);
  const direct = expr.pipeline.length === 0;
  const clock = new RelClock(params.start, params.end);
  const endRel = clock.rel(params.end);
  const heap = new EntryHeap(limit, backward);
  let seq = 0;

  for await (const stream of ctx.source.select({ matchers: expr.matchers, start: params.start, end: params.end, direction: params.direction })) {
    stats.totalStreamsSelected++;
    let lastLabels: Labels | undefined;
    let lastKey = '';
    for await (const batch of stream.batches) {
      ctx.checkAbort();
      const n = batch.count;
      if (n === 0) continue;
      const times = clock.batchTimes(batch);
      if (heap.full) {
        // Everything from here on in this stream is later than the worst kept entry.
        if (!backward && times[0]! > heap.top.rel) break;
        if (backward && times[n - 1]! < heap.top.rel) continue;
      }
      stats.totalLinesProcessed += n;
      stats.totalBytesProcessed += batch.lineOffsets[n]! - batch.lineOffsets[0]!;
      const offer = (i: number, line: string | undefined, labels: Labels): void => {
        const rel = times[i]!;
        if (rel < 0 || rel >= endRel) return;
        stats.totalPostFilterLines++;
        if (!heap.admits(rel)) return;
        if (labels !== lastLabels) {
          lastLabels = labels;
          lastKey = canonicalLabels(labels);
        }
        heap.offer({ rel, ts: batch.ts[i]!, line: line ?? lineAt(batch, i), labels, key: lastKey, seq: seq++ });
      };
      // Without stages a line is only decoded once it earns a place among the candidates.
      if (direct && !batch.metadata) for (let i = 0; i < n; i++) offer(i, undefined, stream.labels);
      else pipeline.run(batch, stream.labels, offer);
      if (!backward && heap.full && times[n - 1]! > heap.top.rel) break;
    }
  }

  const byKey = new Map<string, ResultStream>();
  const selected = heap.drain();
  for (const c of selected) {
    let s = byKey.get(c.key);
    if (!s) byKey.set(c.key, (s = { labels: sortedLabels(c.labels), entries: [] }));
    s.entries.push({ ts: c.ts, line: c.line });
  }
  stats.totalEntriesReturned = selected.length;
  // Loki orders result streams by their label string.
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
}
