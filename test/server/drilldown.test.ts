import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonBody, nowNs, pushJson } from '../helpers/push.js';
import { removeDir, startServer, type RunningServer } from '../helpers/server.js';

/**
 * Grafana Logs Drilldown's endpoints through a real server, on data whose answers are worked out by hand.
 *
 * What Drilldown (grafana/logs-drilldown, src/services/datasource.ts and the scenes that use it) asks Loki
 * for, in order, when a user opens it, picks a service, and opens the Fields and Patterns tabs. Resource
 * calls go through Grafana's Loki data source with `start`/`end` as RFC3339 times (`toISOString()`):
 *
 *   Opening the app (service selection):
 *   1. GET /loki/api/v1/drilldown-limits                       — which features to show (Patterns tab, …)
 *   2. GET /loki/api/v1/index/volume?query={service_name=~".+"}&limit=5000&start&end
 *                                                             — the service list, biggest first
 *   3. GET /loki/api/v1/query_range?query=sum by (service_name) (count_over_time({service_name=~".+"} [1m]))
 *                                                             — a sparkline per service
 *   Picking a service (service_name="checkout"):
 *   4. GET /loki/api/v1/detected_labels?query={service_name="checkout"}&start&end   — the Labels tab
 *   5. GET /loki/api/v1/detected_fields?query={service_name="checkout"}&start&end   — the Fields tab count
 *   6. GET /loki/api/v1/query_range?query={service_name="checkout"}&limit=…&direction=backward — the logs
 *   7. GET /loki/api/v1/query_range?query=sum by (detected_level) (count_over_time({service_name="checkout"} | drop __error__ [1m]))
 *                                                             — the volume by level
 *   8. GET /loki/api/v1/patterns?query={service_name="checkout"}&start&end&step — the Patterns tab count
 *   Opening the Fields tab:
 *   9. GET /loki/api/v1/detected_fields?query={service_name="checkout"}&start&end (again, for the list)
 *  10. per field, a metric query such as sum by (level) (count_over_time({…} | json | logfmt | drop __error__, __error_details__ | level!="" [1m]))
 *  11. GET /loki/api/v1/detected_field/level/values?query={service_name="checkout"}&start&end — a field's values
 *   Opening the Patterns tab:
 *  12. GET /loki/api/v1/patterns?query={service_name="checkout"}&start&end&step
 *
 * `service_name` is set explicitly as a stream label here (narvi's ingest-time discovery may add it too).
 * If ingest adds `detected_level` as structured metadata, it is left out of the exact comparisons below.
 */

let server: RunningServer;
let url: string;
const base = nowNs(-600_000);
const at = (k: number) => String(base + BigInt(k) * 1_000_000n);

const A = { service_name: 'checkout', env: 'prod', cluster: 'eu1', pod: 'p-1', build: '1234', canary: '0', instance: '10' };
const B = { service_name: 'checkout', env: 'dev', cluster: 'eu1', pod: 'p-2', build: '1235', canary: '1', instance: '11' };
const C = { service_name: 'billing', env: 'prod', cluster: 'us1', pod: 'p-3', build: '2000', canary: '0', instance: '12', deploy_id: '6f1c2a3e-1b2c-4d5e-8f90-123456789abc' };

const A_LINES = [
  '{"level":"info","status":200,"latency":"150ms","size":"1.5KB","ok":true,"ratio":0.25,"user":{"id":"u1","name":"ann"},"tags":["a","b"]}',
  '{"level":"error","status":500,"latency":"2s","size":"10KB","ok":false,"ratio":0.5,"user":{"id":"u2","name":"bob"}}',
  '{"level":"info","status":200,"latency":"150ms","size":"1.5KB","ok":true,"ratio":0.75,"user":{"id":"u1","name":"ann"}}',
  '{"level":"warn","status":404,"latency":"30ms","size":"512B","ok":true,"ratio":1.5,"user":{"id":"u3","name":"cy"},"env":"shadow"}',
];
const B_VALUES: [string, Record<string, string>][] = [
  ['level=info msg="cache hit" duration=5ms bytes=2KiB attempt=1', { trace_id: 'abc1', region: 'r1', retries: '3' }],
  ['level=debug msg="cache miss" duration=12ms bytes=4KiB attempt=2', { trace_id: 'abc2', region: 'r1', retries: '3' }],
  ['level=info msg="cache hit" duration=5ms bytes=2KiB attempt=1', { trace_id: 'abc3', region: 'r2', retries: '3' }],
  ['just some words here', { trace_id: 'abc4', region: 'r2', retries: '3' }],
];
const C_LINES = ['{"level":"info","amount":12.5}', '{"level":"info","amount":7.25}'];

const bytes = (lines: string[]) => lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
const A_BYTES = bytes(A_LINES);
const B_BYTES = bytes(B_VALUES.map(([l]) => l));
const C_BYTES = bytes(C_LINES);

function range(): Record<string, string> {
  return { start: new Date(Number((base - 60_000_000_000n) / 1_000_000n)).toISOString(), end: new Date(Date.now() + 60_000).toISOString() };
}

async function get(path: string, params: Record<string, string> = {}): Promise<{ status: number; text: string; json: () => any }> {
  const res = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

async function ok(path: string, params: Record<string, string> = {}): Promise<any> {
  const r = await get(path, params);
  expect(r.status, `${path} ${JSON.stringify(params)}: ${r.text}`).toBe(200);
  return r.json();
}

/** The fields list without what ingest-time decoration may add. */
function fieldsOf(body: any): any[] {
  return (body.fields ?? []).filter((f: any) => f.label !== 'detected_level');
}

const CHECKOUT = '{service_name="checkout"}';

beforeAll(async () => {
  server = await startServer();
  url = server.url;
  const body = jsonBody([
    { stream: A, values: A_LINES.map((l, i) => [at(i), l] as [string, string]) },
    { stream: B, values: B_VALUES.map(([l, m], i) => [at(4 + i), l, m] as [string, string, Record<string, string>]) },
    { stream: C, values: C_LINES.map((l, i) => [at(10 + i), l] as [string, string]) },
  ]);
  const r = await pushJson(url, body);
  expect(r.status, r.body).toBe(204);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

describe('detected_labels', () => {
  it('lists each label with its number of values, leaving out numeric and UUID labels but keeping static ones and 0/1 flags', async () => {
    // build: 1234, 1235 — numbers, left out. canary: 0/1 — a flag, kept. instance: numbers but static, kept.
    expect(await ok('/loki/api/v1/detected_labels', { query: CHECKOUT, ...range() })).toEqual({
      detectedLabels: [
        { label: 'canary', cardinality: 2 },
        { label: 'cluster', cardinality: 1 },
        { label: 'env', cardinality: 2 },
        { label: 'instance', cardinality: 2 },
        { label: 'pod', cardinality: 2 },
        { label: 'service_name', cardinality: 1 },
      ],
    });
    // Without a query, every stream: deploy_id holds only a UUID and is left out.
    expect(await ok('/loki/api/v1/detected_labels', range())).toEqual({
      detectedLabels: [
        { label: 'canary', cardinality: 2 },
        { label: 'cluster', cardinality: 2 },
        { label: 'env', cardinality: 2 },
        { label: 'instance', cardinality: 3 },
        { label: 'pod', cardinality: 3 },
        { label: 'service_name', cardinality: 2 },
      ],
    });
  });

  it('answers {} when nothing matches, and 400 for a bad selector', async () => {
    expect(await ok('/loki/api/v1/detected_labels', { query: '{service_name="nope"}', ...range() })).toEqual({});
    const bad = await get('/loki/api/v1/detected_labels', { query: '{service_name=}' });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/parse error/);
  });
});

describe('detected_fields', () => {
  it('finds json and logfmt fields and structured metadata with their types, cardinalities, parsers and JSON paths', async () => {
    const body = await ok('/loki/api/v1/detected_fields', { query: CHECKOUT, ...range() });
    expect(body.limit).toBe(1000);
    expect(fieldsOf(body)).toEqual([
      { label: 'attempt', type: 'int', cardinality: 2, parsers: ['logfmt'] },
      { label: 'bytes', type: 'bytes', cardinality: 2, parsers: ['logfmt'] },
      { label: 'duration', type: 'duration', cardinality: 2, parsers: ['logfmt'] },
      // "env" is a stream label: the line's env becomes env_extracted, as a parser in a query names it.
      { label: 'env_extracted', type: 'string', cardinality: 1, parsers: ['json'], jsonPath: ['env'] },
      { label: 'latency', type: 'duration', cardinality: 3, parsers: ['json'], jsonPath: ['latency'] },
      // Stream A (json) sorts before stream B (logfmt): both parsers, in that order.
      { label: 'level', type: 'string', cardinality: 4, parsers: ['json', 'logfmt'], jsonPath: ['level'] },
      { label: 'msg', type: 'string', cardinality: 2, parsers: ['logfmt'] },
      { label: 'ok', type: 'boolean', cardinality: 2, parsers: ['json'], jsonPath: ['ok'] },
      { label: 'ratio', type: 'float', cardinality: 4, parsers: ['json'], jsonPath: ['ratio'] },
      { label: 'region', type: 'string', cardinality: 2, parsers: null },
      { label: 'retries', type: 'int', cardinality: 1, parsers: null },
      { label: 'size', type: 'bytes', cardinality: 3, parsers: ['json'], jsonPath: ['size'] },
      { label: 'status', type: 'int', cardinality: 3, parsers: ['json'], jsonPath: ['status'] },
      { label: 'trace_id', type: 'string', cardinality: 4, parsers: null },
      { label: 'user_id', type: 'string', cardinality: 3, parsers: ['json'], jsonPath: ['user', 'id'] },
      { label: 'user_name', type: 'string', cardinality: 3, parsers: ['json'], jsonPath: ['user', 'name'] },
    ]);
  });

  it('samples only the newest line_limit lines', async () => {
    // The newest checkout entry is the plain-text line: only its metadata is there to find.
    const body = await ok('/loki/api/v1/detected_fields', { query: CHECKOUT, line_limit: '1', ...range() });
    expect(fieldsOf(body)).toEqual([
      { label: 'region', type: 'string', cardinality: 1, parsers: null },
      { label: 'retries', type: 'int', cardinality: 1, parsers: null },
      { label: 'trace_id', type: 'string', cardinality: 1, parsers: null },
    ]);
  });

  it('tracks at most limit fields, the first met, still counting every value of those', async () => {
    const body = await ok('/loki/api/v1/detected_fields', { query: '{service_name="checkout", env="prod"}', limit: '2', ...range() });
    expect(body).toEqual({
      fields: [
        { label: 'level', type: 'string', cardinality: 3, parsers: ['json'], jsonPath: ['level'] },
        { label: 'status', type: 'int', cardinality: 3, parsers: ['json'], jsonPath: ['status'] },
      ],
      limit: 2,
    });
    // field_limit is the older name of the same parameter.
    expect((await ok('/loki/api/v1/detected_fields', { query: '{service_name="checkout", env="prod"}', field_limit: '1', ...range() })).fields.map((f: any) => f.label)).toEqual(['level']);
  });

  it('honours the query pipeline: only lines it keeps are sampled', async () => {
    const body = await ok('/loki/api/v1/detected_fields', { query: `${CHECKOUT} | json | level="error"`, ...range() });
    expect(fieldsOf(body)).toEqual([
      { label: 'latency', type: 'duration', cardinality: 1, parsers: ['json'], jsonPath: ['latency'] },
      { label: 'level', type: 'string', cardinality: 1, parsers: ['json'], jsonPath: ['level'] },
      { label: 'ok', type: 'boolean', cardinality: 1, parsers: ['json'], jsonPath: ['ok'] },
      { label: 'ratio', type: 'float', cardinality: 1, parsers: ['json'], jsonPath: ['ratio'] },
      { label: 'size', type: 'bytes', cardinality: 1, parsers: ['json'], jsonPath: ['size'] },
      { label: 'status', type: 'int', cardinality: 1, parsers: ['json'], jsonPath: ['status'] },
      { label: 'user_id', type: 'string', cardinality: 1, parsers: ['json'], jsonPath: ['user', 'id'] },
      { label: 'user_name', type: 'string', cardinality: 1, parsers: ['json'], jsonPath: ['user', 'name'] },
    ]);
    // Drilldown's own parser stages add nothing the line does not yield again: the same list as without them.
    const all = fieldsOf(await ok('/loki/api/v1/detected_fields', { query: CHECKOUT, ...range() }));
    const parsed = await ok('/loki/api/v1/detected_fields', { query: `${CHECKOUT} | json | logfmt | drop __error__, __error_details__`, ...range() });
    expect(fieldsOf(parsed)).toEqual(all);
    // Without the drop, the parser's error labels are not fields either.
    expect(fieldsOf(await ok('/loki/api/v1/detected_fields', { query: `${CHECKOUT} | json`, ...range() }))).toEqual(all);
    // Metadata filters keep only matching entries too.
    const meta = await ok('/loki/api/v1/detected_fields', { query: `${CHECKOUT} | region="r2"`, ...range() });
    expect(fieldsOf(meta).map((f: any) => `${f.label}:${f.cardinality}`)).toEqual(['attempt:1', 'bytes:1', 'duration:1', 'level:1', 'msg:1', 'region:1', 'retries:1', 'trace_id:2']);
  });

  it('answers {} when no line matches', async () => {
    expect(await ok('/loki/api/v1/detected_fields', { query: '{service_name="nope"}', ...range() })).toEqual({});
  });

  it('refuses bad parameters with 400 and a message naming the parameter', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /missing parameter "query"/],
      [{ query: 'count_over_time({service_name="checkout"}[1m])' }, /expected a log query/],
      [{ query: '{service_name=' }, /parse error/],
      [{ query: CHECKOUT, line_limit: '0' }, /invalid parameter "line_limit": "0" must be a positive integer/],
      [{ query: CHECKOUT, line_limit: 'ten' }, /invalid parameter "line_limit"/],
      [{ query: CHECKOUT, limit: '-1' }, /invalid parameter "limit": "-1" must be a positive integer/],
      [{ query: CHECKOUT, field_limit: '1.5' }, /invalid parameter "field_limit"/],
      [{ query: CHECKOUT, line_limit: '100000' }, /max entries limit per query exceeded, limit > max_entries_limit \(100000 > 5000\)/],
      [{ query: CHECKOUT, start: 'yesterday' }, /invalid parameter "start"/],
    ];
    for (const [params, want] of cases) {
      const r = await get('/loki/api/v1/detected_fields', params);
      expect(r.status, `${JSON.stringify(params)}: ${r.text}`).toBe(400);
      expect(r.text).toMatch(want);
    }
  });
});

describe('detected_field/<name>/values', () => {
  it('lists a field’s distinct values, byte sizes in SI form, metadata as written', async () => {
    const p = { query: CHECKOUT, ...range() };
    // 1.5KB = 1500 B → 1.5kB; 10KB → 10kB; 512B stays.
    expect(await ok('/loki/api/v1/detected_field/size/values', p)).toEqual({ values: ['1.5kB', '10kB', '512B'], limit: 1000 });
    // 2KiB = 2048 B → 2.0kB; 4KiB = 4096 B → 4.1kB.
    expect(await ok('/loki/api/v1/detected_field/bytes/values', p)).toEqual({ values: ['2.0kB', '4.1kB'], limit: 1000 });
    expect(await ok('/loki/api/v1/detected_field/latency/values', p)).toEqual({ values: ['150ms', '2s', '30ms'], limit: 1000 });
    expect(await ok('/loki/api/v1/detected_field/level/values', p)).toEqual({ values: ['debug', 'error', 'info', 'warn'], limit: 1000 });
    expect(await ok('/loki/api/v1/detected_field/trace_id/values', p)).toEqual({ values: ['abc1', 'abc2', 'abc3', 'abc4'], limit: 1000 });
    expect(await ok('/loki/api/v1/detected_field/user_id/values', p)).toEqual({ values: ['u1', 'u2', 'u3'], limit: 1000 });
    expect((await ok('/loki/api/v1/detected_field/level/values', { ...p, limit: '2' })).values).toHaveLength(2);
    expect(await ok('/loki/api/v1/detected_field/nothing/values', p)).toEqual({});
    const bad = await get('/loki/api/v1/detected_field/level/values', { ...p, limit: '0' });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/invalid parameter "limit"/);
  });
});

describe('drilldown-limits', () => {
  it('publishes the limits Drilldown reads, whether patterns answer, and the version', async () => {
    const body = await ok('/loki/api/v1/drilldown-limits');
    expect(Object.keys(body).sort()).toEqual(['limits', 'pattern_ingester_enabled', 'version']);
    expect(typeof body.pattern_ingester_enabled).toBe('boolean');
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.limits).toMatchObject({
      max_entries_limit_per_query: 5000,
      max_query_length: '30d1h',
      max_query_series: 500,
      query_timeout: '1m',
      retention_period: '0s',
      volume_enabled: true,
    });
  });
});

describe('index/volume aggregateBy', () => {
  it('labels: one result per label name with the bytes of every stream carrying it', async () => {
    const all = A_BYTES + B_BYTES + C_BYTES;
    const body = await ok('/loki/api/v1/index/volume', { query: '{service_name=~".+"}', aggregateBy: 'labels', ...range() });
    const got = Object.fromEntries(body.data.result.map((r: any) => [JSON.stringify(r.metric), r.value[1]]));
    expect(got).toEqual({
      '{"build":""}': String(all),
      '{"canary":""}': String(all),
      '{"cluster":""}': String(all),
      '{"deploy_id":""}': String(C_BYTES),
      '{"env":""}': String(all),
      '{"instance":""}': String(all),
      '{"pod":""}': String(all),
      '{"service_name":""}': String(all),
    });
    // Biggest first, equal volumes by name.
    expect(body.data.result.map((r: any) => Object.keys(r.metric)[0])).toEqual(['build', 'canary', 'cluster', 'env', 'instance', 'pod', 'service_name', 'deploy_id']);
    const target = await ok('/loki/api/v1/index/volume', { query: '{service_name=~".+"}', aggregateBy: 'labels', targetLabels: 'deploy_id,env', ...range() });
    expect(target.data.result.map((r: any) => [r.metric, r.value[1]])).toEqual([
      [{ env: '' }, String(all)],
      [{ deploy_id: '' }, String(C_BYTES)],
    ]);
  });

  it('series (the default): grouped by the selector’s labels', async () => {
    for (const extra of [{}, { aggregateBy: 'series' }]) {
      const body = await ok('/loki/api/v1/index/volume', { query: '{service_name=~".+"}', ...extra, ...range() });
      expect(body.data.result.map((r: any) => [r.metric, r.value[1]])).toEqual([
        [{ service_name: 'checkout' }, String(A_BYTES + B_BYTES)],
        [{ service_name: 'billing' }, String(C_BYTES)],
      ]);
    }
  });

  it('volume_range with labels: the buckets of each label name add up to its bytes', async () => {
    const body = await ok('/loki/api/v1/index/volume_range', { query: CHECKOUT, aggregateBy: 'labels', step: '60s', ...range() });
    expect(body.data.resultType).toBe('matrix');
    const totals = Object.fromEntries(body.data.result.map((r: any) => [Object.keys(r.metric)[0], r.values.reduce((n: number, [, v]: [number, string]) => n + Number(v), 0)]));
    const checkout = A_BYTES + B_BYTES;
    expect(totals).toEqual({ build: checkout, canary: checkout, cluster: checkout, env: checkout, instance: checkout, pod: checkout, service_name: checkout });
    for (const r of body.data.result) expect(Object.values(r.metric)).toEqual(['']);
  });

  it('refuses an unknown aggregateBy with 400', async () => {
    for (const path of ['/loki/api/v1/index/volume', '/loki/api/v1/index/volume_range']) {
      const r = await get(path, { query: CHECKOUT, aggregateBy: 'streams' });
      expect(r.status, r.text).toBe(400);
      expect(r.text).toMatch(/invalid aggregation option "streams": parameter "aggregateBy" must be "series" or "labels"/);
    }
  });
});

describe('the request sequence of Logs Drilldown', () => {
  it('opening it, picking a service, the Fields tab and the Patterns tab: every call answers as Loki would', async () => {
    const r = range();
    // 1. Feature discovery.
    const limits = await ok('/loki/api/v1/drilldown-limits');
    expect(limits.limits.volume_enabled).toBe(true);
    // 2. The service list.
    const services = await ok('/loki/api/v1/index/volume', { query: '{service_name=~".+"}', limit: '5000', ...r });
    expect(services.data.resultType).toBe('vector');
    expect(services.data.result.map((x: any) => [x.metric.service_name, x.value[1]])).toEqual([
      ['checkout', String(A_BYTES + B_BYTES)],
      ['billing', String(C_BYTES)],
    ]);
    // 3. Sparklines per service.
    const spark = await ok('/loki/api/v1/query_range', { query: 'sum by (service_name) (count_over_time({service_name=~".+"} [1m]))', step: '60s', ...r });
    const counts = Object.fromEntries(spark.data.result.map((s: any) => [s.metric.service_name, s.values.reduce((n: number, [, v]: [number, string]) => n + Number(v), 0)]));
    expect(counts.checkout).toBeGreaterThanOrEqual(8);
    expect(counts.billing).toBeGreaterThanOrEqual(2);
    // 4–5. The service's labels and fields.
    const labels = await ok('/loki/api/v1/detected_labels', { query: CHECKOUT, ...r });
    expect(labels.detectedLabels.map((l: any) => l.label)).toContain('env');
    const fields = await ok('/loki/api/v1/detected_fields', { query: CHECKOUT, ...r });
    expect(fieldsOf(fields)).toHaveLength(16);
    // 6. The logs, newest first.
    const logs = await ok('/loki/api/v1/query_range', { query: CHECKOUT, limit: '100', direction: 'backward', ...r });
    expect(logs.data.result.reduce((n: number, s: any) => n + s.values.length, 0)).toBe(8);
    // 7. Volume by level (detected_level when ingest adds it; one unlabelled series otherwise).
    const byLevel = await ok('/loki/api/v1/query_range', { query: `sum by (detected_level) (count_over_time(${CHECKOUT} | drop __error__ [1m]))`, step: '60s', ...r });
    expect(byLevel.data.result.reduce((n: number, s: any) => n + s.values.reduce((m: number, [, v]: [number, string]) => m + Number(v), 0), 0)).toBeGreaterThanOrEqual(8);
    // 8 and 12. Patterns: served by the pattern miner; where it is not built in, Loki's own answer without
    // a pattern ingester is a 404, and Drilldown hides the tab (pattern_ingester_enabled false).
    const patterns = await get('/loki/api/v1/patterns', { query: CHECKOUT, step: '1m', ...r });
    if (patterns.status !== 404) {
      expect(patterns.status, patterns.text).toBe(200);
      expect(Array.isArray(patterns.json().data)).toBe(true);
    } else expect(limits.pattern_ingester_enabled).toBe(false);
    // 9–11. The Fields tab: the list, a breakdown of one field, its values.
    const again = await ok('/loki/api/v1/detected_fields', { query: CHECKOUT, ...r });
    expect(fieldsOf(again)).toEqual(fieldsOf(fields));
    const breakdown = await ok('/loki/api/v1/query_range', {
      query: `sum by (level) (count_over_time(${CHECKOUT} | json | logfmt | drop __error__, __error_details__ | level!="" [1m]))`,
      step: '60s',
      ...r,
    });
    const perLevel: Record<string, number> = {};
    for (const s of breakdown.data.result) perLevel[s.metric.level] = s.values.reduce((n: number, [, v]: [number, string]) => n + Number(v), 0);
    expect(perLevel).toEqual({ info: 4, error: 1, warn: 1, debug: 1 });
    expect(await ok('/loki/api/v1/detected_field/level/values', { query: CHECKOUT, ...r })).toEqual({ values: ['debug', 'error', 'info', 'warn'], limit: 1000 });
  });
});

describe('from flushed chunks and from memory alike', () => {
  it('gives the same labels, fields and label volumes after a flush, and counts what arrives after it', async () => {
    const r = range();
    const labelsBefore = await ok('/loki/api/v1/detected_labels', { query: CHECKOUT, ...r });
    const fieldsBefore = await ok('/loki/api/v1/detected_fields', { query: CHECKOUT, ...r });
    expect((await fetch(`${url}/flush`, { method: 'POST' })).status).toBe(204);
    expect(await ok('/loki/api/v1/detected_labels', { query: CHECKOUT, ...r })).toEqual(labelsBefore);
    expect(await ok('/loki/api/v1/detected_fields', { query: CHECKOUT, ...r })).toEqual(fieldsBefore);
    const vol = await ok('/loki/api/v1/index/volume', { query: CHECKOUT, aggregateBy: 'labels', targetLabels: 'pod', ...range() });
    expect(vol.data.result.map((x: any) => [x.metric, x.value[1]])).toEqual([[{ pod: '' }, String(A_BYTES + B_BYTES)]]);

    // A new stream, only in memory, beside the flushed ones: a third env value, a new field.
    const D = { ...A, env: 'qa', pod: 'p-4' };
    const line = '{"level":"info","status":201,"region_code":"x1"}';
    const res = await pushJson(url, jsonBody([{ stream: D, values: [[at(20), line]] }]));
    expect(res.status, res.body).toBe(204);
    const after = await ok('/loki/api/v1/detected_labels', { query: CHECKOUT, ...range() });
    expect(after.detectedLabels.find((l: any) => l.label === 'env')).toEqual({ label: 'env', cardinality: 3 });
    expect(after.detectedLabels.find((l: any) => l.label === 'pod')).toEqual({ label: 'pod', cardinality: 3 });
    const fields = fieldsOf(await ok('/loki/api/v1/detected_fields', { query: CHECKOUT, ...range() }));
    expect(fields.find((f: any) => f.label === 'region_code')).toEqual({ label: 'region_code', type: 'string', cardinality: 1, parsers: ['json'], jsonPath: ['region_code'] });
    expect(fields.find((f: any) => f.label === 'status')).toEqual({ label: 'status', type: 'int', cardinality: 4, parsers: ['json'], jsonPath: ['status'] });
    const vol2 = await ok('/loki/api/v1/index/volume', { query: CHECKOUT, aggregateBy: 'labels', targetLabels: 'pod', ...range() });
    expect(vol2.data.result.map((x: any) => [x.metric, x.value[1]])).toEqual([[{ pod: '' }, String(A_BYTES + B_BYTES + Buffer.byteLength(line))]]);
  });
});

describe('with auth enabled', () => {
  it('needs X-Scope-OrgID and shows each tenant only its own labels and fields', async () => {
    const s = await startServer({ args: ['--auth-enabled'] });
    try {
      const push = (tenant: string, stream: Record<string, string>, l: string) =>
        pushJson(s.url, jsonBody([{ stream, values: [[String(nowNs(-1000)), l]] }]), { tenant });
      expect((await push('t1', { service_name: 'one', team: 'red' }, 'a=1')).status).toBe(204);
      expect((await push('t2', { service_name: 'two', squad: 'blue' }, 'b=2')).status).toBe(204);
      const as = async (tenant: string | null, path: string, params: Record<string, string>) => {
        const res = await fetch(`${s.url}${path}?${new URLSearchParams(params)}`, tenant ? { headers: { 'X-Scope-OrgID': tenant } } : {});
        return { status: res.status, body: await res.text() };
      };
      for (const path of ['/loki/api/v1/detected_labels', '/loki/api/v1/detected_fields', '/loki/api/v1/detected_field/a/values', '/loki/api/v1/drilldown-limits']) {
        expect((await as(null, path, { query: '{service_name=~".+"}' })).status, path).toBe(401);
      }
      expect(JSON.parse((await as('t1', '/loki/api/v1/detected_labels', {})).body)).toEqual({ detectedLabels: [{ label: 'service_name', cardinality: 1 }, { label: 'team', cardinality: 1 }] });
      expect(JSON.parse((await as('t2', '/loki/api/v1/detected_fields', { query: '{service_name=~".+"}' })).body)).toEqual({ fields: [{ label: 'b', type: 'int', cardinality: 1, parsers: ['logfmt'] }], limit: 1000 });
      expect(JSON.parse((await as('t2', '/loki/api/v1/detected_field/a/values', { query: '{service_name=~".+"}' })).body)).toEqual({});
    } finally {
      await s.stop();
      removeDir(s.dataDir);
    }
  });
});

describe('line_limit', () => {
  it('defaults to the newest 100 lines, as Loki’s', async () => {
    const values: [string, string][] = [];
    for (let i = 0; i < 150; i++) values.push([at(100 + i), `seq=${i} kind=bulk`]);
    const res = await pushJson(url, jsonBody([{ stream: { service_name: 'bulk' }, values }]));
    expect(res.status, res.body).toBe(204);
    const q = { query: '{service_name="bulk"}', ...range() };
    expect(fieldsOf(await ok('/loki/api/v1/detected_fields', q))).toEqual([
      { label: 'kind', type: 'string', cardinality: 1, parsers: ['logfmt'] },
      { label: 'seq', type: 'int', cardinality: 100, parsers: ['logfmt'] },
    ]);
    expect(fieldsOf(await ok('/loki/api/v1/detected_fields', { ...q, line_limit: '150' })).find((f: any) => f.label === 'seq').cardinality).toBe(150);
    // The newest 100 are seq 50–149.
    const seq = await ok('/loki/api/v1/detected_field/seq/values', q);
    expect(seq.values).toHaveLength(100);
    expect(seq.values.map(Number).sort((a: number, b: number) => a - b)[0]).toBe(50);
  });
});
