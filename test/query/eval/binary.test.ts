import { describe, expect, it } from 'vitest';
import type { BinaryExpr, BinaryOp, SampleExpr, VectorMatching } from '../../../query/ast.js';
import { QueryEvalError } from '../../../query/engine.js';
import { MemorySource, sec, type MemStream } from './memory-source.js';
import { instantQuery, matrixOf, rangeAgg, rangeQuery, selector, vectorOf } from './helpers.js';

function stream(labels: Record<string, string>, n: number): MemStream {
  return { labels, entries: Array.from({ length: n }, (_, i) => ({ ts: sec(1 + i * 0.5), line: 'x' })) };
}

const src = () =>
  new MemorySource([
    stream({ job: 'api', instance: '1', kind: 'req' }, 4),
    stream({ job: 'api', instance: '2', kind: 'req' }, 6),
    stream({ job: 'api', instance: '1', kind: 'err' }, 1),
    stream({ job: 'api', instance: '2', kind: 'err' }, 3),
    stream({ job: 'api', kind: 'limit' }, 10),
  ]);

const counts = (kind: string): SampleExpr => rangeAgg('count_over_time', selector({ kind }), 10);
const req = counts('req');
const err = counts('err');
const limit = counts('limit');
const num = (value: number): SampleExpr => ({ kind: 'literal', value });

function bin(op: BinaryOp, left: SampleExpr, right: SampleExpr, more: { bool?: boolean; matching?: VectorMatching } = {}): BinaryExpr {
  const e: BinaryExpr = { kind: 'binary', op, bool: more.bool ?? false, left, right };
  if (more.matching) e.matching = more.matching;
  return e;
}
const on = (...labels: string[]): VectorMatching => ({ on: true, labels });
const ignoring = (...labels: string[]): VectorMatching => ({ on: false, labels });

const at10 = (e: SampleExpr) => instantQuery(e, src(), 10).then(vectorOf);

describe('scalar operands', () => {
  it('scalar op scalar is a scalar', async () => {
    const r = await instantQuery(bin('+', num(1), num(2)), src(), 10);
    expect(r.type).toBe('scalar');
    expect(r.type === 'scalar' && r.v).toBe(3);
    const cmp = await instantQuery(bin('>', num(2), num(1), { bool: true }), src(), 10);
    expect(cmp.type === 'scalar' && cmp.v).toBe(1);
    // Between two scalars a comparison gives 0/1 even without bool, as Loki folds literals.
    const plain = await instantQuery(bin('>', num(2), num(1)), src(), 10);
    expect(plain.type === 'scalar' && plain.v).toBe(1);
  });

  it('a scalar range query is one label-less series', async () => {
    expect(matrixOf(await rangeQuery(bin('*', num(2), num(3)), src(), 10, 30, 10))).toEqual({ '{}': [[10, 6], [20, 6], [30, 6]] });
  });

  it('arithmetic applies to every sample, with the scalar on either side', async () => {
    expect(await at10(bin('*', req, num(2)))).toEqual([['{instance="1", job="api", kind="req"}', 8], ['{instance="2", job="api", kind="req"}', 12]]);
    expect(await at10(bin('-', num(10), req))).toEqual([['{instance="1", job="api", kind="req"}', 6], ['{instance="2", job="api", kind="req"}', 4]]);
    expect((await at10(bin('%', req, num(4)))).map(([, v]) => v)).toEqual([0, 2]);
    expect((await at10(bin('^', req, num(2)))).map(([, v]) => v)).toEqual([16, 36]);
    // Loki's rule, not Prometheus': dividing by zero gives NaN, not ±Inf.
    expect((await at10(bin('/', req, num(0)))).map(([, v]) => v)).toEqual([NaN, NaN]);
  });

  it('comparisons filter and keep the vector value, or give 0/1 with bool', async () => {
    expect(await at10(bin('>', req, num(5)))).toEqual([['{instance="2", job="api", kind="req"}', 6]]);
    // Scalar on the left: the kept value is still the vector's.
    expect(await at10(bin('<', num(5), req))).toEqual([['{instance="2", job="api", kind="req"}', 6]]);
    expect((await at10(bin('>', req, num(5), { bool: true }))).map(([, v]) => v)).toEqual([0, 1]);
    expect((await at10(bin('==', req, num(4), { bool: true }))).map(([, v]) => v)).toEqual([1, 0]);
    expect((await at10(bin('!=', req, num(4)))).map(([, v]) => v)).toEqual([6]);
    expect((await at10(bin('<=', req, num(4)))).map(([, v]) => v)).toEqual([4]);
    expect((await at10(bin('>=', req, num(6)))).map(([, v]) => v)).toEqual([6]);
  });
});

describe('vector matching', () => {
  it('one-to-one needs identical label sets by default', async () => {
    expect(await at10(bin('/', err, req))).toEqual([]);
    expect(await at10(bin('+', req, req))).toEqual([['{instance="1", job="api", kind="req"}', 8], ['{instance="2", job="api", kind="req"}', 12]]);
  });

  it('ignoring drops the ignored labels from the result; on keeps only the on labels', async () => {
    expect(await at10(bin('/', err, req, { matching: ignoring('kind') }))).toEqual([['{instance="1", job="api"}', 0.25], ['{instance="2", job="api"}', 0.5]]);
    expect(await at10(bin('/', err, req, { matching: on('instance') }))).toEqual([['{instance="1"}', 0.25], ['{instance="2"}', 0.5]]);
  });

  it('vector comparisons filter (with the left value) or give 0/1 with bool', async () => {
    expect(await at10(bin('>', err, req, { matching: on('instance') }))).toEqual([]);
    expect(await at10(bin('<', err, req, { matching: on('instance') }))).toEqual([['{instance="1"}', 1], ['{instance="2"}', 3]]);
    expect(await at10(bin('>', err, req, { matching: on('instance'), bool: true }))).toEqual([['{instance="1"}', 0], ['{instance="2"}', 0]]);
  });

  it('group_left matches many to one and copies included labels from the one side', async () => {
    const m = ignoring('instance', 'kind');
    expect(await at10(bin('/', req, limit, { matching: { ...m, group: { side: 'left', include: [] } } }))).toEqual([
      ['{instance="1", job="api", kind="req"}', 0.4],
      ['{instance="2", job="api", kind="req"}', 0.6],
    ]);
    expect(await at10(bin('/', req, limit, { matching: { ...m, group: { side: 'left', include: ['kind'] } } }))).toEqual([
      ['{instance="1", job="api", kind="limit"}', 0.4],
      ['{instance="2", job="api", kind="limit"}', 0.6],
    ]);
  });

  it('group_right takes the labels of the right side and keeps operand order for the value', async () => {
    const m = ignoring('instance', 'kind');
    expect(await at10(bin('/', limit, req, { matching: { ...m, group: { side: 'right', include: [] } } }))).toEqual([
      ['{instance="1", job="api", kind="req"}', 2.5],
      ['{instance="2", job="api", kind="req"}', 10 / 6],
    ]);
  });

  it('duplicate series on the "one" side are an error', async () => {
    const m = { ...ignoring('instance', 'kind'), group: { side: 'left' as const, include: [] } };
    const p = at10(bin('/', req, err, { matching: m }));
    await expect(p).rejects.toThrow(QueryEvalError);
    await expect(at10(bin('/', req, err, { matching: m }))).rejects.toThrow(/^found duplicate series on the right hand-side;many-to-many matching not allowed: matching labels must be unique on one side\. The match group \{job="api"\} has two series on the right hand-side/);
    const right = { ...ignoring('instance', 'kind'), group: { side: 'right' as const, include: [] } };
    await expect(at10(bin('/', err, req, { matching: right }))).rejects.toThrow(/on the left hand-side/);
  });

  it('many-to-one without group_left is an error', async () => {
    await expect(at10(bin('/', req, limit, { matching: ignoring('instance', 'kind') }))).rejects.toThrow(/many-to-one matching must be explicit/);
  });

  it('group_left whose included labels make results collide is an error', async () => {
    // Including `instance` from the one side (which has none) removes it from both results.
    const m: VectorMatching = { on: true, labels: ['job'], group: { side: 'left', include: ['instance'] } };
    await expect(at10(bin('*', req, limit, { matching: m }))).rejects.toThrow(/grouping labels must ensure unique matches/);
  });
});

describe('set operators', () => {
  it('and keeps left samples with a match on the right', async () => {
    expect(await at10(bin('and', req, err, { matching: on('instance') }))).toEqual([
      ['{instance="1", job="api", kind="req"}', 4],
      ['{instance="2", job="api", kind="req"}', 6],
    ]);
    expect(await at10(bin('and', req, bin('>', err, num(2)), { matching: on('instance') }))).toEqual([['{instance="2", job="api", kind="req"}', 6]]);
    expect(await at10(bin('and', req, err))).toEqual([]);
  });

  it('or adds right samples whose match group the left lacks', async () => {
    expect((await at10(bin('or', req, limit))).map(([l]) => l)).toEqual([
      '{instance="1", job="api", kind="req"}',
      '{instance="2", job="api", kind="req"}',
      '{job="api", kind="limit"}',
    ]);
    expect(await at10(bin('or', bin('>', req, num(5)), err, { matching: on('instance') }))).toEqual([
      ['{instance="1", job="api", kind="err"}', 1],
      ['{instance="2", job="api", kind="req"}', 6],
    ]);
  });

  it('unless keeps left samples without a match', async () => {
    expect(await at10(bin('unless', req, bin('>', err, num(2)), { matching: on('instance') }))).toEqual([['{instance="1", job="api", kind="req"}', 4]]);
  });

  it('set operators work per step in range queries', async () => {
    const s = new MemorySource([
      { labels: { a: '1' }, entries: [{ ts: sec(1), line: 'x' }, { ts: sec(11), line: 'x' }] },
      { labels: { a: '2' }, entries: [{ ts: sec(12), line: 'x' }] },
    ]);
    const one = rangeAgg('count_over_time', selector({ a: '1' }), 10);
    const two = rangeAgg('count_over_time', selector({ a: '2' }), 10);
    expect(matrixOf(await rangeQuery(bin('and', one, two, { matching: on() }), s, 10, 20, 10))).toEqual({ '{a="1"}': [[20, 1]] });
    expect(matrixOf(await rangeQuery(bin('unless', one, two, { matching: on() }), s, 10, 20, 10))).toEqual({ '{a="1"}': [[10, 1]] });
  });

  it('set operators refuse scalars', async () => {
    await expect(at10(bin('and', req, num(1)))).rejects.toThrow(/not allowed/);
  });
});

describe('vector()', () => {
  it('is a label-less series at every step', async () => {
    expect(matrixOf(await rangeQuery({ kind: 'vector', value: 1 }, src(), 10, 30, 10))).toEqual({ '{}': [[10, 1], [20, 1], [30, 1]] });
    expect(await at10(bin('+', { kind: 'vector', value: 2 }, num(1)))).toEqual([['{}', 3]]);
    // `or vector(0)`: the usual way to fill gaps.
    const total = { kind: 'vector_agg' as const, op: 'sum' as const, expr: rangeAgg('count_over_time', selector({ kind: 'limit' }), 5) };
    expect(matrixOf(await rangeQuery(bin('or', total, { kind: 'vector', value: 0 }), src(), 5, 15, 5))).toEqual({ '{}': [[5, 9], [10, 1], [15, 0]] });
    // Different label sets never match by default, so vector(0) is added at every step.
    expect(matrixOf(await rangeQuery(bin('or', limit, { kind: 'vector', value: 0 }), src(), 10, 20, 10))).toEqual({
      '{}': [[10, 0], [20, 0]],
      '{job="api", kind="limit"}': [[10, 10]],
    });
  });
});
