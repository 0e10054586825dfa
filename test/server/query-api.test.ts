import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonBody, pushJson } from '../helpers/push.js';
import { removeDir, startServer, type RunningServer } from '../helpers/server.js';

// A fixed dataset a little in the past, on whole minutes, so every expected value can be worked out by hand.
const MIN = 60_000_000_000n;
const SEC = 1_000_000_000n;
const T0 = (BigInt(Date.now()) * 1_000_000n / MIN) * MIN - 30n * MIN;
const sec = (ns: bigint) => Number(ns / 1_000_000n) / 1000;

let server: RunningServer;

async function get(path: string, params: Record<string, string | string[]>, tenant?: string): Promise<{ status: number; json: any; text: string }> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, x);
  const res = await fetch(`${server.url}${path}?${qs}`, { headers: tenant ? { 'x-scope-orgid': tenant } : {} });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // plain-text error
  }
  return { status: res.status, json, text };
}

function withoutStats(data: any): any {
  const { stats: _s, ...rest } = data;
  return rest;
}

beforeAll(async () => {
  server = await startServer({ args: ['--auth-enabled'] });
  // Tenant "acme": two apps; api logs logfmt, web logs JSON. Six entries a minute apart.
  const acme = jsonBody([
    {
      stream: { app: 'api', env: 'prod' },
      values: [
        [String(T0 + 0n * MIN), 'level=info msg="started" duration=12ms status=200'],
        [String(T0 + 1n * MIN), 'level=error msg="db down" duration=1500ms status=500'],
        [String(T0 + 2n * MIN), 'level=info msg="ok" duration=30ms status=200'],
      ],
    },
    {
      stream: { app: 'web', env: 'prod' },
      values: [
        [String(T0 + 0n * MIN + SEC), '{"level":"info","path":"/","bytes":512}'],
        [String(T0 + 1n * MIN + SEC), '{"level":"warn","path":"/cart","bytes":2048}'],
        [String(T0 + 2n * MIN + SEC), '{"level":"error","path":"/pay","bytes":100}'],
      ],
    },
  ]);
  expect((await pushJson(server.url, acme, { tenant: 'acme' })).status).toBe(204);
  // Tenant "other": must never be visible to acme.
  const other = jsonBody([{ stream: { app: 'secret', env: 'prod' }, values: [[String(T0), 'other tenant line with error']] }]);
  expect((await pushJson(server.url, other, { tenant: 'other' })).status).toBe(204);
});

afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

const range = { start: String(T0 - MIN), end: String(T0 + 10n * MIN) };

describe('query_range', () => {
  it('returns log streams newest first by default, in Loki’s JSON shape', async () => {
    const r = await get('/loki/api/v1/query_range', { query: '{app="api"}', ...range, limit: '2' }, 'acme');
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('success');
    expect(withoutStats(r.json.data)).toEqual({
      resultType: 'streams',
      result: [
        {
          stream: { app: 'api', env: 'prod' },
          values: [
            [String(T0 + 2n * MIN), 'level=info msg="ok" duration=30ms status=200'],
            [String(T0 + 1n * MIN), 'level=error msg="db down" duration=1500ms status=500'],
          ],
        },
      ],
    });
    const s = r.json.data.stats.summary;
    for (const k of ['bytesProcessedPerSecond', 'linesProcessedPerSecond', 'totalBytesProcessed', 'totalLinesProcessed', 'execTime', 'totalEntriesReturned']) expect(typeof s[k]).toBe('number');
    expect(s.totalEntriesReturned).toBe(2);
  });

  it('applies direction and limit across all streams in time order', async () => {
    const r = await get('/loki/api/v1/query_range', { query: '{env="prod"}', ...range, limit: '3', direction: 'forward' }, 'acme');
    const all = r.json.data.result.flatMap((s: any) => s.values.map((v: any) => v[0]));
    expect(all.sort()).toEqual([String(T0), String(T0 + SEC), String(T0 + MIN)]);
  });

  it('filters lines and runs parsers and label filters', async () => {
    const r = await get('/loki/api/v1/query_range', { query: '{app="api"} |= "db" or "ok" | logfmt | duration > 100ms', ...range }, 'acme');
    expect(r.status).toBe(200);
    expect(r.json.data.result).toHaveLength(1);
    expect(r.json.data.result[0].values.map((v: any) => v[1])).toEqual(['level=error msg="db down" duration=1500ms status=500']);
    expect(r.json.data.result[0].stream).toMatchObject({ app: 'api', level: 'error', msg: 'db down', status: '500' });
  });

  it('computes metric queries as a matrix on the step grid', async () => {
    const r = await get('/loki/api/v1/query_range', { query: 'sum by (app) (count_over_time({env="prod"}[1m]))', start: String(T0), end: String(T0 + 3n * MIN), step: '60' }, 'acme');
    expect(r.status).toBe(200);
    expect(withoutStats(r.json.data)).toEqual({
      resultType: 'matrix',
      result: [
        // Windows (t-1m, t]: the api entry at T0 falls in the window ending at T0.
        { metric: { app: 'api' }, values: [[sec(T0), '1'], [sec(T0 + MIN), '1'], [sec(T0 + 2n * MIN), '1']] },
        { metric: { app: 'web' }, values: [[sec(T0 + MIN), '1'], [sec(T0 + 2n * MIN), '1'], [sec(T0 + 3n * MIN), '1']] },
      ],
    });
  });

  it('answers bad queries and parameters with 400 and a message', async () => {
    const bad = await get('/loki/api/v1/query_range', { query: '{app="api"', ...range }, 'acme');
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/^parse error at line 1, col \d+: /);
    const step = await get('/loki/api/v1/query_range', { query: 'rate({app="api"}[1m])', ...range, step: '0' }, 'acme');
    expect(step.status).toBe(400);
    expect(step.text).toContain('zero or negative query resolution step');
    const time = await get('/loki/api/v1/query_range', { query: '{app="api"}', start: 'yesterday' }, 'acme');
    expect(time.status).toBe(400);
    expect(time.text).toContain('invalid parameter "start"');
    const big = await get('/loki/api/v1/query_range', { query: '{app="api"}', ...range, limit: '6000' }, 'acme');
    expect(big.status).toBe(400);
    expect(big.text).toContain('max entries limit per query exceeded');
    const missing = await get('/loki/api/v1/query_range', {}, 'acme');
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('missing parameter "query"');
  });
});

describe('instant query', () => {
  it('returns a vector at the given time', async () => {
    const r = await get('/loki/api/v1/query', { query: 'sum(count_over_time({env="prod"}[10m]))', time: String(T0 + 5n * MIN) }, 'acme');
    expect(r.status).toBe(200);
    expect(withoutStats(r.json.data)).toEqual({ resultType: 'vector', result: [{ metric: {}, value: [sec(T0 + 5n * MIN), '6'] }] });
  });

  it('refuses a log query as an instant query', async () => {
    const r = await get('/loki/api/v1/query', { query: '{app="api"}' }, 'acme');
    expect(r.status).toBe(400);
    expect(r.text).toContain('log queries are not supported as an instant query type');
  });
});

describe('labels, series, stats, volume, format_query', () => {
  it('lists label names and values', async () => {
    expect((await get('/loki/api/v1/labels', range, 'acme')).json).toEqual({ status: 'success', data: ['app', 'env'] });
    expect((await get('/loki/api/v1/label/app/values', range, 'acme')).json).toEqual({ status: 'success', data: ['api', 'web'] });
    expect((await get('/loki/api/v1/label/app/values', { ...range, query: '{app=~"w.*"}' }, 'acme')).json).toEqual({ status: 'success', data: ['web'] });
  });

  it('lists series for repeated match[]', async () => {
    const r = await get('/loki/api/v1/series', { 'match[]': ['{app="api"}', '{app="web"}'], ...range }, 'acme');
    expect(r.json).toEqual({ status: 'success', data: [{ app: 'api', env: 'prod' }, { app: 'web', env: 'prod' }] });
    const post = await fetch(`${server.url}/loki/api/v1/series`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-scope-orgid': 'acme' }, body: new URLSearchParams([['match[]', '{app="web"}'], ['start', range.start], ['end', range.end]]).toString() });
    expect(await post.json()).toEqual({ status: 'success', data: [{ app: 'web', env: 'prod' }] });
  });

  it('reports index stats and volume', async () => {
    const stats = await get('/loki/api/v1/index/stats', { query: '{env="prod"}', ...range }, 'acme');
    expect(stats.json).toMatchObject({ streams: 2, entries: 6 });
    expect(stats.json.bytes).toBeGreaterThan(100);
    const vol = await get('/loki/api/v1/index/volume', { query: '{app=~".+"}', ...range }, 'acme');
    expect(vol.json.status).toBe('success');
    expect(vol.json.data.resultType).toBe('vector');
    expect(vol.json.data.result.map((r: any) => r.metric.app).sort()).toEqual(['api', 'web']);
    // Still in memory, so exact: each api line's bytes land in the step whose window (t − 1m, t] holds it.
    const vr = await get('/loki/api/v1/index/volume_range', { query: '{app="api"}', start: String(T0), end: String(T0 + 3n * MIN), step: '60' }, 'acme');
    expect(vr.json.data.resultType).toBe('matrix');
    const len = (s: string) => String(Buffer.byteLength(s));
    expect(vr.json.data.result).toEqual([
      {
        metric: { app: 'api' },
        values: [
          [sec(T0), len('level=info msg="started" duration=12ms status=200')],
          [sec(T0 + MIN), len('level=error msg="db down" duration=1500ms status=500')],
          [sec(T0 + 2n * MIN), len('level=info msg="ok" duration=30ms status=200')],
        ],
      },
    ]);
  });

  it('formats a query', async () => {
    const r = await get('/loki/api/v1/format_query', { query: 'sum   by(app)(rate({app="x"}|="err"[5m]))' }, 'acme');
    expect(r.json).toEqual({ status: 'success', data: 'sum by (app) (rate({app="x"} |= "err" [5m]))' });
  });
});

describe('tenant isolation', () => {
  it('never shows one tenant another tenant’s streams, labels or series', async () => {
    const q = await get('/loki/api/v1/query_range', { query: '{env="prod"} |= "error"', ...range, limit: '100' }, 'acme');
    expect(JSON.stringify(q.json)).not.toContain('other tenant');
    expect((await get('/loki/api/v1/label/app/values', range, 'acme')).json.data).not.toContain('secret');
    expect((await get('/loki/api/v1/series', { 'match[]': '{app="secret"}', ...range }, 'acme')).json.data).toEqual([]);
    expect((await get('/loki/api/v1/label/app/values', range, 'other')).json.data).toEqual(['secret']);
    const none = await get('/loki/api/v1/labels', range);
    expect(none.status).toBe(401);
  });
});
