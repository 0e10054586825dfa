import { describe, expect, it } from 'vitest';
import { evaluate, PipelineError, type QueryParams } from '../../../query/engine.js';
import { ParseError, parseExpr } from '../../../query/parser.js';
import type { QueryResult } from '../../../query/result.js';
import { vectorOf } from './helpers.js';
import { MemorySource, sec, type MemStream } from './memory-source.js';

/** Label filters through the real parser, pipeline and evaluator: what fails a query and what does not. */

const streams: MemStream[] = [
  {
    labels: { app: 'api' },
    entries: [
      { ts: sec(1), line: 'status=200 took=150ms size=1KB peer="client 10.0.0.7:80"' },
      { ts: sec(2), line: 'status=503 took=2s size=20MB peer="client 192.168.1.9:443"' },
      { ts: sec(3), line: 'status=404 took=5x size=big peer="no address"' },
      { ts: sec(4), line: 'status=abc took=25h size=3MB peer=10.1.2.3' },
      { ts: sec(5), line: 'msg="no fields at all"' },
    ],
  },
];

function query(q: string, p: Partial<QueryParams> = {}): Promise<QueryResult> {
  const params: QueryParams = { start: sec(0), end: sec(10), step: 10_000_000_000n, direction: 'forward', limit: 100, instant: false, ...p };
  return evaluate(parseExpr(q), params, new MemorySource(streams, 2));
}
const instant = (q: string) => query(q, { start: sec(10), end: sec(10), step: 0n, instant: true });
const count = async (filters: string) => vectorOf(await instant(`sum(count_over_time({app="api"} | logfmt ${filters} [10s]))`));

/** Each kept line's timestamp (seconds) with its __error__ / __error_details__ from a log query. */
async function kept(filters: string): Promise<[number, string | undefined, string | undefined][]> {
  const r = await query(`{app="api"} | logfmt ${filters}`);
  if (r.type !== 'streams') throw new Error(`expected streams, got ${r.type}`);
  const out: [number, string | undefined, string | undefined][] = [];
  for (const s of r.streams) for (const e of s.entries) out.push([Number((e.ts - sec(0)) / 1_000_000_000n), s.labels.__error__, s.labels.__error_details__]);
  return out.sort((a, b) => a[0] - b[0]);
}

describe('a value that cannot convert fails a metric query', () => {
  it('for durations, numbers and sizes, naming LabelFilterErr', async () => {
    for (const f of ['| took > 1s', '| status >= 400', '| size > 1MB']) {
      const q = instant(`sum(count_over_time({app="api"} | logfmt ${f} [10s]))`);
      await expect(q, f).rejects.toThrow(PipelineError);
      await expect(instant(`sum(count_over_time({app="api"} | logfmt ${f} [10s]))`), f).rejects.toThrow(/pipeline error: 'LabelFilterErr'/);
    }
  });

  it('unless | __error__="" or | __error__!="LabelFilterErr" drops it', async () => {
    // took: 150ms, 2s, 5x (error), 25h; the line without took is dropped silently.
    expect(await count('| took > 1s | __error__=""')).toEqual([['{}', 2]]);
    expect(await count('| took > 1s | __error__!="LabelFilterErr"')).toEqual([['{}', 2]]);
    // status: 200, 503, 404, abc (error).
    expect(await count('| status >= 400 | __error__=""')).toEqual([['{}', 2]]);
    // size: 1KB, 20MB, big (error), 3MB.
    expect(await count('| size > 1MB | __error__=""')).toEqual([['{}', 2]]);
  });

  it('a filter for another error kind does not rescue it', async () => {
    await expect(instant('sum(count_over_time({app="api"} | logfmt | took > 1s | __error__!="JSONParserErr" [10s]))')).rejects.toThrow(/LabelFilterErr/);
  });

  it('lines without the label are dropped, never an error', async () => {
    expect(await count('| took > 0s | __error__=""')).toEqual([['{}', 3]]);
    expect(await count('| missing > 1s')).toEqual([]);
    expect(await count('| missing != 1')).toEqual([]);
  });

  it('a line skipped by an earlier comparison never fails the query', async () => {
    // Alone, took > 1s fails on the 5x line; after a filter that skips that line, it never sees it.
    await expect(count('| took > 1s')).rejects.toThrow(/LabelFilterErr/);
    for (const first of ['status="503"', 'peer = ip("192.168.0.0/16")', 'status =~ "5.."']) {
      expect(await count(`| ${first} | took > 1s`), first).toEqual([['{}', 1]]);
      expect(await count(`| ${first} and took > 1s`), first).toEqual([['{}', 1]]);
      expect(await count(`| ${first} , took > 1s`), first).toEqual([['{}', 1]]);
      expect(await count(`| ${first} took > 1s`), first).toEqual([['{}', 1]]);
    }
    // A comparison that cannot convert keeps its line (marked), so it skips nothing: status=abc reaches took and fails.
    await expect(count('| status >= 500 | took > 1s')).rejects.toThrow(/parsing \\"abc\\"/);
    // The or's left operand is true for every line carrying a peer address in 10/8 or 192.168/16, so took is not read there.
    expect(await count('| peer = ip("10.0.0.0/8") or peer = ip("192.168.0.0/16") or took > 1h | __error__=""')).toEqual([['{}', 3]]);
    await expect(instant('sum(count_over_time({app="api"} | logfmt | peer = ip("10.0.0.0/8") or took > 1h [10s]))')).rejects.toThrow(/LabelFilterErr/);
  });
});

describe('a log query shows the error on the lines it keeps', () => {
  it('with Go\'s wording in __error_details__', async () => {
    expect(await kept('| took > 1s')).toEqual([
      [2, undefined, undefined],
      [3, 'LabelFilterErr', 'time: unknown unit "x" in duration "5x"'],
      [4, undefined, undefined],
    ]);
    expect((await kept('| status > 500')).filter((k) => k[1])).toEqual([[4, 'LabelFilterErr', 'strconv.ParseFloat: parsing "abc": invalid syntax']]);
    expect((await kept('| size < 1KiB')).filter((k) => k[1])).toEqual([[3, 'LabelFilterErr', 'strconv.ParseFloat: parsing "": invalid syntax']]);
  });

  it('the first failing filter owns the details', async () => {
    // Line 3: took=5x fails first; size=big fails too but leaves the details alone.
    expect((await kept('| took > 1s and size > 1KB')).filter((k) => k[0] === 3)).toEqual([[3, 'LabelFilterErr', 'time: unknown unit "x" in duration "5x"']]);
    expect((await kept('| size > 1KB | took > 1s')).filter((k) => k[0] === 3)).toEqual([[3, 'LabelFilterErr', 'strconv.ParseFloat: parsing "": invalid syntax']]);
  });
});

describe('duration literals', () => {
  it('accept d, w and y in the query while values follow Go (no d)', async () => {
    // took=25h is over a day; 1d as a value would be an error, as a literal it is 24h.
    expect(await count('| took > 1d | __error__=""')).toEqual([['{}', 1]]);
    expect(await count('| took > 1d12h | __error__=""')).toEqual([]);
    expect(await count('| took < 1w | __error__=""')).toEqual([['{}', 3]]);
    expect(await count('| took < 1y | __error__=""')).toEqual([['{}', 3]]);
  });
});

describe('ip() label filters in queries', () => {
  it('read an address inside a longer value', async () => {
    expect((await kept('| peer = ip("10.0.0.0/8")')).map((k) => k[0])).toEqual([1, 4]);
    expect((await kept('| peer != ip("10.0.0.0/8")')).map((k) => k[0])).toEqual([2, 3]);
    expect((await kept('| peer = ip("192.168.1.1-192.168.1.9")')).map((k) => k[0])).toEqual([2]);
  });

  it('keep lines that already carry an error', async () => {
    // Line 4 fails `status > 0` (abc) and is then kept by ip() even though 10.1.2.3 is outside 192.168/16.
    const r = await kept('| status > 0 | peer = ip("192.168.0.0/16")');
    expect(r).toEqual([
      [2, undefined, undefined],
      [4, 'LabelFilterErr', 'strconv.ParseFloat: parsing "abc": invalid syntax'],
    ]);
  });

  it('in a metric query, grouped by the matched label', async () => {
    const r = vectorOf(await instant('sum by (peer) (count_over_time({app="api"} | logfmt | peer = ip("10.0.0.0/8") [10s]))'));
    expect(r).toEqual([
      ['{peer="10.1.2.3"}', 1],
      ['{peer="client 10.0.0.7:80"}', 1],
    ]);
  });
});

describe('parse errors carry Loki\'s phrases', () => {
  const parseFails = (q: string) => {
    try {
      parseExpr(q);
    } catch (e) {
      expect(e).toBeInstanceOf(ParseError);
      return (e as ParseError).message;
    }
    throw new Error(`parsed: ${q}`);
  };

  it('ip() takes only = and !=', () => {
    for (const op of ['==', '>', '>=', '<', '<=']) {
      const msg = parseFails(`{app="api"} | peer ${op} ip("10.0.0.0/8")`);
      expect(msg, op).toContain('syntax error: unexpected ip');
      // The caret sits on `ip`.
      expect(msg, op).toContain(`col ${21 + op.length}:`);
      expect(msg).toContain('peer = ip("10.0.0.0/8")');
    }
  });

  it('a regex operator before ip() is refused the same way', () => {
    expect(parseFails('{app="api"} | peer =~ ip("10.0.0.0/8")')).toContain('col 23: syntax error: unexpected ip, expecting STRING');
    expect(parseFails('{app="api"} | peer !~ ip("10.0.0.0/8")')).toContain('syntax error: unexpected ip, expecting STRING');
  });

  it('an invalid pattern is `ip: invalid pattern`, with what was wrong', () => {
    expect(parseFails('{app="api"} | peer = ip("10.0.0.0/33")')).toMatch(/col 25: ip: invalid pattern: "10\.0\.0\.0\/33": invalid prefix length "33"/);
    expect(parseFails('{app="api"} | peer != ip("300.1.1.1")')).toContain('ip: invalid pattern: "300.1.1.1"');
    expect(parseFails('{app="api"} | peer = ip("10.0.0.9-10.0.0.1")')).toContain('ip: invalid pattern: "10.0.0.9-10.0.0.1"');
    // Loki reads the pattern exactly: spaces around the dash make it invalid.
    expect(parseFails('{app="api"} | peer = ip("10.0.0.1 - 10.0.0.9")')).toContain('ip: invalid pattern: "10.0.0.1 - 10.0.0.9"');
    expect(parseFails('{app="api"} | peer = ip(" 10.0.0.1")')).toContain('ip: invalid pattern: " 10.0.0.1": the pattern is read exactly, without spaces');
  });

  it('strings take only =, !=, =~ and !~', () => {
    for (const op of ['==', '>', '>=', '<', '<=']) {
      const msg = parseFails(`{app="api"} | level ${op} "error"`);
      expect(msg, op).toContain('syntax error: unexpected STRING');
      expect(msg, op).toContain('level="…"');
    }
  });

  it('== still compares numbers, durations and sizes', () => {
    expect(() => parseExpr('{app="api"} | status == 200')).not.toThrow();
    expect(() => parseExpr('{app="api"} | took == 5ms')).not.toThrow();
    expect(() => parseExpr('{app="api"} | size == 1KB')).not.toThrow();
  });
});
