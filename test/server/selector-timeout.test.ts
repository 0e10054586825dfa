import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuSeconds, waitCpuIdle } from '../helpers/cpu.js';
import { jsonBody, nowNs, pushJson } from '../helpers/push.js';
import { removeDir, startServer, type RunningServer } from '../helpers/server.js';

const FAST_PUSH = ['--limits.ingestion-rate-mb', '1000', '--limits.ingestion-burst-size-mb', '1000'];
const STREAMS = 3000;
/** Beyond V8's backtracking budget: the linear-time engine takes tens of ms on each 2 KB value. */
const SLOW_SELECTOR = '{app="longlabel", v=~"(.*a){25}!"}';

/** `count` streams whose label `v` is 2 000 'a's and a number, one line each. */
async function pushLongLabels(url: string, count: number): Promise<void> {
  const t0 = nowNs(-60_000);
  for (let off = 0; off < count; off += 250) {
    const streams = [];
    for (let i = off; i < Math.min(count, off + 250); i++) streams.push({ stream: { app: 'longlabel', v: 'a'.repeat(2000) + i }, values: [[String(t0), 'x']] as [string, string][] });
    const r = await pushJson(url, jsonBody(streams));
    expect(r.status, r.body).toBe(204);
  }
}

async function readyMs(url: string): Promise<number> {
  const t = Date.now();
  const r = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(5000) });
  expect(r.status).toBe(200);
  return Date.now() - t;
}

function range(): Record<string, string> {
  const end = nowNs();
  return { start: String(end - 3600n * 1_000_000_000n), end: String(end) };
}

describe('a selector regex over many long label values', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ args: [...FAST_PUSH, '--limits.query-timeout', '2s'] });
    await pushLongLabels(server.url, STREAMS);
  }, 120_000);
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
    removeDir(server.dataDir);
  });

  const endpoints: [string, () => string][] = [
    ['query_range', () => `/loki/api/v1/query_range?${new URLSearchParams({ query: `count_over_time(${SLOW_SELECTOR}[1h])`, step: '60', ...range() })}`],
    ['query', () => `/loki/api/v1/query?${new URLSearchParams({ query: `count_over_time(${SLOW_SELECTOR}[1h])`, time: range().end! })}`],
    ['series', () => `/loki/api/v1/series?${new URLSearchParams({ 'match[]': SLOW_SELECTOR, ...range() })}`],
    ['labels', () => `/loki/api/v1/labels?${new URLSearchParams({ query: SLOW_SELECTOR, ...range() })}`],
    ['label values', () => `/loki/api/v1/label/app/values?${new URLSearchParams({ query: SLOW_SELECTOR, ...range() })}`],
    ['stats', () => `/loki/api/v1/index/stats?${new URLSearchParams({ query: SLOW_SELECTOR, ...range() })}`],
    ['volume', () => `/loki/api/v1/index/volume?${new URLSearchParams({ query: SLOW_SELECTOR, ...range() })}`],
    ['volume_range', () => `/loki/api/v1/index/volume_range?${new URLSearchParams({ query: SLOW_SELECTOR, step: '60', ...range() })}`],
  ];
  for (const [name, path] of endpoints) {
    it(`${name}: answers 504 at about the timeout, /ready answers meanwhile, and the CPU is freed after`, async () => {
      const pid = server.proc.pid!;
      const before = cpuSeconds(pid);
      const t = Date.now();
      const pending = fetch(`${server.url}${path()}`).then(async (r) => ({ status: r.status, body: await r.text(), took: Date.now() - t }));
      let answered = false;
      void pending.finally(() => (answered = true));
      // Stream matching runs on the main thread: it must leave room for other requests.
      while (!answered) {
        expect(await readyMs(server.url)).toBeLessThan(1000);
        await new Promise((r) => setTimeout(r, 100));
      }
      const r = await pending;
      expect(r.status, r.body).toBe(504);
      expect(r.body).toContain('limits.query_timeout: 2s');
      // Unbounded, the selector alone is minutes of work (3 000 values × tens of ms).
      expect(r.took).toBeGreaterThanOrEqual(1900);
      expect(r.took).toBeLessThan(8000);
      // It worked until the timeout (a share of a core on a machine shared by other test processes).
      expect(cpuSeconds(pid) - before).toBeGreaterThan(0.2);
      await waitCpuIdle(pid, { timeoutMs: 4000 });
    });
  }

  it('a cheap selector over the same streams still answers in full', async () => {
    const r = await fetch(`${server.url}/loki/api/v1/series?${new URLSearchParams({ 'match[]': '{app="longlabel", v=~"a+1"}', ...range() })}`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { data: { v: string }[] };
    expect(body.data.map((s) => s.v.length)).toEqual([2001]);
  });
});
