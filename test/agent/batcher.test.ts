import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { Batcher } from '../../agent/batcher.js';
import { PushClient } from '../../agent/client.js';
import type { AgentConfig } from '../../agent/config.js';
import { silentLogger } from '../../src/model/logger.js';
import { AgentMetrics } from '../../agent/metrics.js';
import { FilePosition } from '../../agent/positions.js';
import { decodePushRequest } from '../../src/model/push-proto.js';
import { waitFor } from '../helpers/server.js';

const snappy = createRequire(import.meta.url)('snappyjs') as { uncompress(b: Uint8Array): Uint8Array };

interface Received {
  headers: http.IncomingHttpHeaders;
  streams: { labels: string; entries: { ts: bigint; line: string }[] }[];
}

/** A push endpoint on loopback whose answers the test scripts (status codes in order, then 204). */
class PushServer {
  received: Received[] = [];
  attempts = 0;
  script: number[] = [];
  hold = false;
  private server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      this.attempts++;
      if (this.hold) return; // never answers: the client times out
      const status = this.script.shift() ?? 204;
      if (status === 204) {
        let body = Buffer.concat(parts);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (req.headers['content-type'] === 'application/json') {
          const doc = JSON.parse(body.toString()) as { streams: { stream: Record<string, string>; values: [string, string][] }[] };
          this.received.push({
            headers: req.headers,
            streams: doc.streams.map((s) => ({ labels: JSON.stringify(s.stream), entries: s.values.map(([t, l]) => ({ ts: BigInt(t), line: l })) })),
          });
        } else {
          this.received.push({ headers: req.headers, streams: decodePushRequest(Buffer.from(snappy.uncompress(body))) });
        }
      }
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 204 ? '' : `status ${status} because test`);
    });
  });
  url = '';
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/loki/api/v1/push`;
    return this;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
  lines(): string[] {
    return this.received.flatMap((r) => r.streams.flatMap((s) => s.entries.map((e) => e.line)));
  }
}

function clientCfg(url: string, over: Partial<AgentConfig['client']> = {}): AgentConfig['client'] {
  return {
    url,
    tenantId: '',
    batchSize: 1024 * 1024,
    batchWaitMs: 50,
    encoding: 'protobuf',
    gzip: false,
    bearerToken: '',
    backoff: { minMs: 10, maxMs: 40, maxRetries: 0 },
    timeoutMs: 2000,
    maxBufferedBytes: 10 * 1024 * 1024,
    externalLabels: {},
    ...over,
  };
}

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(over: Partial<AgentConfig['client']> = {}, url?: string) {
  const server = await new PushServer().start();
  cleanups.push(() => server.stop());
  const cfg = clientCfg(url ?? server.url, over);
  const metrics = new AgentMetrics(false);
  const batcher = new Batcher(cfg, new PushClient(cfg), metrics, silentLogger);
  cleanups.push(() => batcher.drain(100));
  return { server, batcher, metrics };
}

const counter = async (m: AgentMetrics, reason: string) => (await m.droppedEntries.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

describe('batching client', () => {
  it('sends protobuf+snappy with tenant and bearer headers, one stream per label set, in time order', async () => {
    const { server, batcher } = await setup({ tenantId: 'team-a', bearerToken: 'tok' });
    const fp = new FilePosition('1:1', '/x', 1n, 1n, 0);
    batcher.add('{job="a"}', 2n, 'two', fp, 0, 20);
    batcher.add('{job="a"}', 1n, 'one (older, other file)', fp, 0, 30);
    batcher.add('{job="b"}', 5n, 'bee', fp, 0, 40);
    await waitFor(() => server.received.length === 1, 'one request');
    const r = server.received[0]!;
    expect(r.headers['content-type']).toBe('application/x-protobuf');
    expect(r.headers['x-scope-orgid']).toBe('team-a');
    expect(r.headers.authorization).toBe('Bearer tok');
    expect(r.streams.map((s) => [s.labels, s.entries.map((e) => e.line)])).toEqual([
      ['{job="a"}', ['one (older, other file)', 'two']],
      ['{job="b"}', ['bee']],
    ]);
    await waitFor(() => fp.acked === 40, 'position to advance');
  });

  it('sends JSON, gzipped, with basic auth', async () => {
    const { server, batcher } = await setup({ encoding: 'json', gzip: true, basicAuth: { username: 'u', password: 'p' } });
    batcher.add('{app="x", env="dev"}', 1_700_000_000_000_000_001n, 'hello');
    await waitFor(() => server.received.length === 1, 'one request');
    expect(server.received[0]!.headers['content-encoding']).toBe('gzip');
    expect(server.received[0]!.headers.authorization).toBe('Basic ' + Buffer.from('u:p').toString('base64'));
    expect(server.received[0]!.streams).toEqual([{ labels: '{"app":"x","env":"dev"}', entries: [{ ts: 1_700_000_000_000_000_001n, line: 'hello' }] }]);
  });

  it('retries 429 and 5xx with backoff and moves the position only after the 2xx', async () => {
    const { server, batcher, metrics } = await setup();
    server.script = [429, 500, 503];
    const fp = new FilePosition('1:1', '/x', 1n, 1n, 0);
    batcher.add('{job="a"}', 1n, 'l1', fp, 0, 3);
    // Until the 2xx arrives, the position must not move, however the retries are timed.
    const deadline = Date.now() + 20_000;
    while (server.received.length === 0 && Date.now() < deadline) {
      expect(fp.acked).toBe(0);
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor(() => server.received.length === 1, 'eventual success');
    expect(server.attempts).toBe(4);
    await waitFor(() => fp.acked === 3, 'position');
    expect((await metrics.retries.get()).values[0]!.value).toBe(3);
  });

  it('retries connection failures until the server is back', async () => {
    // Reserve a port, close it, and point the client there: connections are refused until a server listens.
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const cfg = clientCfg(`http://127.0.0.1:${port}/loki/api/v1/push`);
    const metrics = new AgentMetrics(false);
    const batcher = new Batcher(cfg, new PushClient(cfg), metrics, silentLogger);
    const fp = new FilePosition('1:1', '/x', 1n, 1n, 0);
    batcher.add('{job="a"}', 1n, 'waits for the server', fp, 0, 21);
    await waitFor(async () => ((await metrics.retries.get()).values[0]?.value ?? 0) >= 2, 'retries');
    expect(fp.acked).toBe(0);
    let got = '';
    const late = http.createServer((req, res) => {
      req.on('data', () => {});
      req.on('end', () => {
        got = 'yes';
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => late.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => { late.closeAllConnections(); late.close(r); }));
    await waitFor(() => got === 'yes' && fp.acked === 21, 'delivery after the server came back');
    await batcher.drain(100);
  });

  it('drops batches the server rejects with another 4xx, counts them by reason, and moves on', async () => {
    const { server, batcher, metrics } = await setup();
    server.script = [400];
    const fp = new FilePosition('1:1', '/x', 1n, 1n, 0);
    batcher.add('{job="a"}', 1n, 'bad', fp, 0, 4);
    await waitFor(() => fp.acked === 4, 'position past the rejected batch');
    expect(await counter(metrics, 'http_400')).toBe(1);
    batcher.add('{job="a"}', 2n, 'good', fp, 0, 9);
    await waitFor(() => server.lines().includes('good'), 'next batch');
  });

  it('gives up after max_retries when configured, counting the drop', async () => {
    const { server, batcher, metrics } = await setup({ backoff: { minMs: 5, maxMs: 10, maxRetries: 2 } });
    server.script = [500, 500, 500, 500];
    batcher.add('{job="a"}', 1n, 'doomed');
    await waitFor(async () => (await counter(metrics, 'max_retries')) === 1, 'drop after retries');
    expect(server.attempts).toBe(3);
  });

  it('cuts batches at batch_size and sends them in order', async () => {
    const { server, batcher } = await setup({ batchSize: 2000, batchWaitMs: 5000 });
    for (let i = 0; i < 100; i++) batcher.add('{job="a"}', BigInt(i + 1), `line ${i} ${'p'.repeat(60)}`);
    await waitFor(() => server.received.length >= 4, 'size-cut batches');
    await batcher.flushAll();
    expect(server.received.length).toBeGreaterThanOrEqual(5);
    expect(server.lines().map((l) => Number(l.split(' ')[1]))).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('applies backpressure: no room once max_buffered_bytes wait unacknowledged', async () => {
    const { server, batcher } = await setup({ batchSize: 1000, maxBufferedBytes: 4000, batchWaitMs: 10 });
    server.script = Array(1000).fill(503);
    let added = 0;
    while (batcher.hasRoom() && added < 10_000) {
      batcher.add('{job="a"}', BigInt(added + 1), 'x'.repeat(100));
      added++;
    }
    expect(added).toBeLessThan(40);
    expect(batcher.pendingBytes).toBeLessThan(4000 + 200);
    let woke = false;
    void batcher.waitForRoom().then(() => (woke = true));
    server.script = [];
    await waitFor(() => woke, 'room after the server recovers');
    await batcher.flushAll();
    expect(server.lines()).toHaveLength(added);
  });
});
