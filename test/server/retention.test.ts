import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonBody, pushJson } from '../helpers/push.js';
import { removeDir, startServer, tempDir, waitFor, type RunningServer } from '../helpers/server.js';

const running: RunningServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    await s.kill();
    removeDir(s.dataDir);
  }
  for (const d of dirs.splice(0)) removeDir(d);
});

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Every entry's age; its line names it, so a result shows which ages survived. */
const AGES: Record<string, number> = { '5d': 5 * DAY, '3d': 3 * DAY, '36h': 36 * HOUR, '12h': 12 * HOUR, '1m': MIN };

function ns(ageMs: number): string {
  return String(BigInt(Date.now() - ageMs) * 1_000_000n);
}

/** Entries of the given ages, oldest first, each line `<stream>@<age>`. */
function entries(name: string, ages: string[]): [string, string][] {
  return ages.map((a) => [ns(AGES[a]!), `${name}@${a}`]);
}

async function start(args: string[], configYaml?: string): Promise<RunningServer> {
  const extra = [...args];
  if (configYaml !== undefined) {
    const dir = tempDir('narvi-retention-cfg-');
    dirs.push(dir);
    writeFileSync(join(dir, 'narvi.yaml'), configYaml);
    extra.push('--config.file', join(dir, 'narvi.yaml'));
  }
  const s = await startServer({ args: extra });
  running.push(s);
  return s;
}

async function get(url: string, tenant?: string): Promise<unknown> {
  const res = await fetch(url, { headers: tenant ? { 'x-scope-orgid': tenant } : {} });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body}`);
  return JSON.parse(body);
}

function range(): string {
  return `start=${ns(6 * DAY)}&end=${ns(-MIN)}`;
}

/** What each read path shows for `selector`: lines, per-stream counts from a metric query, series, label values, volume. */
async function visible(url: string, selector: string, tenant?: string, lineFilter = '', limit = 1000) {
  const q = encodeURIComponent(selector + lineFilter);
  const streams = (await get(`${url}/loki/api/v1/query_range?query=${q}&${range()}&limit=${limit}`, tenant)) as { data: { result: { values: [string, string][] }[] } };
  const lines = streams.data.result.flatMap((s) => s.values.map((v) => v[1])).sort();
  const mq = encodeURIComponent(`sum by (app) (count_over_time(${selector}${lineFilter} [7d]))`);
  const instant = (await get(`${url}/loki/api/v1/query?query=${mq}&time=${ns(-MIN)}`, tenant)) as { data: { result: { metric: { app: string }; value: [number, string] }[] } };
  const counts = Object.fromEntries(instant.data.result.map((r) => [r.metric.app, Number(r.value[1])]));
  const series = ((await get(`${url}/loki/api/v1/series?match[]=${encodeURIComponent(selector)}&${range()}`, tenant)) as { data: { app: string }[] }).data.map((s) => s.app).sort();
  const values = ((await get(`${url}/loki/api/v1/label/app/values?${range()}`, tenant)) as { data: string[] }).data.sort();
  const volume = ((await get(`${url}/loki/api/v1/index/volume?query=${encodeURIComponent(selector)}&targetLabels=app&${range()}`, tenant)) as { data: { result: { metric: { app: string } }[] } }).data.result
    .map((r) => r.metric.app)
    .sort();
  const stats = (await get(`${url}/loki/api/v1/index/stats?query=${encodeURIComponent(selector)}&${range()}`, tenant)) as { streams: number };
  return { lines, counts, series, values, volume, statsStreams: stats.streams };
}

async function push(url: string, streams: { stream: Record<string, string>; values: [string, string][] }[], tenant?: string): Promise<void> {
  const r = await pushJson(url, jsonBody(streams), { tenant });
  expect(r.status, r.body).toBe(204);
}

async function flush(url: string): Promise<void> {
  const r = await fetch(`${url}/flush`, { method: 'POST' });
  expect(r.status, await r.text()).toBe(204);
}

const RULES = `
limits:
  reject_old_samples: false
  retention_period: 24h
  retention_stream:
    - selector: '{app="ret"}'
      priority: 1
      period: 48h
    - selector: '{namespace="dev"}'
      priority: 2
      period: 96h
`;

// One run on the query thread, one with every query split across worker threads (worker_min_bytes 0),
// and one where the querier is a separate process reading an ingester's memory over HTTP.
describe.each([
  ['in process', ['--querier.workers', '1']],
  ['on worker threads', ['--querier.workers', '2', '--querier.worker-min-bytes', '0B']],
])('retention at query time (%s)', (_name, args) => {
  it('hides expired lines from every read path at once, flushed or in memory, by the winning rule', async () => {
    const s = await start(args, RULES);
    // Flushed: chunks in the store hold every age.
    await push(s.url, [
      { stream: { app: 'ret', namespace: 'prod' }, values: entries('prod', ['5d', '3d', '36h', '12h']) },
      { stream: { app: 'ret', namespace: 'dev' }, values: entries('dev', ['5d', '3d', '36h', '12h']) },
      { stream: { app: 'other' }, values: entries('other', ['5d', '3d', '36h', '12h']) },
      { stream: { app: 'gone' }, values: entries('gone', ['5d', '3d']) },
    ]);
    await flush(s.url);
    // In memory: new lines of the same streams, and streams only memory holds.
    await push(s.url, [
      { stream: { app: 'ret', namespace: 'prod' }, values: entries('prod', ['1m']) },
      { stream: { app: 'ret', namespace: 'dev' }, values: entries('dev', ['1m']) },
      { stream: { app: 'other' }, values: entries('other', ['1m']) },
      { stream: { app: 'memold' }, values: entries('memold', ['3d', '36h', '1m']) },
      { stream: { app: 'memgone' }, values: entries('memgone', ['5d', '3d', '36h']) },
    ]);

    // prod: only {app="ret"} matches (48h); dev: {namespace="dev"} outranks it (96h); the rest: 24h.
    const want = {
      lines: ['dev@12h', 'dev@1m', 'dev@36h', 'dev@3d', 'memold@1m', 'other@12h', 'other@1m', 'prod@12h', 'prod@1m', 'prod@36h'],
      counts: { ret: 7, other: 2, memold: 1 },
      series: ['memold', 'other', 'ret', 'ret'],
      values: ['memold', 'other', 'ret'],
      volume: ['memold', 'other', 'ret'],
      statsStreams: 4,
    };
    expect(await visible(s.url, '{app=~".+"}')).toEqual(want);
    // A regex line filter makes the query isolated (always on a worker when there are workers).
    const filtered = await visible(s.url, '{app=~".+"}', undefined, ' |~ "(prod|dev|other|memold|gone|memgone)@.*"');
    expect(filtered.lines).toEqual(want.lines);
    expect(filtered.counts).toEqual(want.counts);

    // A stream whose data is all expired answers nothing, also when asked for by name.
    const gone = (await get(`${s.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="gone"}')}&${range()}`)) as { data: { result: unknown[] } };
    expect(gone.data.result).toEqual([]);
  }, 60_000);
});

describe('retention with the querier in its own process', () => {
  it('filters what it reads from a remote ingester', async () => {
    const ing = await start(['--target', 'ingester'], RULES);
    const q = await start(['--target', 'querier', '--querier.ingesters', ing.url], RULES);
    const d = await start(['--target', 'distributor', '--distributor.ingesters', ing.url], RULES);
    await push(d.url, [
      { stream: { app: 'ret', namespace: 'dev' }, values: entries('dev', ['5d', '3d', '1m']) },
      { stream: { app: 'memgone' }, values: entries('memgone', ['5d', '36h']) },
    ]);
    const seen = await visible(q.url, '{app=~".+"}');
    expect(seen.lines).toEqual(['dev@1m', 'dev@3d']);
    expect(seen.series).toEqual(['ret']);
    expect(seen.counts).toEqual({ ret: 2 });
  }, 60_000);
});

describe('per-tenant overrides file', () => {
  const T = (yaml: string) => yaml.trimStart();
  /** A new overrides file holding `text`, in a directory removed after the test. */
  const overridesFile = (text: string) => {
    const dir = tempDir('narvi-overrides-');
    dirs.push(dir);
    const file = join(dir, 'overrides.yaml');
    writeFileSync(file, text);
    return file;
  };
  /** Replaces the file in one step, as a ConfigMap update or an editor's save-and-rename does: a reload never reads half of it. */
  const replace = (file: string, text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };

  it('applies each tenant its own retention and limits, follows edits within the period, and keeps the old overrides when the file breaks', async () => {
    const file = overridesFile(
      T(`
overrides:
  t1:
    retention_period: 48h
  t2:
    max_entries_limit_per_query: 5
`),
    );
    const s = await start(['--auth-enabled', '--limits.reject-old-samples', 'false', '--limits.per-tenant-override-config', file, '--limits.per-tenant-override-period', '200ms']);
    for (const t of ['t1', 't2', 't3']) {
      await push(s.url, [{ stream: { app: 'x', team: 'a' }, values: entries(t, ['5d', '3d', '36h', '1m']) }], t);
    }
    await flush(s.url);
    const lines = async (t: string) => (await visible(s.url, '{app="x"}', t, '', 5)).lines;
    expect(await lines('t1')).toEqual(['t1@1m', 't1@36h']);
    expect(await lines('t2')).toEqual(['t2@1m', 't2@36h', 't2@3d', 't2@5d']);
    expect(await lines('t3')).toEqual(['t3@1m', 't3@36h', 't3@3d', 't3@5d']);
    // A non-retention key: t2's own max_entries_limit_per_query refuses limit=6, t3 is unaffected.
    const over = await fetch(`${s.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="x"}')}&${range()}&limit=6`, { headers: { 'x-scope-orgid': 't2' } });
    expect(over.status).toBe(400);
    expect(await over.text()).toContain('max entries limit per query exceeded, limit > max_entries_limit (6 > 5)');
    const t3 = await fetch(`${s.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="x"}')}&${range()}&limit=6`, { headers: { 'x-scope-orgid': 't3' } });
    expect(t3.status).toBe(200);

    // Edited while running: t1 shortens to 24h, t2 keeps 96h for team a by a stream rule (24h otherwise).
    replace(
      file,
      T(`
overrides:
  t1:
    retention_period: 24h
  t2:
    retention_period: 24h
    retention_stream:
      - selector: '{team="a"}'
        priority: 1
        period: 96h
`),
    );
    await waitFor(async () => (await lines('t1')).join() === 't1@1m', 't1 at 24h');
    await waitFor(async () => (await lines('t2')).join() === 't2@1m,t2@36h,t2@3d', 't2 by its stream rule');
    expect(await lines('t3')).toEqual(['t3@1m', 't3@36h', 't3@3d', 't3@5d']);

    // Broken files at reload: the previous overrides stay in force and the failure is counted and logged.
    const failures = async () => {
      const m = await (await fetch(`${s.url}/metrics`)).text();
      const ok = /^narvi_runtime_config_last_reload_successful (\d)$/m.exec(m)?.[1];
      const n = Number(/^narvi_runtime_config_reloads_total\{status="failure"\} (\d+)$/m.exec(m)?.[1] ?? 0);
      return { ok, n };
    };
    // Each broken file is known to have been read once its own error is logged (each is logged once).
    const broken: [string, RegExp][] = [
      ['overrides:\n  t1: [not, a, mapping\n', /overrides file refused[^\n]*is not valid YAML/],
      ['overrides:\n  t1:\n    retention_period: 5h\n', /overrides file refused[^\n]*retention_period must be 0s \(keep for ever\) or at least 24h/],
      ['overrides:\n  t1:\n    no_such_limit: 1\n', /overrides file refused[^\n]*unknown limits key \\?"no_such_limit\\?"/],
    ];
    for (const [text, logged] of broken) {
      replace(file, text);
      await waitFor(() => logged.test(s.output()), `the refusal of ${JSON.stringify(text)} logged`);
      await waitFor(async () => (await failures()).n > 0, 'the failure counted');
      expect((await failures()).ok).toBe('0');
      expect(await lines('t1')).toEqual(['t1@1m']);
      expect(await lines('t2')).toEqual(['t2@1m', 't2@36h', 't2@3d']);
    }

    // Fixed again (the tenants removed): everyone is back to the global limits, which keep everything.
    replace(file, 'overrides: {}\n');
    await waitFor(async () => (await lines('t1')).length === 4, 't1 back to keep-forever');
    expect(await lines('t2')).toEqual(['t2@1m', 't2@36h', 't2@3d', 't2@5d']);
    expect((await failures()).ok).toBe('1');
  }, 90_000);

  it('gives a tenant its own push and query limits, not only retention', async () => {
    const file = overridesFile(
      T(`
overrides:
  small:
    max_line_size: 10B
    max_global_streams_per_user: 1
  narrow:
    max_query_series: 1
  slow:
    ingestion_rate_mb: 0.0001
    ingestion_burst_size_mb: 0.0001
`),
    );
    const s = await start(['--auth-enabled', '--runtime-config.file', file]);
    const line = (t: string, stream: Record<string, string>, text: string) => pushJson(s.url, jsonBody([{ stream, values: [[ns(0), text]] }]), { tenant: t });
    // max_line_size: 10 bytes for "small", the default for everyone else.
    const long = await line('small', { app: 'a' }, 'x'.repeat(20));
    expect(long.status).toBe(400);
    expect(long.body).toContain("Max entry size '10' bytes exceeded");
    expect((await line('other', { app: 'a' }, 'x'.repeat(20))).status).toBe(204);
    // max_global_streams_per_user: one stream for "small".
    expect((await line('small', { app: 'a' }, 'short')).status).toBe(204);
    const second = await line('small', { app: 'b' }, 'short');
    expect(second.status).toBe(429);
    expect(second.body).toContain("user: 'small' (limit: 1)");
    expect((await line('other', { app: 'b' }, 'short')).status).toBe(204);
    // Ingestion rate: ~105 bytes a second for "slow".
    const fast = await line('slow', { app: 'a' }, 'y'.repeat(500));
    expect(fast.status).toBe(429);
    expect(fast.body).toContain('Ingestion rate limit exceeded for user slow (limit: 105 bytes/sec)');
    expect((await line('other', { app: 'c' }, 'y'.repeat(500))).status).toBe(204);
    // max_query_series: "narrow" may not see two series; "other" (three streams) may.
    for (const app of ['a', 'b']) expect((await line('narrow', { app }, 'n')).status).toBe(204);
    const mq = encodeURIComponent('count_over_time({app=~".+"}[1h])');
    const wide = await fetch(`${s.url}/loki/api/v1/query?query=${mq}`, { headers: { 'x-scope-orgid': 'other' } });
    expect(wide.status).toBe(200);
    expect(((await wide.json()) as { data: { result: unknown[] } }).data.result).toHaveLength(3);
    const refused = await fetch(`${s.url}/loki/api/v1/query?query=${mq}`, { headers: { 'x-scope-orgid': 'narrow' } });
    const text = await refused.text();
    expect(refused.status, text).toBe(400);
    expect(text).toContain('maximum number of series (1) reached for a single query');
  }, 60_000);

  it('refuses to start on a wrong overrides file, naming the file, the tenant and the key', async () => {
    const file = overridesFile('overrides:\n  team-a:\n    retention_stream:\n      - selector: \'{ns="dev"}\'\n        period: 1h\n');
    for (const [setup, want] of [
      // The log line escapes quotes (logfmt): \\?" matches either spelling.
      [() => undefined, /per-tenant overrides file .*overrides\.yaml: overrides\.\\?"team-a\\?": limits\.retention_stream\[0\]\.period: retention period must be >= 24h, got \\?"1h\\?"/],
      [() => writeFileSync(file, 'overrides:\n  a:\n    per_tenant_override_config: x\n'), /overrides\.\\?"a\\?"\.per_tenant_override_config cannot be set per tenant/],
      [() => writeFileSync(file, 'limits:\n  retention_period: 48h\n'), /unknown key \\?"limits\\?"; the file holds \\?"overrides:/],
      [() => removeDir(dirname(file)), /cannot read per-tenant overrides file .*ENOENT/],
    ] as const) {
      setup();
      const dataDir = tempDir();
      dirs.push(dataDir);
      await expect(startServer({ dataDir, args: ['--runtime-config.file', file] })).rejects.toThrow(want);
    }
  }, 60_000);
});
