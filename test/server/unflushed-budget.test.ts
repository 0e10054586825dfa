import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonBody, nowNs, pushJson } from '../helpers/push.js';
import { testServers, waitFor, type RunningServer } from '../helpers/server.js';
import { readAllEntries } from '../helpers/store-reader.js';

const start = testServers();

// Chunks are cut only by the memory budget here: no size, age or idle cut within a test's lifetime.
const NO_NATURAL_FLUSH = ['--ingester.chunk-target-size', '1GB', '--ingester.max-chunk-age', '24h', '--ingester.chunk-idle-period', '24h', '--ingester.flush-check-period', '1h'];

async function unflushed(server: RunningServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^narvi_ingester_unflushed_bytes (\d+)/m.exec(text)?.[1]);
}

/** A push of `lines` random (incompressible) 1 KB lines over 4 streams. */
function randomPush(tag: string, lines: number, ts: bigint): { body: string; sent: string[] } {
  const sent: string[] = [];
  const streams = Array.from({ length: 4 }, (_, s) => ({
    stream: { app: 'budget', tag, shard: String(s) },
    values: Array.from({ length: lines / 4 }, (_, i) => {
      const line = `${tag} ${s} ${i} ${randomBytes(500).toString('hex')}`;
      sent.push(line);
      return [String(ts + BigInt(i)), line] as [string, string];
    }),
  }));
  return { body: jsonBody(streams), sent };
}

describe('ingester.max_unflushed_bytes', () => {
  it('answers 429 with Retry-After while unflushed data is over budget and flushing cannot drain it, then accepts again once it can', async () => {
    const server = await start({ args: ['--ingester.max-unflushed-bytes', '2MB', '--limits.ingestion-rate-mb', '1000', '--limits.ingestion-burst-size-mb', '1000', ...NO_NATURAL_FLUSH] });
    // Flushes fail while the chunk directory is a file.
    const chunks = join(server.dataDir, 'chunks');
    rmSync(chunks, { recursive: true, force: true });
    writeFileSync(chunks, 'not a directory');
    const accepted: string[] = [];
    let refused: { status: number; body: string; retryAfter: string | null } | null = null;
    let refusedLines: string[] = [];
    for (let i = 0; i < 40 && !refused; i++) {
      const { body, sent } = randomPush(`p${i}`, 400, nowNs() + BigInt(i) * 1_000_000n);
      const res = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await res.text();
      if (res.status === 204) accepted.push(...sent);
      else {
        refused = { status: res.status, body: text, retryAfter: res.headers.get('retry-after') };
        refusedLines = sent;
      }
    }
    expect(refused, 'a push over the budget').not.toBeNull();
    expect(refused!.status).toBe(429);
    expect(refused!.retryAfter).toBe('2');
    expect(refused!.body).toMatch(/ingester is holding \d+ bytes of unflushed data, over its limit ingester.max_unflushed_bytes \(2000000 bytes\); chunks are being flushed to make room: retry after 2s/);
    // Accepted data stays under the budget plus one push (~440 KB) and the head buffers.
    expect(await unflushed(server)).toBeLessThan(2_000_000 + 1_000_000);
    expect(server.output()).toMatch(/chunk flush failed; will retry/);

    // Once flushes can succeed, the next pushes drain the backlog and are accepted.
    rmSync(chunks);
    const retry = randomPush('retry', 400, nowNs() + 1_000_000_000n);
    await waitFor(async () => (await pushJson(server.url, retry.body)).status === 204, 'a push accepted once flushing works again');
    accepted.push(...retry.sent);
    const stored = new Set((await readAllEntries(server)).map((e) => e.line));
    expect(stored.size).toBe(accepted.length);
    for (const l of accepted) expect(stored.has(l)).toBe(true);
    expect(refusedLines.some((l) => stored.has(l))).toBe(false);
  });

  it('flushes early, largest streams first, so a client that honours Retry-After keeps pushing at full speed', { timeout: 180_000 }, async () => {
    const budget = 4_000_000;
    const server = await start({ args: ['--ingester.max-unflushed-bytes', String(budget), '--limits.ingestion-rate-mb', '1000', '--limits.ingestion-burst-size-mb', '1000', ...NO_NATURAL_FLUSH] });
    const accepted: string[] = [];
    let peak = 0;
    let refusals = 0;
    const pusher = async (w: number) => {
      for (let i = 0; i < 25; i++) {
        const { body, sent } = randomPush(`w${w}-${i}`, 400, nowNs() + BigInt(i) * 1_000_000n);
        for (;;) {
          const res = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          await res.text();
          if (res.status === 204) break;
          expect(res.status).toBe(429);
          refusals++;
          await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after')) * 100));
        }
        accepted.push(...sent);
        peak = Math.max(peak, await unflushed(server));
      }
    };
    await Promise.all([0, 1, 2, 3].map(pusher)); // ~44 MB of incompressible lines through a 4 MB budget
    expect(peak).toBeLessThan(budget + 4 * 500_000);
    expect(server.output()).toMatch(/flushed chunks/);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/narvi_ingester_chunks_flushed_total\{reason="memory"\} [1-9]/);
    const stored = new Set((await readAllEntries(server)).map((e) => e.line));
    expect(stored.size).toBe(accepted.length);
    // Fewer refusals than a few per push: flushing keeps pace (on a quiet machine, fewer than one per push;
    // a machine shared by other test processes slows the flushes down, not the pushes).
    expect(refusals).toBeLessThan((accepted.length / 400) * 2.5);
  });
});
