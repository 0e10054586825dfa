import type { Grouping, LogSelectorExpr, Matcher, PipelineStage, RangeAggregationExpr, RangeOp, SampleExpr, Unwrap } from '../../../query/ast.js';
import { evaluate, type EvalLimits } from '../../../query/engine.js';
import type { QueryResult } from '../../../query/result.js';
import type { LogSource } from '../../../query/source.js';
import { sec, T0 } from './memory-source.js';

export function selector(labels: Record<string, string> | Matcher[], pipeline: PipelineStage[] = []): LogSelectorExpr {
  const matchers = Array.isArray(labels) ? labels : Object.entries(labels).map(([name, value]) => ({ name, op: '=' as const, value }));
  return { kind: 'log', matchers, pipeline };
}

export function rangeAgg(
  op: RangeOp,
  sel: LogSelectorExpr,
  rangeSeconds: number,
  more: { offsetSeconds?: number; grouping?: Grouping; unwrap?: Unwrap; param?: number } = {},
): RangeAggregationExpr {
  const e: RangeAggregationExpr = { kind: 'range_agg', op, selector: sel, range: BigInt(Math.round(rangeSeconds * 1e9)) };
  if (more.offsetSeconds !== undefined) e.offset = BigInt(Math.round(more.offsetSeconds * 1e9));
  if (more.grouping) e.grouping = more.grouping;
  if (more.unwrap) e.unwrap = more.unwrap;
  if (more.param !== undefined) e.param = more.param;
  return e;
}

export const by = (...labels: string[]): Grouping => ({ without: false, labels });
export const without = (...labels: string[]): Grouping => ({ without: true, labels });
export const unwrap = (label: string, conversion?: Unwrap['conversion'], postFilters: Unwrap['postFilters'] = []): Unwrap =>
  conversion ? { label, conversion, postFilters } : { label, postFilters };

/** A metric range query from T0+start to T0+end seconds. */
export function rangeQuery(expr: SampleExpr, source: LogSource, start: number, end: number, step: number, limits?: EvalLimits): Promise<QueryResult> {
  return evaluate(expr, { start: sec(start), end: sec(end), step: BigInt(Math.round(step * 1e9)), direction: 'backward', limit: 100, instant: false }, source, limits);
}

export function instantQuery(expr: SampleExpr, source: LogSource, at: number, limits?: EvalLimits): Promise<QueryResult> {
  return evaluate(expr, { start: sec(at), end: sec(at), step: 0n, direction: 'backward', limit: 100, instant: true }, source, limits);
}

/** A matrix as `{ '{labels}': [[secondsSinceT0, value], …] }` for compact expectations. */
export function matrixOf(r: QueryResult): Record<string, [number, number][]> {
  if (r.type !== 'matrix') throw new Error(`expected a matrix, got ${r.type}`);
  const out: Record<string, [number, number][]> = {};
  for (const s of r.series) out[labelString(s.metric)] = s.points.map((p) => [relSeconds(p.t), p.v]);
  return out;
}

/** Series label strings in result order. */
export function seriesOrder(r: QueryResult): string[] {
  if (r.type === 'matrix') return r.series.map((s) => labelString(s.metric));
  if (r.type === 'vector') return r.samples.map((s) => labelString(s.metric));
  throw new Error(`expected a matrix or vector, got ${r.type}`);
}

export function vectorOf(r: QueryResult): [string, number][] {
  if (r.type !== 'vector') throw new Error(`expected a vector, got ${r.type}`);
  return r.samples.map((s) => [labelString(s.metric), s.v]);
}

export function labelString(l: Record<string, string>): string {
  return '{' + Object.keys(l).sort().map((k) => `${k}="${l[k]}"`).join(', ') + '}';
}

function relSeconds(t: number): number {
  return (t - Number(T0 / 1_000_000n)) / 1000;
}
