import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { cpuSeconds, waitCpuIdle } from '../helpers/cpu.js';
import { jsonBody, nowNs, pushJson } from '../helpers/push.js';
import { removeDir, startServer, testServers, type RunningServer } from '../helpers/server.js';

const FAST_PUSH = ['--limits.ingestion-rate-mb', '1000', '--limits.ingestion-burst-size-mb', '1000'];

/** `count` lines of `len` 'a's ending in '!', a millisecond apart, ending now: `(a|aa)+$` backtracks on every one. */
async function pushRedos(url: string, app: string, count: number, len: number): Promise<void> {
  const t0 = nowNs(-60_000);
  const line = 'a'.repeat(len - 1) + '!';
  for (let off = 0; off < count; off += 500) {
    const values: [string, string][] = [];
    for (let i = off; i < Math.min(count, off + 500); i++) values.push([String(t0 + BigInt(i) * 1_000_000n), line]);
    const r = await pushJson(url, jsonBody([{ stream: { app }, values }]));
    expect(r.status, r.body).toBe(204);
  }
}

/**
 * `count` lines of `len` bytes of 'a': backtracking never finishes `(.*a){25}!` on one, and V8's linear-time
 * fallback engine needs well over a second for ten lines of 200 KB on this machine.
 */
async function pushStuck(url: string, count: number, len = 50_000): Promise<void> {
  const t0 = nowNs(-60_000);
  const values: [string, string][] = [];
  for (let i = 0; i < count; i++) values.push([String(t0 + BigInt(i) * 1_000_000n), 'a'.repeat(len)]);
  const r = await pushJson(url, jsonBody([{ stream: { app: 'stuck' }, values }]));
  expect(r.status, r.body).toBe(204);
}

function rangeUrl(url: string, query: string): string {
  const end = nowNs();
  const q = new URLSearchParams({ query, start: String(end - 3600n * 1_000_000_000n), end: String(end), step: '60' });
  return `${url}/loki/api/v1/query_range?${q}`;
}

/** /ready's answer time in ms (throws past 5 s or on anything but 200). */
async function readyMs(url: string): Promise<number> {
  const t = Date.now();
  const r = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(5000) });
  expect(r.status).toBe(200);
  return Date.now() - t;
}

/** Starts an expensive request and abandons it (closes the connection) after `afterMs`. */
async function abandon(u: string, afterMs: number): Promise<void> {
  const ctl = new AbortController();
  const done = fetch(u, { signal: ctl.signal }).then(
    (r) => r.text().then((b) => `answered ${r.status}: ${b}`),
    () => 'abandoned',
  );
  await new Promise((r) => setTimeout(r, afterMs));
  ctl.abort();
  // The query must still have been running when the client left.
  expect(await done).toBe('abandoned');
}

describe('a query past limits.query_timeout', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ args: [...FAST_PUSH, '--limits.query-timeout', '1s'] });
    // 3 000 lines of 6 KB: seconds of regex work (even for V8's linear-time fallback, ~1.8 s for 3 KB lines on an
    // idle machine), several times the timeout.
    await pushRedos(server.url, 'redos', 3000, 6000);
    await pushStuck(server.url, 10, 200_000);
  }, 60_000);
  afterAll(async () => {
    // A clean exit: abandoned queries and their connections do not hold the shutdown up.
    expect(await server.stop()).toBe(0);
    removeDir(server.dataDir);
  });

  it("answers Loki's 504 in about the timeout, and the server's CPU stops soon after", async () => {
    const t = Date.now();
    const r = await fetch(rangeUrl(server.url, 'count_over_time({app="redos"} |~ "(a|aa)+$" [1h])'));
    const took = Date.now() - t;
    const body = await r.text();
    expect(r.status, body).toBe(504);
    expect(body).toContain('request timed out, decrease the duration of the request or add more label matchers');
    expect(body).toContain('limits.query_timeout: 1s');
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(5000);
    // Within a few seconds the process (all its threads) is idle again.
    await waitCpuIdle(server.proc.pid!, { timeoutMs: 4000 });
    expect(await readyMs(server.url)).toBeLessThan(1000);
  });

  it('times out a log query stuck on one line (its worker is terminated), and answers other queries meanwhile', async () => {
    const slow = fetch(rangeUrl(server.url, '{app="stuck"} |~ "(.*a){25}!"'));
    // While it runs, a cheap query and /ready still answer at once.
    const other = await fetch(rangeUrl(server.url, 'count_over_time({app="redos"} [1h])'));
    expect(other.status).toBe(200);
    expect(await readyMs(server.url)).toBeLessThan(1000);
    const r = await slow;
    expect(r.status, await r.text()).toBe(504);
    await waitCpuIdle(server.proc.pid!, { timeoutMs: 4000 });
  });
});

describe('abandoned and runaway queries', () => {
  let server: RunningServer;
  beforeAll(async () => {
    // A long timeout: only the client's leaving can stop these queries in time.
    server = await startServer({ args: [...FAST_PUSH, '--limits.query-timeout', '5m'] });
    await pushRedos(server.url, 'redos', 3000, 3000);
    await pushStuck(server.url, 40);
  }, 60_000);
  afterAll(async () => {
    // A clean exit: abandoned queries and their connections do not hold the shutdown up.
    expect(await server.stop()).toBe(0);
    removeDir(server.dataDir);
  });

  it("stops a query_range whose client closed its connection: the server's CPU stops within a few seconds", async () => {
    const pid = server.proc.pid!;
    const before = cpuSeconds(pid);
    await abandon(rangeUrl(server.url, 'count_over_time({app="redos"} |~ "(a|aa)+$" [1h])'), 1000);
    // It was really working: a busy core during that second.
    expect(cpuSeconds(pid) - before).toBeGreaterThan(0.1);
    await waitCpuIdle(pid, { timeoutMs: 4000 });
  });

  it('keeps /ready answering within 1 s while a regex is stuck on one line, and ends it when the client leaves', async () => {
    const pid = server.proc.pid!;
    const ctl = new AbortController();
    const q = fetch(rangeUrl(server.url, '{app="stuck"} |~ "(.*a){25}!"'), { signal: ctl.signal }).catch(() => null);
    const before = cpuSeconds(pid);
    for (let i = 0; i < 8; i++) {
      expect(await readyMs(server.url)).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(cpuSeconds(pid) - before).toBeGreaterThan(0.2);
    ctl.abort();
    await q;
    // The worker never gets back to its cancel flag: it must be terminated.
    await waitCpuIdle(pid, { timeoutMs: 4000 });
    // And replaced: the next query with a regex still runs on a worker and answers.
    const r = await fetch(rangeUrl(server.url, 'count_over_time({app="stuck"} |~ "a{3}" [1h])'));
    expect(r.status).toBe(200);
    expect(JSON.stringify(await r.json())).toContain('"40"');
  });

  it('a selector regex beyond the linear-time engine over long label values answers at once (series, queries)', async () => {
    const t0 = nowNs(-60_000);
    const streams = Array.from({ length: 20 }, (_, i) => ({ stream: { app: 'longlabel', v: 'a'.repeat(2000) + i }, values: [[String(t0), 'x']] as [string, string][] }));
    expect((await pushJson(server.url, jsonBody(streams))).status).toBe(204);
    const end = nowNs();
    const q = new URLSearchParams({ 'match[]': '{v=~"(.*a){25}!"}', start: String(end - 3600n * 1_000_000_000n), end: String(end) });
    const t = Date.now();
    const r = await fetch(`${server.url}/loki/api/v1/series?${q}`);
    expect(r.status).toBe(200);
    expect((await r.json()) as unknown).toEqual({ status: 'success', data: [] });
    const c = await fetch(rangeUrl(server.url, 'count_over_time({app="longlabel", v=~"(.*a){25}[0-9]+"}[1h])'));
    expect(c.status).toBe(200);
    expect(((await c.json()) as { data: { result: unknown[] } }).data.result).toHaveLength(20);
    expect(Date.now() - t).toBeLessThan(10_000);
  });

  it("a tail whose socket closes stops its poll's query, even one stuck in a regex", async () => {
    const pid = server.proc.pid!;
    const q = new URLSearchParams({ query: '{app="stuck"} |~ "(.*a){25}!"', start: String(nowNs(-3_600_000)) });
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/loki/api/v1/tail?${q}`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    await waitForCpu(pid);
    expect(await readyMs(server.url)).toBeLessThan(1000);
    ws.close();
    await waitCpuIdle(pid, { timeoutMs: 4000 });
  });

  it('a metric query with a regex that cannot be split (quantile, first) runs off the main thread too', async () => {
    const ctl = new AbortController();
    const q = fetch(rangeUrl(server.url, 'sum(quantile_over_time(0.5, {app="stuck"} |~ "(.*a){25}!" | label_format n="1" | unwrap n [1h]))'), { signal: ctl.signal }).catch(() => null);
    for (let i = 0; i < 4; i++) {
      expect(await readyMs(server.url)).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 200));
    }
    ctl.abort();
    await q;
    await waitCpuIdle(server.proc.pid!, { timeoutMs: 4000 });
  });
});

describe('shutdown', () => {
  const start = testServers();

  it('ends a runaway query at once when the server stops', async () => {
    const server = await start({ args: [...FAST_PUSH, '--limits.query-timeout', '5m'] });
    await pushStuck(server.url, 10);
    const q = fetch(rangeUrl(server.url, 'count_over_time({app="stuck"} |~ "(.*a){25}!" [1h])')).then(
      (r) => r.status,
      () => 'closed',
    );
    await waitForCpu(server.proc.pid!);
    const t = Date.now();
    expect(await server.stop()).toBe(0);
    expect(Date.now() - t).toBeLessThan(5000);
    expect([503, 'closed']).toContain(await q);
  });
});

/** Resolves once the process has burnt a tenth of a CPU-second beyond now (a query is running). */
async function waitForCpu(pid: number): Promise<void> {
  const before = cpuSeconds(pid);
  const deadline = Date.now() + 10_000;
  while (cpuSeconds(pid) - before < 0.1) {
    if (Date.now() > deadline) throw new Error('the query never started working');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('template bombs', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ args: FAST_PUSH });
    const t0 = nowNs(-60_000);
    const values: [string, string][] = [];
    for (let i = 0; i < 20; i++) values.push([String(t0 + BigInt(i)), `line ${i}`]);
    expect((await pushJson(server.url, jsonBody([{ stream: { app: 'demo' }, values }]))).status).toBe(204);
  }, 60_000);
  afterAll(async () => {
    // A clean exit: abandoned queries and their connections do not hold the shutdown up.
    expect(await server.stop()).toBe(0);
    removeDir(server.dataDir);
  });

  const logQuery = async (q: string) => {
    const r = await fetch(rangeUrl(server.url, q));
    const text = await r.text();
    return { status: r.status, text };
  };

  for (const [name, q] of [
    ['repeat', '{app="demo"} | line_format "{{ repeat 400000000 \\"x\\" }}"'],
    ['printf width', '{app="demo"} | line_format "{{ printf \\"%400000000d\\" 7 }}"'],
    ['printf star width', '{app="demo"} | line_format "{{ printf \\"%*d\\" 400000000 7 }}"'],
    ['nested repeat', '{app="demo"} | line_format "{{ repeat 30000 (repeat 30000 \\"x\\") }}"'],
    ['alignLeft', '{app="demo"} | line_format "{{ alignLeft 400000000 .app }}"'],
    ['replace', '{app="demo"} | line_format "{{ replace \\"\\" (repeat 9000 \\"y\\") (repeat 900 __line__) }}"'],
    ['label_format repeat', '{app="demo"} | label_format x="{{ repeat 50000000 \\"y\\" }}"'],
  ] as const) {
    it(`a ${name} bomb marks each entry TemplateFormatErr naming the limit, and the server lives`, async () => {
      const r = await logQuery(q);
      expect(r.status, r.text).toBe(200);
      const body = JSON.parse(r.text) as { data: { result: { stream: Record<string, string>; values: [string, string][] }[] } };
      const entries = body.data.result.flatMap((s) => s.values.map((v) => ({ labels: s.stream, line: v[1] })));
      expect(entries).toHaveLength(20);
      for (const e of entries) {
        expect(e.labels.__error__).toBe('TemplateFormatErr');
        expect(e.line.length).toBeLessThan(100);
      }
      expect(r.text).toContain('limits.max_template_output_size');
      expect(await readyMs(server.url)).toBeLessThan(1000);
    });
  }

  it('a metric query over a template bomb is a 400, not a crash', async () => {
    const r = await logQuery('sum(count_over_time({app="demo"} | line_format "{{ repeat 400000000 \\"x\\" }}" [1h]))');
    expect(r.status, r.text).toBe(400);
    expect(r.text).toContain('TemplateFormatErr');
    expect(await readyMs(server.url)).toBeLessThan(1000);
  });

  it('templates within the budget still work', async () => {
    const r = await logQuery('{app="demo"} | line_format "{{ repeat 1000 \\"ab\\" }}{{ printf \\"%8d\\" 7 }}"');
    expect(r.status).toBe(200);
    const line = (JSON.parse(r.text) as { data: { result: { values: [string, string][] }[] } }).data.result[0]!.values[0]![1];
    expect(line).toBe('ab'.repeat(1000) + '       7');
  });
});
