import { afterEach, describe, expect, it } from 'vitest';
import { jsonBody, nowNs, pushJson } from '../helpers/push.js';
import { removeDir, startServer, type RunningServer } from '../helpers/server.js';

const running: RunningServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    await s.kill();
    removeDir(s.dataDir);
  }
});

async function start(args: string[], env?: NodeJS.ProcessEnv): Promise<RunningServer> {
  const s = await startServer({ args, env });
  running.push(s);
  return s;
}

async function get(url: string, path: string, params: Record<string, string>): Promise<{ status: number; text: string }> {
  const r = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
  return { status: r.status, text: await r.text() };
}

/** `streams` streams of `{app}` with `lines` lines each, all within the last minute. */
async function pushStreams(url: string, app: string, streams: number, lines: number, line: (s: number, i: number) => string): Promise<void> {
  const base = nowNs(-30_000);
  const body = [];
  for (let s = 0; s < streams; s++) {
    body.push({ stream: { app, pod: `p${s}` }, values: Array.from({ length: lines }, (_, i): [string, string] => [String(base + BigInt(i)), line(s, i)]) });
  }
  const r = await pushJson(url, jsonBody(body));
  expect(r.status, r.body).toBe(204);
}

const lastMinutes = (q: string, extra: Record<string, string> = {}) => ({ query: q, start: String(nowNs(-300_000)), end: String(nowNs(1000)), step: '15', ...extra });

describe('query limits', () => {
  it('max_query_series stops a metric query as its series appear, also in worker threads and for instant queries, with Loki\'s text', async () => {
    // Workers on and splitting every query, so the limit is checked in the threads as well.
    const s = await start(['--limits.max-query-series', '5', '--querier.workers', '2'], { NARVI_QUERY_WORKER_MIN_BYTES: '0' });
    await pushStreams(s.url, 'wide', 8, 20, (p, i) => `level=info pod=p${p} n=${i}`);
    const msg = 'maximum number of series (5) reached for a single query';
    for (const q of ['count_over_time({app="wide"}[1m])', 'topk(1, count_over_time({app="wide"}[1m]))', 'count(rate({app="wide"} | logfmt [1m]))']) {
      const r = await get(s.url, '/loki/api/v1/query_range', lastMinutes(q));
      expect(r.status, `${q}: ${r.text}`).toBe(400);
      expect(r.text).toContain(msg);
      const i = await get(s.url, '/loki/api/v1/query', { query: q, time: String(nowNs()) });
      expect(i.status, `${q} (instant): ${i.text}`).toBe(400);
      expect(i.text).toContain(msg);
    }
    // Aggregated before the series exist: within the limit.
    const ok = await get(s.url, '/loki/api/v1/query_range', lastMinutes('sum(count_over_time({app="wide"}[1m]))'));
    expect(ok.status, ok.text).toBe(200);
    const few = await get(s.url, '/loki/api/v1/query_range', lastMinutes('count_over_time({app="wide", pod=~"p[0-4]"}[1m])'));
    expect(few.status, few.text).toBe(200);
    expect((JSON.parse(few.text) as { data: { result: unknown[] } }).data.result).toHaveLength(5);
  }, 60_000);

  it('max_entries_limit_per_query refuses a larger limit on query_range with Loki\'s text', async () => {
    const s = await start(['--limits.max-entries-limit-per-query', '10']);
    await pushStreams(s.url, 'few', 1, 20, (_p, i) => `line ${i}`);
    const over = await get(s.url, '/loki/api/v1/query_range', lastMinutes('{app="few"}', { limit: '11' }));
    expect(over.status).toBe(400);
    expect(over.text).toContain('max entries limit per query exceeded, limit > max_entries_limit (11 > 10)');
    const at = await get(s.url, '/loki/api/v1/query_range', lastMinutes('{app="few"}', { limit: '10' }));
    expect(at.status, at.text).toBe(200);
  }, 60_000);

  it('max_query_bytes_read refuses metric queries and filtered log queries over more bytes, before reading, naming the limit', async () => {
    const s = await start(['--limits.max-query-bytes-read', '10KB']);
    // 2 streams × 100 lines × 100 bytes = 20 kB, still in the ingester.
    await pushStreams(s.url, 'bytes', 2, 100, (p, i) => `p${p} ${String(i).padStart(4, '0')} `.padEnd(100, 'x'));
    const msg = /^the query would read too many bytes \(query: 20\.0 kB, limit: 10\.0 kB\); consider adding more specific stream selectors or reduce the time range of the query \(limits\.max_query_bytes_read\)/;
    for (const q of ['sum(count_over_time({app="bytes"}[1m]))', '{app="bytes"} |= "p1 0099"', 'rate({app="bytes"}[1m]) / rate({app="bytes"}[1m])']) {
      const r = await get(s.url, '/loki/api/v1/query_range', lastMinutes(q));
      expect(r.status, `${q}: ${r.text}`).toBe(400);
      expect(r.text).toMatch(q.includes('/') ? /query: 40\.0 kB/ : msg);
    }
    // A bare selector stops at its limit whatever the data (Loki does not count it); one stream fits.
    expect((await get(s.url, '/loki/api/v1/query_range', lastMinutes('{app="bytes"}'))).status).toBe(200);
    const one = await get(s.url, '/loki/api/v1/query_range', lastMinutes('sum(count_over_time({app="bytes", pod="p0"}[1m]))'));
    expect(one.status, one.text).toBe(200);
    // The same after a flush: the estimate then comes from the index's chunk sizes.
    expect((await fetch(`${s.url}/flush`, { method: 'POST' })).status).toBe(204);
    const flushed = await get(s.url, '/loki/api/v1/query_range', lastMinutes('sum(count_over_time({app="bytes"}[1m]))'));
    expect(flushed.status, flushed.text).toBe(400);
    expect(flushed.text).toMatch(msg);
  }, 60_000);

  it('queries over querier.max_concurrent wait their turn; past the per-tenant queue they get 429, and the slots come back', async () => {
    const s = await start(['--querier.max-concurrent', '1', '--query-scheduler.max-outstanding-requests-per-tenant', '2', '--querier.workers', '1', '--limits.ingestion-rate-mb', '1000', '--limits.ingestion-burst-size-mb', '1000']);
    // Enough lines that one query takes a while: the twelve requests below arrive while it runs.
    for (let k = 0; k < 8; k++) await pushStreams(s.url, 'slow', 10, 2000, (p, i) => `k=${k} p=${p} i=${i} ${'abcdefghij'.repeat(20)}`);
    // Flushed, so queries read chunk files: their reads yield to the event loop and the requests overlap.
    expect((await fetch(`${s.url}/flush`, { method: 'POST' })).status).toBe(204);
    const q = lastMinutes('sum by (pod) (count_over_time({app="slow"} |~ "i=[0-9]*7 .*j" [1m]))');
    const answers = await Promise.all(Array.from({ length: 12 }, () => get(s.url, '/loki/api/v1/query_range', q)));
    const by = (c: number) => answers.filter((a) => a.status === c);
    expect(answers.every((a) => a.status === 200 || a.status === 429), answers.map((a) => `${a.status} ${a.text.slice(0, 100)}`).join('\n')).toBe(true);
    // One running and two waiting at most when the rest arrived.
    expect(by(200).length).toBeGreaterThanOrEqual(3);
    expect(by(429).length).toBeGreaterThan(0);
    expect(by(429)[0]!.text).toContain('too many outstanding requests: tenant "fake" already has 2 queries waiting');
    expect(by(429)[0]!.text).toContain('querier.max_concurrent');
    // Every answered query got the same result; the slots are all released afterwards.
    expect(new Set(by(200).map((a) => a.text.replace(/"stats":\{.*\}/s, ''))).size).toBe(1);
    for (let k = 0; k < 3; k++) expect((await get(s.url, '/loki/api/v1/query_range', q)).status).toBe(200);
    // Labels and series are index reads: not queued behind data queries.
    expect((await get(s.url, '/loki/api/v1/labels', {})).status).toBe(200);
  }, 90_000);
});
