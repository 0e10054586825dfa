import type { RangeAggregationExpr } from '../ast.js';
import { buildPipeline } from '../pipeline.js';
import { blockNeedles } from './block-needles.js';
import { labelFilterNames } from '../required-labels.js';
import type { EvalContext } from './context.js';
import { QueryEvalError, SeriesLimitError } from './errors.js';
import { rangeKind, type RangeKind } from './range-kind.js';
import type { RangePartial } from '../parallel.js';
import type { SelectParams } from '../source.js';
import { addStats } from '../result.js';
import type { StepGrid } from './steps.js';
import { absentResult, rangeResult } from './range-result.js';
import { SampleStore, StepStore } from './range-store.js';
import { rangeHasSlowStage } from '../slow-stages.js';
import { RangeAccumulator, type RelGrid } from './range-accumulator.js';
import { labelsKey } from './label-set.js';
import { RelClock } from './rel-time.js';
import type { SeriesSet } from './series-set.js';
import { stepTime } from './steps.js';

/**
 * Evaluates `op(selector | pipeline [range] offset o) by (…)` over the step grid. At step t the window is
 * (t − range − o, t − o]. One pass over the entries: each stream is read once, in time order, and its
 * entries feed sliding windows per series (see RangeAccumulator).
 */
export async function evalRangeAggregation(expr: RangeAggregationExpr, ctx: EvalContext): Promise<SeriesSet> {
  const { grid } = ctx;
  if (expr.range <= 0n) throw new QueryEvalError('the range of a range aggregation must be positive');
  if (expr.op === 'quantile_over_time' && expr.param === undefined) throw new QueryEvalError('quantile_over_time needs a quantile parameter φ, e.g. quantile_over_time(0.99, …)');
  let state: RangeAggState | null = null;
  const parallel = ctx.source.parallel;
  const split = PARALLEL_KINDS.has(rangeKind(expr.op));
  const isolate = rangeHasSlowStage(expr);
  if (parallel && (split || isolate)) {
    const { deadline, templateMaxBytes } = ctx.limits;
    const req = { expr, grid, optimize: ctx.limits.optimize !== false, select: rangeSelect(expr, grid), split, isolate, deadline, templateMaxBytes, maxSeries: ctx.limits.maxSeries };
    const parts = await parallel.rangeAggregation(req, ctx.limits.signal);
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

function windowGrid(expr: RangeAggregationExpr, grid: StepGrid): RelGrid {
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
  const sampleStores = new Map<string, SampleStore>();
  for (const part of parts) {
    addStats(ctx.stats, part.stats);
    // Only ever one share sends samples (their operations are not split), so keys never repeat.
    for (const p of part.samples ?? []) sampleStores.set(labelsKey(p.labels), SampleStore.from(p));
    for (const p of part.stores) {
      const key = labelsKey(p.labels);
      const cur = stepStores.get(key);
      const incoming = StepStore.from(p);
      if (cur) cur.mergeStore(incoming);
      else {
        const max = ctx.limits.maxSeries;
        if (max !== undefined && stepStores.size >= max) throw new SeriesLimitError(max);
        stepStores.set(key, incoming);
      }
    }
  }
  return { stepStores, sampleStores };
}

/** The per-step partials of a range aggregation over the streams of `ctx.source`, before final values. */
export async function accumulateRangeAggregation(expr: RangeAggregationExpr, ctx: EvalContext): Promise<RangeAggState> {
  const { grid, stats } = ctx;
  const pipeline = buildPipeline(expr.selector.pipeline, ctx.limits.optimize === false ? null : consumedLabels(expr), ctx.pipelineOptions());
  const acc = new RangeAccumulator(expr, windowGrid(expr, grid), pipeline, stats, ctx.limits.maxSeries);

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
    acc.startStream(stream.labels);
    for await (const batch of stream.batches) {
      await ctx.pace();
      acc.addBatch(batch);
    }
    acc.endStream();
  }
  return { stepStores: acc.stepStores, sampleStores: acc.sampleStores };
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
