import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuSeconds, waitCpuIdle } from '../helpers/cpu.js';
import { jsonBody, nowNs, pushJson } from '../helpers/push.js';
import { removeDir, startServer, waitFor, type RunningServer } from '../helpers/server.js';

interface Conn {
  socket: Socket;
  got: string;
  closed: boolean;
}

/**
 * An "ingester" that reads each request and never answers: it records every connection, every internal
 * select (with the connection it came on: the client may send it on a connection it opened earlier) and
 * whether the other side has closed the connection.
 */
function hungIngester(): Promise<{ server: Server; url: string; conns: Conn[]; selects: Conn[] }> {
  const conns: Conn[] = [];
  const selects: Conn[] = [];
  const server = createServer((socket) => {
    const c = { socket, got: '', closed: false };
    conns.push(c);
    socket.on('data', (d) => {
      c.got += d.toString('latin1');
      if (c.got.includes('POST /internal/ingester/select') && !selects.includes(c)) selects.push(c);
    });
    socket.on('close', () => (c.closed = true));
    socket.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, conns, selects })));
}

describe('a querier whose ingester never answers', () => {
  let hung: Awaited<ReturnType<typeof hungIngester>>;
  let querier: RunningServer;
  beforeAll(async () => {
    hung = await hungIngester();
    querier = await startServer({ args: ['--target', 'querier', '--querier.ingesters', hung.url, '--limits.query-timeout', '2s'] });
  }, 60_000);
  afterAll(async () => {
    for (const c of hung.conns) c.socket.destroy();
    hung.server.close();
    expect(await querier.stop()).toBe(0);
    removeDir(querier.dataDir);
  });

  const range = () => {
    const end = nowNs();
    return { start: String(end - 3600n * 1_000_000_000n), end: String(end) };
  };

  for (const [name, path] of [
    ['query_range', () => `/loki/api/v1/query_range?${new URLSearchParams({ query: 'count_over_time({app="x"}[1h])', step: '60', ...range() })}`],
    ['log query', () => `/loki/api/v1/query_range?${new URLSearchParams({ query: '{app="x"} |= "y"', ...range() })}`],
    ['series', () => `/loki/api/v1/series?${new URLSearchParams({ 'match[]': '{app="x"}', ...range() })}`],
    ['volume_range', () => `/loki/api/v1/index/volume_range?${new URLSearchParams({ query: '{app="x"}', step: '60', ...range() })}`],
  ] as const) {
    it(`${name}: answers 504 at the timeout and closes its request to the ingester`, async () => {
      const seen = hung.selects.length;
      const t = Date.now();
      const r = await fetch(`${querier.url}${path()}`);
      const body = await r.text();
      expect(r.status, body).toBe(504);
      expect(body).toContain('limits.query_timeout: 2s');
      expect(Date.now() - t).toBeLessThan(8000);
      // The querier did ask (a new connection carrying the internal select)...
      const mine = await waitFor(() => hung.selects[seen], 'the internal select request');
      // ...and, its query over, hung up instead of waiting for an answer that would be thrown away.
      await waitFor(() => mine.closed || null, 'the querier closing its request to the ingester', 3000);
    });
  }

  it('a client that leaves aborts the request to the ingester too', async () => {
    const seen = hung.selects.length;
    const ctl = new AbortController();
    const q = fetch(`${querier.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{app="x"}', ...range() })}`, { signal: ctl.signal }).then(
      async (r) => `answered ${r.status}: ${await r.text()}`,
      () => 'left',
    );
    const mine = await waitFor(() => hung.selects[seen], 'the internal select request');
    ctl.abort();
    expect(await q).toBe('left');
    // Well before the 2 s timeout could have ended it.
    await waitFor(() => mine.closed || null, 'the querier closing its request to the ingester', 1000);
  });
});

describe('an ingester process whose querier gives up', () => {
  const FAST_PUSH = ['--limits.ingestion-rate-mb', '1000', '--limits.ingestion-burst-size-mb', '1000'];
  const running: RunningServer[] = [];
  afterAll(async () => {
    for (const s of running.reverse()) {
      expect(await s.stop()).toBe(0);
      removeDir(s.dataDir);
    }
  });

  it("stops matching its streams against the querier's selector when the querier's request closes", async () => {
    // The ingester's own timeout is long: only the querier's hanging up can end its select in time.
    const ingester = await startServer({ args: ['--target', 'ingester', ...FAST_PUSH, '--limits.query-timeout', '5m'] });
    running.push(ingester);
    const distributor = await startServer({ args: ['--target', 'distributor', '--distributor.ingesters', ingester.url, ...FAST_PUSH] });
    running.push(distributor);
    const querier = await startServer({ dataDir: ingester.dataDir, args: ['--target', 'querier', '--querier.ingesters', ingester.url, '--limits.query-timeout', '2s'] });
    running.push({ ...querier, dataDir: '/nonexistent-shared-dir' });
    // 3 000 streams in the ingester's memory, each with a 2 KB label value: tens of ms of regex each.
    const t0 = nowNs(-60_000);
    for (let off = 0; off < 3000; off += 250) {
      const streams = [];
      for (let i = off; i < off + 250; i++) streams.push({ stream: { app: 'longlabel', v: 'a'.repeat(2000) + i }, values: [[String(t0), 'x']] as [string, string][] });
      const r = await pushJson(distributor.url, jsonBody(streams));
      expect(r.status, r.body).toBe(204);
    }
    const pid = ingester.proc.pid!;
    const before = cpuSeconds(pid);
    const end = nowNs();
    const q = new URLSearchParams({ query: 'count_over_time({app="longlabel", v=~"(.*a){25}!"}[1h])', start: String(end - 3600n * 1_000_000_000n), end: String(end), step: '60' });
    const r = await fetch(`${querier.url}/loki/api/v1/query_range?${q}`);
    expect(r.status, await r.text()).toBe(504);
    // The ingester was working on it (its answer would take minutes)...
    expect(cpuSeconds(pid) - before).toBeGreaterThan(0.3);
    const ready = await fetch(`${ingester.url}/ready`, { signal: AbortSignal.timeout(1000) });
    expect(ready.status).toBe(200);
    // ...and stops soon after the querier hung up.
    await waitCpuIdle(pid, { timeoutMs: 4000 });
  }, 120_000);
});
