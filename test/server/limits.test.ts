import { describe, expect, it } from 'vitest';
import { readAllEntries } from '../helpers/store-reader.js';
import { jsonBody, nowNs, pushJson } from '../helpers/push.js';
import { testServers } from '../helpers/server.js';

const start = testServers();

describe('per-tenant limits', () => {
  it('answers 429 when a push exceeds the ingestion rate, storing nothing of it', async () => {
    // 0.01 MB/s with a 0.02 MB burst: the first ~20 KB pass, a 30 KB push cannot.
    const server = await start({ args: ['--limits.ingestion-rate-mb', '0.01', '--limits.ingestion-burst-size-mb', '0.02'] });
    const t = nowNs();
    const small = await pushJson(server.url, jsonBody([{ stream: { app: 'rate' }, values: [[String(t), 'x'.repeat(1000)]] }]));
    expect(small.status).toBe(204);
    const big = await pushJson(server.url, jsonBody([{ stream: { app: 'rate' }, values: [[String(t + 1n), 'y'.repeat(30_000)]] }]));
    expect(big.status).toBe(429);
    expect(big.body).toContain("Ingestion rate limit exceeded for user fake (limit: 10486 bytes/sec) while attempting to ingest '1' lines totaling '30000' bytes");
    const stored = await readAllEntries(server);
    expect(stored.map((e) => e.line.length)).toEqual([1000]);
  });

  it('answers 429 for new streams beyond the stream limit and keeps existing streams flowing', async () => {
    const server = await start({ args: ['--limits.max-global-streams-per-user', '2'] });
    const t = String(nowNs());
    expect((await pushJson(server.url, jsonBody([{ stream: { s: '1' }, values: [[t, 'a']] }, { stream: { s: '2' }, values: [[t, 'b']] }]))).status).toBe(204);
    const r = await pushJson(server.url, jsonBody([{ stream: { s: '3' }, values: [[t, 'c']] }, { stream: { s: '1' }, values: [[String(BigInt(t) + 1n), 'a2']] }]));
    expect(r.status).toBe(429);
    expect(r.body).toContain('Maximum active stream limit exceeded when trying to create stream {s="3"}');
    expect(r.body).toContain('total ignored: 1 out of 2');
    const stored = await readAllEntries(server);
    expect(stored.map((e) => e.line).sort()).toEqual(['a', 'a2', 'b']);
  });

  it('truncates long lines when configured to, instead of rejecting them', async () => {
    const server = await start({ args: ['--limits.max-line-size', '10B', '--limits.max-line-size-truncate'] });
    const r = await pushJson(server.url, jsonBody([{ stream: { app: 't' }, values: [[String(nowNs()), 'ééééééé-long']] }]));
    expect(r.status).toBe(204);
    const stored = await readAllEntries(server);
    // 10 bytes cut back to a character boundary: five two-byte characters.
    expect(stored.map((e) => e.line)).toEqual(['ééééé']);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/narvi_distributor_lines_truncated_total\{tenant="fake"\} 1/);
  });

  it('accepts old timestamps for backfill when reject_old_samples is off', async () => {
    const server = await start({ args: ['--limits.reject-old-samples', 'false'] });
    const old = nowNs() - 30n * 86_400_000_000_000n;
    expect((await pushJson(server.url, jsonBody([{ stream: { app: 'backfill' }, values: [[String(old), 'from last month']] }]))).status).toBe(204);
    expect((await readAllEntries(server)).map((e) => e.ts)).toEqual([old]);
  });
});

describe('tenancy', () => {
  it('with auth on, requires X-Scope-OrgID, validates it and keeps tenants apart', async () => {
    const server = await start({ args: ['--auth-enabled'] });
    const body = (line: string) => jsonBody([{ stream: { app: 'x' }, values: [[String(nowNs()), line]] }]);
    const missing = await pushJson(server.url, body('none'));
    expect(missing.status).toBe(401);
    expect(missing.body).toContain('X-Scope-OrgID');
    const invalid = await pushJson(server.url, body('bad'), { tenant: '../etc' });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toContain('invalid tenant ID');
    expect((await pushJson(server.url, body('for a'), { tenant: 'team-a' })).status).toBe(204);
    expect((await pushJson(server.url, body('for b'), { tenant: 'team-b' })).status).toBe(204);
    expect((await readAllEntries(server, 'team-a')).map((e) => e.line)).toEqual(['for a']);
    expect((await readAllEntries(server, 'team-b')).map((e) => e.line)).toEqual(['for b']);
  });

  it('with auth off, every push belongs to tenant fake whatever the header says', async () => {
    const server = await start();
    expect((await pushJson(server.url, jsonBody([{ stream: { app: 'x' }, values: [[String(nowNs()), 'anon']] }]), { tenant: 'someone' })).status).toBe(204);
    expect((await readAllEntries(server, 'fake')).map((e) => e.line)).toEqual(['anon']);
    expect(await readAllEntries(server, 'someone')).toEqual([]);
  });
});
