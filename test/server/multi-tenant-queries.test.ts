import { beforeAll, describe, expect, it } from 'vitest';
import { jsonBody, nowNs, pushJson } from '../helpers/push.js';
import { suiteServer, testServers } from '../helpers/server.js';

const T = (nowNs(-300_000) / 1_000_000_000n) * 1_000_000_000n;
const range = `start=${T - 60_000_000_000n}&end=${T + 60_000_000_000n}`;

async function get(url: string, tenant: string): Promise<{ status: number; text: string; json: any }> {
  const res = await fetch(url, { headers: { 'x-scope-orgid': tenant } });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

const q = (s: string) => encodeURIComponent(s);

/** Each tenant gets the same stream {app="mt", pod="p"} plus one of its own, with lines naming the tenant. */
async function seed(url: string): Promise<void> {
  for (const [tenant, n] of [['a', 1], ['b', 2], ['c', 3]] as const) {
    const values: [string, string][] = Array.from({ length: n }, (_, i) => [(T + BigInt(i)).toString(), `${tenant} line ${i}`]);
    const res = await pushJson(url, jsonBody([{ stream: { app: 'mt', pod: 'p' }, values }, { stream: { app: 'mt', only: tenant }, values: [[T.toString(), `${tenant} own`]] }]), { tenant });
    expect(res.status, res.body).toBe(204);
  }
}

/** Stream results reduced to `tenant labels → lines`, ignoring labels ingest may add (service_name). */
function byTenant(result: { stream: Record<string, string>; values: string[][] }[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of result) {
    const { service_name: _ignored, ...labels } = s.stream;
    const key = Object.entries(labels)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    out[key] = s.values.map((v) => v[1]!).sort();
  }
  return out;
}

describe('multi-tenant queries enabled', () => {
  const server = suiteServer({ args: ['--auth-enabled', 'true', '--querier.multi-tenant-queries-enabled', 'true'] });
  beforeAll(async () => seed(server().url));

  it('query_range over a|b returns both tenants streams labelled __tenant_id__, and nothing of c', async () => {
    const r = await get(`${server().url}/loki/api/v1/query_range?query=${q('{app="mt"}')}&${range}`, 'a|b');
    expect(r.status, r.text).toBe(200);
    expect(byTenant(r.json.data.result)).toEqual({
      '__tenant_id__=a,app=mt,only=a': ['a own'],
      '__tenant_id__=a,app=mt,pod=p': ['a line 0'],
      '__tenant_id__=b,app=mt,only=b': ['b own'],
      '__tenant_id__=b,app=mt,pod=p': ['b line 0', 'b line 1'],
    });
    // The header order and repeats do not matter.
    const again = await get(`${server().url}/loki/api/v1/query_range?query=${q('{app="mt"}')}&${range}`, 'b|a|b');
    expect(byTenant(again.json.data.result)).toEqual(byTenant(r.json.data.result));
  });

  it('a regex pipeline (run on a worker thread) reads every tenant named, labelled', async () => {
    const r = await get(`${server().url}/loki/api/v1/query_range?query=${q('{app="mt"} |~ "line [1-9]|o.n"')}&${range}&direction=forward`, 'a|b');
    expect(r.status, r.text).toBe(200);
    expect(byTenant(r.json.data.result)).toEqual({
      '__tenant_id__=a,app=mt,only=a': ['a own'],
      '__tenant_id__=b,app=mt,only=b': ['b own'],
      '__tenant_id__=b,app=mt,pod=p': ['b line 1'],
    });
    const m = await get(`${server().url}/loki/api/v1/query?query=${q('sum by (__tenant_id__) (count_over_time({pod=~"p|q"} |~ "line [0-9]" [10m]))')}&time=${T + 1_000_000_000n}`, 'b|c');
    expect(m.status, m.text).toBe(200);
    expect(m.json.data.result.map((s: { metric: Record<string, string>; value: [number, string] }) => [s.metric.__tenant_id__, s.value[1]]).sort()).toEqual([
      ['b', '2'],
      ['c', '3'],
    ]);
    // The pipeline sees the tenant label as a stream label, as in Loki.
    const kept = await get(`${server().url}/loki/api/v1/query_range?query=${q('{pod="p"} |~ "line 0" | keep __tenant_id__')}&${range}`, 'a|c');
    expect(kept.json.data.result.map((s: { stream: Record<string, string> }) => s.stream).sort((x: Record<string, string>, y: Record<string, string>) => (x.__tenant_id__! < y.__tenant_id__! ? -1 : 1))).toEqual([{ __tenant_id__: 'a' }, { __tenant_id__: 'c' }]);
  });

  it('a selector may filter on __tenant_id__', async () => {
    const only = await get(`${server().url}/loki/api/v1/query_range?query=${q('{app="mt", __tenant_id__="b"}')}&${range}`, 'a|b|c');
    expect(Object.keys(byTenant(only.json.data.result)).sort()).toEqual(['__tenant_id__=b,app=mt,only=b', '__tenant_id__=b,app=mt,pod=p']);
    const re = await get(`${server().url}/loki/api/v1/query_range?query=${q('{pod="p", __tenant_id__=~"b|c"}')}&${range}`, 'a|b');
    expect(byTenant(re.json.data.result)).toEqual({ '__tenant_id__=b,app=mt,pod=p': ['b line 0', 'b line 1'] });
    const none = await get(`${server().url}/loki/api/v1/query_range?query=${q('{app="mt", __tenant_id__!~"a|b"}')}&${range}`, 'a|b');
    expect(none.json.data.result).toEqual([]);
  });

  it('metric queries aggregate across tenants, or by __tenant_id__', async () => {
    const by = await get(`${server().url}/loki/api/v1/query?query=${q('sum by (__tenant_id__) (count_over_time({app="mt"}[10m]))')}&time=${T + 1_000_000_000n}`, 'a|b|c');
    expect(by.status, by.text).toBe(200);
    expect(by.json.data.result.map((s: { metric: Record<string, string>; value: [number, string] }) => [s.metric.__tenant_id__, s.value[1]]).sort()).toEqual([
      ['a', '2'],
      ['b', '3'],
      ['c', '4'],
    ]);
    const total = await get(`${server().url}/loki/api/v1/query?query=${q('sum(count_over_time({app="mt"}[10m]))')}&time=${T + 1_000_000_000n}`, 'a|c');
    expect(total.json.data.result).toEqual([{ metric: {}, value: [Number(T / 1_000_000n) / 1000 + 1, '6'] }]);
  });

  it('labels merge the tenants; label values of __tenant_id__ are the tenants named; series carry __tenant_id__', async () => {
    const names = await get(`${server().url}/loki/api/v1/labels?${range}`, 'a|b');
    expect(names.json.data.filter((n: string) => n !== 'service_name')).toEqual(['app', 'only', 'pod']);
    const only = await get(`${server().url}/loki/api/v1/label/only/values?${range}`, 'a|b');
    expect(only.json.data).toEqual(['a', 'b']);
    const tenants = await get(`${server().url}/loki/api/v1/label/__tenant_id__/values?${range}`, 'c|a');
    expect(tenants.json).toEqual({ status: 'success', data: ['a', 'c'] });
    const filtered = await get(`${server().url}/loki/api/v1/label/__tenant_id__/values?${range}&query=${q('{__tenant_id__=~"b|c"}')}`, 'c|a');
    expect(filtered.status, filtered.text).toBe(200);
    expect(filtered.json.data).toEqual(['c']);
    const series = await get(`${server().url}/loki/api/v1/series?match[]=${q('{pod="p"}')}&${range}`, 'a|b');
    expect(series.json.data.map(({ service_name: _s, ...l }: Record<string, string>) => l)).toEqual([
      { __tenant_id__: 'a', app: 'mt', pod: 'p' },
      { __tenant_id__: 'b', app: 'mt', pod: 'p' },
    ]);
    const legacy = await get(`${server().url}/api/prom/label/only/values?${range}`, 'b|c');
    expect(legacy.json).toEqual({ values: ['b', 'c'] });
  });

  it('index/volume can group by __tenant_id__', async () => {
    const v = await get(`${server().url}/loki/api/v1/index/volume?query=${q('{app="mt"}')}&${range}&targetLabels=__tenant_id__`, 'a|b');
    expect(v.status, v.text).toBe(200);
    expect(v.json.data.result.map((r: { metric: Record<string, string> }) => r.metric.__tenant_id__).sort()).toEqual(['a', 'b']);
  });

  it('one tenant named alone (or twice) is an ordinary query with no tenant label', async () => {
    const r = await get(`${server().url}/loki/api/v1/query_range?query=${q('{pod="p"}')}&${range}`, 'c|c');
    expect(r.status, r.text).toBe(200);
    expect(byTenant(r.json.data.result)).toEqual({ 'app=mt,pod=p': ['c line 0', 'c line 1', 'c line 2'] });
  });

  it('refuses a malformed tenant list, and pushes, tails and deletes still take one tenant', async () => {
    const url = `${server().url}/loki/api/v1/query_range?query=${q('{app="mt"}')}&${range}`;
    const empty = await get(url, 'a||b');
    expect(empty.status).toBe(400);
    expect(empty.text).toBe('X-Scope-OrgID "a||b" holds an empty tenant ID: separate tenant IDs by a single | with none empty\n');
    const invalid = await get(url, 'a|b c');
    expect(invalid.status).toBe(400);
    expect(invalid.text).toMatch(/^invalid tenant ID "b c" in X-Scope-OrgID/);
    const push = await pushJson(server().url, jsonBody([{ stream: { app: 'x' }, values: [[T.toString(), 'x']] }]), { tenant: 'a|b' });
    expect(push.status).toBe(400);
    expect(push.body).toMatch(/^invalid tenant ID "a\|b"/);
  });
});

describe('multi-tenant queries disabled (the default)', () => {
  const start = testServers();
  it('refuses a|b with a message naming the setting', async () => {
    const s = await start({ args: ['--auth-enabled', 'true'] });
    for (const path of [`/loki/api/v1/query_range?query=${q('{app="mt"}')}`, '/loki/api/v1/labels', '/loki/api/v1/label/app/values', `/loki/api/v1/series?match[]=${q('{app="mt"}')}`, `/api/prom/query?query=${q('{app="mt"}')}`]) {
      const r = await get(`${s.url}${path}`, 'a|b');
      expect(r.status, path).toBe(400);
      expect(r.text, path).toBe(
        'invalid tenant ID "a|b" in X-Scope-OrgID: | separates several tenants, and multi-tenant queries are disabled; set querier.multi_tenant_queries_enabled: true (--querier.multi-tenant-queries-enabled) to query them together\n',
      );
    }
  });
});
