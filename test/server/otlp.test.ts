import { context, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeOtlpResponse, decodeStatus, encodeOtlpRequest } from '../helpers/otlp-proto.js';
import { nowNs } from '../helpers/push.js';
import { suiteServer, tempDir } from '../helpers/server.js';

/**
 * OTLP logs into a real server, through the real OpenTelemetry SDK and both its exporters (OTLP/HTTP JSON and
 * protobuf), and by hand (gzip, malformed bodies, refused records); everything is read back through the
 * Loki query API, the labels from /series, the structured metadata from the result streams.
 */

const overridesDir = tempDir('narvi-otlp-overrides-');
const overridesFile = join(overridesDir, 'overrides.yaml');
writeFileSync(
  overridesFile,
  `overrides:
  custom:
    otlp_config:
      resource_attributes:
        ignore_defaults: true
        attributes_config:
          - action: index_label
            attributes: [service.name, team.name]
          - action: drop
            regex: 'k8s\\..*'
      log_attributes:
        - action: drop
          attributes: [secret.token]
  slow:
    ingestion_rate_mb: 0.001
    ingestion_burst_size_mb: 0.002
`,
);

const server = suiteServer({ args: ['--auth-enabled', '--limits.per-tenant-override-config', overridesFile, '--limits.max-line-size', '2KB'] });

interface Stream {
  stream: Record<string, string>;
  values: [string, string][];
}

async function query(tenant: string, q: string): Promise<Stream[]> {
  const qs = new URLSearchParams({ query: q, start: String(nowNs(-3_600_000)), end: String(nowNs(60_000)), limit: '1000', direction: 'forward' });
  const res = await fetch(`${server().url}/loki/api/v1/query_range?${qs}`, { headers: { 'X-Scope-OrgID': tenant } });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return (JSON.parse(text) as { data: { result: Stream[] } }).data.result;
}

/** The index labels of every stream the tenant has (structured metadata is not part of a series). */
async function series(tenant: string): Promise<Record<string, string>[]> {
  const qs = new URLSearchParams({ 'match[]': '{service_name=~".+"}', start: String(nowNs(-3_600_000)), end: String(nowNs(60_000)) });
  const res = await fetch(`${server().url}/loki/api/v1/series?${qs}`, { headers: { 'X-Scope-OrgID': tenant } });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return (JSON.parse(text) as { data: Record<string, string>[] }).data.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

async function post(tenant: string, body: Buffer | string, contentType: string, encoding?: string) {
  const headers: Record<string, string> = { 'content-type': contentType, 'X-Scope-OrgID': tenant };
  if (encoding) headers['content-encoding'] = encoding;
  const res = await fetch(`${server().url}/otlp/v1/logs`, { method: 'POST', headers, body });
  return { status: res.status, type: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), body: Buffer.from(await res.arrayBuffer()) };
}

type Exporter = 'json' | 'proto';

/** A LoggerProvider exporting to narvi as `tenant`; each export's result is recorded. */
function provider(kind: Exporter, tenant: string, attributes: Record<string, string | number | boolean>, gzip = false) {
  const config = { url: `${server().url}/otlp/v1/logs`, headers: { 'X-Scope-OrgID': tenant }, ...(gzip ? { compression: 'gzip' as never } : {}) };
  const real: LogRecordExporter = kind === 'json' ? new JsonExporter(config) : new ProtoExporter(config);
  const results: { code: number; error?: Error }[] = [];
  const exporter: LogRecordExporter = {
    export: (logs: ReadableLogRecord[], done) => real.export(logs, (r) => (results.push(r), done(r))),
    shutdown: () => real.shutdown(),
  };
  const p = new LoggerProvider({ resource: resourceFromAttributes(attributes), processors: [new BatchLogRecordProcessor({ exporter })] });
  return { provider: p, results };
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

/** What every record emitted by `emitAll` must come back as, worked out by hand from Loki 3's mapping. */
async function emitAll(kind: Exporter, tenant: string, service: string, gzip = false): Promise<bigint> {
  const { provider: p, results } = provider(
    kind,
    tenant,
    { 'service.name': service, 'service.namespace': 'shop', 'k8s.pod.name': `${service}-7d9f`, 'host.name': 'node-1', 'process.pid': 4242, 'custom.flag': true, 'team.name': 'payments' },
    gzip,
  );
  const logger = p.getLogger('orders-logger', '2.1.0');
  const t0 = nowNs(-60_000);
  const at = (i: number) => new Date(Number((t0 + BigInt(i) * 1_000_000n) / 1_000_000n));
  const spanCtx = trace.setSpanContext(context.active(), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
  logger.emit({
    timestamp: at(0),
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: 'payment slow <3s> & retried',
    attributes: { 'http.status_code': 503, 'latency.ms': 12.5, 'user.tags': ['a', 'b'], retry: false, obj: { inner: { deep: 'x' } }, 'raw.bytes': new Uint8Array([1, 2, 3, 250]), 'secret.token': 's3cr3t' },
    context: spanCtx,
  });
  logger.emit({ timestamp: at(1), severityNumber: SeverityNumber.INFO, body: { msg: 'order placed', n: 2, nested: { z: 1, a: [1, 'x', true] } } });
  logger.emit({ timestamp: at(2), body: 42 });
  await p.forceFlush();
  await p.shutdown();
  expect(results.map((r) => r.code), String(results.find((r) => r.error)?.error)).toEqual([0]);
  return t0;
}

/** A result stream's structured metadata: its labels minus the series' index labels. */
function metadataOf(s: Stream, index: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.stream)) if (!(k in index)) out[k] = v;
  return out;
}

describe('OTLP logs ingest through the real OpenTelemetry exporters', () => {
  for (const [kind, gzip] of [['json', false], ['proto', false], ['json', true], ['proto', true]] as [Exporter, boolean][]) {
    it(`maps resource, scope and log attributes, bodies and trace context as Loki 3 does (${kind}${gzip ? ', gzip' : ''})`, async () => {
      const tenant = `sdk-${kind}${gzip ? '-gz' : ''}`;
      const t0 = await emitAll(kind, tenant, 'checkout', gzip);
      const index = { k8s_pod_name: 'checkout-7d9f', service_name: 'checkout', service_namespace: 'shop' };
      expect(await series(tenant)).toEqual([index]);
      const streams = await query(tenant, '{service_name="checkout"}');
      const entries = streams.flatMap((s) => s.values.map(([ts, line]) => ({ ts: BigInt(ts) - t0, line, md: metadataOf(s, index), labels: s.stream })));
      entries.sort((a, b) => (a.ts < b.ts ? -1 : 1));
      expect(entries.map((e) => [e.ts, e.line])).toEqual([
        [0n, 'payment slow <3s> & retried'],
        [1_000_000n, '{"msg":"order placed","n":2,"nested":{"a":[1,"x",true],"z":1}}'],
        [2_000_000n, '42'],
      ]);
      for (const e of entries) for (const [k, v] of Object.entries(index)) expect(e.labels[k]).toBe(v);
      const common = { host_name: 'node-1', process_pid: '4242', custom_flag: 'true', team_name: 'payments', scope_name: 'orders-logger', scope_version: '2.1.0' };
      // The SDK stamps every record with the time it was observed; Loki keeps it when the record has its own time.
      for (const e of entries) {
        expect(e.md.observed_timestamp).toMatch(/^\d{19}$/);
        delete e.md.observed_timestamp;
      }
      expect(entries[0]!.md).toEqual({
        ...common,
        'http_status_code': '503',
        latency_ms: '12.5',
        user_tags: '["a","b"]',
        retry: 'false',
        obj_inner_deep: 'x',
        raw_bytes: 'AQID+g==',
        secret_token: 's3cr3t',
        severity_number: '13',
        severity_text: 'WARN',
        flags: '1',
        trace_id: TRACE_ID,
        span_id: SPAN_ID,
      });
      expect(entries[1]!.md).toEqual({ ...common, severity_number: '9' });
      expect(entries[2]!.md).toEqual(common);
      // Structured metadata filters without a parser, as in Loki.
      const byTrace = await query(tenant, `{service_name="checkout"} | trace_id="${TRACE_ID}"`);
      expect(byTrace.flatMap((s) => s.values.map((v) => v[1]))).toEqual(['payment slow <3s> & retried']);
    });
  }

  it('gives a resource without service.name service_name="unknown_service"', async () => {
    const { provider: p, results } = provider('proto', 'nameless', { 'deployment.environment.name': 'prod', 'cloud.region': 'eu-west-1' });
    p.getLogger('x').emit({ body: 'who am i', timestamp: new Date() });
    await p.forceFlush();
    await p.shutdown();
    expect(results.map((r) => r.code)).toEqual([0]);
    expect(await series('nameless')).toEqual([{ cloud_region: 'eu-west-1', deployment_environment_name: 'prod', service_name: 'unknown_service' }]);
    const streams = await query('nameless', '{service_name="unknown_service"}');
    expect(streams.flatMap((s) => s.values.map((v) => v[1]))).toEqual(['who am i']);
  });

  it("applies a tenant's otlp_config override to that tenant only", async () => {
    await emitAll('json', 'custom', 'billing');
    await emitAll('json', 'plain', 'billing');
    // ignore_defaults: only service.name and team.name are labels, k8s.* is dropped, secret.token is dropped.
    expect(await series('custom')).toEqual([{ service_name: 'billing', team_name: 'payments' }]);
    const custom = (await query('custom', '{service_name="billing"}')).find((s) => s.values.some((v) => v[1].startsWith('payment slow')))!;
    expect(custom.stream.service_namespace).toBe('shop');
    expect(custom.stream).not.toHaveProperty('k8s_pod_name');
    expect(custom.stream).not.toHaveProperty('secret_token');
    expect(custom.stream.host_name).toBe('node-1');
    // The other tenant keeps Loki's defaults.
    expect(await series('plain')).toEqual([{ k8s_pod_name: 'billing-7d9f', service_name: 'billing', service_namespace: 'shop' }]);
    const plain = (await query('plain', '{service_name="billing"}')).find((s) => s.values.some((v) => v[1].startsWith('payment slow')))!;
    expect(plain.stream.secret_token).toBe('s3cr3t');
    expect(plain.stream.team_name).toBe('payments');
  });
});

/** A request as snake_case objects, one resource, one scope; `records` given as LogRecord objects. */
function request(resource: Record<string, string>, records: Record<string, unknown>[]) {
  return {
    resource_logs: [
      {
        resource: { attributes: Object.entries(resource).map(([key, v]) => ({ key, value: { string_value: v } })) },
        scope_logs: [{ scope: { name: 'hand' }, log_records: records }],
      },
    ],
  };
}

function jsonRequest(resource: Record<string, string>, records: Record<string, unknown>[]): string {
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: Object.entries(resource).map(([key, v]) => ({ key, value: { stringValue: v } })) },
        scopeLogs: [{ scope: { name: 'hand' }, logRecords: records }],
      },
    ],
  });
}

describe('OTLP/HTTP by hand', () => {
  it('takes gzip JSON and gzip protobuf bodies and answers an empty ExportLogsServiceResponse', async () => {
    const ts = String(nowNs(-1000));
    const json = jsonRequest({ 'service.name': 'gz' }, [{ timeUnixNano: ts, body: { stringValue: 'gzip json' }, severityNumber: 'SEVERITY_NUMBER_ERROR2', traceId: 'ABCDEF0123456789ABCDEF0123456789' }]);
    const r1 = await post('gz', gzipSync(json), 'application/json', 'gzip');
    expect([r1.status, r1.type, r1.body.toString()]).toEqual([200, 'application/json', '{}']);
    const proto = encodeOtlpRequest(request({ 'service.name': 'gz' }, [{ time_unix_nano: String(BigInt(ts) + 1n), body: { string_value: 'gzip proto' }, severity_number: 21 }]));
    const r2 = await post('gz', gzipSync(proto), 'application/x-protobuf', 'gzip');
    expect([r2.status, r2.type, r2.body.length]).toEqual([200, 'application/x-protobuf', 0]);
    const streams = await query('gz', '{service_name="gz"}');
    const got = streams.flatMap((s) => s.values.map((v) => [v[1], s.stream.severity_number, s.stream.trace_id ?? '']));
    expect(got).toEqual([
      ['gzip json', '18', 'abcdef0123456789abcdef0123456789'],
      ['gzip proto', '21', ''],
    ]);
  });

  it('uses observed_time_unix_nano when time_unix_nano is 0, without an observed_timestamp', async () => {
    const observed = nowNs(-5000);
    // As a string every digit is kept; as a JSON number, what JavaScript's double makes of it.
    const asNumber = Number(observed) + 1_000_000;
    const r = await post(
      'observed',
      jsonRequest({ 'service.name': 'obs' }, [
        { timeUnixNano: '0', observedTimeUnixNano: String(observed), body: { stringValue: 'seen' } },
        { observedTimeUnixNano: asNumber, body: { stringValue: 'seen as a number' } },
      ]),
      'application/json',
    );
    expect(r.status).toBe(200);
    const [s] = await query('observed', '{service_name="obs"}');
    expect(s!.values).toEqual([
      [String(observed), 'seen'],
      [String(BigInt(asNumber)), 'seen as a number'],
    ]);
    expect(s!.stream).not.toHaveProperty('observed_timestamp');
  });

  it('refuses malformed bodies with 400 and a google.rpc.Status naming the problem, storing nothing', async () => {
    const bad = await post('bad', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"xyz","body":{"stringValue":"never"}}]}]}]}', 'application/json');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString())).toEqual({ code: 3, message: 'invalid OTLP/JSON at resourceLogs[0].scopeLogs[0].logRecords[0].traceId: expected a trace id of 16 bytes as 32 hex digits, got "xyz"' });
    const notJson = await post('bad', '{"resourceLogs":[', 'application/json');
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body.toString()).message).toMatch(/^invalid OTLP\/JSON: /);
    const good = encodeOtlpRequest(request({ 'service.name': 'bad' }, [{ time_unix_nano: String(nowNs()), body: { string_value: 'never' } }]));
    const truncated = await post('bad', good.subarray(0, good.length - 3), 'application/x-protobuf');
    expect(truncated.status).toBe(400);
    expect(truncated.type).toBe('application/x-protobuf');
    expect(decodeStatus(truncated.body).message).toMatch(/^malformed protobuf ExportLogsServiceRequest: length \d+ runs past the end of its message at byte \d+$/);
    const badGzip = await post('bad', Buffer.from('not gzip at all'), 'application/x-protobuf', 'gzip');
    expect(badGzip.status).toBe(400);
    expect(decodeStatus(badGzip.body).message).toContain('cannot decompress gzip body');
    const type = await post('bad', 'x', 'text/plain');
    expect(type.status).toBe(415);
    expect(JSON.parse(type.body.toString())).toEqual({ code: 3, message: 'content type: text/plain is not supported: OTLP/HTTP takes application/x-protobuf or application/json' });
    expect(await query('bad', '{service_name=~".+"}')).toEqual([]);
  });

  it('reports records refused by the limits in partial_success and stores the others', async () => {
    const now = nowNs(-1000);
    const records = [
      { time_unix_nano: String(now), body: { string_value: 'fine' } },
      { time_unix_nano: String(now + 1n), body: { string_value: 'x'.repeat(3000) } },
      { time_unix_nano: '1000000000', body: { string_value: 'ancient' } },
    ];
    const r = await post('partial', encodeOtlpRequest(request({ 'service.name': 'partial' }, records)), 'application/x-protobuf');
    expect(r.status).toBe(200);
    const ps = decodeOtlpResponse(r.body).partial_success!;
    expect(ps.rejected_log_records).toBe('2');
    const lines = ps.error_message.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`Max entry size '2000' bytes exceeded for stream '{service_name="partial"}' while adding an entry with length '3000' bytes`);
    expect(lines[1]).toMatch(/^entry for stream '\{service_name="partial"\}' has timestamp too old: 1970-01-01T00:00:01Z, oldest acceptable timestamp is: /);
    expect(lines[2]).toBe('total ignored: 2 out of 3');
    // The same answer in JSON, rejectedLogRecords an int64 as a string.
    const rj = await post('partial', jsonRequest({ 'service.name': 'partial' }, [{ timeUnixNano: '1000000000', body: { stringValue: 'ancient' } }]), 'application/json');
    expect(rj.status).toBe(200);
    const pj = JSON.parse(rj.body.toString()) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } };
    expect(pj.partialSuccess.rejectedLogRecords).toBe('1');
    expect(pj.partialSuccess.errorMessage).toContain('has timestamp too old');
    const streams = await query('partial', '{service_name="partial"}');
    expect(streams.flatMap((s) => s.values.map((v) => v[1]))).toEqual(['fine']);
  });

  it('answers 429 with Retry-After and a google.rpc.Status when the push path refuses for the rate limit, storing nothing', async () => {
    const now = nowNs(-1000);
    const records = [0, 1, 2].map((i) => ({ time_unix_nano: String(now + BigInt(i)), body: { string_value: String(i).repeat(1500) } }));
    const r = await post('slow', encodeOtlpRequest(request({ 'service.name': 'slow' }, records)), 'application/x-protobuf');
    expect([r.status, r.retryAfter, r.type]).toEqual([429, '1', 'application/x-protobuf']);
    const st = decodeStatus(r.body);
    expect(st.code).toBe(8);
    // Lines and structured metadata count: 3 × 1500 bytes of body and 3 × scope_name=hand (14 bytes).
    expect(st.message).toBe(
      "Ingestion rate limit exceeded for user slow (limit: 1049 bytes/sec) while attempting to ingest '3' lines totaling '4542' bytes, reduce log volume or contact your administrator to see if the limit can be increased",
    );
    const rj = await post('slow', jsonRequest({ 'service.name': 'slow' }, records.map((x) => ({ timeUnixNano: x.time_unix_nano, body: { stringValue: x.body.string_value } }))), 'application/json');
    expect([rj.status, rj.retryAfter]).toEqual([429, '1']);
    expect(JSON.parse(rj.body.toString()).code).toBe(8);
    expect(await query('slow', '{service_name=~".+"}')).toEqual([]);
  });

  it('answers 401 without a tenant when auth is on, like the push API', async () => {
    const res = await fetch(`${server().url}/otlp/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
  });
});
