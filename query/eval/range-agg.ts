import type { RangeAggregationExpr } from '../ast.js';
import type { EntryBatch } from '../../src/model/batch.js';
import type { Labels } from '../../src/model/labels.js';
import { buildPipeline } from '../pipeline.js';
import type { EvalContext } from './context.js';
import { QueryEvalError } from './errors.js';
import { applyGrouping, labelsKey, withoutNames } from './label-set.js';
import { buildPostFilter } from './post-filter.js';
import { rangeKind } from './range-kind.js';
import { absentResult, rangeResult } from './range-result.js';
import { SampleStore, StepStore } from './range-store.js';
import { RangeWindow } from './range-window.js';
import { RelClock } from './rel-time.js';
import type { SeriesSet } from './series-set.js';
import { stepTime } from './steps.js';
import { convertUnwrapped, type Conversion } from './unwrap-value.js';

interface WindowTarget {
  window: RangeWindow;
  store: StepStore;
}

/**
 * Evaluates `op(selector | pipeline [range] offset o) by (…)` over the step grid. At step t the window is
 * (t − range − o, t − o]. One pass over the entries: each stream is read once, in time order; each series
 * it feeds keeps a sliding window that reports a partial result at every step it covers, and the partials
 * of different streams feeding the same series merge per step. Steps where a series' window is empty cost
 * nothing.
 */
export async function evalRangeAggregation(expr: RangeAggregationExpr, ctx: EvalContext): Promise<SeriesSet> {
  const { grid, stats } = ctx;
  if (expr.range <= 0n) throw new QueryEvalError('the range of a range aggregation must be positive');
  const offset = expr.offset ?? 0n;
  const range = expr.range;
  const firstEnd = grid.start - offset;
  const lastEnd = stepTime(grid, grid.count - 1) - offset;
  const selStart = firstEnd - range + 1n;
  const selEnd = lastEnd + 1n;
  const clock = new RelClock(selStart, selEnd);
  const rangeN = Number(range);
  const count = grid.count;
  const ends = new Float64Array(count);
  for (let i = 0; i < count; i++) ends[i] = clock.rel(stepTime(grid, i) - offset);
  const lastEndRel = ends[count - 1]!;

  const op = expr.op;
  const kind = rangeKind(op);
  const unwrap = expr.unwrap;
  const conversion: Conversion = unwrap?.conversion ?? 'float';
  const countsBytes = op === 'bytes_over_time' || op === 'bytes_rate';
  const grouping = expr.grouping;
  const pipeline = buildPipeline(expr.selector.pipeline);
  const direct = expr.selector.pipeline.length === 0 && !unwrap && kind !== 'samples';
  const postFilter = unwrap ? buildPostFilter(unwrap.postFilters) : undefined;
  if (op === 'quantile_over_time' && expr.param === undefined) throw new QueryEvalError('quantile_over_time needs a quantile parameter φ, e.g. quantile_over_time(0.99, …)');

  const seriesLabels = (l: Labels): Labels => {
    // An error keeps every label so the user sees where it came from (Loki skips grouping then too).
    if (hasError(l)) return l;
    if (unwrap) {
      if (grouping && !grouping.without) return applyGrouping(l, grouping);
      return withoutNames(l, [...(grouping?.labels ?? []), '__name__', unwrap.label]);
    }
    return applyGrouping(l, grouping);
  };

  const stepStores = new Map<string, StepStore>();
  const sampleStores = new Map<string, SampleStore>();
  const stepKind = kind === 'samples' ? 'sum' : kind;

  const firstEndAtOrAfter = (rel: number, from: number): number => {
    let lo = from;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid]! < rel) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const feed = (t: WindowTarget, rel: number, v: number): void => {
    const w = t.window;
    if (w.size === 0) {
      w.nextStep = firstEndAtOrAfter(rel, w.nextStep);
    } else {
      while (w.nextStep < count && ends[w.nextStep]! < rel) {
        w.evictThrough(ends[w.nextStep]! - rangeN);
        if (w.size === 0) {
          w.nextStep = firstEndAtOrAfter(rel, w.nextStep + 1);
          break;
        }
        t.store.merge(w.nextStep, w);
        w.nextStep++;
      }
    }
    if (w.nextStep < count) w.add(rel, v);
  };

  const finish = (t: WindowTarget): void => {
    const w = t.window;
    while (w.nextStep < count && w.size > 0) {
      w.evictThrough(ends[w.nextStep]! - rangeN);
      if (w.size > 0) t.store.merge(w.nextStep, w);
      w.nextStep++;
    }
  };

  for await (const stream of ctx.source.select({ matchers: expr.selector.matchers, start: selStart, end: selEnd, direction: 'forward' })) {
    stats.totalStreamsSelected++;
    const windows = new Map<string, WindowTarget>();
    let lastLabels: Labels | undefined;
    let lastTarget: WindowTarget | SampleStore | undefined;
    let times: Float64Array = new Float64Array(0);

    const targetFor = (l: Labels): WindowTarget | SampleStore => {
      const sl = seriesLabels(l);
      const key = labelsKey(sl);
      if (kind === 'samples') {
        let s = sampleStores.get(key);
        if (!s) sampleStores.set(key, (s = new SampleStore(sl)));
        return s;
      }
      let t = windows.get(key);
      if (!t) {
        let store = stepStores.get(key);
        if (!store) stepStores.set(key, (store = new StepStore(sl, stepKind, count)));
        windows.set(key, (t = { window: new RangeWindow(kind), store }));
      }
      return t;
    };

    const emit = (i: number, line: string, labels: Labels): void => {
      const rel = times[i]!;
      if (rel < 0 || rel > lastEndRel) return;
      stats.totalPostFilterLines++;
      let value = 1;
      let l = labels;
      let cacheable = true;
      if (unwrap) {
        const raw = labels[unwrap.label];
        // Entries without the label are not samples (Loki does the same).
        if (raw === undefined || raw === '') return;
        const c = convertUnwrapped(raw, conversion);
        if (c.ok) value = c.value;
        else {
          l = { ...labels, __error__: 'SampleExtractionErr', __error_details__: c.error };
          value = 0;
          cacheable = false;
        }
        if (postFilter) {
          const out = postFilter(l);
          if (!out) return;
          if (out !== l) {
            l = out;
            cacheable = false;
          }
        }
      } else if (countsBytes) {
        value = Buffer.byteLength(line, 'utf8');
      }
      let target: WindowTarget | SampleStore;
      if (cacheable && l === lastLabels) target = lastTarget!;
      else {
        target = targetFor(l);
        if (cacheable) {
          lastLabels = l;
          lastTarget = target;
        }
      }
      if (target instanceof SampleStore) target.push(rel, value);
      else feed(target, rel, value);
    };

    // No stages and no unwrap: the sample is 1 or the line's byte length, so lines need not be decoded.
    const feedDirect = (batch: EntryBatch, labels: Labels): void => {
      const offsets = batch.lineOffsets;
      for (let i = 0; i < batch.count; i++) {
        const rel = times[i]!;
        if (rel < 0 || rel > lastEndRel) continue;
        stats.totalPostFilterLines++;
        if (labels !== lastLabels) {
          lastLabels = labels;
          lastTarget = targetFor(labels);
        }
        feed(lastTarget as WindowTarget, rel, countsBytes ? offsets[i + 1]! - offsets[i]! : 1);
      }
    };

    for await (const batch of stream.batches) {
      ctx.checkAbort();
      if (batch.count === 0) continue;
      stats.totalLinesProcessed += batch.count;
      stats.totalBytesProcessed += batch.lineOffsets[batch.count]! - batch.lineOffsets[0]!;
      times = clock.batchTimes(batch);
      if (direct && !batch.metadata) feedDirect(batch, stream.labels);
      else pipeline.run(batch, stream.labels, emit);
    }
    for (const t of windows.values()) finish(t);
  }

  if (op === 'absent_over_time') return absentResult(expr.selector.matchers, stepStores.values(), count);
  return rangeResult(expr, stepStores.values(), sampleStores.values(), { count, ends, rangeN, unwrapped: unwrap !== undefined });
}

function hasError(l: Labels): boolean {
  const e = l['__error__'];
  return e !== undefined && e !== '';
}
