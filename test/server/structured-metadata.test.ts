import { describe, expect, it } from 'vitest';
import { jsonBody, nowNs, pushJson } from '../helpers/push.js';
import { startServer, serverSlot } from '../helpers/server.js';

/**
 * Structured metadata through a real server: pushed over the JSON API as `[ts, line, {k: v}]`, it is part
 * of an entry's identity (same time and line with other metadata is another entry, an exact resend is
 * dropped, also across kill -9, a flush and WAL replay) and of its label set (filters and grouping on it
 * without a parser).
 */

const slot = serverSlot();

type Value = [string, string] | [string, string, Record<string, string>];

interface StreamOut {
  stream: Record<string, string>;
  values: [string, string][];
}

async function logQuery(url: string, query: string): Promise<StreamOut[]> {
  const qs = new URLSearchParams({ query, start: String(nowNs(-3_600_000)), end: String(nowNs(60_000)), limit: '1000', direction: 'forward' });
  const res = await fetch(`${url}/loki/api/v1/query_range?${qs}`);
  const text = await res.text();
  expect(res.status, `${query}: ${text}`).toBe(200);
  return (JSON.parse(text) as { data: { result: StreamOut[] } }).data.result;
}

/** Every entry as `offset|line|metadata`, sorted: the metadata is what the result stream adds to the pushed labels. */
async function entries(url: string, query: string, base: bigint): Promise<string[]> {
  const out: string[] = [];
  for (const s of await logQuery(url, query)) {
    const meta = Object.entries(s.stream)
      .filter(([k]) => k !== 'app')
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    for (const [ts, line] of s.values) out.push(`${BigInt(ts) - base}|${line}|${meta}`);
  }
  return out.sort();
}

async function instant(url: string, query: string): Promise<Record<string, string>> {
  const res = await fetch(`${url}/loki/api/v1/query?${new URLSearchParams({ query, time: String(nowNs(1_000)) })}`);
  const text = await res.text();
  expect(res.status, `${query}: ${text}`).toBe(200);
  const out: Record<string, string> = {};
  for (const r of (JSON.parse(text) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result) out[JSON.stringify(r.metric)] = r.value[1];
  return out;
}

async function push(url: string, values: Value[]): Promise<void> {
  const r = await pushJson(url, jsonBody([{ stream: { app: 'meta' }, values }]));
  expect(r.status, r.body).toBe(204);
}

describe('structured metadata through the HTTP API', () => {
  it('keeps entries differing only in metadata, drops exact resends across a flush and kill -9, and filters and groups on metadata alone', async () => {
    const dataDir = slot.dir();
    slot.server = await startServer({ dataDir });
    const url = slot.server.url;
    const base = nowNs(-120_000);
    const at = (k: number) => String(base + BigInt(k));
    const first: Value[] = [
      [at(1), 'same line', { trace_id: 'a' }],
      [at(1), 'same line', { trace_id: 'b' }],
      [at(1), 'same line'],
      [at(1), 'same line', { trace_id: 'a' }], // an exact repeat inside the push
      [at(2), 'slow call', { trace_id: 'a', took: '2.5s' }],
      [at(3), 'fast call', { took: '40ms', trace_id: 'b' }],
    ];
    const want = ['1|same line|', '1|same line|trace_id=a', '1|same line|trace_id=b', '2|slow call|took=2.5s,trace_id=a', '3|fast call|took=40ms,trace_id=b'];
    await push(url, first);
    expect(await entries(url, '{app="meta"}', base)).toEqual(want);

    // A resend (the client lost the answer), with the keys in another order: every entry a duplicate.
    await push(url, [
      [at(2), 'slow call', { took: '2.5s', trace_id: 'a' }],
      [at(1), 'same line', { trace_id: 'b' }],
      [at(1), 'same line'],
    ]);
    expect(await entries(url, '{app="meta"}', base)).toEqual(want);

    // Part of it reaches a chunk; the WAL still holds it. Then one more variant, and kill -9.
    expect((await fetch(`${url}/flush`, { method: 'POST' })).status).toBe(204);
    await push(url, [...first, [at(1), 'same line', { trace_id: 'c' }]]);
    const withC = [...want, '1|same line|trace_id=c'].sort();
    expect(await entries(url, '{app="meta"}', base)).toEqual(withC);
    await slot.server.kill();

    slot.server = await startServer({ dataDir });
    const again = slot.server.url;
    // Replayed memory and the flushed chunk hold the same entries: the query merge drops the copies only.
    expect(await entries(again, '{app="meta"}', base)).toEqual(withC);
    // The client resends everything after the crash.
    await push(again, [...first, [at(1), 'same line', { trace_id: 'c' }]]);
    expect(await entries(again, '{app="meta"}', base)).toEqual(withC);

    // Metadata keys are labels without a parser.
    expect(await entries(again, '{app="meta"} | took > 1s', base)).toEqual(['2|slow call|took=2.5s,trace_id=a']);
    expect(await entries(again, '{app="meta"} | trace_id="b"', base)).toEqual(['1|same line|trace_id=b', '3|fast call|took=40ms,trace_id=b']);
    expect(await instant(again, 'sum by (trace_id) (count_over_time({app="meta"}[1h]))')).toEqual({ '{}': '1', '{"trace_id":"a"}': '2', '{"trace_id":"b"}': '2', '{"trace_id":"c"}': '1' });
    // A parsed field of a metadata name lands on <name>_extracted.
    const parsed = await logQuery(again, '{app="meta"} |= "slow" | regexp "(?P<trace_id>slow)"');
    expect(parsed.map((s) => s.stream)).toEqual([{ app: 'meta', took: '2.5s', trace_id: 'a', trace_id_extracted: 'slow' }]);
  }, 90_000);
});
