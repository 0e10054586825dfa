import { describe, expect, it } from 'vitest';
import { evaluate, type QueryParams } from '../../../query/engine.js';
import { EvalContext } from '../../../query/eval/context.js';
import { EntryHeap } from '../../../query/eval/entry-heap.js';
import { collectCandidates } from '../../../query/eval/log-query.js';
import type { LogSelectorExpr } from '../../../query/ast.js';
import { parseExpr } from '../../../query/parser.js';
import type { QueryResult } from '../../../query/result.js';
import { generateLines, generateStreams } from '../../../bench/generate.js';
import { MemorySource, sec, T0, type MemStream } from './memory-source.js';

/**
 * Grouping pushed into range aggregations and parsers extracting only the labels a query reads must not
 * change any result: every query here runs with and without the optimisations over the same data.
 */

function dataset(): MemStream[] {
  const gen = generateStreams(12, 3);
  const streams: MemStream[] = gen.map((g) => ({ labels: g.labels, entries: [] }));
  let i = 0;
  for (const l of generateLines({ seed: 3, streams: 12, maxLines: 3000, startNs: T0, meanStepNs: 40_000_000, needleEvery: 500 })) {
    // Some broken lines, so parser errors take part.
    const line = i % 97 === 0 ? l.line.slice(0, 20) : l.line;
    streams[l.stream]!.entries.push({ ts: l.ts, line });
    i++;
  }
  return streams.filter((s) => s.entries.length > 0);
}

const DATA = dataset();

async function both(query: string, p: Partial<QueryParams> = {}): Promise<[QueryResult | string, QueryResult | string]> {
  const params: QueryParams = { start: sec(0), end: sec(130), step: 7_000_000_000n, direction: 'backward', limit: 1000, instant: false, ...p };
  const run = async (optimize: boolean) => {
    try {
      const r = await evaluate(parseExpr(query), params, new MemorySource(DATA, 50), { optimize });
      return { ...r, stats: undefined } as unknown as QueryResult;
    } catch (e) {
      return (e as Error).message;
    }
  };
  return [await run(true), await run(false)];
}

/** Results with each value rounded to 12 significant digits (rates may differ in the last bit). */
function rounded(r: QueryResult | string): unknown {
  if (typeof r === 'string') return r;
  if (r.type === 'matrix') return r.series.map((s) => ({ metric: s.metric, points: s.points.map((p) => [p.t, Number(p.v.toPrecision(12))]) }));
  if (r.type === 'vector') return r.samples.map((s) => ({ metric: s.metric, v: Number(s.v.toPrecision(12)) }));
  return r;
}

describe('optimised and plain evaluation agree', () => {
  const exact = [
    'sum by (level) (count_over_time({namespace=~".+"} | json [20s]))',
    'sum by (level) (count_over_time({namespace=~".+"} | json | __error__="" [20s]))',
    'sum by (level) (count_over_time({namespace=~".+"} | logfmt [20s]))',
    'sum by (level, status) (bytes_over_time({namespace=~".+"} | logfmt | __error__="" [30s]))',
    'sum by (level) (count_over_time({app=~"api-gateway|checkout"} | json | status >= 500 [20s]))',
    'sum without (pod, request_id, user_id, ts, duration_ms, path, msg, logger, method, status) (count_over_time({app=~"api-gateway|checkout"} | json | __error__="" [20s]))',
    'sum(count_over_time({namespace=~".+"} |= "error" [15s]))',
    'sum by (app) (count_over_time({namespace=~".+"} | logfmt | level="error" [15s]))',
    'count by (level) (count_over_time({app="payments"} | logfmt [20s]))',
    'topk(2, sum by (path) (count_over_time({app="auth"} | logfmt | __error__="" [30s])))',
    'sum by (lvl) (count_over_time({namespace=~".+"} | json | label_format lvl=level | __error__="" [20s]))',
    'sum by (level) (count_over_time({namespace=~".+"} | json | line_format "{{.level}}-{{.status}}" | __error__="" [20s]))',
    'max by (level) (max_over_time({app=~"api-gateway|checkout"} | json | __error__="" | unwrap duration_ms [20s]))',
    'sum by (level) (sum_over_time({app=~"api-gateway|checkout"} | json | __error__="" | unwrap status [20s]))',
    'absent_over_time({app="auth"} | logfmt | level="nope" [10s])',
    '{namespace=~".+"} | json | level="error"',
    '{app="auth"} | logfmt | status >= 500 | line_format "{{.path}}"',
  ];
  for (const q of exact) {
    it(q, async () => {
      const [opt, plain] = await both(q);
      expect(opt).toEqual(plain);
      // Not vacuous: a non-empty result, or the one query meant to fail on parser errors.
      if (typeof plain === 'string') expect(plain).toContain('JSONParserErr');
      else expect(plain.type === 'matrix' ? plain.series.length : plain.type === 'streams' ? plain.streams.length : 1).toBeGreaterThan(0);
    });
  }

  it('instant queries too', async () => {
    const [opt, plain] = await both('sum by (level) (count_over_time({namespace=~".+"} | json | __error__="" [60s]))', { instant: true, start: sec(90), end: sec(90) });
    expect(opt).toEqual(plain);
    expect((opt as QueryResult & { type: 'vector' }).samples.length).toBeGreaterThan(2);
  });

  it('rates agree to rounding', async () => {
    for (const q of ['sum by (level) (rate({namespace=~".+"} | logfmt | __error__="" [20s]))', 'sum(bytes_rate({namespace=~".+"} |~ "(?i)error" [30s]))']) {
      const [opt, plain] = await both(q);
      expect(rounded(opt), q).toEqual(rounded(plain));
    }
  });

  it('parser errors fail metric queries with the same message, labels and all', async () => {
    const [opt, plain] = await both('sum by (level) (count_over_time({namespace=~".+"} | json [20s]))');
    expect(typeof plain).toBe('string');
    expect(plain).toContain('JSONParserErr');
    expect(opt).toBe(plain);
  });

  it('the pushdown collapses per-line series: without it the same query holds one series per line', async () => {
    const q = 'sum by (level) (count_over_time({app=~"api-gateway|checkout"} | json | __error__="" [20s]))';
    const params: QueryParams = { start: sec(0), end: sec(130), step: 7_000_000_000n, direction: 'backward', limit: 1000, instant: false };
    // maxSeries applies to the final result only, so both succeed; the inner series count shows in a
    // query whose outer aggregation keeps them: count_over_time alone.
    await expect(evaluate(parseExpr(q), params, new MemorySource(DATA, 50), { optimize: true, maxSeries: 10 })).resolves.toBeDefined();
    await expect(evaluate(parseExpr('count_over_time({app=~"api-gateway|checkout"} | json | __error__="" [20s])'), params, new MemorySource(DATA, 50), { maxSeries: 10 })).rejects.toThrow(/maximum number of series/);
  });
});

describe('by-groups keyed from scanned fields', () => {
  // Streams whose own labels clash with the fields (level, status), lines the scanner declines (a key
  // repeated before the scan could end, broken lines), escaped keys, lines missing the fields, null
  // values and structured metadata. (A key repeated after every wanted field is read is not here: the
  // scan stops before it, as Loki's does, where the unhinted parser takes the last.)
  const json = [
    '{"level":"info","status":200}',
    '{"level":"warn","status":404,"path":"/a"}',
    '{"status":500,"level":"error"}',
    '{"level":"info"}',
    '{"path":"/b"}',
    '{"level":null,"status":201}',
    '{"lev\\u0065l":"escaped key","status":"204"}',
    '{"status":200,"status":204,"level":"warn"}',
  ];
  const logfmt = ['level=info status=200', 'status=503 status=504 level=error', 'status=200', 'level="quoted value" status=302', 'broken="', 'level=debug'];
  const streams: MemStream[] = [];
  const labelSets = [{}, { level: 'stream-level' }, { status: 'stream-status' }, {}];
  for (const [format, lines] of [['json', json], ['logfmt', logfmt]] as const) {
    labelSets.forEach((extra, k) => {
      const s: MemStream = { labels: { app: `${format}-${k}`, ...extra }, entries: [] };
      for (let i = 0; i < 300; i++) {
        const e: MemStream['entries'][number] = { ts: T0 + BigInt(i) * 300_000_000n + BigInt(k), line: lines[(i * 7 + k) % lines.length]! };
        if (k === 3 && i % 3 === 0) e.metadata = { trace: `t${i % 5}`, level: 'from-metadata' };
        s.entries.push(e);
      }
      streams.push(s);
    });
  }
  streams.push({ labels: { app: 'json-broken' }, entries: [{ ts: T0 + 5_000_000_000n, line: '{"level":"info" broken' }] });
  const params: QueryParams = { start: sec(0), end: sec(100), step: 10_000_000_000n, direction: 'backward', limit: 1000, instant: false };
  const run = async (q: string, optimize: boolean) => {
    try {
      const r = await evaluate(parseExpr(q), params, new MemorySource(streams, 40), { optimize });
      return { ...r, stats: undefined } as unknown as QueryResult;
    } catch (e) {
      return (e as Error).message;
    }
  };
  for (const q of [
    'sum by (level) (count_over_time({app=~"json-[0-9]"} | json [30s]))',
    'sum by (level, level_extracted) (count_over_time({app=~"json-[0-9]"} | json [30s]))',
    'sum by (status, level) (bytes_over_time({app=~"json-[0-9]"} | json [30s]))',
    'sum by (status_extracted, trace) (count_over_time({app=~"json-[0-9]"} | json [30s]))',
    'sum by (level, status) (count_over_time({app=~"logfmt-.*"} | logfmt [30s]))',
    'sum by (level_extracted, app) (rate({app=~"logfmt-.*"} | logfmt [30s]))',
    'sum by (level) (count_over_time({app=~"json-.*"} | json [30s]))',
    'sum by (level, status) (count_over_time({app=~"json-.*"} | json | __error__="" [30s]))',
    'sum by (level) (count_over_time({app=~"logfmt-.*"} | logfmt --strict | __error__="" [30s]))',
  ]) {
    it(q, async () => {
      const [opt, plain] = [await run(q, true), await run(q, false)];
      // Rates may differ in the last bit (see 'rates agree to rounding'); counts and bytes are exact.
      if (q.includes('rate(')) expect(rounded(opt)).toEqual(rounded(plain));
      else expect(opt).toEqual(plain);
      if (q.includes('json-.*') && !q.includes('__error__')) expect(plain).toContain('JSONParserErr');
      else expect((plain as QueryResult & { type: 'matrix' }).series.length).toBeGreaterThan(2);
    });
  }
});

describe('log queries split into shares with a shared bound', () => {
  it('a share that knows another share\'s worst kept entry skips what cannot make it, and the merge is exact', async () => {
    const half = Math.floor(DATA.length / 2);
    for (const direction of ['backward', 'forward'] as const) {
      for (const q of ['{namespace=~".+"} |= "error"', '{namespace=~".+"} | logfmt | level=~"warn|error"', '{namespace=~".+"}']) {
        const expr = parseExpr(q) as LogSelectorExpr;
        const params: QueryParams = { start: sec(0), end: sec(130), step: 0n, direction, limit: 40, instant: false };
        const grid = { start: params.start, step: 0n, count: 0 };
        const one = (await collectCandidates(expr, new EvalContext(params, new MemorySource(DATA, 50), {}, grid))).drain();
        // Share A alone publishes its worst kept entry; share B reads it (streams keep their overall positions).
        let published = NaN;
        const a = new EvalContext(params, new MemorySource(DATA.slice(0, half), 50), { sharedBound: { read: () => NaN, publish: (r) => (published = r) } }, grid);
        const heapA = await collectCandidates(expr, a);
        expect(Number.isNaN(published)).toBe(false);
        const indexed = new MemorySource(DATA.slice(half), 50);
        const b = new EvalContext(params, { select: (p) => withIndex(indexed.select(p), half) }, { sharedBound: { read: () => published, publish: () => {} } }, grid);
        const plainB = new EvalContext(params, { select: (p) => withIndex(new MemorySource(DATA.slice(half), 50).select(p), half) }, {}, grid);
        const heapB = await collectCandidates(expr, b);
        await collectCandidates(expr, plainB);
        // The bound saved work…
        expect(b.stats.totalLinesProcessed, q).toBeLessThanOrEqual(plainB.stats.totalLinesProcessed);
        // …and lost nothing.
        const merged = new EntryHeap(40, direction === 'backward');
        for (const c of [...heapA.drain(), ...heapB.drain()]) merged.offer(c);
        expect(merged.drain().map((c) => [c.ts, c.line, c.key]), `${q} ${direction}`).toEqual(one.map((c) => [c.ts, c.line, c.key]));
      }
    }
  });
});

async function* withIndex(streams: AsyncIterable<import('../../../query/source.js').StreamData>, offset: number): AsyncIterable<import('../../../query/source.js').StreamData> {
  let i = offset;
  for await (const s of streams) yield { ...s, index: i++ };
}
