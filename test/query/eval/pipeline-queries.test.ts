import { describe, expect, it } from 'vitest';
import { evaluate, PipelineError, type QueryParams } from '../../../query/engine.js';
import { parseExpr } from '../../../query/parser.js';
import type { QueryResult } from '../../../query/result.js';
import { MemorySource, sec, type MemStream } from './memory-source.js';
import { labelString, matrixOf, vectorOf } from './helpers.js';

/** Queries written in LogQL, through the real parser and the real pipeline stages. */

const streams: MemStream[] = [
  {
    labels: { app: 'api', pod: '1' },
    entries: [
      { ts: sec(1), line: 'level=info path=/a latency=100ms size=1KB' },
      { ts: sec(2), line: 'level=error path=/a latency=2s size=3KB' },
      { ts: sec(3), line: 'level=info path=/b latency=fast size=2KB' },
      { ts: sec(4), line: 'level=info path=/b latency=300ms size=1KB' },
    ],
  },
  {
    labels: { app: 'api', pod: '2' },
    entries: [
      { ts: sec(2), line: 'level=info path=/a latency=200ms size=2KB' },
      { ts: sec(5), line: 'level=error path=/b latency=1s size=1KB' },
    ],
  },
  {
    labels: { app: 'web', pod: '1' },
    entries: [
      { ts: sec(1), line: '{"status":200,"msg":"ok"}' },
      { ts: sec(3), line: 'not json' },
      { ts: sec(4), line: '{"status":500,"msg":"boom"}' },
    ],
  },
];

const src = () => new MemorySource(streams, 2);

function query(q: string, p: Partial<QueryParams> = {}): Promise<QueryResult> {
  const params: QueryParams = { start: sec(0), end: sec(10), step: 10_000_000_000n, direction: 'forward', limit: 100, instant: false, ...p };
  return evaluate(parseExpr(q), params, src());
}
const instant = (q: string) => query(q, { start: sec(10), end: sec(10), step: 0n, instant: true });

function linesOf(r: QueryResult): [string, string[]][] {
  if (r.type !== 'streams') throw new Error(`expected streams, got ${r.type}`);
  return r.streams.map((s) => [labelString(s.labels), s.entries.map((e) => e.line)]);
}

describe('log queries with parsers', () => {
  it('extracted labels split one stream into several result streams', async () => {
    const r = await query('{app="api", pod="1"} | logfmt | keep level, path', { direction: 'forward' });
    expect(linesOf(r).map(([l, lines]) => [l, lines.length])).toEqual([
      ['{level="error", path="/a"}', 1],
      ['{level="info", path="/a"}', 1],
      ['{level="info", path="/b"}', 2],
    ]);
  });

  it('keeps the limit across the split streams, newest first backward', async () => {
    const r = await query('{app="api"} | logfmt | line_format "{{.level}} {{.path}}"', { direction: 'backward', limit: 2 });
    // Result streams sort by their full label string: latency="1s" before latency="300ms".
    expect(linesOf(r).map(([l, lines]) => [l.includes('pod="2"') ? 'pod2' : 'pod1', lines])).toEqual([
      ['pod2', ['error /b']],
      ['pod1', ['info /b']],
    ]);
  });

  it('a label filter after a parser filters entries', async () => {
    const r = await query('{app="api"} | logfmt | level="error" | line_format "{{.path}}"');
    // latency="1s" (pod 2, /b) sorts before latency="2s" (pod 1, /a).
    expect(linesOf(r).map(([, lines]) => lines)).toEqual([['/b'], ['/a']]);
  });
});

describe('metric queries with parsers', () => {
  it('extracted labels make separate series', async () => {
    expect(vectorOf(await instant('sum by (level) (count_over_time({app="api"} | logfmt [10s]))'))).toEqual([
      ['{level="error"}', 2],
      ['{level="info"}', 4],
    ]);
  });

  it('unwrap of an extracted duration, with the bad value filtered after unwrap', async () => {
    // latency values: 100ms, 2s, fast (error, filtered), 300ms, 200ms, 1s.
    expect(vectorOf(await instant('sum by (app) (sum_over_time({app="api"} | logfmt | unwrap duration(latency) | __error__="" [10s]))'))).toEqual([['{app="api"}', 3.6]]);
    expect(vectorOf(await instant('max_over_time({app="api"} | logfmt | unwrap duration(latency) | __error__="" [10s]) by (path)'))).toEqual([
      ['{path="/a"}', 2],
      ['{path="/b"}', 1],
    ]);
  });

  it('an unfiltered conversion error fails the query', async () => {
    await expect(instant('sum_over_time({app="api"} | logfmt | unwrap duration(latency) [10s])')).rejects.toThrow(PipelineError);
    await expect(instant('sum_over_time({app="api"} | logfmt | unwrap duration(latency) [10s])')).rejects.toThrow(/SampleExtractionErr/);
  });

  it('a parser error fails a metric query unless filtered out', async () => {
    await expect(instant('count_over_time({app="web"} | json [10s])')).rejects.toThrow(/JSONParserErr/);
    expect(vectorOf(await instant('sum(count_over_time({app="web"} | json | __error__="" [10s]))'))).toEqual([['{}', 2]]);
  });

  it('unwrap bytes and quantile by an extracted label', async () => {
    expect(vectorOf(await instant('quantile_over_time(0.5, {app="api"} | logfmt | unwrap bytes(size) [10s]) by (level)'))).toEqual([
      ['{level="error"}', 2000],
      // info sizes 1KB, 2KB, 1KB, 2KB: the median interpolates to 1500.
      ['{level="info"}', 1500],
    ]);
  });

  it('streams merged by keep feed one series', async () => {
    expect(matrixOf(await query('rate({app="api"} | logfmt | keep app [10s])', { start: sec(10), end: sec(10) }))).toEqual({ '{app="api"}': [[10, 0.6]] });
  });

  it('json fields become labels for grouping', async () => {
    expect(vectorOf(await instant('sum by (status) (count_over_time({app="web"} | json | __error__="" [10s]))'))).toEqual([
      ['{status="200"}', 1],
      ['{status="500"}', 1],
    ]);
  });

  it('binary operations over parsed queries', async () => {
    const r = await instant('sum by (app) (count_over_time({app="api"} | logfmt | level="error" [10s])) / sum by (app) (count_over_time({app="api"} [10s]))');
    expect(vectorOf(r)).toEqual([['{app="api"}', 2 / 6]]);
  });
});

describe('structured metadata', () => {
  const withMeta = () =>
    new MemorySource([
      {
        labels: { app: 'm' },
        entries: [
          { ts: sec(1), line: 'a', metadata: { trace_id: 't1' } },
          { ts: sec(2), line: 'b' },
          { ts: sec(3), line: 'c', metadata: { trace_id: 't1' } },
        ],
      },
    ]);

  it('joins the result stream labels, splitting streams', async () => {
    const r = await evaluate(parseExpr('{app="m"}'), { start: sec(0), end: sec(10), step: 0n, direction: 'forward', limit: 10, instant: false }, withMeta());
    expect(linesOf(r)).toEqual([
      ['{app="m", trace_id="t1"}', ['a', 'c']],
      ['{app="m"}', ['b']],
    ]);
  });

  it('can be grouped on in metric queries', async () => {
    const r = await evaluate(parseExpr('sum by (trace_id) (count_over_time({app="m"}[10s]))'), { start: sec(10), end: sec(10), step: 0n, direction: 'forward', limit: 10, instant: true }, withMeta());
    expect(vectorOf(r)).toEqual([['{}', 1], ['{trace_id="t1"}', 2]]);
  });
});
