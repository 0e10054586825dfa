import { gzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { formatRFC3339Nano } from '../../src/model/time.js';
import { nowNs, pushJson } from '../helpers/push.js';
import { suiteServer } from '../helpers/server.js';

const server = suiteServer();

// Ingest may add service_name (Loki 3's discovery): these tests are about the legacy shapes, not about it.
const notDiscovered = (name: string) => name !== 'service_name';
function labelsWithoutDiscovered(text: string): string {
  return text.replace(/, service_name="[^"]*"/, '');
}
function withoutDiscovered(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => notDiscovered(k)));
}

// Two entries a minute apart with nanosecond digits, so RFC3339Nano round trips are visible.
const T1 = (nowNs(-120_000) / 1_000_000_000n) * 1_000_000_000n + 123_456_789n;
const T2 = T1 + 60_000_000_000n + 5n;

function legacyBody(streams: { labels: string; entries: { ts: string; line: string }[] }[]): string {
  return JSON.stringify({ streams });
}

async function legacyPush(body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(`${server().url}/api/prom/push`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, body: await res.text() };
}

function range(): string {
  return `start=${T1 - 1_000_000_000n}&end=${T2 + 1_000_000_000n}`;
}

async function getJson(path: string): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(`${server().url}${path}`);
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // plain-text error
  }
  return { status: res.status, json, text };
}

describe('legacy push then legacy query', () => {
  it('a legacy JSON push reads back through /api/prom/query in the legacy shape', async () => {
    // One entry with a zone offset: 2 h ahead of UTC, so the same instant as T2 in UTC.
    const t2Local = formatRFC3339Nano(T2 + 2n * 3_600_000_000_000n).replace('Z', '+02:00');
    const pushed = await legacyPush(
      legacyBody([
        { labels: '{app="legacy", env="prod"}', entries: [{ ts: formatRFC3339Nano(T1), line: 'first GET /a' }, { ts: t2Local, line: 'second POST /b' }] },
        { labels: '{app="legacy", env="dev"}', entries: [{ ts: formatRFC3339Nano(T1), line: 'dev GET /c' }] },
      ]),
    );
    expect(pushed).toEqual({ status: 204, body: '' });

    const q = encodeURIComponent('{app="legacy", env="prod"}');
    const got = await getJson(`/api/prom/query?query=${q}&${range()}&direction=forward&limit=10`);
    expect(got.status, got.text).toBe(200);
    const body = got.json as { streams: { labels: string }[]; stats: { summary: Record<string, number> } };
    expect(Object.keys(body).sort()).toEqual(['stats', 'streams']);
    expect(body.streams.map((s) => ({ ...s, labels: labelsWithoutDiscovered(s.labels) }))).toEqual([
      {
        labels: '{app="legacy", env="prod"}',
        entries: [
          { ts: formatRFC3339Nano(T1), line: 'first GET /a' },
          { ts: formatRFC3339Nano(T2), line: 'second POST /b' },
        ],
      },
    ]);
    expect(formatRFC3339Nano(T1)).toMatch(/\.123456789Z$/);
    expect(body.stats.summary.totalEntriesReturned).toBe(2);

    // Default direction is backward; limit applies.
    const back = (await getJson(`/api/prom/query?query=${q}&${range()}&limit=1`)).json as { streams: { entries: { line: string }[] }[] };
    expect(back.streams[0]!.entries).toEqual([{ ts: formatRFC3339Nano(T2), line: 'second POST /b' }]);
  });

  it('regexp adds a line filter; a metric query is refused as in Loki', async () => {
    const q = encodeURIComponent('{app="legacy"}');
    const got = (await getJson(`/api/prom/query?query=${q}&${range()}&regexp=${encodeURIComponent('GET /[ac]')}&direction=forward`)).json as { streams: { labels: string; entries: { line: string }[] }[] };
    expect(got.streams.map((s) => [labelsWithoutDiscovered(s.labels), s.entries.map((e) => e.line)]).sort()).toEqual([
      ['{app="legacy", env="dev"}', ['dev GET /c']],
      ['{app="legacy", env="prod"}', ['first GET /a']],
    ]);
    const metric = await getJson(`/api/prom/query?query=${encodeURIComponent('count_over_time({app="legacy"}[1m])')}&${range()}`);
    expect(metric.status).toBe(400);
    expect(metric.text).toBe('legacy endpoints only support streams result type\n');
    const bad = await getJson(`/api/prom/query?query=${encodeURIComponent('{app="legacy"')}`);
    expect(bad.status).toBe(400);
  });

  it('/api/prom/label and /api/prom/label/<name>/values answer {"values":[…]}', async () => {
    const names = (await getJson(`/api/prom/label?${range()}`)).json as { values: string[] };
    expect(Object.keys(names)).toEqual(['values']);
    expect(names.values.filter(notDiscovered)).toEqual(['app', 'env']);
    expect((await getJson(`/api/prom/label/env/values?${range()}`)).json).toEqual({ values: ['dev', 'prod'] });
    expect((await getJson(`/api/prom/label/nope/values?${range()}`)).json).toEqual({ values: [] });
  });

  it('/api/prom/series answers the v1 shape', async () => {
    const got = await getJson(`/api/prom/series?match[]=${encodeURIComponent('{env="dev"}')}&${range()}`);
    const body = got.json as { status: string; data: Record<string, string>[] };
    expect(body.status).toBe('success');
    expect(body.data.map(withoutDiscovered)).toEqual([{ app: 'legacy', env: 'dev' }]);
  });

  it('the legacy route takes the v1 protobuf body and gzip-encoded legacy JSON', async () => {
    const proto = await fetch(`${server().url}/api/prom/push`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: await protoBody('{app="legacy-pb"}', T1, 'from protobuf') });
    expect(proto.status).toBe(204);
    const gz = await legacyPush(gzipSync(legacyBody([{ labels: '{app="legacy-gz"}', entries: [{ ts: formatRFC3339Nano(T1), line: 'from gzip' }] }])), { 'content-encoding': 'gzip' });
    expect(gz.status).toBe(204);
    for (const [app, line] of [['legacy-pb', 'from protobuf'], ['legacy-gz', 'from gzip']]) {
      const got = (await getJson(`/loki/api/v1/query_range?query=${encodeURIComponent(`{app="${app}"}`)}&${range()}`)).json as { data: { result: { values: string[][] }[] } };
      expect(got.data.result[0]!.values.map((v) => v.slice(0, 2))).toEqual([[T1.toString(), line]]);
    }
  });

  it('takes structured metadata as name/value pairs', async () => {
    const body = JSON.stringify({ streams: [{ labels: '{app="legacy-md"}', entries: [{ ts: formatRFC3339Nano(T1), line: 'with md', structuredMetadata: [{ name: 'trace_id', value: 't-1' }] }] }] });
    expect(await legacyPush(body)).toEqual({ status: 204, body: '' });
    const got = (await getJson(`/loki/api/v1/query_range?query=${encodeURIComponent('{app="legacy-md"} | trace_id="t-1"')}&${range()}`)).json as { data: { result: { values: unknown[][] }[] } };
    expect(got.data.result[0]!.values.map((v) => v.slice(0, 2))).toEqual([[T1.toString(), 'with md']]);
    const bad = await legacyPush(JSON.stringify({ streams: [{ labels: '{app="legacy-md"}', entries: [{ ts: formatRFC3339Nano(T1), line: 'x', structuredMetadata: { trace_id: 't' } }] }] }));
    expect(bad).toEqual({ status: 400, body: 'streams[0].entries[0].structuredMetadata must be an array of {"name": "…", "value": "…"}, got object\n' });
  });

  it('refuses a malformed legacy body with the field at fault, and stores nothing of it', async () => {
    const cases: [string, string][] = [
      ['{"streams":{}}', '"streams" must be an array, got object\n'],
      ['{"streams":[{"stream":{"app":"x"},"values":[["1","l"]]}]}', 'streams[0].labels must be a string such as "{app=\\"x\\"}", got undefined\n'],
      [legacyBody([{ labels: '{app="bad"}', entries: [{ ts: 'yesterday', line: 'x' }] }]), 'streams[0].entries[0].ts must be an RFC3339 timestamp like "2024-01-02T15:04:05.123456789Z", got "yesterday"\n'],
      ['{"streams":[{"labels":"{app=\\"bad\\"}","entries":[{"ts":"2024-01-02T15:04:05Z","line":5}]}]}', 'streams[0].entries[0].line must be a string, got number\n'],
      ['{"streams":[{"labels":"{app=\\"bad\\"}","entries":[{"ts":1,"line":"x"}]}]}', 'streams[0].entries[0].ts must be an RFC3339 timestamp string like "2024-01-02T15:04:05.123456789Z", got 1\n'],
      ['{"streams":[', ''],
    ];
    for (const [body, message] of cases) {
      const res = await legacyPush(body);
      expect(res.status, body).toBe(400);
      if (message) expect(res.body, body).toBe(message);
      else expect(res.body).toMatch(/^invalid JSON body: /);
    }
    const badLabels = await legacyPush(legacyBody([{ labels: 'app=bad', entries: [{ ts: formatRFC3339Nano(T1), line: 'x' }] }]));
    expect(badLabels.status).toBe(400);
    expect((await getJson(`/api/prom/label/app/values?${range()}`)).json).toEqual({ values: ['legacy', 'legacy-gz', 'legacy-md', 'legacy-pb'] });
  });

  it('the v1 push route still refuses the legacy body shape', async () => {
    const res = await pushJson(server().url, legacyBody([{ labels: '{app="v1"}', entries: [{ ts: formatRFC3339Nano(T1), line: 'x' }] }]));
    expect(res.status).toBe(400);
  });
});

describe('legacy tail', () => {
  it('/api/prom/tail sends legacy frames and takes regexp', async () => {
    const url = `${server().url.replace('http', 'ws')}/api/prom/tail?query=${encodeURIComponent('{app="legacy", env="prod"}')}&regexp=${encodeURIComponent('POST')}&start=${T1 - 1_000_000_000n}`;
    const ws = new WebSocket(url);
    try {
      const frame = await new Promise<string>((resolve, reject) => {
        ws.once('message', (d) => resolve(d.toString()));
        ws.once('error', reject);
        ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
      });
      const parsed = JSON.parse(frame) as { streams: { labels: string; entries: unknown[] }[]; dropped_entries: unknown };
      expect(parsed.dropped_entries).toBeNull();
      expect(parsed.streams.map((st) => ({ ...st, labels: labelsWithoutDiscovered(st.labels) }))).toEqual([{ labels: '{app="legacy", env="prod"}', entries: [{ ts: formatRFC3339Nano(T2), line: 'second POST /b' }] }]);
    } finally {
      ws.close();
    }
  });

  it('a bad legacy tail query is an HTTP 400 before the upgrade', async () => {
    const res = await fetch(`${server().url}/api/prom/tail?query=${encodeURIComponent('{app="legacy"}')}&regexp=${encodeURIComponent('(')}`);
    expect(res.status).toBe(400);
  });
});

describe('series with match[]={}', () => {
  it('returns every stream in range, as Loki does; {x=~".*"} too; a query still needs a selective matcher', async () => {
    const all = (await getJson(`/loki/api/v1/series?match[]=${encodeURIComponent('{}')}&${range()}`)).json as { data: Record<string, string>[] };
    expect(all.data.map((l) => l.app).sort()).toEqual(['legacy', 'legacy', 'legacy-gz', 'legacy-md', 'legacy-pb']);
    const anyEnv = (await getJson(`/loki/api/v1/series?match[]=${encodeURIComponent('{env=~".*"}')}&${range()}`)).json as { data: unknown[] };
    expect(anyEnv.data).toHaveLength(5);
    const q = await getJson(`/loki/api/v1/query_range?query=${encodeURIComponent('{}')}&${range()}`);
    expect(q.status).toBe(400);
  });
});

async function protoBody(labels: string, ts: bigint, line: string): Promise<Buffer> {
  const snappy = (await import('snappyjs')).default;
  const { encodePushRequest } = await import('../../src/model/push-proto.js');
  return Buffer.from(snappy.compress(Buffer.from(encodePushRequest([{ labels, entries: [{ ts, line }] }]))));
}
