import { describe, expect, it } from 'vitest';
import { evaluate, type QueryParams } from '../../../query/engine.js';
import { parseExpr } from '../../../query/parser.js';
import type { QueryResult } from '../../../query/result.js';
import { MemorySource, sec, type MemStream } from './memory-source.js';
import { vectorOf } from './helpers.js';

/**
 * Pattern and ip() line filters through the whole engine: log and metric queries, with the engine's shortcuts on
 * (the default) and off, which must agree. (That no block is skipped for lacking an ip() or pattern value as text
 * is checked on blockNeedles itself, in stages/pattern-ip-line-filter.test.ts: this source reads every block.)
 */

const streams: MemStream[] = [
  {
    labels: { app: 'gw' },
    entries: [
      { ts: sec(1), line: '10.1.2.3 GET /a 200' },
      { ts: sec(2), line: '192.168.1.5 POST /b 500' },
      { ts: sec(3), line: 'health check' },
      { ts: sec(4), line: '10.200.0.9 GET /c 404' },
      { ts: sec(5), line: '2001:db8::7 GET /d 200' },
      { ts: sec(6), line: '172.16.0.1 DELETE /e 204' },
    ],
  },
];

function query(q: string, optimize: boolean, p: Partial<QueryParams> = {}): Promise<QueryResult> {
  const params: QueryParams = { start: sec(0), end: sec(10), step: 10_000_000_000n, direction: 'forward', limit: 100, instant: false, ...p };
  return evaluate(parseExpr(q), params, new MemorySource(streams, 2), { optimize } as never);
}

async function lines(q: string): Promise<string[]> {
  const out: string[][] = [];
  for (const optimize of [true, false]) {
    const r = await query(q, optimize);
    if (r.type !== 'streams') throw new Error(`expected streams, got ${r.type}`);
    out.push(r.streams.flatMap((s) => s.entries.map((e) => e.line)));
  }
  expect(out[0]).toEqual(out[1]);
  return out[0]!;
}

const instant = async (q: string) => vectorOf(await query(q, true, { start: sec(10), end: sec(10), step: 0n, instant: true }));

describe('ip() line filters in queries', () => {
  it('|= ip() keeps lines with an address in range, though no block holds the pattern text', async () => {
    expect(await lines('{app="gw"} |= ip("10.0.0.0/8")')).toEqual(['10.1.2.3 GET /a 200', '10.200.0.9 GET /c 404']);
    expect(await lines('{app="gw"} |= ip("2001:db8::/32")')).toEqual(['2001:db8::7 GET /d 200']);
  });

  it('!= ip() keeps the rest, lines without an address included', async () => {
    expect(await lines('{app="gw"} != ip("10.0.0.0/8") != ip("2001:db8::/32")')).toEqual([
      '192.168.1.5 POST /b 500',
      'health check',
      '172.16.0.1 DELETE /e 204',
    ]);
  });

  it('or chains with substrings, in a metric query', async () => {
    expect(await instant('sum(count_over_time({app="gw"} |= ip("172.16.0.0/12") or "POST" [10s]))')).toEqual([['{}', 2]]);
    expect(await instant('sum(count_over_time({app="gw"} != ip("172.16.0.0/12") or "POST" [10s]))')).toEqual([['{}', 4]]);
  });
});

describe('pattern line filters in queries', () => {
  it('|> and !> with or', async () => {
    expect(await lines('{app="gw"} |> "<_> GET <_> 200"')).toEqual(['10.1.2.3 GET /a 200', '2001:db8::7 GET /d 200']);
    expect(await lines('{app="gw"} |> "<_> POST <_>" or "health <_>"')).toEqual(['192.168.1.5 POST /b 500', 'health check']);
    expect(await lines('{app="gw"} !> "<_> GET <_>"')).toEqual(['192.168.1.5 POST /b 500', 'health check', '172.16.0.1 DELETE /e 204']);
  });

  it('combined with a plain filter, which still narrows the blocks', async () => {
    expect(await lines('{app="gw"} |= "GET" !> "<_> 200"')).toEqual(['10.200.0.9 GET /c 404']);
    expect(await instant('sum(count_over_time({app="gw"} |> "<_> <_> /<_>" [10s]))')).toEqual([['{}', 5]]);
  });
});
