import { afterEach, describe, expect, it } from 'vitest';
import { jsonBody, pushJson } from '../helpers/push.js';
import WebSocket from 'ws';
import { removeDir, startServer, tempDir, waitFor, type RunningServer } from '../helpers/server.js';

/**
 * The delete API against real server processes: a request hides its lines from every query at once
 * (flushed chunks and ingester memory, on the query thread and on worker threads), only for its tenant,
 * until it is cancelled; bad requests change nothing.
 */

const running: RunningServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    await s.kill();
    removeDir(s.dataDir);
  }
});

// Every query goes to the two worker threads when it spans two streams or more (worker_min_bytes 0).
const WORKERS = ['--querier.workers', '2', '--querier.worker-min-bytes', '0'];

async function start(args: string[] = [], dataDir?: string): Promise<RunningServer> {
  const s = await startServer({ args: [...WORKERS, ...args], dataDir });
  running.push(s);
  return s;
}

const SEC = 1000;
// Whole seconds, half an hour ago: delete bounds are kept in milliseconds, as Loki keeps them.
const T0 = Math.floor(Date.now() / SEC) * SEC - 30 * 60 * SEC;
const PODS = ['p1', 'p2', 'p3'];
const N = 60;

function ns(ms: number): string {
  return (BigInt(ms) * 1_000_000n).toString();
}

function line(pod: string, i: number): string {
  return `pod=${pod} i=${i} ${i % 3 === 0 ? 'secret' : 'ok'} token`;
}

/** Pushes entries i in [from, to) for app=del (three pods) and app=other, to `tenant`. */
async function push(url: string, from: number, to: number, tenant?: string): Promise<void> {
  const streams = [...PODS.map((pod) => ({ app: 'del', pod })), { app: 'other', pod: 'p1' }].map((stream) => ({
    stream,
    values: Array.from({ length: to - from }, (_, k): [string, string] => [ns(T0 + (from + k) * SEC), line(stream.pod, from + k) + (stream.app === 'other' ? ' other' : '')]),
  }));
  const r = await pushJson(url, jsonBody(streams), { tenant });
  expect(r.status, r.body).toBe(204);
}

function headers(tenant?: string): Record<string, string> {
  return tenant ? { 'x-scope-orgid': tenant } : {};
}

async function del(url: string, method: 'POST' | 'PUT' | 'GET' | 'DELETE', params: Record<string, string>, tenant?: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/loki/api/v1/delete?${new URLSearchParams(params)}`, { method, headers: headers(tenant) });
  return { status: res.status, body: await res.text() };
}

interface Listed {
  request_id: string;
  start_time: number;
  end_time: number;
  query: string;
  status: string;
  created_at: number;
}

async function list(url: string, tenant?: string): Promise<Listed[]> {
  const r = await del(url, 'GET', {}, tenant);
  expect(r.status, r.body).toBe(200);
  return JSON.parse(r.body) as Listed[];
}

/** Waits until the tenant's first request is older than `seconds` by the clock it was stamped with. */
async function waitOlderThan(url: string, seconds: number): Promise<void> {
  await waitFor(async () => (Date.now() / 1000 - (await list(url))[0]!.created_at > seconds ? true : null), `the delete request to be older than ${seconds}s`);
}

const RANGE = () => `start=${ns(T0 - 60 * SEC)}&end=${ns(Date.now() + 60 * SEC)}`;

/** Every line the tenant's query shows, sorted (a log query over both apps). */
async function lines(url: string, tenant?: string, query = '{app=~"del|other"}'): Promise<string[]> {
  const res = await fetch(`${url}/loki/api/v1/query_range?query=${encodeURIComponent(query)}&${RANGE()}&limit=5000`, { headers: headers(tenant) });
  const body = await res.text();
  expect(res.status, body).toBe(200);
  return (JSON.parse(body) as { data: { result: { values: [string, string][] }[] } }).data.result.flatMap((s) => s.values.map((v) => v[1])).sort();
}

/** Per-pod counts from an instant metric query, as "app/pod=n". */
async function counts(url: string, tenant?: string, query = 'sum by (app, pod) (count_over_time({app=~"del|other"} [2h]))'): Promise<string[]> {
  const res = await fetch(`${url}/loki/api/v1/query?query=${encodeURIComponent(query)}&time=${ns(Date.now())}`, { headers: headers(tenant) });
  const body = await res.text();
  expect(res.status, body).toBe(200);
  return (JSON.parse(body) as { data: { result: { metric: { app: string; pod: string }; value: [number, string] }[] } }).data.result.map((r) => `${r.metric.app}/${r.metric.pod}=${r.value[1]}`).sort();
}

function allLines(): string[] {
  const out: string[] = [];
  for (const pod of PODS) for (let i = 0; i < N; i++) out.push(line(pod, i));
  for (let i = 0; i < N; i++) out.push(line('p1', i) + ' other');
  return out.sort();
}

function countsOf(ls: string[]): string[] {
  const m = new Map<string, number>();
  for (const l of ls) {
    const pod = /pod=(\w+)/.exec(l)![1]!;
    const key = `${l.endsWith(' other') ? 'other' : 'del'}/${pod}`;
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return [...m].map(([k, n]) => `${k}=${n}`).sort();
}

// The main request: app=del lines with "secret" whose time is in [T0+10s, T0+50s], both ends included.
const MAIN = { query: '{app="del"} |= "secret"', start: String((T0 + 10 * SEC) / SEC), end: new Date(T0 + 50 * SEC).toISOString() };

function afterMain(ls: string[]): string[] {
  return ls.filter((l) => {
    const i = Number(/ i=(\d+)/.exec(l)![1]);
    return l.endsWith(' other') || !l.includes('secret') || i < 10 || i > 50;
  });
}

/** Pushes the first half, flushes it to chunks, pushes the second half (kept in memory). */
async function fill(s: RunningServer, tenant?: string): Promise<void> {
  await push(s.url, 0, N / 2, tenant);
  const f = await fetch(`${s.url}/flush`, { method: 'POST' });
  expect(f.status).toBe(204);
  await push(s.url, N / 2, N, tenant);
}

describe('delete requests', () => {
  it('hide covered lines at once from log and metric queries, flushed and in memory, on worker threads, until cancelled', async () => {
    const s = await start();
    await fill(s);
    const all = allLines();
    expect(await lines(s.url)).toEqual(all);

    const r = await del(s.url, 'POST', MAIN);
    expect(r.status, r.body).toBe(204);
    const want = afterMain(all);
    // 3 pods × secret lines i ∈ {12, 15, …, 48} = 13 each, half flushed, half in memory.
    expect(all.length - want.length).toBe(3 * 13);
    expect(await lines(s.url)).toEqual(want);
    expect(await counts(s.url)).toEqual(countsOf(want));
    // One stream alone stays on the query thread; a regex filter is always run on a worker.
    expect(await lines(s.url, undefined, '{app="del", pod="p2"}')).toEqual(want.filter((l) => l.startsWith('pod=p2') && !l.endsWith(' other')));
    expect(await lines(s.url, undefined, '{app="del"} |~ "sec.et"')).toEqual(want.filter((l) => l.includes('secret') && !l.endsWith(' other')));
    expect(await counts(s.url, undefined, 'sum by (app, pod) (count_over_time({app="del"} |~ "s.cret" [2h]))')).toEqual(countsOf(want.filter((l) => l.includes('secret') && !l.endsWith(' other'))));

    // A request with a parser and a label filter; PUT is accepted as POST, as in Loki.
    const r2 = await del(s.url, 'PUT', { query: '{app="del", pod="p2"} | logfmt | i="55"', start: String(T0 / SEC) });
    expect(r2.status, r2.body).toBe(204);
    const want2 = want.filter((l) => l !== line('p2', 55));
    expect(await lines(s.url)).toEqual(want2);

    const listed = await list(s.url);
    expect(listed.map((x) => ({ ...x, request_id: typeof x.request_id, created_at: typeof x.created_at }))).toEqual([
      { request_id: 'string', start_time: (T0 + 10 * SEC) / SEC, end_time: (T0 + 50 * SEC) / SEC, query: MAIN.query, status: 'received', created_at: 'number' },
      { request_id: 'string', start_time: T0 / SEC, end_time: expect.any(Number), query: r2Query(), status: 'received', created_at: 'number' },
    ]);
    expect(Math.abs(listed[1]!.end_time * SEC - Date.now())).toBeLessThan(60_000);
    expect(Math.abs(listed[0]!.created_at * SEC - Date.now())).toBeLessThan(60_000);

    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/narvi_compactor_delete_requests_received_total\{tenant="fake"\} 2/);
    expect(metrics).toMatch(/narvi_compactor_pending_delete_requests_count\{tenant="fake"\} 2/);

    // Cancelling the first brings its lines back at once; the second still applies.
    const c = await del(s.url, 'DELETE', { request_id: listed[0]!.request_id });
    expect(c.status, c.body).toBe(204);
    expect(await lines(s.url)).toEqual(all.filter((l) => l !== line('p2', 55)));
    expect(await counts(s.url)).toEqual(countsOf(all.filter((l) => l !== line('p2', 55))));
    expect((await list(s.url)).map((x) => x.query)).toEqual([r2Query()]);
    // A cancelled request is gone: cancelling it again is a 404.
    const again = await del(s.url, 'DELETE', { request_id: listed[0]!.request_id });
    expect(again.status).toBe(404);
    expect(again.body).toContain('could not find delete request');
  });

  it('keeps requests across a restart and applies them to data that arrives later in their range', async () => {
    const dir = tempDir('narvi-del-');
    let s = await start([], dir);
    await push(s.url, 0, N / 2);
    expect((await del(s.url, 'POST', MAIN)).status).toBe(204);
    await s.stop();
    running.splice(running.indexOf(s), 1);
    s = await start([], dir);
    expect((await list(s.url)).map((x) => x.query)).toEqual([MAIN.query]);
    // Late (backfilled) entries inside the range are hidden too: the request is a filter, not a snapshot.
    await push(s.url, N / 2, N);
    expect(await lines(s.url)).toEqual(afterMain(allLines()));
    // A tail's backlog reads through the same queries.
    const want = afterMain(allLines()).filter((l) => !l.endsWith(' other'));
    expect((await tailBacklog(s.url, '{app="del"}', want.length)).sort()).toEqual(want);
  });

  it('reach queriers that share the data directory, hiding lines still in a separate ingester', async () => {
    const ingester = await start(['--target', 'ingester']);
    const q1 = await startServer({ dataDir: ingester.dataDir, args: [...WORKERS, '--target', 'querier', '--querier.ingesters', ingester.url] });
    running.push({ ...q1, dataDir: '/nonexistent-shared-dir' });
    const q2 = await startServer({ dataDir: ingester.dataDir, args: ['--target', 'querier', '--querier.ingesters', ingester.url] });
    running.push({ ...q2, dataDir: '/nonexistent-shared-dir' });
    // Pushes go through a distributor, as in a split deployment.
    const dist = await startServer({ args: ['--target', 'distributor', '--distributor.ingesters', ingester.url] });
    running.push(dist);
    await push(dist.url, 0, N);
    const all = allLines();
    await waitFor(async () => (await lines(q2.url)).length === all.length, 'the lines on the second querier');
    expect((await del(q1.url, 'POST', MAIN)).status).toBe(204);
    expect(await lines(q1.url)).toEqual(afterMain(all));
    // The other querier reads the shared requests file within its refresh interval (1 s).
    await waitFor(async () => (await lines(q2.url)).length === afterMain(all).length, 'the delete to reach the second querier');
    expect(await lines(q2.url)).toEqual(afterMain(all));
    expect(await counts(q2.url)).toEqual(countsOf(afterMain(all)));
    expect((await list(q2.url)).map((x) => x.query)).toEqual([MAIN.query]);
  });

  it("isolates tenants: one tenant's request never hides, lists or cancels another's", async () => {
    const s = await start(['--auth-enabled', 'true']);
    await fill(s, 'a');
    await fill(s, 'b');
    const all = allLines();
    const r = await del(s.url, 'POST', { query: '{app=~"del|other"}', start: String(T0 / SEC) }, 'b');
    expect(r.status, r.body).toBe(204);
    expect(await lines(s.url, 'b')).toEqual([]);
    expect(await counts(s.url, 'b')).toEqual([]);
    expect(await lines(s.url, 'a')).toEqual(all);
    expect(await counts(s.url, 'a')).toEqual(countsOf(all));
    expect(await list(s.url, 'a')).toEqual([]);
    const id = (await list(s.url, 'b'))[0]!.request_id;
    const foreign = await del(s.url, 'DELETE', { request_id: id }, 'a');
    expect(foreign.status).toBe(404);
    expect(await lines(s.url, 'b')).toEqual([]);
    // Without a tenant the API answers 401, as the other routes do.
    expect((await del(s.url, 'GET', {})).status).toBe(401);
    expect((await del(s.url, 'POST', MAIN)).status).toBe(401);
    expect((await del(s.url, 'DELETE', { request_id: id }, 'b')).status).toBe(204);
    expect(await lines(s.url, 'b')).toEqual(all);
  });

  it('answers 400 with the reason for bad requests and stores nothing', async () => {
    const s = await start();
    await push(s.url, 0, 10);
    const future = String(Math.floor(Date.now() / SEC) + 3600);
    const cases: [Record<string, string>, string][] = [
      [{ start: '1700000000' }, 'query not set'],
      [{ query: 'sum(count_over_time({app="del"}[1m]))', start: '1700000000' }, 'invalid query expression'],
      [{ query: '{app="del"', start: '1700000000' }, 'invalid query expression'],
      [{ query: '{app=~"del"} |~ "("', start: '1700000000' }, 'invalid query expression'],
      [{ query: '{app="del"}' }, 'start time not set'],
      [{ query: '{app="del"}', start: 'yesterday' }, 'invalid start time'],
      [{ query: '{app="del"}', start: '1700000000', end: 'soon' }, 'invalid end time'],
      [{ query: '{app="del"}', start: '1700000000', end: future }, 'deletes in the future are not allowed'],
      [{ query: '{app="del"}', start: '1700000100', end: '1700000000' }, "start time can't be greater than end time"],
      [{ query: '{app="del"} |= "x"', start: '1700000000', end: '1700000000' }, 'at least one second'],
      [{ query: '{app="del"}', start: '1700000000', end: '1700003600', max_interval: 'often' }, 'invalid max_interval'],
      [{ query: '{app="del"}', start: '1700000000', end: '1700003600', max_interval: '500ms' }, 'invalid max_interval'],
      [{ query: '{app="del"}', start: '1700000000', end: '1700003600', max_interval: '2h' }, "max_interval can't be greater than the interval to be deleted"],
    ];
    for (const [params, msg] of cases) {
      const r = await del(s.url, 'POST', params);
      expect(r.status, `${JSON.stringify(params)} → ${r.body}`).toBe(400);
      expect(r.body).toContain(msg);
    }
    // A valid max_interval is accepted.
    expect((await del(s.url, 'POST', { query: '{app="nothing"}', start: '1700000000', end: '1700003600', max_interval: '30m' })).status).toBe(204);
    expect((await list(s.url)).map((x) => x.query)).toEqual(['{app="nothing"}']);
    const noId = await del(s.url, 'DELETE', {});
    expect(noId.status).toBe(400);
    expect(noId.body).toContain('request_id not set');
    expect((await del(s.url, 'DELETE', { request_id: 'nope' })).status).toBe(404);
    expect((await del(s.url, 'DELETE', { request_id: (await list(s.url))[0]!.request_id, force: 'maybe' })).status).toBe(400);
    expect(await lines(s.url)).toHaveLength(40);
  });

  it('refuses the API with 403 when limits.deletion_mode is disabled, and a bad mode at start', async () => {
    const s = await start(['--limits.deletion-mode', 'disabled']);
    for (const method of ['POST', 'GET', 'DELETE'] as const) {
      const r = await del(s.url, method, { ...MAIN, request_id: 'x' });
      expect(r.status, method).toBe(403);
      expect(r.body).toContain('deletion is not available for this tenant');
    }
    await expect(startServer({ args: ['--limits.deletion-mode', 'sometimes'] })).rejects.toThrow('limits.deletion_mode must be one of disabled, filter-only, filter-and-delete, got "sometimes"');
  });

  it('filter-only mode hides lines and cancels at any time; filter-and-delete refuses a cancel past the cancel period unless forced', async () => {
    const fo = await start(['--limits.deletion-mode', 'filter-only', '--compactor.delete-request-cancel-period', '1s']);
    await fill(fo);
    expect((await del(fo.url, 'POST', MAIN)).status).toBe(204);
    expect(await lines(fo.url)).toEqual(afterMain(allLines()));
    const id = (await list(fo.url))[0]!.request_id;
    // Past its period, but filter-only requests are never processed: still cancellable.
    await waitOlderThan(fo.url, 1.5);
    expect((await del(fo.url, 'DELETE', { request_id: id })).status).toBe(204);

    const fd = await start(['--compactor.delete-request-cancel-period', '1s']);
    await fill(fd);
    expect((await del(fd.url, 'POST', MAIN)).status).toBe(204);
    const id2 = (await list(fd.url))[0]!.request_id;
    await waitOlderThan(fd.url, 1.5);
    const late = await del(fd.url, 'DELETE', { request_id: id2 });
    expect(late.status).toBe(400);
    expect(late.body).toContain('past its cancel period');
    expect(await lines(fd.url)).toEqual(afterMain(allLines()));
    expect((await del(fd.url, 'DELETE', { request_id: id2, force: 'true' })).status).toBe(204);
    expect(await lines(fd.url)).toEqual(allLines());
  });
});

/** The lines of a tail's first frames (its backlog from T0 − 1 min), once `expected` have come. */
async function tailBacklog(url: string, query: string, expected: number): Promise<string[]> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent(query)}&start=${ns(T0 - 60 * SEC)}&limit=5000`);
  const got: string[] = [];
  ws.on('message', (d: Buffer) => {
    for (const st of (JSON.parse(d.toString()) as { streams: { values: [string, string][] }[] }).streams) for (const v of st.values) got.push(v[1]);
  });
  try {
    // Hidden lines would come in the same first frames as the rest, making more than expected.
    await waitFor(() => got.length >= expected, 'the tail backlog', 15_000);
    return got;
  } finally {
    ws.close();
  }
}

function r2Query(): string {
  return '{app="del", pod="p2"} | logfmt | i="55"';
}
