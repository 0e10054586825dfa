import type { Grouping, VectorAggregationExpr } from '../ast.js';
import type { Labels } from '../../src/model/labels.js';
import { QueryEvalError } from './errors.js';
import { applyGrouping, compareLabels, labelsKey } from './label-set.js';
import { SeriesSet, type Series } from './series-set.js';
import { selectTopK } from './topk.js';

const NO_GROUPING: Grouping = { without: false, labels: [] };

/**
 * sum/avg/min/max/count/stddev/stdvar/topk/bottomk/approx_topk/sort/sort_desc of a vector, at each step, per group.
 * Input series are visited in label order so that results (ties in topk, float rounding) do not depend on
 * the order in which storage returned the streams. The per-group arithmetic follows Loki's own evaluator
 * (incremental mean for avg, Welford for stddev/stdvar).
 */
export function evalVectorAggregation(expr: VectorAggregationExpr, input: SeriesSet): SeriesSet {
  const steps = input.steps;
  const series = [...input].sort((a, b) => compareLabels(a.labels, b.labels));
  switch (expr.op) {
    case 'topk':
    case 'bottomk':
    // Loki approximates with a count-min sketch only to spread the work over shards; on narvi's data the
    // exact answer is affordable, and it is what the sketch gives whenever it is exact.
    case 'approx_topk':
      return topBottom(expr, series, steps);
    case 'sort':
    case 'sort_desc':
      return sortByValue(expr.op === 'sort_desc', series, steps);
    default:
      return aggregate(expr, series, steps);
  }
}

function groupsOf(series: Series[], grouping: Grouping): { index: Int32Array; labels: Labels[]; keys: string[] } {
  const index = new Int32Array(series.length);
  const byKey = new Map<string, number>();
  const labels: Labels[] = [];
  const keys: string[] = [];
  series.forEach((s, i) => {
    const g = applyGrouping(s.labels, grouping);
    const key = labelsKey(g);
    let gi = byKey.get(key);
    if (gi === undefined) {
      gi = labels.length;
      byKey.set(key, gi);
      labels.push(g);
      keys.push(key);
    }
    index[i] = gi;
  });
  return { index, labels, keys };
}

function aggregate(expr: VectorAggregationExpr, series: Series[], steps: number): SeriesSet {
  const op = expr.op;
  const { index, labels, keys } = groupsOf(series, expr.grouping ?? NO_GROUPING);
  const g = labels.length;
  const value = new Float64Array(g);
  const mean = new Float64Array(g);
  const cnt = new Float64Array(g);
  const out = new SeriesSet(steps);
  for (let i = 0; i < steps; i++) {
    cnt.fill(0);
    for (let si = 0; si < series.length; si++) {
      const s = series[si]!;
      if (!s.present[i]) continue;
      const v = s.values[i]!;
      const gi = index[si]!;
      if (cnt[gi] === 0) {
        cnt[gi] = 1;
        value[gi] = op === 'stddev' || op === 'stdvar' ? 0 : v;
        mean[gi] = v;
        continue;
      }
      cnt[gi]!++;
      const n = cnt[gi]!;
      switch (op) {
        case 'sum':
          value[gi]! += v;
          break;
        case 'avg':
          mean[gi] = mean[gi]! + v / n - mean[gi]! / n;
          break;
        case 'max':
          if (value[gi]! < v || Number.isNaN(value[gi]!)) value[gi] = v;
          break;
        case 'min':
          if (value[gi]! > v || Number.isNaN(value[gi]!)) value[gi] = v;
          break;
        case 'count':
          break;
        case 'stddev':
        case 'stdvar': {
          const delta = v - mean[gi]!;
          mean[gi] = mean[gi]! + delta / n;
          value[gi] = value[gi]! + delta * (v - mean[gi]!);
          break;
        }
        default:
          throw new QueryEvalError(`unsupported vector aggregation ${op}`);
      }
    }
    for (let gi = 0; gi < g; gi++) {
      const n = cnt[gi]!;
      if (n === 0) continue;
      let v: number;
      switch (op) {
        case 'avg':
          v = mean[gi]!;
          break;
        case 'count':
          v = n;
          break;
        case 'stddev':
          v = Math.sqrt(value[gi]! / n);
          break;
        case 'stdvar':
          v = value[gi]! / n;
          break;
        default:
          v = value[gi]!;
      }
      out.put(labels[gi]!, keys[gi]!, i, v);
    }
  }
  return out;
}

function topBottom(expr: VectorAggregationExpr, series: Series[], steps: number): SeriesSet {
  const k = expr.param;
  if (k === undefined || !Number.isInteger(k)) throw new QueryEvalError(`${expr.op} needs an integer parameter k, e.g. ${expr.op}(5, …)`);
  const out = new SeriesSet(steps);
  if (k < 1) return out;
  const { index, labels } = groupsOf(series, expr.grouping ?? NO_GROUPING);
  const members: number[][] = labels.map(() => []);
  for (let i = 0; i < steps; i++) {
    for (const m of members) m.length = 0;
    for (let si = 0; si < series.length; si++) if (series[si]!.present[i]) members[index[si]!]!.push(si);
    for (const m of members) {
      if (m.length === 0) continue;
      const chosen = selectTopK(
        m.map((si) => series[si]!.values[i]!),
        k,
        expr.op === 'bottomk',
      );
      for (const c of chosen) {
        const s = series[m[c]!]!;
        out.put(s.labels, s.key, i, s.values[i]!);
      }
    }
  }
  return out;
}

/**
 * sort/sort_desc order an instant vector by value (NaN last, ties in label order). Only instant results
 * keep that order: a range query's matrix is always ordered by labels.
 */
function sortByValue(desc: boolean, series: Series[], steps: number): SeriesSet {
  const out = new SeriesSet(steps);
  const order = steps === 1 ? [...series].filter((s) => s.present[0]).sort((a, b) => byValue(a.values[0]!, b.values[0]!, desc)) : series;
  for (const s of order) {
    const o = out.series(s.labels, s.key);
    o.values.set(s.values);
    o.present.set(s.present);
  }
  out.prune();
  return out;
}

function byValue(a: number, b: number, desc: boolean): number {
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  if (a === b) return 0;
  return (a < b) === desc ? 1 : -1;
}
