import { isLogExpr, type Expr } from './ast.js';
import type { LogSource } from './source.js';
import type { MatrixSeries, Point, QueryResult, VectorSample } from './result.js';
import { EvalContext, type EvalLimits, type QueryParams } from './eval/context.js';
import { InstantLogQueryError, SeriesLimitError } from './eval/errors.js';
import { compareLabels } from './eval/label-set.js';
import { evalLogQuery } from './eval/log-query.js';
import { evalSample } from './eval/sample-eval.js';
import { isScalar, type SeriesSet } from './eval/series-set.js';
import { stepGrid, stepTime, toMillis, type StepGrid } from './eval/steps.js';

export type { QueryParams, EvalLimits } from './eval/context.js';
export * from './eval/errors.js';
export { alignToStep } from './eval/steps.js';

/**
 * Runs a parsed LogQL expression against a data source. Log queries give streams; metric range queries
 * a matrix; instant metric queries a vector (or a scalar for pure number expressions).
 * Errors meant for the user are `QueryEvalError`s (answer 400); aborting rejects with the signal's reason.
 */
export async function evaluate(expr: Expr, params: QueryParams, source: LogSource, limits: EvalLimits = {}): Promise<QueryResult> {
  const started = performance.now();
  if (isLogExpr(expr)) {
    if (params.instant) throw new InstantLogQueryError();
    const ctx = new EvalContext(params, source, limits, { start: params.start, step: 0n, count: 0 });
    const streams = await evalLogQuery(expr, ctx);
    ctx.stats.execTime = (performance.now() - started) / 1000;
    return { type: 'streams', streams, stats: ctx.stats };
  }

  const grid = stepGrid(params.start, params.end, params.step, params.instant);
  const ctx = new EvalContext(params, source, limits, grid);
  const value = await evalSample(expr, ctx);
  const stats = ctx.stats;
  const finish = () => {
    stats.execTime = (performance.now() - started) / 1000;
  };

  if (isScalar(value)) {
    if (params.instant) {
      finish();
      return { type: 'scalar', t: toMillis(grid.start), v: value.value, stats };
    }
    const points: Point[] = [];
    for (let i = 0; i < grid.count; i++) points.push({ t: toMillis(stepTime(grid, i)), v: value.value });
    finish();
    return { type: 'matrix', series: [{ metric: {}, points }], stats };
  }

  const max = limits.maxSeries;
  if (max !== undefined && value.size > max) throw new SeriesLimitError(max);
  if (params.instant) {
    const samples = toVector(value, grid);
    if (!containsSort(expr)) samples.sort((a, b) => compareLabels(a.metric, b.metric));
    finish();
    return { type: 'vector', samples, stats };
  }
  const series = toMatrix(value, grid);
  finish();
  return { type: 'matrix', series, stats };
}

function toVector(set: SeriesSet, grid: StepGrid): VectorSample[] {
  const t = toMillis(grid.start);
  const out: VectorSample[] = [];
  for (const s of set) if (s.present[0]) out.push({ metric: { ...s.labels }, t, v: s.values[0]! });
  return out;
}

function toMatrix(set: SeriesSet, grid: StepGrid): MatrixSeries[] {
  const out: MatrixSeries[] = [];
  for (const s of set) {
    const points: Point[] = [];
    for (let i = 0; i < grid.count; i++) if (s.present[i]) points.push({ t: toMillis(stepTime(grid, i)), v: s.values[i]! });
    if (points.length > 0) out.push({ metric: { ...s.labels }, points });
  }
  return out.sort((a, b) => compareLabels(a.metric, b.metric));
}

/** Loki keeps an instant vector in evaluation order when sort()/sort_desc() appears anywhere in the query. */
function containsSort(e: Expr): boolean {
  switch (e.kind) {
    case 'vector_agg':
      return e.op === 'sort' || e.op === 'sort_desc' || containsSort(e.expr);
    case 'binary':
      return containsSort(e.left) || containsSort(e.right);
    case 'label_replace':
      return containsSort(e.expr);
    default:
      return false;
  }
}
