import { describe, expect, it } from 'vitest';
import type { SampleExpr } from '../../../query/ast.js';
import { parseExpr } from '../../../query/parser.js';
import { MemorySource, sec } from './memory-source.js';
import { instantQuery, matrixOf, rangeQuery, vectorOf } from './helpers.js';

/** Where Loki's binary operators part from Prometheus': division by zero, and comparisons of two numbers. */

// Two streams with 2 and 4 lines in the minute before t=60.
const src = () =>
  new MemorySource([
    { labels: { app: 'a' }, entries: [10, 20].map((t) => ({ ts: sec(t), line: 'x' })) },
    { labels: { app: 'b' }, entries: [10, 20, 30, 40].map((t) => ({ ts: sec(t), line: 'x' })) },
  ]);
const expr = (text: string) => parseExpr(text) as SampleExpr;
const count = 'count_over_time({app=~"a|b"}[1m])';

async function scalar(text: string): Promise<number> {
  const r = await instantQuery(expr(text), src(), 60);
  if (r.type !== 'scalar') throw new Error(`expected a scalar, got ${r.type}`);
  return r.v;
}

const values = async (text: string) => (await instantQuery(expr(text), src(), 60).then(vectorOf)).map(([l, v]) => [l, v]);

describe('division and modulo by zero give NaN', () => {
  it('scalar / scalar and scalar % scalar', async () => {
    expect(await scalar('1 / 0')).toBeNaN();
    expect(await scalar('-1 / 0')).toBeNaN();
    expect(await scalar('0 / 0')).toBeNaN();
    expect(await scalar('5 % 0')).toBeNaN();
    // Not every division: a non-zero divisor still divides, and x % y keeps Go's sign of the dividend.
    expect(await scalar('1 / 4')).toBe(0.25);
    expect(await scalar('-7 % 3')).toBe(-1);
    expect(await scalar('1 / -0')).toBeNaN();
  });

  it('vector / scalar and vector % scalar', async () => {
    expect(await values(`${count} / 0`)).toEqual([['{app="a"}', NaN], ['{app="b"}', NaN]]);
    expect(await values(`${count} % 0`)).toEqual([['{app="a"}', NaN], ['{app="b"}', NaN]]);
    expect(await values(`${count} / 2`)).toEqual([['{app="a"}', 1], ['{app="b"}', 2]]);
  });

  it('scalar / vector', async () => {
    // A zero count is no sample at all, so build the zero divisor with arithmetic: count − count.
    expect(await values(`8 / (${count} - ${count})`)).toEqual([['{app="a"}', NaN], ['{app="b"}', NaN]]);
    expect(await values(`8 % (${count} - ${count})`)).toEqual([['{app="a"}', NaN], ['{app="b"}', NaN]]);
    expect(await values(`8 / ${count}`)).toEqual([['{app="a"}', 4], ['{app="b"}', 2]]);
  });

  it('vector / vector', async () => {
    expect(await values(`${count} / (${count} - ${count})`)).toEqual([['{app="a"}', NaN], ['{app="b"}', NaN]]);
    expect(await values(`${count} % (${count} * 0)`)).toEqual([['{app="a"}', NaN], ['{app="b"}', NaN]]);
    expect(await values(`${count} / ${count}`)).toEqual([['{app="a"}', 1], ['{app="b"}', 1]]);
  });

  it('in a range query, at every step', async () => {
    const m = matrixOf(await rangeQuery(expr('sum(count_over_time({app="a"}[1m])) / 0'), src(), 30, 60, 30));
    expect(m['{}']).toEqual([[30, NaN], [60, NaN]]);
  });
});

describe('comparisons between two numbers', () => {
  it('give 1 or 0 without bool', async () => {
    expect(await scalar('1 > 2')).toBe(0);
    expect(await scalar('2 > 1')).toBe(1);
    expect(await scalar('2 >= 2')).toBe(1);
    expect(await scalar('2 < 2')).toBe(0);
    expect(await scalar('3 <= 2')).toBe(0);
    expect(await scalar('1 == 1')).toBe(1);
    expect(await scalar('1 != 1')).toBe(0);
    // NaN equals nothing, itself included.
    expect(await scalar('(0 / 0) == (0 / 0)')).toBe(0);
    expect(await scalar('(0 / 0) != (0 / 0)')).toBe(1);
  });

  it('give the same with bool', async () => {
    expect(await scalar('1 > bool 2')).toBe(0);
    expect(await scalar('2 > bool 1')).toBe(1);
  });

  it('combine with arithmetic by precedence', async () => {
    // Comparison binds looser than +: (1 + 1) == 2 → 1, then 1 * 3.
    expect(await scalar('(1 + 1 == 2) * 3')).toBe(3);
  });

  it('still filter a vector compared with a number', async () => {
    expect(await values(`${count} > 3`)).toEqual([['{app="b"}', 4]]);
  });

  it('return the 0/1 over a range query', async () => {
    expect(matrixOf(await rangeQuery(expr('2 > 1'), src(), 30, 60, 30))).toEqual({ '{}': [[30, 1], [60, 1]] });
  });
});
