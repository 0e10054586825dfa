/**
 * Every client mistake from issue #10 sent to a real server: each is a 400 whose message names what was wrong
 * (the limit and its value, or the allowed range), the server keeps answering `/ready`, and nothing refused is
 * stored. Input right at each limit still runs to a 200, so the limits cannot be met by refusing everything.
 */
import { describe, expect, it } from 'vitest';
import { rawProtoPush } from '../helpers/push-fuzz.js';
import { pushJson } from '../helpers/push.js';
import { suiteServer } from '../helpers/server.js';

// reject_old_samples off: out-of-range timestamps used to be stored (wrapped) when nothing looked at their age.
const server = suiteServer({ args: ['--limits.reject-old-samples', 'false'] });

const NOW_NS = BigInt(Date.now()) * 1_000_000n;
const SEL = '{app="mistakes"}';
const RANGE = `count_over_time(${SEL}[5m])`;

async function ask(path: string, params: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(`${server().url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, text: await res.text() };
}

async function expectReady(): Promise<void> {
  const r = await fetch(`${server().url}/ready`, { signal: AbortSignal.timeout(5_000) });
  expect(r.status).toBe(200);
  expect(server().proc.exitCode).toBeNull();
}

const nest = (n: number, open: string, inner: string, close: string) => open.repeat(n) + inner + close.repeat(n);

describe('deep input is a 400 naming the limit, before anything can overflow', () => {
  it('seeds a line the queries below can match', async () => {
    const r = await pushJson(server().url, JSON.stringify({ streams: [{ stream: { app: 'mistakes' }, values: [[String(NOW_NS - 1_000_000_000n), 'a=1 {"a":1} aaa']] }] }));
    expect(r.status).toBe(204);
  });

  const tooDeep: [string, string, Record<string, string>, string][] = [
    ['10 000 nested parentheses', '/loki/api/v1/query', { query: nest(10_000, '(', RANGE, ')') }, 'query nests too deeply: more than 1000 levels'],
    ['10 000 chained and label filters', '/loki/api/v1/query_range', { query: `${SEL} | a="1"` + ' and a="1"'.repeat(10_000) }, 'query nests too deeply: more than 1000 levels'],
    ['10 000 nested label filter parentheses', '/loki/api/v1/query_range', { query: `${SEL} | ` + nest(10_000, '(', 'a="1"', ')') }, 'query nests too deeply: more than 1000 levels'],
    ['1+1+… 100 000 long', '/loki/api/v1/query', { query: '1' + '+1'.repeat(100_000) }, 'query nests too deeply: more than 1000 levels'],
    ['a selector regex with 2 000 nested groups', '/loki/api/v1/query_range', { query: `{app=~"${nest(2000, '(', 'mistakes', ')')}"}` }, 'expression nests too deeply: more than 1000 nested groups'],
    ['a line filter regex with 10 000 nested groups', '/loki/api/v1/query_range', { query: `${SEL} |~ "${nest(10_000, '(', 'a', ')')}"` }, 'expression nests too deeply: more than 1000 nested groups'],
    ['a regexp stage with 5 000 nested groups', '/loki/api/v1/query_range', { query: `${SEL} | regexp "${nest(5000, '(', '(?P<x>a)', ')')}"` }, 'expression nests too deeply: more than 1000 nested groups'],
    ['a series selector regex with 5 000 nested groups', '/loki/api/v1/series', { 'match[]': `{app=~"${nest(5000, '(?:', 'mistakes', ')')}"}` }, 'expression nests too deeply: more than 1000 nested groups'],
    ['line_format with {{if}} nested 5 000 deep', '/loki/api/v1/query_range', { query: `${SEL} | line_format "${nest(5000, '{{if true}}', 'x', '{{end}}')}"` }, 'template nests too deeply: more than 1000 levels'],
    ['label_format with a pipeline nested 5 000 deep', '/loki/api/v1/query_range', { query: `${SEL} | label_format x="{{${nest(5000, '(', '.app', ')')}}}"` }, 'template nests too deeply: more than 1000 levels'],
  ];
  for (const [what, path, params, message] of tooDeep) {
    it(what, async () => {
      const r = await ask(path, params);
      expect(r.status, r.text.slice(0, 300)).toBe(400);
      expect(r.text).toContain(message);
      expect(r.text.length).toBeLessThan(1000); // the reply quotes the input short
      await expectReady();
    });
  }

  it('input right at every limit runs', async () => {
    const atLimit: [string, Record<string, string>][] = [
      ['/loki/api/v1/query', { query: nest(999, '(', RANGE, ')') }],
      ['/loki/api/v1/query', { query: RANGE + ' + 1'.repeat(999) }],
      ['/loki/api/v1/query', { query: nest(998, 'sum(', RANGE, ')') }],
      ['/loki/api/v1/query_range', { query: `${SEL} | logfmt | a="1"` + ' and a="1"'.repeat(999) }],
      ['/loki/api/v1/query_range', { query: `{app=~"${nest(1000, '(', 'mistakes', ')')}"} |~ "${nest(1000, '(?:', 'a', ')')}"` }],
      ['/loki/api/v1/query_range', { query: `${SEL} | line_format "${nest(1000, '{{if true}}', 'x', '{{end}}')}" | label_format y="{{${nest(1000, '(lower ', '.app', ')')}}}"` }],
    ];
    for (const [path, params] of atLimit) {
      const r = await ask(path, params);
      expect(r.status, `${params['query']!.slice(0, 60)}: ${r.text.slice(0, 200)}`).toBe(200);
      // It ran over the seeded line, not just parsed.
      expect(JSON.parse(r.text).data.result.length, params['query']!.slice(0, 60)).toBeGreaterThan(0);
    }
  });

  it('deep JSON in a push body is a 400, and a 100 000-deep line is a JSONParserErr for | json, not a crash', async () => {
    const body = '{"streams":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}';
    const bad = await pushJson(server().url, body);
    expect(bad.status).toBe(400);
    const deep = '{"a":'.repeat(40_000) + '1' + '}'.repeat(40_000);
    const ok = await pushJson(server().url, JSON.stringify({ streams: [{ stream: { app: 'deepjson' }, values: [[String(NOW_NS), deep], [String(NOW_NS + 1n), '['.repeat(100_000)]] }] }));
    expect(ok.status).toBe(204);
    const r = await ask('/loki/api/v1/query_range', { query: '{app="deepjson"} | json' });
    expect(r.status, r.text.slice(0, 200)).toBe(200);
    expect(r.text).toContain('JSON nests deeper than 512 levels');
    await expectReady();
  });
});

describe('other client mistakes that were 500s', () => {
  const bad: [string, string, Record<string, string>, string | RegExp][] = [
    ['an unclosed line_format template', '/loki/api/v1/query_range', { query: `${SEL} | line_format "{{.foo"` }, 'invalid line_format template "{{.foo": template: 1:1: unclosed action'],
    ['an unknown template function', '/loki/api/v1/query_range', { query: `${SEL} | line_format "{{ nosuch }}"` }, 'function "nosuch" not defined'],
    ['a stray {{end}} in label_format', '/loki/api/v1/query_range', { query: `${SEL} | label_format x="{{end}}"` }, 'invalid label_format x template "{{end}}"'],
    ['end=1e30', '/loki/api/v1/query_range', { query: SEL, end: '1e30' }, 'invalid parameter "end"'],
    ['an end past int64 nanoseconds', '/loki/api/v1/query_range', { query: SEL, end: '99999999999999999999' }, 'must lie between 1677-09-21T00:12:43Z and 2262-04-11T23:47:16Z'],
    ['a time in year 9999', '/loki/api/v1/query', { query: RANGE, time: '9999-12-31T23:59:59Z' }, 'is out of range'],
    ['step=1e-9', '/loki/api/v1/query_range', { query: RANGE, step: '1e-9' }, 'invalid parameter "step"'],
    ['step of 0.1 ns', '/loki/api/v1/query_range', { query: RANGE, step: '0.0000000001' }, 'zero or negative query resolution step'],
    ['since=100000000h', '/loki/api/v1/query_range', { query: SEL, since: '100000000h' }, 'invalid parameter "since": invalid duration "100000000h": out of range, durations are limited to ±2562047h'],
    ['series since=100000000h', '/loki/api/v1/series', { 'match[]': SEL, since: '100000000h' }, 'out of range'],
    ['offset 100000000h', '/loki/api/v1/query', { query: `count_over_time(${SEL}[1m] offset 100000000h)` }, 'invalid duration "100000000h": out of range'],
    ['a range of 400 digits with a fraction', '/loki/api/v1/query', { query: `count_over_time(${SEL}[${'1'.repeat(400)}.5s])` }, 'out of range'],
    ['a step of 400 digits', '/loki/api/v1/query_range', { query: RANGE, step: '9'.repeat(400) }, 'out of range'],
    ['a range of 100000000h', '/loki/api/v1/query', { query: `count_over_time(${SEL}[100000000h])` }, 'out of range'],
    ['a regex only the engine refused', '/loki/api/v1/query_range', { query: `{app=~"\\\\C"}` }, 'not supported'],
    ['a json path that cannot parse', '/loki/api/v1/query_range', { query: `${SEL} | json x="[[["` }, 'invalid json expression "[[["'],
  ];
  for (const [what, path, params, message] of bad) {
    it(what, async () => {
      const r = await ask(path, params);
      expect(r.status, r.text).toBe(400);
      expect(r.text).toMatch(message);
    });
  }

  it('time bounds at the very ends of int64 with a range and offset reaching past them answer, not fail', async () => {
    const min = '-9223372036854775808';
    const max = '9223372036854775807';
    for (const [path, params] of [
      ['/loki/api/v1/query', { query: `count_over_time(${SEL}[1h] offset 2562047h)`, time: min }],
      ['/loki/api/v1/query', { query: RANGE, time: max }],
      ['/loki/api/v1/query_range', { query: `rate(${SEL}[1m] offset 1h)`, start: min, end: min, step: '1' }],
      ['/loki/api/v1/series', { 'match[]': SEL, start: min, end: max }],
      ['/loki/api/v1/index/stats', { query: SEL, end: min }],
      ['/loki/api/v1/index/volume', { query: SEL, start: min, end: min }],
      ['/loki/api/v1/labels', { end: min }],
      ['/loki/api/v1/query', { query: RANGE, time: '-99999999999999999' }],
    ] as [string, Record<string, string>][]) {
      const r = await ask(path, params);
      expect(r.status, `${path} ${JSON.stringify(params)}: ${r.text}`).toBeLessThan(500);
    }
    await expectReady();
  });
});

describe('push timestamps outside int64 nanoseconds', () => {
  const seconds: [string, bigint][] = [
    ['-9.3e9 s (below 1677)', -9_300_000_000n],
    ['the most negative int64 seconds', -(2n ** 63n)],
    ['the largest int64 seconds', 2n ** 63n - 1n],
    ['9.3e9 s (after 2262)', 9_300_000_000n],
  ];
  for (const [what, secs] of seconds) {
    it(`protobuf at ${what} is a 400 naming the entry, and is not stored`, async () => {
      const app = `ts${secs < 0n ? 'neg' : 'pos'}${String(secs).length}`;
      const body = rawProtoPush([{ labels: `{app="${app}"}`, entries: [{ seconds: secs, line: 'out of range' }, { seconds: NOW_NS / 1_000_000_000n, line: 'fine' }] }]);
      const res = await fetch(`${server().url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      const text = await res.text();
      expect(res.status, text).toBe(400);
      expect(text).toContain(`entry for stream '{app="${app}"}' has timestamp out of range`);
      expect(text).toContain('total ignored: 1 out of 2');
      // Only the good entry was kept.
      const r = await ask('/loki/api/v1/query_range', { query: `{app="${app}"}`, start: String(NOW_NS - 3_600_000_000_000n), end: String(NOW_NS + 1_000_000_000n) });
      expect(JSON.parse(r.text).data.result.flatMap((s: { values: string[][] }) => s.values.map((v) => v[1]))).toEqual(['fine']);
    });
  }

  it('a JSON nanosecond string past int64 is a 400 too', async () => {
    const r = await pushJson(server().url, JSON.stringify({ streams: [{ stream: { app: 'tsjson' }, values: [['9999999999999999999', 'x']] }] }));
    expect(r.status).toBe(400);
    expect(r.body).toContain("entry for stream '{app=\"tsjson\"}' has timestamp out of range: 9999999999999999999 ns");
  });
});
