import snappy from 'snappyjs';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodePushRequest } from '../../src/model/push-proto.js';
import { readAllEntries } from '../helpers/store-reader.js';
import { jsonBody, nowNs, pushJson, pushProto } from '../helpers/push.js';
import { suiteServer, type RunningServer } from '../helpers/server.js';

const suite = suiteServer();
let server: RunningServer;
beforeEach(() => {
  server = suite();
});

async function linesOf(app: string): Promise<string[]> {
  const all = await readAllEntries(server);
  return all.filter((e) => e.labels.app === app).sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0)).map((e) => e.line);
}

describe('push API formats', () => {
  it('stores a JSON push and answers 204', async () => {
    const t = nowNs();
    const r = await pushJson(server.url, jsonBody([{ stream: { app: 'json' }, values: [[String(t), 'first'], [String(t + 1n), 'second ünïcödé']] }]));
    expect(r).toEqual({ status: 204, body: '' });
    expect(await linesOf('json')).toEqual(['first', 'second ünïcödé']);
  });

  it('accepts 3-element values with structured metadata', async () => {
    const t = nowNs();
    const r = await pushJson(server.url, jsonBody([{ stream: { app: 'meta' }, values: [[String(t), 'with meta', { trace_id: 'abc123' }]] }]));
    expect(r.status).toBe(204);
    const all = await readAllEntries(server);
    const e = all.find((x) => x.labels.app === 'meta')!;
    expect(e.line).toBe('with meta');
    expect(e.metadata).toEqual({ trace_id: 'abc123' });
  });

  it('decodes gzip and deflate Content-Encoding', async () => {
    const t = nowNs();
    const body = (line: string, d: bigint) => jsonBody([{ stream: { app: 'compressed' }, values: [[String(t + d), line]] }]);
    expect((await pushJson(server.url, body('gzipped', 0n), { encoding: 'gzip' })).status).toBe(204);
    expect((await pushJson(server.url, body('deflated', 1n), { encoding: 'deflate' })).status).toBe(204);
    expect(await linesOf('compressed')).toEqual(['gzipped', 'deflated']);
  });

  it('stores a protobuf+snappy push with nanosecond timestamps intact', async () => {
    const t = nowNs() + 123n;
    const r = await pushProto(server.url, [{ labels: '{app="proto", env="test"}', entries: [{ ts: t, line: 'pb one' }, { ts: t + 7n, line: 'pb two', metadata: { user: 'x' } }] }]);
    expect(r.status).toBe(204);
    const got = (await readAllEntries(server)).filter((e) => e.labels.app === 'proto');
    expect(got.map((e) => [e.ts, e.line, e.labels])).toEqual([
      [t, 'pb one', { app: 'proto', env: 'test' }],
      [t + 7n, 'pb two', { app: 'proto', env: 'test' }],
    ]);
    expect(got[1]!.metadata).toEqual({ user: 'x' });
  });

  it('treats two spellings of one label set as one stream', async () => {
    const t = nowNs();
    await pushProto(server.url, [{ labels: '{b="2",app="spell"}', entries: [{ ts: t, line: 'x' }] }]);
    await pushJson(server.url, jsonBody([{ stream: { app: 'spell', b: '2' }, values: [[String(t + 1n), 'y']] }]));
    const got = (await readAllEntries(server)).filter((e) => e.labels.app === 'spell');
    expect(new Set(got.map((e) => JSON.stringify(e.labels)))).toEqual(new Set([JSON.stringify({ app: 'spell', b: '2' })]));
    expect(got).toHaveLength(2);
  });
});

describe('ingest semantics', () => {
  it('drops exact duplicates and keeps same-timestamp entries with different lines', async () => {
    const t = nowNs();
    const v: [string, string][] = [[String(t), 'a'], [String(t), 'a'], [String(t), 'b']];
    expect((await pushJson(server.url, jsonBody([{ stream: { app: 'dups' }, values: v }]))).status).toBe(204);
    // A retry of the whole batch (as a client does after a lost response) adds nothing.
    expect((await pushJson(server.url, jsonBody([{ stream: { app: 'dups' }, values: v }]))).status).toBe(204);
    expect(await linesOf('dups')).toEqual(['a', 'b']);
  });

  it('accepts out-of-order entries within the window and rejects those too far behind', async () => {
    const t = nowNs();
    const min = 60_000_000_000n;
    const r1 = await pushJson(server.url, jsonBody([{ stream: { app: 'ooo' }, values: [[String(t), 'newest'], [String(t - 30n * min), '30m behind']] }]));
    expect(r1.status).toBe(204);
    const r2 = await pushJson(server.url, jsonBody([{ stream: { app: 'ooo' }, values: [[String(t - 61n * min), '61m behind'], [String(t - 1n), 'just behind']] }]));
    expect(r2.status).toBe(400);
    expect(r2.body).toContain('entry too far behind');
    expect(r2.body).toContain('{app="ooo"}');
    expect(r2.body).toContain('total ignored: 1 out of 2');
    expect(await linesOf('ooo')).toEqual(['30m behind', 'just behind', 'newest']);
  });
});

describe('validation', () => {
  it('rejects too-old and too-new timestamps but keeps the good entries of the batch', async () => {
    const t = nowNs();
    const old = t - 8n * 86_400_000_000_000n;
    const future = t + 20n * 60_000_000_000n;
    const r = await pushJson(server.url, jsonBody([{ stream: { app: 'partial' }, values: [[String(old), 'old'], [String(t), 'good'], [String(future), 'future']] }]));
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/entry for stream '\{app="partial"\}' has timestamp too old: .*oldest acceptable timestamp is/);
    expect(r.body).toMatch(/entry for stream '\{app="partial"\}' has timestamp too new/);
    expect(r.body).toContain('total ignored: 2 out of 3');
    expect(await linesOf('partial')).toEqual(['good']);
  });

  it('rejects lines over the size limit, naming the stream and sizes', async () => {
    const t = nowNs();
    const big = 'x'.repeat(256 * 1024 + 1);
    const r = await pushJson(server.url, jsonBody([{ stream: { app: 'big' }, values: [[String(t), big], [String(t + 1n), 'small']] }]));
    expect(r.status).toBe(400);
    expect(r.body).toContain(`Max entry size '256000' bytes exceeded for stream '{app="big"}' while adding an entry with length '262145' bytes`);
    expect(await linesOf('big')).toEqual(['small']);
  });

  it('rejects bad label sets with the stream and the reason', async () => {
    const t = String(nowNs());
    const many: Record<string, string> = {};
    for (let i = 0; i < 16; i++) many[`l${i}`] = 'v';
    const cases: [Parameters<typeof jsonBody>[0][number]['stream'] | string, RegExp][] = [
      [many, /has 16 label names; limit 15/],
      [{ ['n'.repeat(1025)]: 'v' }, /has label name too long/],
      [{ app: 'v'.repeat(2049) }, /has label value too long/],
      [{ '1bad': 'v' }, /invalid label name "1bad"/],
      [{}, /at least one label pair is required/],
    ];
    for (const [stream, re] of cases) {
      const r = await pushJson(server.url, jsonBody([{ stream: stream as Record<string, string>, values: [[t, 'x']] }]));
      expect(r.status, JSON.stringify(stream).slice(0, 50)).toBe(400);
      expect(r.body).toMatch(re);
    }
    const bad = await pushProto(server.url, [{ labels: '{app="unterminated}', entries: [{ ts: nowNs(), line: 'x' }] }]);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/error parsing labels '\{app="unterminated\}'/);
  });

  it('answers garbage bodies with 400 and keeps serving', async () => {
    const garbage: [string, () => Promise<{ status: number; body: string }>, RegExp][] = [
      ['invalid JSON', () => pushJson(server.url, '{"streams": [', {}), /invalid JSON body/],
      ['wrong types', () => pushJson(server.url, '{"streams":[{"stream":{"a":"b"},"values":[[1700000000000000000,"x"]]}]}'), /streams\[0\]\.values\[0\]\[0\]: timestamp must be a string/],
      ['values not an array', () => pushJson(server.url, '{"streams":[{"stream":{"a":"b"},"values":"x"}]}'), /streams\[0\]\.values must be an array/],
      ['line not a string', () => pushJson(server.url, '{"streams":[{"stream":{"a":"b"},"values":[["1","x",1,2]]}]}'), /must be an array of 2 or 3 elements/],
      ['bad snappy', () => pushProto(server.url, [], { raw: Buffer.from('definitely not snappy data at all') }), /not valid snappy/],
      ['truncated protobuf', () => pushProto(server.url, [], { raw: truncatedProto() }), /malformed protobuf PushRequest/],
      ['bad gzip', () => fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: 'not gzip' }).then(async (r) => ({ status: r.status, body: await r.text() })), /cannot decompress gzip body/],
      ['unknown content type', () => pushJson(server.url, 'x', { contentType: 'text/csv' }), /unsupported Content-Type "text\/csv"/],
    ];
    for (const [name, send, re] of garbage) {
      const r = await send();
      expect(r.status, name).toBe(400);
      expect(r.body, name).toMatch(re);
    }
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });
});

function truncatedProto(): Buffer {
  // A valid PushRequest cut short, then snappy-compressed, so only the protobuf layer is broken.
  const pb = Buffer.from(encodePushRequest([{ labels: '{app="t"}', entries: [{ ts: 1n, line: 'a line long enough to cut' }] }]));
  return Buffer.from(snappy.compress(pb.subarray(0, pb.length - 5)));
}

describe('ops endpoints', () => {
  it('serves /ready, build info and metrics with per-tenant counters', async () => {
    expect(await (await fetch(`${server.url}/ready`)).text()).toBe('ready\n');
    const info = (await (await fetch(`${server.url}/loki/api/v1/status/buildinfo`)).json()) as { version: string };
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/narvi_distributor_lines_received_total\{tenant="fake"\} \d+/);
    expect(metrics).toMatch(/narvi_distributor_bytes_received_total\{tenant="fake"\} \d+/);
    expect(metrics).toMatch(/narvi_discarded_samples_total\{tenant="fake",reason="line_too_long"\} 1/);
    expect(metrics).toMatch(/narvi_ingester_memory_streams\{tenant="fake"\} \d+/);
    expect(metrics).toMatch(/narvi_ingester_chunks_flushed_total\{reason="forced"\} \d+/);
    expect(metrics).toMatch(/narvi_ingester_wal_disk_bytes \d+/);
    expect(metrics).toMatch(/narvi_ingester_flush_duration_seconds_count \d+/);
    expect(metrics).toMatch(/narvi_ingester_duplicate_entries_total\{tenant="fake"\} [1-9]/);
  });
});
