import { describe, expect, it } from 'vitest';
import { evaluate, type QueryParams } from '../../../query/engine.js';
import { parseExpr } from '../../../query/parser.js';
import type { QueryResult } from '../../../query/result.js';
import { labelString, vectorOf } from './helpers.js';
import { MemorySource, sec, type MemStream } from './memory-source.js';

/**
 * Structured metadata in the label set, and the clash rule of Loki 3.7 between a stream label (S),
 * structured metadata (M) and a parsed field (P) of the same name `lvl`: the plain name goes to
 * S > M > P, and the best loser in the reverse order (P > M > S) lands on `lvl_extracted`; any other
 * loser is gone. Worked out by hand:
 *
 *   sources │ lvl │ lvl_extracted
 *   S       │ s   │ –
 *   M       │ m   │ –
 *   P       │ p   │ –
 *   S M     │ s   │ m
 *   S P     │ s   │ p
 *   M P     │ m   │ p
 *   S M P   │ s   │ p        (the metadata value is dropped)
 */

const LOG: QueryParams = { start: sec(0), end: sec(10), step: 0n, direction: 'forward', limit: 100, instant: false };
const AT10: QueryParams = { start: sec(10), end: sec(10), step: 0n, direction: 'forward', limit: 100, instant: true };

function streamsOf(r: QueryResult): [string, string[]][] {
  if (r.type !== 'streams') throw new Error(`expected streams, got ${r.type}`);
  return r.streams.map((s) => [labelString(s.labels), s.entries.map((e) => e.line)]);
}

/** Each parser with a line carrying `lvl=p` and a line carrying no `lvl` (and nothing else it would extract). */
const PARSERS: { stage: string; with: string; without: string }[] = [
  { stage: 'json', with: '{"lvl":"p"}', without: '{}' },
  { stage: 'logfmt', with: 'lvl=p', without: 'none' },
  { stage: 'regexp "lvl=(?P<lvl>\\\\w+)"', with: 'lvl=p', without: 'none' },
  { stage: 'pattern "lvl=<lvl>"', with: 'lvl=p', without: 'none' },
  { stage: 'unpack', with: '{"lvl":"p"}', without: '{}' },
];

interface Row {
  sources: string;
  lvl: string;
  extracted?: string;
}
const TABLE: Row[] = [
  { sources: 'S', lvl: 's' },
  { sources: 'M', lvl: 'm' },
  { sources: 'P', lvl: 'p' },
  { sources: 'SM', lvl: 's', extracted: 'm' },
  { sources: 'SP', lvl: 's', extracted: 'p' },
  { sources: 'MP', lvl: 'm', extracted: 'p' },
  { sources: 'SMP', lvl: 's', extracted: 'p' },
];

/** One stream per row of the table; `app` tells them apart. */
function tableSource(parser: (typeof PARSERS)[number]): MemorySource {
  return new MemorySource(
    TABLE.map((row, k): MemStream => {
      const labels: Record<string, string> = { app: `t${k}` };
      if (row.sources.includes('S')) labels.lvl = 's';
      const entry: MemStream['entries'][number] = { ts: sec(1), line: row.sources.includes('P') ? parser.with : parser.without };
      if (row.sources.includes('M')) entry.metadata = { lvl: 'm' };
      return { labels, entries: [entry] };
    }),
  );
}

function expectedLabels(row: Row, k: number): string {
  const l: Record<string, string> = { app: `t${k}`, lvl: row.lvl };
  if (row.extracted !== undefined) l.lvl_extracted = row.extracted;
  return labelString(l);
}

describe('stream label, structured metadata and parsed field of one name (Loki 3.7)', () => {
  for (const parser of PARSERS) {
    describe(`| ${parser.stage}`, () => {
      it('the result stream labels follow the table, row by row', async () => {
        const r = await evaluate(parseExpr(`{app=~"t.*"} | ${parser.stage}`), LOG, tableSource(parser));
        const got = new Map(streamsOf(r).map(([l]) => [l.match(/app="(t\d)"/)![1]!, l]));
        TABLE.forEach((row, k) => expect([row.sources, got.get(`t${k}`)]).toEqual([row.sources, expectedLabels(row, k)]));
      });

      it('a filter on the plain name reads the winner', async () => {
        for (const v of ['s', 'm', 'p']) {
          const r = await evaluate(parseExpr(`{app=~"t.*"} | ${parser.stage} | lvl="${v}"`), LOG, tableSource(parser));
          const kept = streamsOf(r).map(([l]) => l.match(/app="t(\d)"/)![1]!).map((k) => TABLE[Number(k)]!.sources);
          expect([v, kept.sort()]).toEqual([v, TABLE.filter((row) => row.lvl === v).map((row) => row.sources).sort()]);
        }
      });

      it('a filter on <name>_extracted reads the loser', async () => {
        for (const v of ['s', 'm', 'p']) {
          const r = await evaluate(parseExpr(`{app=~"t.*"} | ${parser.stage} | lvl_extracted="${v}"`), LOG, tableSource(parser));
          const kept = streamsOf(r).map(([l]) => l.match(/app="t(\d)"/)![1]!).map((k) => TABLE[Number(k)]!.sources);
          expect([v, kept.sort()]).toEqual([v, TABLE.filter((row) => row.extracted === v).map((row) => row.sources).sort()]);
        }
        // A missing label filters as an empty one: the rows without a loser.
        const r = await evaluate(parseExpr(`{app=~"t.*"} | ${parser.stage} | lvl_extracted=""`), LOG, tableSource(parser));
        expect(streamsOf(r).length).toBe(3);
      });

      it('grouping on both names gives the same pairs, with and without the query optimisations', async () => {
        const q = `sum by (lvl, lvl_extracted) (count_over_time({app=~"t.*"} | ${parser.stage} [10s]))`;
        const want: [string, number][] = [
          ['{lvl="m", lvl_extracted="p"}', 1],
          ['{lvl="m"}', 1],
          ['{lvl="p"}', 1],
          ['{lvl="s", lvl_extracted="m"}', 1],
          ['{lvl="s", lvl_extracted="p"}', 2],
          ['{lvl="s"}', 1],
        ];
        for (const optimize of [false, true]) {
          const r = await evaluate(parseExpr(q), AT10, tableSource(parser), { optimize });
          expect(vectorOf(r).sort(([a], [b]) => (a < b ? -1 : 1))).toEqual(want);
        }
      });
    });
  }

  it('a metadata key that clashes with a stream label spills over without any parser', async () => {
    const src = new MemorySource([{ labels: { app: 'a', lvl: 's' }, entries: [{ ts: sec(1), line: 'x', metadata: { lvl: 'm' } }] }]);
    const r = await evaluate(parseExpr('{app="a"} | lvl_extracted="m" | lvl="s"'), LOG, src);
    expect(streamsOf(r)).toEqual([['{app="a", lvl="s", lvl_extracted="m"}', ['x']]]);
  });

  it('a parsed field that clashes with metadata already spilled by a stream label replaces it in <name>_extracted', async () => {
    const src = new MemorySource([{ labels: { app: 'a', lvl: 's' }, entries: [{ ts: sec(1), line: 'lvl=p', metadata: { lvl: 'm' } }] }]);
    const r = await evaluate(parseExpr('{app="a"} | logfmt'), LOG, src);
    expect(streamsOf(r)).toEqual([['{app="a", lvl="s", lvl_extracted="p"}', ['lvl=p']]]);
  });

  it('metadata keeps the plain name over a later parser only while it holds it: after drop, the parser takes it', async () => {
    const src = new MemorySource([{ labels: { app: 'a' }, entries: [{ ts: sec(1), line: 'lvl=p', metadata: { lvl: 'm' } }] }]);
    let r = await evaluate(parseExpr('{app="a"} | drop lvl | logfmt'), LOG, src);
    expect(streamsOf(r)).toEqual([['{app="a", lvl="p"}', ['lvl=p']]]);
    r = await evaluate(parseExpr('{app="a"} | logfmt | drop lvl'), LOG, src);
    expect(streamsOf(r)).toEqual([['{app="a", lvl_extracted="p"}', ['lvl=p']]]);
  });
});

describe('structured metadata joins the label set without a parser', () => {
  const src = () =>
    new MemorySource([
      {
        labels: { app: 'm' },
        entries: [
          { ts: sec(1), line: 'one', metadata: { took: '250ms', trace_id: 'abc', size: '2KB', n: '7' } },
          { ts: sec(2), line: 'two', metadata: { took: '1.5s', trace_id: 'def', size: '512B', n: '3' } },
          { ts: sec(3), line: 'three', metadata: { took: '3s', trace_id: 'abc', size: '1MB', n: '12' } },
          { ts: sec(4), line: 'four' },
        ],
      },
      { labels: { app: 'm', pod: '2' }, entries: [{ ts: sec(2), line: 'five', metadata: { trace_id: 'abc' } }] },
    ]);
  const lines = async (q: string) =>
    streamsOf(await evaluate(parseExpr(q), LOG, src()))
      .flatMap(([, l]) => l)
      .sort();

  it('duration, bytes and number filters read metadata', async () => {
    expect(await lines('{app="m"} | took > 1s')).toEqual(['three', 'two']);
    expect(await lines('{app="m"} | took <= 250ms')).toEqual(['one']);
    expect(await lines('{app="m"} | size >= 2KB')).toEqual(['one', 'three']);
    expect(await lines('{app="m"} | n > 5')).toEqual(['one', 'three']);
  });

  it('string and regex filters read metadata; a missing key reads as empty', async () => {
    expect(await lines('{app="m"} | trace_id="abc"')).toEqual(['five', 'one', 'three']);
    expect(await lines('{app="m"} | trace_id=~"d.*"')).toEqual(['two']);
    expect(await lines('{app="m"} | trace_id=""')).toEqual(['four']);
    expect(await lines('{app="m"} | trace_id!="abc"')).toEqual(['four', 'two']);
  });

  it('sum by a metadata key groups across streams', async () => {
    for (const optimize of [false, true]) {
      const r = await evaluate(parseExpr('sum by (trace_id) (count_over_time({app="m"}[1m]))'), AT10, src(), { optimize });
      expect(vectorOf(r)).toEqual([
        ['{}', 1],
        ['{trace_id="abc"}', 3],
        ['{trace_id="def"}', 1],
      ]);
    }
  });

  it('unwrap reads a metadata value', async () => {
    const r = await evaluate(parseExpr('sum by (app) (sum_over_time({app="m"} | unwrap n [1m]))'), AT10, src());
    expect(vectorOf(r)).toEqual([['{app="m"}', 22]]);
  });
});

describe('metric queries over entries sharing metadata objects (detected_level runs)', () => {
  // Shared frozen objects, as the ingester and the chunk decoder hand out, interleaved with distinct ones
  // and entries without metadata; a pipeline of line filters only (no stage changes labels).
  const info = Object.freeze({ detected_level: 'info' });
  const error = Object.freeze({ detected_level: 'error' });
  const entries = Array.from({ length: 40 }, (_, i) => {
    const metadata = i % 10 === 9 ? undefined : i % 7 === 3 ? error : i % 13 === 5 ? { detected_level: 'info' } : info;
    return { ts: sec(i % 10) + BigInt(i), line: i % 4 === 0 ? `skip ${i}` : `keep ${i}`, ...(metadata ? { metadata } : {}) };
  });
  const source = () => new MemorySource([{ labels: { app: 'm' }, entries }], 4);

  it('counts each (stream, metadata) series exactly, with and without a label filter and by()', async () => {
    const kept = entries.filter((e) => e.line.startsWith('keep'));
    const count = (pred: (e: (typeof entries)[number]) => boolean) => kept.filter(pred).length;
    const byLevel = await evaluate(parseExpr('sum by (detected_level) (count_over_time({app="m"} |= "keep" [1m]))'), AT10, source());
    expect(vectorOf(byLevel).sort()).toEqual(
      [
        ['{}', count((e) => !e.metadata)],
        ['{detected_level="error"}', count((e) => e.metadata?.detected_level === 'error')],
        ['{detected_level="info"}', count((e) => e.metadata?.detected_level === 'info')],
      ].sort(),
    );
    const logs = streamsOf(await evaluate(parseExpr('{app="m"} |= "keep"'), LOG, source()));
    const linesOf = (pred: (e: (typeof entries)[number]) => boolean) => kept.filter(pred).map((e) => e.line);
    expect(logs.map(([l, lines]) => [l, [...lines].sort()]).sort()).toEqual(
      [
        ['{app="m"}', linesOf((e) => !e.metadata).sort()],
        ['{app="m", detected_level="error"}', linesOf((e) => e.metadata?.detected_level === 'error').sort()],
        ['{app="m", detected_level="info"}', linesOf((e) => e.metadata?.detected_level === 'info').sort()],
      ].sort(),
    );
    const series = await evaluate(parseExpr('count_over_time({app="m"} |= "keep" | detected_level!="error" [1m])'), AT10, source());
    expect(vectorOf(series).sort()).toEqual(
      [
        ['{app="m"}', count((e) => !e.metadata)],
        ['{app="m", detected_level="info"}', count((e) => e.metadata?.detected_level === 'info')],
      ].sort(),
    );
  });
});
