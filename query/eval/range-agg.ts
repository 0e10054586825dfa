import type { RangeAggregationExpr } from '../ast.js';
import type { EntryBatch } from '../../src/model/batch.js';
import type { Labels } from '../../src/model/labels.js';
import { buildPipeline } from '../pipeline.js';
import { blockNeedles } from './block-needles.js';
import type { FieldScanner, PipelineEntry } from '../pipeline-types.js';
import { labelFilterNames } from '../required-labels.js';
import type { EvalContext } from './context.js';
import { QueryEvalError } from './errors.js';
import { applyGrouping, labelsKey, withoutNames } from './label-set.js';
import { buildPostFilter } from './post-filter.js';
import { rangeKind, type RangeKind } from './range-kind.js';
import type { RangePartial } from '../parallel.js';
import type { SelectParams } from '../source.js';
import { addStats } from '../result.js';
import type { StepGrid } from './steps.js';
import { absentResult, rangeResult } from './range-result.js';
import { SampleStore, StepStore } from './range-store.js';
import { RangeWindow } from './range-window.js';
import { RelClock } from './rel-time.js';
import type { SeriesSet } from './series-set.js';
import { stepTime } from './steps.js';
import { convertUnwrapped, type Conversion } from './unwrap-value.js';
import { groupValuesKey, scannedGroupKey } from './group-key.js';

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
  const { grid } = ctx;
  if (expr.range <= 0n) throw new QueryEvalError('the range of a range aggregation must be positive');
  if (expr.op === 'quantile_over_time' && expr.param === undefined) throw new QueryEvalError('quantile_over_time needs a quantile parameter φ, e.g. quantile_over_time(0.99, …)');
  let state: RangeAggState | null = null;
  const parallel = ctx.source.parallel;
  if (parallel && PARALLEL_KINDS.has(rangeKind(expr.op))) {
    const parts = await parallel.rangeAggregation({ expr, grid, optimize: ctx.limits.optimize !== false, select: rangeSelect(expr, grid) }, ctx.limits.signal);
    if (parts) state = mergeRangePartials(parts, ctx);
  }
  state ??= await accumulateRangeAggregation(expr, ctx);
  const { count, ends, rangeN } = windowGrid(expr, grid);
  if (expr.op === 'absent_over_time') return absentResult(expr.selector.matchers, state.stepStores.values(), count);
  return rangeResult(expr, state.stepStores.values(), state.sampleStores.values(), { count, ends, rangeN, unwrapped: expr.unwrap !== undefined });
}

/**
 * Range operations whose per-step partials merge exactly whatever the order of streams: sums (and the
 * counts beside them), minima and maxima. first/last (ties between streams), variance and the
 * whole-sample operations depend on the order in which streams arrive, so they are never split.
 */
const PARALLEL_KINDS: ReadonlySet<RangeKind> = new Set(['sum', 'min', 'max']);

export interface RangeAggState {
  stepStores: Map<string, StepStore>;
  sampleStores: Map<string, SampleStore>;
}

/** The entries a range aggregation reads: every window of every step. */
export function rangeSelect(expr: RangeAggregationExpr, grid: StepGrid): SelectParams {
  const offset = expr.offset ?? 0n;
  const selStart = grid.start - offset - expr.range + 1n;
  const selEnd = stepTime(grid, grid.count - 1) - offset + 1n;
  return { matchers: expr.selector.matchers, start: selStart, end: selEnd, direction: 'forward' };
}

function windowGrid(expr: RangeAggregationExpr, grid: StepGrid): { count: number; ends: Float64Array; rangeN: number; clock: RelClock } {
  const offset = expr.offset ?? 0n;
  const sel = rangeSelect(expr, grid);
  const clock = new RelClock(sel.start, sel.end);
  const count = grid.count;
  const ends = new Float64Array(count);
  for (let i = 0; i < count; i++) ends[i] = clock.rel(stepTime(grid, i) - offset);
  return { count, ends, rangeN: Number(expr.range), clock };
}

/** Adds partial results computed elsewhere (other threads, over other streams) into one state. */
export function mergeRangePartials(parts: RangePartial[], ctx: EvalContext): RangeAggState {
  const stepStores = new Map<string, StepStore>();
  for (const part of parts) {
    addStats(ctx.stats, part.stats);
    for (const p of part.stores) {
      const key = labelsKey(p.labels);
      const cur = stepStores.get(key);
      const incoming = StepStore.from(p);
      if (cur) cur.mergeStore(incoming);
      else stepStores.set(key, incoming);
    }
  }
  return { stepStores, sampleStores: new Map() };
}

/** The per-step partials of a range aggregation over the streams of `ctx.source`, before final values. */
export async function accumulateRangeAggregation(expr: RangeAggregationExpr, ctx: EvalContext): Promise<RangeAggState> {
  const { grid, stats } = ctx;
  const { count, ends, rangeN, clock } = windowGrid(expr, grid);
  const lastEndRel = ends[count - 1]!;

  const op = expr.op;
  const kind = rangeKind(op);
  const unwrap = expr.unwrap;
  const conversion: Conversion = unwrap?.conversion ?? 'float';
  const countsBytes = op === 'bytes_over_time' || op === 'bytes_rate';
  const grouping = expr.grouping;
  const pipeline = buildPipeline(expr.selector.pipeline, ctx.limits.optimize === false ? null : consumedLabels(expr));
  const preserves = pipeline.preservesLabels;
  const fastBy = grouping && !grouping.without ? grouping.labels : null;
  const direct = expr.selector.pipeline.length === 0 && !unwrap && kind !== 'samples';
  // Lines fed from a field scanner count 1 or their bytes into window targets (see feedScanned).
  const scanned = !unwrap && kind !== 'samples' && !preserves;
  const postFilter = unwrap ? buildPostFilter(unwrap.postFilters) : undefined;

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

  const select = rangeSelect(expr, grid);
  const needles = ctx.limits.optimize === false ? null : blockNeedles(expr.selector.pipeline);
  if (needles) {
    select.prefilter = {
      needles,
      skipped(count, bytes) {
        stats.totalLinesProcessed += count;
        stats.totalBytesProcessed += bytes;
        return false;
      },
    };
  }
  for await (const stream of ctx.source.select(select)) {
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

    // Per stream: `by` grouping keyed straight from the entry's label values, without building its label set.
    const fastTargets = new Map<string, WindowTarget | SampleStore>();

    const emit = (i: number, e: PipelineEntry): void => {
      const rel = times[i]!;
      if (rel < 0 || rel > lastEndRel) return;
      stats.totalPostFilterLines++;
      let value = 1;
      let target: WindowTarget | SampleStore;
      if (unwrap) {
        const raw = e.get(unwrap.label);
        // Entries without the label are not samples (Loki does the same).
        if (raw === undefined || raw === '') return;
        let l = e.labels();
        let cacheable = true;
        const c = convertUnwrapped(raw, conversion);
        if (c.ok) value = c.value;
        else {
          l = { ...l, __error__: 'SampleExtractionErr', __error_details__: c.error };
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
        if (cacheable && l === lastLabels) target = lastTarget!;
        else {
          target = targetFor(l);
          if (cacheable) {
            lastLabels = l;
            lastTarget = target;
          }
        }
      } else {
        if (countsBytes) value = e.rewritten ? Buffer.byteLength(e.line, 'utf8') : e.rawLength();
        if (fastBy !== null && !preserves && !e.hasError()) {
          const key = groupValuesKey(e, fastBy);
          let t = fastTargets.get(key);
          if (t === undefined) fastTargets.set(key, (t = targetFor(e.labels())));
          target = t;
        } else {
          const l = e.labels();
          if (l === lastLabels) target = lastTarget!;
          else {
            target = targetFor(l);
            lastLabels = l;
            lastTarget = target;
          }
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

    // A lone hinted parser feeding `by` groups: scan each line's fields here and key its group from them,
    // without the pipeline's per-entry label machinery; lines the scanner declines, and the first line of
    // each group (which makes its series), go through the pipeline.
    const scanner = fastBy !== null && scanned && !hasError(stream.labels) ? pipeline.fieldScanner : null;
    const feedScanned = (batch: EntryBatch, sc: FieldScanner, labels: Labels, by: string[]): void => {
      const offsets = batch.lineOffsets;
      const lines = batch.lines;
      for (let i = 0; i < batch.count; i++) {
        const rel = times[i]!;
        if (rel < 0 || rel > lastEndRel) continue;
        const s = offsets[i]!;
        const e = offsets[i + 1]!;
        const t = sc.scan(lines, s, e) ? fastTargets.get(scannedGroupKey(sc, labels, by)) : undefined;
        if (t === undefined) {
          pipeline.runEntry(batch, i, labels, emit);
          continue;
        }
        stats.totalPostFilterLines++;
        feed(t as WindowTarget, rel, countsBytes ? e - s : 1);
      }
    };

    for await (const batch of stream.batches) {
      ctx.checkAbort();
      if (batch.count === 0) continue;
      stats.totalLinesProcessed += batch.count;
      stats.totalBytesProcessed += batch.lineOffsets[batch.count]! - batch.lineOffsets[0]!;
      times = clock.batchTimes(batch);
      if (direct && !batch.metadata) feedDirect(batch, stream.labels);
      else if (scanner && !batch.metadata) feedScanned(batch, scanner, stream.labels, fastBy!);
      else pipeline.runEntries(batch, stream.labels, emit);
    }
    for (const t of windows.values()) finish(t);
  }
  return { stepStores, sampleStores };
}

/**
 * The labels the series keys and the sample extraction read from each entry's final label set: the
 * `by` labels, the unwrapped label and what the filters after unwrap read. null (all) for `without`
 * or no grouping, where every label is part of the series. absent_over_time reads none.
 */
function consumedLabels(expr: RangeAggregationExpr): Set<string> | null {
  if (expr.op === 'absent_over_time') return new Set();
  const g = expr.grouping;
  if (!g || g.without) return null;
  const out = new Set(g.labels);
  if (expr.unwrap) {
    out.add(expr.unwrap.label);
    for (const n of labelFilterNames(expr.unwrap.postFilters)) out.add(n);
  }
  return out;
}

function hasError(l: Labels): boolean {
  const e = l['__error__'];
  return e !== undefined && e !== '';
}
