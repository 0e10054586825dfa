import { describe, expect, it } from 'vitest';
import type { LogSelectorExpr } from '../../../query/ast.js';
import { EntriesLimitError, evaluate, InstantLogQueryError, QueryParamError, type QueryParams } from '../../../query/engine.js';
import type { QueryResult } from '../../../query/result.js';
import { MemorySource, sec, T0, type MemStream } from './memory-source.js';
import { labelString, selector } from './helpers.js';

const at = (s: number, line = `t${s}`) => ({ ts: sec(s), line });

const streams: MemStream[] = [
  { labels: { app: 'a', pod: '1' }, entries: [1, 3, 5, 7, 9].map((s) => at(s)) },
  { labels: { app: 'a', pod: '2' }, entries: [2, 4, 6, 8, 10].map((s) => at(s)) },
  { labels: { app: 'b' }, entries: [at(5, 'b5')] },
];

function run(expr: LogSelectorExpr, p: Partial<QueryParams>, src = new MemorySource(streams), maxEntries?: number): Promise<QueryResult> {
  const params: QueryParams = { start: sec(0), end: sec(20), step: 0n, direction: 'backward', limit: 100, instant: false, ...p };
  return evaluate(expr, params, src, maxEntries !== undefined ? { maxEntries } : {});
}

/** `{labels}` → lines, in result order. */
function linesOf(r: QueryResult): [string, string[]][] {
  if (r.type !== 'streams') throw new Error(`expected streams, got ${r.type}`);
  return r.streams.map((s) => [labelString(s.labels), s.entries.map((e) => e.line)]);
}

describe('log queries', () => {
  it('forward returns the oldest `limit` entries across streams, each stream ascending', async () => {
    const r = await run(selector({ app: 'a' }), { direction: 'forward', limit: 4 });
    expect(linesOf(r)).toEqual([
      ['{app="a", pod="1"}', ['t1', 't3']],
      ['{app="a", pod="2"}', ['t2', 't4']],
    ]);
    expect(r.stats.totalEntriesReturned).toBe(4);
  });

  it('backward returns the newest `limit` entries, each stream descending', async () => {
    const r = await run(selector({ app: 'a' }), { direction: 'backward', limit: 3 });
    expect(linesOf(r)).toEqual([
      ['{app="a", pod="1"}', ['t9']],
      ['{app="a", pod="2"}', ['t10', 't8']],
    ]);
  });

  it('orders result streams by their label string', async () => {
    const src = new MemorySource([
      { labels: { app: 'z' }, entries: [at(1)] },
      { labels: { app: 'a', pod: 'x' }, entries: [at(2)] },
      { labels: { app: 'a' }, entries: [at(3)] },
    ]);
    const r = await run(selector([{ name: 'app', op: '=~', value: '.+' }]), {}, src);
    // '{app="a", pod="x"}' sorts before '{app="a"}' because ',' < '}'.
    expect(linesOf(r).map(([l]) => l)).toEqual(['{app="a", pod="x"}', '{app="a"}', '{app="z"}']);
  });

  it('breaks timestamp ties by labels, in the direction of the query', async () => {
    const all = selector([{ name: 'app', op: '=~', value: 'a|b' }]);
    // Forward: at 5s {app="a", pod="1"} comes before {app="b"}, so b misses the cut.
    expect(linesOf(await run(all, { direction: 'forward', limit: 5 }))).toEqual([
      ['{app="a", pod="1"}', ['t1', 't3', 't5']],
      ['{app="a", pod="2"}', ['t2', 't4']],
    ]);
    // Backward: at 5s {app="b"} comes first.
    expect(linesOf(await run(all, { direction: 'backward', limit: 6 }))).toEqual([
      ['{app="a", pod="1"}', ['t9', 't7']],
      ['{app="a", pod="2"}', ['t10', 't8', 't6']],
      ['{app="b"}', ['b5']],
    ]);
  });

  it('keeps entries with equal timestamps in stream order forward and reversed backward', async () => {
    const src = new MemorySource([{ labels: { app: 'a' }, entries: [at(1, 'first'), at(1, 'second'), at(1, 'third')] }]);
    expect(linesOf(await run(selector({ app: 'a' }), { direction: 'forward' }, src))).toEqual([['{app="a"}', ['first', 'second', 'third']]]);
    expect(linesOf(await run(selector({ app: 'a' }), { direction: 'backward', limit: 2 }, src))).toEqual([['{app="a"}', ['third', 'second']]]);
  });

  it('selects [start, end): start included, end excluded', async () => {
    const r = await run(selector({ app: 'a' }), { start: sec(3), end: sec(6), direction: 'forward' });
    expect(linesOf(r)).toEqual([
      ['{app="a", pod="1"}', ['t3', 't5']],
      ['{app="a", pod="2"}', ['t4']],
    ]);
  });

  it('applies line filters and returns nanosecond timestamps', async () => {
    const src = new MemorySource([{ labels: { app: 'a' }, entries: [{ ts: T0 + 1n, line: 'error: x' }, { ts: T0 + 2n, line: 'ok' }, { ts: T0 + 3n, line: 'error: y' }] }]);
    const r = await run(selector({ app: 'a' }, [{ kind: 'line_filter', op: '|=', values: ['error'] }]), { start: T0, end: T0 + 10n }, src);
    expect(r.type === 'streams' && r.streams[0]!.entries).toEqual([
      { ts: T0 + 3n, line: 'error: y' },
      { ts: T0 + 1n, line: 'error: x' },
    ]);
    expect(r.stats.totalLinesProcessed).toBe(3);
    expect(r.stats.totalPostFilterLines).toBe(2);
  });

  it('stops reading a stream forward once it cannot contribute', async () => {
    const many: MemStream[] = [{ labels: { app: 'a' }, entries: Array.from({ length: 100 }, (_, i) => at(i + 1)) }];
    const src = new MemorySource(many, 10);
    const r = await run(selector({ app: 'a' }), { direction: 'forward', limit: 5, end: sec(200) }, src);
    expect(linesOf(r)).toEqual([['{app="a"}', ['t1', 't2', 't3', 't4', 't5']]]);
    expect(src.batchesRead).toBe(1);
  });

  it('skips whole batches backward that are older than everything kept', async () => {
    const two: MemStream[] = [
      { labels: { app: 'new' }, entries: Array.from({ length: 10 }, (_, i) => at(100 + i)) },
      { labels: { app: 'old' }, entries: Array.from({ length: 50 }, (_, i) => at(i + 1)) },
    ];
    const src = new MemorySource(two, 10);
    const r = await run(selector([{ name: 'app', op: '=~', value: '.+' }]), { direction: 'backward', limit: 5, end: sec(200) }, src);
    expect(linesOf(r)).toEqual([['{app="new"}', ['t109', 't108', 't107', 't106', 't105']]]);
    // Only the first stream's batch went through the pipeline.
    expect(r.stats.totalLinesProcessed).toBe(10);
  });

  it('refuses instant log queries with Loki\'s message', async () => {
    await expect(run(selector({ app: 'a' }), { instant: true })).rejects.toThrow(InstantLogQueryError);
    await expect(run(selector({ app: 'a' }), { instant: true })).rejects.toThrow('log queries are not supported as an instant query type, please change your query to a range query type');
  });

  it('validates limit', async () => {
    await expect(run(selector({ app: 'a' }), { limit: 0 })).rejects.toThrow(QueryParamError);
    await expect(run(selector({ app: 'a' }), { limit: 0 })).rejects.toThrow(/^limit must be a positive value: limit must be a positive integer, got 0$/);
    await expect(run(selector({ app: 'a' }), { limit: 5001 }, undefined, 5000)).rejects.toThrow(EntriesLimitError);
    await expect(run(selector({ app: 'a' }), { limit: 5001 }, undefined, 5000)).rejects.toThrow('max entries limit per query exceeded, limit > max_entries_limit (5001 > 5000)');
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('client went away'));
    await expect(evaluate(selector({ app: 'a' }), { start: sec(0), end: sec(20), step: 0n, direction: 'forward', limit: 10, instant: false }, new MemorySource(streams), { signal: ac.signal })).rejects.toThrow(
      'client went away',
    );
  });

  it('returns an empty streams result when nothing matches', async () => {
    const r = await run(selector({ app: 'nope' }), {});
    expect(r).toMatchObject({ type: 'streams', streams: [] });
  });
});
