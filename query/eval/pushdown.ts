import type { RangeAggregationExpr, RangeOp, SampleExpr, VectorAggregationExpr } from '../ast.js';

/**
 * Range operations whose per-series values add up: a sum over series equals the operation over their
 * union. Counts and byte counts are integers, so the sum is exact whatever the order; the rates differ
 * at most in the last bit (Σcᵢ/r against Σ(cᵢ/r)). sum_over_time is left out: its float values would
 * be summed in a different order (and compensated) and could visibly differ from the plain sum.
 */
const ADDITIVE: ReadonlySet<RangeOp> = new Set(['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate']);

/**
 * `sum by (level) (count_over_time({…} | json [1m]))`: the inner aggregation can key its series by the
 * outer grouping straight away, instead of making one series per distinct label set (with `| json`,
 * often one per line) for the sum to fold. Only `sum` over an additive operation qualifies: count, avg,
 * topk and the others need the individual series. The outer sum still runs, over already-grouped series.
 * Returns the range aggregation to evaluate in place of `expr.expr`.
 */
export function pushDownGrouping(expr: VectorAggregationExpr): SampleExpr {
  const inner = expr.expr;
  // With unwrap, rate sums float values: left out for the same reason as sum_over_time.
  if (expr.op !== 'sum' || inner.kind !== 'range_agg' || inner.grouping || inner.unwrap || !ADDITIVE.has(inner.op)) return inner;
  const grouping = expr.grouping ?? { without: false, labels: [] };
  const pushed: RangeAggregationExpr = { ...inner, grouping };
  return pushed;
}
