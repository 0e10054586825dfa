import { describe, expect, it } from 'vitest';
import type { SampleExpr } from '../../../query/ast.js';
import { QueryEvalError } from '../../../query/engine.js';
import { ParseError } from '../../../query/parse-error.js';
import { parseExpr } from '../../../query/parser.js';
import { printExpr } from '../../../query/printer.js';
import { MemorySource, sec } from './memory-source.js';
import { instantQuery, rangeQuery, vectorOf } from './helpers.js';

/**
 * approx_topk(k, v): Loki's count-min-sketch topk for sharded instant queries. On data small enough for the
 * sketch to be exact it equals topk, which is what narvi computes. Loki allows it only in instant queries
 * and without grouping.
 */

// Five services logging 1, 2, 3, 4 and 5 lines in the minute before t=60.
const src = () =>
  new MemorySource(
    [1, 2, 3, 4, 5].map((n) => ({ labels: { app: 'shop', svc: `s${n}` }, entries: Array.from({ length: n }, (_, i) => ({ ts: sec(10 + i), line: 'x' })) })),
  );
const expr = (text: string) => parseExpr(text) as SampleExpr;

describe('approx_topk', () => {
  it('keeps the k largest series with their labels, as topk does', async () => {
    const r = vectorOf(await instantQuery(expr('approx_topk(2, count_over_time({app="shop"}[1m]))'), src(), 60));
    expect(r).toEqual([['{app="shop", svc="s4"}', 4], ['{app="shop", svc="s5"}', 5]]);
    const topk = vectorOf(await instantQuery(expr('topk(2, count_over_time({app="shop"}[1m]))'), src(), 60));
    expect(r).toEqual(topk);
  });

  it('works over an inner sum, the way Loki says to group', async () => {
    const r = vectorOf(await instantQuery(expr('approx_topk(1, sum by (svc) (count_over_time({app="shop"}[1m])))'), src(), 60));
    expect(r).toEqual([['{svc="s5"}', 5]]);
  });

  it('returns every series when k is larger than the vector', async () => {
    const r = vectorOf(await instantQuery(expr('approx_topk(50, count_over_time({app="shop"}[1m]))'), src(), 60));
    expect(r.map(([, v]) => v)).toEqual([1, 2, 3, 4, 5]);
  });

  it('is refused in a range query, with Loki wording', async () => {
    const q = rangeQuery(expr('approx_topk(2, count_over_time({app="shop"}[1m]))'), src(), 30, 60, 30);
    await expect(q).rejects.toThrow(QueryEvalError);
    await expect(rangeQuery(expr('approx_topk(2, count_over_time({app="shop"}[1m]))'), src(), 30, 60, 30)).rejects.toThrow(
      'approx_topk error: count min sketches are only supported on instant queries',
    );
    // Nested inside another expression too.
    await expect(rangeQuery(expr('sum(approx_topk(2, count_over_time({app="shop"}[1m])))'), src(), 30, 60, 30)).rejects.toThrow(
      'only supported on instant queries',
    );
  });

  it('refuses by and without, before or after the arguments, with Loki wording', () => {
    for (const q of [
      'approx_topk by (svc) (2, count_over_time({app="shop"}[1m]))',
      'approx_topk(2, count_over_time({app="shop"}[1m])) by (svc)',
      'approx_topk without (svc) (2, count_over_time({app="shop"}[1m]))',
    ]) {
      expect(() => parseExpr(q)).toThrow(ParseError);
      expect(() => parseExpr(q)).toThrow('grouping not allowed for approx_topk aggregation');
    }
  });

  it('checks k before grouping, as Loki does', () => {
    expect(() => parseExpr('approx_topk by (svc) (0, count_over_time({app="shop"}[1m]))')).toThrow('invalid parameter (must be greater than 0) approx_topk(0');
  });

  it('needs k, a positive whole number', () => {
    expect(() => parseExpr('approx_topk(count_over_time({app="shop"}[1m]))')).toThrow('parameter required for operation approx_topk');
    expect(() => parseExpr('approx_topk(2.5, count_over_time({app="shop"}[1m]))')).toThrow('invalid parameter approx_topk(2.5,');
  });

  it('prints back to the same query', () => {
    const q = 'approx_topk(3, sum by (svc) (count_over_time({app="shop"}[1m])))';
    expect(printExpr(parseExpr(q))).toBe(q);
  });
});
