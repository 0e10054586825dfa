import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonBody, nowNs, pushJson } from '../helpers/push.js';
import { removeDir, startServer, waitFor, type RunningServer } from '../helpers/server.js';

const running: RunningServer[] = [];
const sockets: Socket[] = [];
const wss: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const w of wss.splice(0)) w.terminate();
  for (const s of running.splice(0)) {
    await s.kill();
    removeDir(s.dataDir);
  }
});

async function start(args: string[]): Promise<RunningServer> {
  const s = await startServer({ args });
  running.push(s);
  return s;
}

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - t0 };
}

describe('slow clients', () => {
  it('serves a normal client while 200 slowloris connections trickle headers, and cuts those off at the header timeout', async () => {
    const s = await start(['--server.http-server-read-header-timeout', '3s']);
    const u = new URL(s.url);
    const closedAt: number[] = [];
    const opened = Date.now();
    let timer: NodeJS.Timeout | undefined;
    for (let i = 0; i < 200; i++) {
      const sock = connect(Number(u.port), u.hostname);
      sock.on('error', () => undefined);
      sock.on('close', () => closedAt.push(Date.now() - opened));
      sock.resume(); // read what the server answers, so its close is seen
      sock.write('GET /ready HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      sockets.push(sock);
    }
    // One more header byte on every connection every 100 ms, never the end of the headers.
    timer = setInterval(() => {
      for (const sock of sockets) if (!sock.destroyed) sock.write('a');
    }, 100);
    try {
      for (let round = 0; round < 5; round++) {
        const push = await timed(() => pushJson(s.url, jsonBody([{ stream: { app: 'normal' }, values: [[String(nowNs()), `round ${round}`]] }])));
        expect(push.value.status).toBe(204);
        const q = await timed(async () => (await fetch(`${s.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="normal"}')}`)).json() as Promise<{ data: { result: { values: unknown[] }[] } }>);
        expect(q.value.data.result[0]!.values.length).toBe(round + 1);
        // Generous: the point is "not stuck behind 200 half-open requests", not a latency figure.
        expect(push.ms + q.ms, `round ${round}`).toBeLessThan(3000);
      }
      // Every trickling connection is closed by the server: 3 s plus node's check interval, with slack.
      await waitFor(() => closedAt.length === 200, 'the server to close all 200 slowloris connections', 20_000);
      expect(Math.min(...closedAt)).toBeGreaterThanOrEqual(2500);
    } finally {
      clearInterval(timer);
    }
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);
  }, 60_000);

  it('keeps a tail WebSocket open past the read timeouts, which only bound receiving a request', async () => {
    const s = await start(['--server.http-server-read-timeout', '2s', '--server.http-server-read-header-timeout', '1s']);
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{app="live"}')}`);
    wss.push(ws);
    const lines: string[] = [];
    let closed = false;
    ws.on('close', () => (closed = true));
    ws.on('message', (d: Buffer) => {
      for (const x of (JSON.parse(d.toString()) as { streams: { values: [string, string][] }[] }).streams) for (const v of x.values) lines.push(v[1]);
    });
    await new Promise<void>((r) => ws.on('open', () => r()));
    // Well past both timeouts and node's check interval.
    const until = Date.now() + 5000;
    await waitFor(() => Date.now() > until, 'five seconds to pass');
    expect((await pushJson(s.url, jsonBody([{ stream: { app: 'live' }, values: [[String(nowNs()), 'still here']] }]))).status).toBe(204);
    await waitFor(() => lines.includes('still here'), 'the tail to deliver a line pushed after 5 s');
    expect(closed).toBe(false);
  }, 30_000);

  it('drops a tail whose client does not read once its send buffer passes the limit, and frees the memory', async () => {
    const s = await start(['--querier.tail-max-buffered-bytes', '1MiB', '--limits.max-line-size', '300KB', '--limits.ingestion-rate-mb', '1000', '--limits.ingestion-burst-size-mb', '1000']);
    const base = nowNs(-30_000);
    const line = (i: number) => `${i} ` + 'z'.repeat(200_000);
    // 40 MB of lines for the backlog and the live part.
    for (let b = 0; b < 20; b++) {
      const values = Array.from({ length: 10 }, (_, i): [string, string] => [String(base + BigInt(b * 10 + i)), line(b * 10 + i)]);
      expect((await pushJson(s.url, jsonBody([{ stream: { app: 'slowtail' }, values }]))).status).toBe(204);
    }
    const before = rssMiB(s.proc.pid!);
    const clients: WebSocket[] = [];
    const dropped = () => (s.output().match(/tail dropped: its client is not reading/g) ?? []).length;
    // One at a time: each backlog query holds its 40 MB answer while it runs, and ten at once would measure
    // the queries' peak rather than what the unread sockets keep.
    for (let k = 0; k < 10; k++) {
      const ws = new WebSocket(`${s.url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{app="slowtail"}')}&start=${nowNs(-3_600_000)}&limit=200`);
      // Never read: the socket is paused as soon as it opens, so the server's frames pile up.
      ws.on('open', () => (ws as unknown as { _socket: Socket })._socket.pause());
      ws.on('error', () => undefined);
      clients.push(ws);
      wss.push(ws);
      await waitFor(() => dropped() === k + 1, `non-reading tail ${k + 1} to be dropped`, 30_000);
    }
    const after = rssMiB(s.proc.pid!);
    // Undropped, the ten would keep their whole 40 MB backlogs queued (400 MB and more); dropped at 1 MiB + one
    // frame each they keep little. The bound leaves room for what the ten 40 MB backlog queries leave in the
    // allocator (RSS rarely shrinks back).
    expect(after - before, `RSS ${before.toFixed(0)} → ${after.toFixed(0)} MiB`).toBeLessThan(330);
    // The caps count them as gone: a reading client is served.
    const ok = new WebSocket(`${s.url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{app="slowtail"}')}&start=${nowNs(-3_600_000)}&limit=5`);
    wss.push(ok);
    let got = 0;
    ok.on('message', (d: Buffer) => (got += (JSON.parse(d.toString()) as { streams: { values: unknown[] }[] }).streams.reduce((n, x) => n + x.values.length, 0)));
    await waitFor(() => got >= 5, 'a reading tail to get its backlog');
  }, 90_000);

  it('serves or refuses 500 tail WebSockets cleanly, per tenant and in total, with bounded memory', async () => {
    const s = await start(['--auth-enabled', '--limits.max-concurrent-tail-requests', '60', '--querier.tail-max-connections', '200']);
    for (const tenant of ['t0', 't1', 't2', 't3', 't4']) {
      expect((await pushJson(s.url, jsonBody([{ stream: { app: 'many' }, values: [[String(nowNs()), `hello ${tenant}`]] }]), { tenant })).status).toBe(204);
    }
    const before = rssMiB(s.proc.pid!);
    const outcomes = await Promise.all(
      Array.from({ length: 500 }, (_, i) => {
        const tenant = `t${i % 5}`;
        return new Promise<{ tenant: string; status: number; body: string; first?: string }>((resolve) => {
          const ws = new WebSocket(`${s.url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{app="many"}')}&start=${nowNs(-3_600_000)}`, { headers: { 'x-scope-orgid': tenant } });
          wss.push(ws);
          ws.on('unexpected-response', (_req, res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ tenant, status: res.statusCode ?? 0, body }));
          });
          ws.on('message', (d: Buffer) => resolve({ tenant, status: 101, body: '', first: d.toString() }));
          ws.on('error', (err) => resolve({ tenant, status: -1, body: err.message }));
        });
      }),
    );
    const served = outcomes.filter((o) => o.status === 101);
    const refused = outcomes.filter((o) => o.status === 429);
    expect(served.length + refused.length, JSON.stringify(outcomes.filter((o) => o.status !== 101 && o.status !== 429).slice(0, 3))).toBe(500);
    expect(served.length).toBe(200);
    for (const o of served) expect(o.first).toContain(`hello ${o.tenant}`);
    for (const o of served) expect(o.first).not.toMatch(new RegExp(`hello (?!${o.tenant}")`));
    const perTenant = new Map<string, number>();
    for (const o of served) perTenant.set(o.tenant, (perTenant.get(o.tenant) ?? 0) + 1);
    for (const n of perTenant.values()) expect(n).toBeLessThanOrEqual(60);
    expect(refused.every((o) => /max concurrent tail requests limit exceeded|too many tail connections/.test(o.body))).toBe(true);
    expect(refused.some((o) => o.body.includes('querier.tail_max_connections'))).toBe(true);
    expect(rssMiB(s.proc.pid!) - before).toBeLessThan(300);
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);

    // Per tenant: one tenant alone hits its own cap with Loki's message.
    for (const w of wss.splice(0)) w.terminate();
    await waitFor(async () => {
      const r = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${s.url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{app="many"}')}`, { headers: { 'x-scope-orgid': 'fresh' } });
        ws.on('open', () => {
          ws.terminate();
          resolve(101);
        });
        ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => resolve(-1));
      });
      return r === 101;
    }, 'the caps to be released after the sockets closed');
    // Plain GETs of the tail path on one keep-alive connection hold no slot.
    for (let i = 0; i < 5; i++) await (await fetch(`${s.url}/loki/api/v1/tail?query=${encodeURIComponent('{app="many"}')}`, { headers: { 'x-scope-orgid': 'solo' } })).text();
    const mine: WebSocket[] = [];
    const statuses = await Promise.all(
      Array.from({ length: 61 }, () => new Promise<{ status: number; body: string }>((resolve) => {
        const ws = new WebSocket(`${s.url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{app="many"}')}`, { headers: { 'x-scope-orgid': 'solo' } });
        mine.push(ws);
        wss.push(ws);
        ws.on('open', () => resolve({ status: 101, body: '' }));
        ws.on('unexpected-response', (_q, res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        ws.on('error', () => resolve({ status: -1, body: '' }));
      })),
    );
    expect(statuses.filter((x) => x.status === 101).length).toBe(60);
    const over = statuses.find((x) => x.status === 429)!;
    expect(over.body).toContain('max concurrent tail requests limit exceeded, count > limit (61 > 60)');
  }, 120_000);
});
