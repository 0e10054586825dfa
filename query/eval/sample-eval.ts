import type { SampleExpr } from '../ast.js';
import type { EvalContext } from './context.js';
import { evalBinary } from './binary.js';
import { QueryEvalError } from './errors.js';
import { evalLabelReplace } from './label-replace.js';
import { evalRangeAggregation } from './range-agg.js';
import { SeriesSet, isScalar, type EvalValue } from './series-set.js';
import { evalVectorAggregation } from './vector-agg.js';
import { pushDownGrouping } from './pushdown.js';

const APPROX_TOPK_RANGE =
  'approx_topk error: count min sketches are only supported on instant queries: run approx_topk as an instant query (/loki/api/v1/query), or use topk for a range query';

/** Evaluates a metric expression bottom-up over the whole step grid. */
export async function evalSample(expr: SampleExpr, ctx: EvalContext): Promise<EvalValue> {
  switch (expr.kind) {
    case 'range_agg':
      return evalRangeAggregation(expr, ctx);
    case 'vector_agg': {
      if (expr.op === 'approx_topk' && !ctx.params.instant) throw new QueryEvalError(APPROX_TOPK_RANGE);
      const inner = await evalSample(ctx.limits.optimize === false ? expr.expr : pushDownGrouping(expr), ctx);
      if (isScalar(inner)) throw new QueryEvalError(`${expr.op}() expects a vector, got a scalar`);
      return evalVectorAggregation(expr, inner);
    }
    case 'binary': {
      // One side after the other: both hold their whole result anyway, and storage reads stay sequential.
      const lhs = await evalSample(expr.left, ctx);
      const rhs = await evalSample(expr.right, ctx);
      return evalBinary(expr, lhs, rhs);
    }
    case 'literal':
      return { kind: 'scalar', value: expr.value };
    case 'vector': {
      const out = new SeriesSet(ctx.grid.count);
      const s = out.series({});
      s.values.fill(expr.value);
      s.present.fill(1);
      return out;
    }
    case 'label_replace': {
      const inner = await evalSample(expr.expr, ctx);
      if (isScalar(inner)) throw new QueryEvalError('label_replace() expects a vector, got a scalar');
      return evalLabelReplace(expr, inner);
    }
  }
}
