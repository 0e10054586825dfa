import { describe, expect, it } from 'vitest';
import type { RangeAggregationExpr, VectorAggregationExpr } from '../../../query/ast.js';
import { parseExpr } from '../../../query/parser.js';
import { parseFails } from '../parse-error-of.js';

/** The numeric first argument of topk/bottomk/approx_topk and quantile_over_time, checked with Loki's wording. */


const R = 'rate({a="b"}[1m])';
const U = '{a="b"} | unwrap x [1m]';

describe('topk and bottomk k', () => {
  it.each([
    [`topk(5, ${R})`, 5],
    [`topk(05, ${R})`, 5],
    [`topk(+3, ${R})`, 3],
    [`bottomk(1, ${R})`, 1],
    [`topk by (a) (2, ${R})`, 2],
  ])('%s takes k = %d', (q, k) => {
    expect((parseExpr(q) as VectorAggregationExpr).param).toBe(k);
  });

  it('needs k: "parameter required"', () => {
    for (const op of ['topk', 'bottomk']) {
      const e = parseFails(`${op}(${R})`);
      expect(e.message).toContain(`parameter required for operation ${op}`);
      expect([e.line, e.col]).toEqual([1, op.length + 2]);
    }
    expect(parseFails(`topk by (a) (${R})`).message).toContain('parameter required for operation topk');
  });

  it.each([
    ['1.5', 'invalid parameter topk(1.5,'],
    ['2.0', 'invalid parameter topk(2.0,'],
    ['1e1', 'invalid parameter topk(1e1,'],
    ['0x1p3', 'invalid parameter topk(0x1p3,'],
    ['1_0', 'invalid parameter topk(1_0,'],
    ['NaN', 'invalid parameter topk(NaN,'],
    ['Inf', 'invalid parameter topk(Inf,'],
    ['99999999999999999999', 'invalid parameter topk(99999999999999999999,'],
    ['0', 'invalid parameter (must be greater than 0) topk(0'],
    ['-1', 'invalid parameter (must be greater than 0) topk(-1'],
  ])('k = %s: %s', (k, msg) => {
    const e = parseFails(`topk(${k}, ${R})`);
    expect(e.message).toContain(msg);
    expect(e.col).toBe(6);
  });

  it('refuses a parameter on the other aggregations', () => {
    const e = parseFails(`sum(5, ${R})`);
    expect(e.message).toContain('unsupported parameter for operation sum(5,');
    expect(parseFails(`avg by (a) (2, ${R})`).message).toContain('unsupported parameter for operation avg(2,');
    expect(parseFails(`max(- 3, ${R})`).message).toContain('unsupported parameter for operation max(-3,');
  });
});

describe('quantile_over_time φ', () => {
  it.each([
    ['0', 0],
    ['1', 1],
    ['0.99', 0.99],
    ['+0.5', 0.5],
    ['0x1p-1', 0.5],
  ])('φ = %s is taken', (phi, v) => {
    expect((parseExpr(`quantile_over_time(${phi}, ${U})`) as RangeAggregationExpr).param).toBe(v);
  });

  it.each(['1.5', '95', '-0.1', '1.0000001', 'NaN', 'Inf', '-Inf'])('φ = %s is outside [0, 1]', (phi) => {
    const e = parseFails(`quantile_over_time(${phi}, ${U})`);
    expect(e.message).toContain(`quantile value should be between 0 and 1, got ${phi}`);
    expect(e.col).toBe(20);
  });

  it('needs φ: "parameter required"', () => {
    const e = parseFails(`quantile_over_time(${U})`);
    expect(e.message).toContain('parameter required for operation quantile_over_time');
    expect(e.col).toBe(20);
  });

  it('is the only range aggregation with a parameter', () => {
    expect(parseFails(`rate(5, {a="b"}[1m])`).message).toContain('parameter 5 not supported for operation rate');
    expect(parseFails(`sum_over_time(0.5, ${U})`).message).toContain('parameter 0.5 not supported for operation sum_over_time');
    expect(parseFails(`avg_over_time(-2, ${U})`).message).toContain('parameter -2 not supported for operation avg_over_time');
  });
});
