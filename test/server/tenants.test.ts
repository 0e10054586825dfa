import { mkdirSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { encodePushRecord } from '../../src/ingester/wal-record.js';
import { jsonBody, nowNs, pushJson } from '../helpers/push.js';
import { rawRequest } from '../helpers/raw-http.js';
import { removeDir, startServer, waitFor, type RunningServer } from '../helpers/server.js';

/** Valid under Loki's rule (a-z A-Z 0-9 ! - _ . * ' ( ), 1–150 characters, not "." or "..") yet odd. */
const ODD_TENANTS = ['a..b', '...', '.narvi-tmp-x', '.hidden', '*', "'", '(', ')', '!', '-', '_', 'a.b', '.a', 'a.', '..a', 'x'.repeat(150), 'A', 'a'];

const running: RunningServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    await s.kill();
    removeDir(s.dataDir);
  }
});

async function start(args: string[], dataDir?: string): Promise<RunningServer> {
  const s = await startServer({ args, dataDir });
  running.push(s);
  return s;
}

function range(): string {
  return `start=${nowNs(-3_600_000)}&end=${nowNs(60_000)}`;
}

async function get(url: string, tenant: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { headers: { 'x-scope-orgid': tenant } });
  return { status: res.status, body: await res.text() };
}

/** What every read endpoint shows the tenant, reduced to the tenant markers it contains. */
async function visibleMarkers(url: string, tenant: string): Promise<Record<string, string>> {
  const q = encodeURIComponent('{app="tn"}');
  const out: Record<string, string> = {};
  const streams = await get(`${url}/loki/api/v1/query_range?query=${q}&${range()}&limit=1000`, tenant);
  expect(streams.status, streams.body).toBe(200);
  const lines = (JSON.parse(streams.body) as { data: { result: { values: [string, string][] }[] } }).data.result.flatMap((s) => s.values.map((v) => v[1]));
  out.lines = lines.sort().join(',');
  const values = await get(`${url}/loki/api/v1/label/who/values?${range()}`, tenant);
  out.values = (JSON.parse(values.body) as { data: string[] }).data.sort().join(',');
  const series = await get(`${url}/loki/api/v1/series?match[]=${q}&${range()}`, tenant);
  out.series = (JSON.parse(series.body) as { data: { who: string }[] }).data.map((s) => s.who).sort().join(',');
  const volume = await get(`${url}/loki/api/v1/index/volume?query=${encodeURIComponent('{app="tn"}')}&targetLabels=who&${range()}`, tenant);
  expect(volume.status, volume.body).toBe(200);
  out.volume = (JSON.parse(volume.body) as { data: { result: { metric: { who: string } }[] } }).data.result.map((r) => r.metric.who).sort().join(',');
  const stats = await get(`${url}/loki/api/v1/index/stats?query=${q}&${range()}`, tenant);
  out.statsStreams = String((JSON.parse(stats.body) as { streams: number }).streams);
  const count = await get(`${url}/loki/api/v1/query?query=${encodeURIComponent('sum by (who) (count_over_time({app="tn"}[2h]))')}&time=${nowNs(60_000)}`, tenant);
  out.metric = (JSON.parse(count.body) as { data: { result: { metric: { who: string } }[] } }).data.result.map((r) => r.metric.who).sort().join(',');
  return out;
}

/** The lines a tail for `tenant` sends in its first frames (the backlog). */
async function tailLines(url: string, tenant: string, expected: number): Promise<string[]> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{app="tn"}')}&start=${nowNs(-3_600_000)}&limit=1000`, { headers: { 'x-scope-orgid': tenant } });
  const lines: string[] = [];
  ws.on('message', (d: Buffer) => {
    for (const s of (JSON.parse(d.toString()) as { streams: { values: [string, string][] }[] }).streams) for (const v of s.values) lines.push(v[1]);
  });
  await waitFor(() => lines.length >= expected, `tail backlog of tenant ${tenant}`, 15_000);
  // Give a wrong tenant's entries the chance to show up after the backlog too.
  await new Promise((r) => setTimeout(r, 700));
  ws.close();
  return lines;
}

describe('tenant ids', () => {
  it('flushes, reads back and isolates every odd-but-valid tenant, across a crash after the flush', async () => {
    const s = await start(['--auth-enabled']);
    const t = nowNs(-10_000);
    for (const [i, tenant] of ODD_TENANTS.entries()) {
      const r = await pushJson(s.url, jsonBody([{ stream: { app: 'tn', who: `w${i}` }, values: [[String(t + BigInt(i)), `line of ${i}`]] }]), { tenant });
      expect(r.status, `${tenant}: ${r.body}`).toBe(204);
    }
    const flush = await fetch(`${s.url}/flush`, { method: 'POST' });
    expect(flush.status, await flush.text()).toBe(204);

    // A restart without the WAL reads every tenant from its chunks alone.
    await s.kill();
    running.splice(running.indexOf(s), 1);
    const s2 = await start(['--auth-enabled', '--ingester.wal.enabled', 'false'], s.dataDir);
    for (const [i, tenant] of ODD_TENANTS.entries()) {
      const seen = await visibleMarkers(s2.url, tenant);
      expect(seen, `tenant ${JSON.stringify(tenant)}`).toEqual({ lines: `line of ${i}`, values: `w${i}`, series: `w${i}`, volume: `w${i}`, statsStreams: '1', metric: `w${i}` });
    }
    for (const i of [0, 1, 2, 16]) expect(await tailLines(s2.url, ODD_TENANTS[i]!, 1)).toEqual([`line of ${i}`]);
  }, 120_000);

  it('answers POST /flush with 500, not 204, when a chunk cannot be written', async () => {
    const s = await start([]);
    // A file where the tenant's chunk directory must go makes every write of its chunks fail.
    mkdirSync(join(s.dataDir, 'chunks'), { recursive: true });
    writeFileSync(join(s.dataDir, 'chunks', 'fake'), 'in the way');
    expect((await pushJson(s.url, jsonBody([{ stream: { app: 'f' }, values: [[String(nowNs()), 'kept']] }]))).status).toBe(204);
    const r = await fetch(`${s.url}/flush`, { method: 'POST' });
    const body = await r.text();
    expect(r.status, body).toBe(500);
    expect(body).toMatch(/flush failed: 1 chunk\(s\) could not be written/);
    // The data is still served from memory.
    const q = await fetch(`${s.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="f"}')}&${range()}`);
    expect(await q.text()).toContain('kept');
  });

  it('gives every byte in X-Scope-OrgID a valid tenant or a 400 naming the rule', async () => {
    const s = await start(['--auth-enabled']);
    const allowed = /^[a-zA-Z0-9!\-_.*'()]$/;
    for (let b = 0; b < 256; b++) {
      for (const shape of ['alone', 'inside'] as const) {
        const value = shape === 'alone' ? Buffer.from([b]) : Buffer.concat([Buffer.from('a'), Buffer.from([b]), Buffer.from('b')]);
        const req = Buffer.concat([Buffer.from('GET /loki/api/v1/labels HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Scope-OrgID: '), value, Buffer.from('\r\n\r\n')]);
        const res = await rawRequest(s.url, req);
        const what = `byte 0x${b.toString(16)} ${shape}: ${res.status} ${res.body}`;
        const ch = String.fromCharCode(b);
        // Node trims spaces and tabs around a header value; a lone one is then an empty header.
        const trimmedAway = shape === 'alone' && (b === 0x20 || b === 0x09);
        if (allowed.test(ch) && !(shape === 'alone' && b === 0x2e)) expect(res.status, what).toBe(200);
        else {
          expect([400, 401], what).toContain(res.status);
          if (res.status === 401) expect(trimmedAway, what).toBe(true);
          expect(res.body, what).toMatch(/invalid tenant ID|malformed HTTP request|no org id/);
        }
      }
    }
    // Multi-byte UTF-8 and an over-long id.
    for (const v of [Buffer.from('tenant-é'), Buffer.from('x'.repeat(151)), Buffer.from('a|b'), Buffer.from('a/b'), Buffer.from('..')]) {
      const res = await rawRequest(s.url, Buffer.concat([Buffer.from('GET /loki/api/v1/labels HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Scope-OrgID: '), v, Buffer.from('\r\n\r\n')]));
      expect(res.status, v.toString()).toBe(400);
      expect(res.body).toContain('invalid tenant ID');
    }
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);
  }, 120_000);
});

describe('the internal API', () => {
  const SECRET = 's3cret-for-tests';

  async function internalPush(url: string, headers: Record<string, string>, tenant: string, streams: Parameters<typeof encodePushRecord>[1]) {
    const res = await fetch(`${url}/internal/ingester/push`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', ...headers }, body: encodePushRecord(tenant, streams) });
    return { status: res.status, body: await res.text() };
  }

  async function internalSelect(url: string, headers: Record<string, string>, body: unknown) {
    const res = await fetch(`${url}/internal/ingester/select`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  }

  it('needs the shared secret and a valid tenant, and refuses what the public API refuses', async () => {
    const ing = await start(['--target', 'ingester', '--auth-enabled', '--server.internal-secret', SECRET]);
    const ok = { 'x-narvi-internal-secret': SECRET, 'x-scope-orgid': 'team-a' };
    const entry = (line: string) => ({ ts: nowNs(), line: Buffer.from(line) });
    const good = [{ canonical: '{app="int"}', entries: [entry('secret line of team-a')] }];

    expect((await internalPush(ing.url, { 'x-scope-orgid': 'team-a' }, 'team-a', good)).status).toBe(403);
    expect((await internalPush(ing.url, { ...ok, 'x-narvi-internal-secret': 'wrong' }, 'team-a', good)).status).toBe(403);
    const noTenant = await internalPush(ing.url, { 'x-narvi-internal-secret': SECRET }, 'team-a', good);
    expect(noTenant.status).toBe(401);
    for (const bad of ['a/b', '../../../x', '..']) {
      const r = await internalPush(ing.url, { ...ok, 'x-scope-orgid': bad }, bad, good);
      expect(r.status, bad).toBe(400);
      expect(r.body).toContain('invalid tenant ID');
    }
    // An empty tenant in the record cannot hide behind a valid header.
    expect((await internalPush(ing.url, ok, '', good)).body).toContain('must be the same');
    const big = await internalPush(ing.url, ok, 'team-a', [{ canonical: '{app="int"}', entries: [entry('x'.repeat(5 * 1024 * 1024))] }]);
    expect(big.status).toBe(400);
    expect(big.body).toContain("Max entry size '256000' bytes exceeded");
    const notCanonical = await internalPush(ing.url, ok, 'team-a', [{ canonical: '{b="1",a="2"}', entries: [entry('x')] }]);
    expect(notCanonical.status).toBe(400);
    expect(notCanonical.body).toContain('not in canonical form');
    const tooOld = await internalPush(ing.url, ok, 'team-a', [{ canonical: '{app="int"}', entries: [{ ts: 1n, line: Buffer.from('old') }] }]);
    expect(tooOld.body).toContain('timestamp too old');

    expect((await internalPush(ing.url, ok, 'team-a', good)).status).toBe(200);

    const badMatcher = await internalSelect(ing.url, ok, { matchers: [{ type: '=', name: 'app', value: 'int' }], start: '0', end: '1' });
    expect(badMatcher.status).toBe(400);
    expect(badMatcher.body.toString()).toContain('each matcher is');
    const sel = { matchers: [{ op: '=', name: 'app', value: 'int' }], start: String(nowNs(-3_600_000)), end: String(nowNs(60_000)) };
    expect((await internalSelect(ing.url, { 'x-scope-orgid': 'team-a' }, sel)).status).toBe(403);
    expect((await internalSelect(ing.url, { 'x-narvi-internal-secret': SECRET }, { ...sel, tenant: 'team-a' })).status).toBe(401);
    const other = await internalSelect(ing.url, { ...ok, 'x-scope-orgid': 'team-b' }, sel);
    expect(other.status).toBe(200);
    expect(other.body.length).toBe(0);
    // The body may not name another tenant than the header.
    expect((await internalSelect(ing.url, { ...ok, 'x-scope-orgid': 'team-b' }, { ...sel, tenant: 'team-a' })).status).toBe(400);
    const mine = await internalSelect(ing.url, ok, sel);
    expect(mine.status).toBe(200);
    expect(mine.body.length).toBeGreaterThan(0);
  });

  it('works end to end through a distributor and a querier that share the secret', async () => {
    const ing = await start(['--target', 'ingester', '--auth-enabled', '--server.internal-secret', SECRET]);
    const dist = await start(['--target', 'distributor', '--auth-enabled', '--distributor.ingesters', ing.url, '--server.internal-secret', SECRET]);
    const q = await start(['--target', 'querier', '--auth-enabled', '--querier.ingesters', ing.url, '--server.internal-secret', SECRET]);
    const wrong = await start(['--target', 'distributor', '--auth-enabled', '--distributor.ingesters', ing.url, '--server.internal-secret', 'other']);
    const t = String(nowNs());
    expect((await pushJson(dist.url, jsonBody([{ stream: { app: 'e2e' }, values: [[t, 'through']] }]), { tenant: 'team-a' })).status).toBe(204);
    expect((await pushJson(wrong.url, jsonBody([{ stream: { app: 'e2e' }, values: [[t, 'refused']] }]), { tenant: 'team-a' })).status).toBe(500);
    const read = async (tenant: string) => (await get(`${q.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="e2e"}')}&${range()}`, tenant)).body;
    expect(await read('team-a')).toContain('through');
    expect(await read('team-a')).not.toContain('refused');
    expect(await read('team-b')).not.toContain('through');
  }, 60_000);

  it('serves only loopback peers while no secret is set', async () => {
    const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
    const ing = await startServer({ args: ['--target', 'ingester', '--server.http-listen-address', '0.0.0.0'] });
    running.push(ing);
    const sel = { matchers: [], start: '0', end: String(nowNs()) };
    expect((await internalSelect(`http://127.0.0.1:${ing.port}`, { 'x-scope-orgid': 'fake' }, sel)).status).toBe(200);
    if (!external) return; // no non-loopback address on this machine to try from
    const r = await internalSelect(`http://${external.address}:${ing.port}`, { 'x-scope-orgid': 'fake' }, sel);
    expect(r.status).toBe(403);
    expect(r.body.toString()).toContain('loopback');
  });
});

describe('with auth on', () => {
  it('keeps tenant ids off /metrics unless server.metrics_tenant_label is set', async () => {
    const s = await start(['--auth-enabled']);
    expect((await pushJson(s.url, jsonBody([{ stream: { app: 'm' }, values: [[String(nowNs()), 'x']] }]), { tenant: 'secret-tenant-name' })).status).toBe(204);
    expect((await pushJson(s.url, jsonBody([{ stream: { app: 'm' }, values: [[String(nowNs()), 'y']] }]), { tenant: 'other-tenant' })).status).toBe(204);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).not.toContain('secret-tenant-name');
    expect(text).not.toContain('other-tenant');
    // Summed, not dropped: both tenants' lines are counted.
    expect(text).toMatch(/^narvi_distributor_lines_received_total 2$/m);
    const shown = await start(['--auth-enabled', '--server.metrics-tenant-label', 'true']);
    expect((await pushJson(shown.url, jsonBody([{ stream: { app: 'm' }, values: [[String(nowNs()), 'x']] }]), { tenant: 'secret-tenant-name' })).status).toBe(204);
    expect(await (await fetch(`${shown.url}/metrics`)).text()).toContain('tenant="secret-tenant-name"');
  });

  it('makes POST /flush an admin action', async () => {
    const s = await start(['--auth-enabled', '--server.internal-secret', 'adm']);
    const denied = await fetch(`${s.url}/flush`, { method: 'POST', headers: { 'x-scope-orgid': 'team-a' } });
    expect(denied.status).toBe(403);
    expect(await denied.text()).toContain('X-Narvi-Internal-Secret');
    expect((await fetch(`${s.url}/flush`, { method: 'POST', headers: { 'x-narvi-internal-secret': 'adm' } })).status).toBe(204);
  });
});
