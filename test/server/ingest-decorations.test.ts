import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonBody, nowNs, pushJson, pushProto } from '../helpers/push.js';
import { afterEach } from 'vitest';
import { removeDir, serverSlot, startServer, suiteServer, tempDir, testServers } from '../helpers/server.js';

/**
 * Loki 3's ingest decorations through a real server, for JSON and protobuf pushes: a `service_name` label
 * from the first of limits.discover_service_name's labels (else unknown_service, never over the stream's
 * own), and `detected_level` structured metadata that queries select and group by. Both switch off by
 * flag and per tenant, and a resent batch is still recognised as duplicates.
 */

interface StreamOut {
  stream: Record<string, string>;
  values: [string, string][];
}

const headers = (tenant?: string): Record<string, string> => (tenant ? { 'x-scope-orgid': tenant } : {});

async function get<T>(url: string, path: string, params: Record<string, string>, tenant?: string): Promise<T> {
  const res = await fetch(`${url}${path}?${new URLSearchParams(params)}`, { headers: headers(tenant) });
  const text = await res.text();
  expect(res.status, `${path} ${JSON.stringify(params)}: ${text}`).toBe(200);
  return (JSON.parse(text) as { data: T }).data;
}

async function logs(url: string, query: string, tenant?: string): Promise<StreamOut[]> {
  const data = await get<{ result: StreamOut[] }>(url, '/loki/api/v1/query_range', { query, start: String(nowNs(-3_600_000)), end: String(nowNs(60_000)), limit: '1000', direction: 'forward' }, tenant);
  return data.result;
}

/** Each entry as `line ← {labels}`, sorted. */
async function entries(url: string, query: string, tenant?: string): Promise<string[]> {
  const out: string[] = [];
  for (const s of await logs(url, query, tenant)) {
    const labels = Object.keys(s.stream).sort().map((k) => `${k}=${s.stream[k]}`).join(',');
    for (const [, line] of s.values) out.push(`${line} ← {${labels}}`);
  }
  return out.sort();
}

async function instant(url: string, query: string, tenant?: string): Promise<Record<string, string>> {
  const data = await get<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(url, '/loki/api/v1/query', { query, time: String(nowNs(1_000)) }, tenant);
  const out: Record<string, string> = {};
  for (const r of data.result) out[Object.values(r.metric).join(',')] = r.value[1];
  return out;
}

async function labelValues(url: string, name: string, tenant?: string): Promise<string[]> {
  return get<string[]>(url, `/loki/api/v1/label/${name}/values`, { start: String(nowNs(-3_600_000)), end: String(nowNs(60_000)) }, tenant);
}

describe('service_name and detected_level with the defaults', () => {
  const server = suiteServer({ decorations: true });
  const base = nowNs(-60_000);
  const at = (k: number) => String(base + BigInt(k));
  const batch = jsonBody([
    {
      stream: { app: 'web' },
      values: [
        [at(1), 'level=error msg=boom'],
        [at(2), '{"level":"warn","msg":"slow"}'],
        [at(3), 'GET /health 200'],
        [at(4), '[INFO] started'],
        [at(5), 'no level here', { severity: 'DEBUG' }],
      ],
    },
    { stream: { container: 'db', pod: 'db-0' }, values: [[at(6), 'ERROR: disk full']] },
    { stream: { env: 'dev' }, values: [[at(7), 'debug: cache miss']] },
    { stream: { service_name: 'explicit', app: 'ignored' }, values: [[at(8), 'fine']] },
    { stream: { app: 'web', level: 'Warning' }, values: [[at(9), 'an error, says the line']] },
  ]);

  it('adds service_name from app, container, or unknown_service, keeps an explicit one, for JSON and protobuf', async () => {
    const url = server().url;
    const r = await pushJson(url, batch);
    expect(r.status, r.body).toBe(204);
    const p = await pushProto(url, [{ labels: '{job="batch", host="h1"}', entries: [{ ts: BigInt(at(10)), line: 'fatal: out of memory' }] }]);
    expect(p.status, p.body).toBe(204);

    expect(await labelValues(url, 'service_name')).toEqual(['batch', 'db', 'explicit', 'unknown_service', 'web']);
    expect(await entries(url, '{service_name="db"}')).toEqual(['ERROR: disk full ← {container=db,detected_level=error,pod=db-0,service_name=db}']);
    expect(await entries(url, '{service_name="unknown_service"}')).toEqual(['debug: cache miss ← {detected_level=debug,env=dev,service_name=unknown_service}']);
    expect(await entries(url, '{service_name="explicit"}')).toEqual(['fine ← {app=ignored,detected_level=unknown,service_name=explicit}']);
    expect(await entries(url, '{service_name="batch"}')).toEqual(['fatal: out of memory ← {detected_level=fatal,host=h1,job=batch,service_name=batch}']);
  });

  it('selects and groups by detected_level: from logfmt, JSON, words, metadata and a level label', async () => {
    const url = server().url;
    expect(await entries(url, '{service_name="web"} | detected_level="error"')).toEqual(['level=error msg=boom ← {app=web,detected_level=error,service_name=web}']);
    expect(await instant(url, 'sum by (detected_level) (count_over_time({service_name="web"}[1h]))')).toEqual({ error: '1', warn: '2', unknown: '1', info: '1', debug: '1' });
    // The level label wins over the line's words, normalised.
    expect(await entries(url, '{app="web", level="Warning"}')).toEqual(['an error, says the line ← {app=web,detected_level=warn,level=Warning,service_name=web}']);
  });

  it('recognises a resent batch as duplicates: nothing is stored twice', async () => {
    const url = server().url;
    const total = async () => Object.values(await instant(url, 'sum(count_over_time({service_name=~".+"}[1h]))'))[0];
    expect(await total()).toBe('10');
    const r = await pushJson(url, batch);
    expect(r.status, r.body).toBe(204);
    expect(await total()).toBe('10');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/narvi_ingester_duplicate_entries_total\{tenant="fake"\} 9\b/);
  });
});

describe('switching the decorations off', () => {
  const start = testServers();
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) removeDir(d);
  });

  it('by flag: an empty --limits.discover-service-name and --limits.discover-log-levels=false store streams as pushed', async () => {
    const { url } = await start({ decorations: true, args: ['--limits.discover-service-name=', '--limits.discover-log-levels=false'] });
    const r = await pushJson(url, jsonBody([{ stream: { app: 'web' }, values: [[String(nowNs(-1_000)), 'level=error msg=boom']] }]));
    expect(r.status, r.body).toBe(204);
    expect(await labelValues(url, 'service_name')).toEqual([]);
    expect(await entries(url, '{app="web"}')).toEqual(['level=error msg=boom ← {app=web}']);
  });

  it('per tenant in the overrides file, the other tenants keeping the defaults', async () => {
    const dir = tempDir('narvi-decorations-');
    dirs.push(dir);
    const file = join(dir, 'overrides.yaml');
    writeFileSync(file, 'overrides:\n  plain:\n    discover_service_name: []\n    discover_log_levels: false\n  teams:\n    discover_service_name: [team, app]\n');
    const s = await start({ decorations: true, args: ['--auth-enabled', '--limits.per-tenant-override-config', file] });
    const body = jsonBody([{ stream: { app: 'web', team: 'core' }, values: [[String(nowNs(-1_000)), 'level=error msg=boom']] }]);
    for (const tenant of ['plain', 'teams', 'other']) {
      const r = await pushJson(s.url, body, { tenant });
      expect(r.status, r.body).toBe(204);
    }
    expect(await entries(s.url, '{app="web"}', 'plain')).toEqual(['level=error msg=boom ← {app=web,team=core}']);
    expect(await entries(s.url, '{app="web"}', 'teams')).toEqual(['level=error msg=boom ← {app=web,detected_level=error,service_name=core,team=core}']);
    expect(await entries(s.url, '{app="web"}', 'other')).toEqual(['level=error msg=boom ← {app=web,detected_level=error,service_name=web,team=core}']);
  });
});

describe('detected_level across a restart', () => {
  const slot = serverSlot();

  it('replays the decorated entries from the WAL after kill -9, and a resend is still a duplicate', async () => {
    const dataDir = slot.dir();
    slot.server = await startServer({ dataDir, decorations: true });
    const at = (k: number) => String(nowNs(-30_000) + BigInt(k));
    const body = jsonBody([
      { stream: { app: 'api' }, values: [[at(1), 'level=warn msg=slow'], [at(2), 'plain line'], [at(3), '{"lvl":"err"}', { trace_id: 't1' }]] },
    ]);
    expect((await pushJson(slot.server.url, body)).status).toBe(204);
    await slot.server.kill();
    slot.server = await startServer({ dataDir, decorations: true });
    const url = slot.server.url;
    const want = [
      'level=warn msg=slow ← {app=api,detected_level=warn,service_name=api}',
      'plain line ← {app=api,detected_level=unknown,service_name=api}',
      '{"lvl":"err"} ← {app=api,detected_level=error,service_name=api,trace_id=t1}',
    ];
    expect(await entries(url, '{service_name="api"}')).toEqual(want);
    expect((await pushJson(url, body)).status).toBe(204);
    expect(await entries(url, '{service_name="api"}')).toEqual(want);
  });
});
