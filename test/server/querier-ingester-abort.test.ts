import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowNs } from '../helpers/push.js';
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
