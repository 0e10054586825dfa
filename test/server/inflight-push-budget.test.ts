import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { procMemory, MB } from '../helpers/proc-memory.js';
import { jsonBody, nowNs } from '../helpers/push.js';
import { testServers, waitFor, type RunningServer } from '../helpers/server.js';

const start = testServers();
const MiB = 1024 * 1024;

async function metric(server: RunningServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

const inflight = (server: RunningServer) => metric(server, 'narvi_distributor_inflight_push_bytes');

async function post(server: RunningServer, body: Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.text(), retryAfter: res.headers.get('retry-after') };
}

/** A JSON push of `lines` compressible ~1 KB lines, each naming its push, in one stream labelled push=`tag`. */
function bigPush(tag: string, lines: number, ts: bigint): Buffer {
  const pad = 'x'.repeat(1000);
  return Buffer.from(jsonBody([{ stream: { app: 'inflight', push: tag }, values: Array.from({ length: lines }, (_, i) => [String(ts + BigInt(i)), `${tag} ${i} ${pad}`] as [string, string]) }]));
}

/**
 * Opens a push over a raw socket that declares `declared` bytes of body (or is chunked when null),
 * sends `send` bytes of it and stops there, holding the connection: a client stuck mid-body.
 */
function stuckPush(server: RunningServer, declared: number | null, send: number): Promise<{ sock: Socket; text: () => string }> {
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    let text = '';
    const sock = connect(Number(u.port), u.hostname, () => {
      const framing = declared !== null ? `Content-Length: ${declared}` : 'Transfer-Encoding: chunked';
      sock.write(`POST /loki/api/v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`);
      const body = Buffer.alloc(send, 0x20);
      if (declared !== null) sock.write(body);
      else sock.write(`${send.toString(16)}\r\n${body.toString('latin1')}\r\n`);
      resolve({ sock, text: () => text });
    });
    sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
    sock.on('error', (err) => reject(err));
  });
}

describe('distributor.max_inflight_push_bytes', () => {
  it('refuses concurrent pushes past the budget with 429 and Retry-After, never 5xx, keeps RSS bounded, and stores every retried push', { timeout: 240_000 }, async () => {
    const budget = 16 * MiB;
    const server = await start({ args: ['--distributor.max-inflight-push-bytes', String(budget), '--limits.ingestion-rate-mb', '0'] });
    const ts = nowNs(-60_000);
    const PUSHES = 24;
    const LINES = 7800; // ~8 MB each: two fit in the budget at once; all 24 would be 194 MB
    const bodies = Array.from({ length: PUSHES }, (_, p) => bigPush(`p${p}`, LINES, ts + BigInt(p) * 1_000_000n));
    expect(bodies[0]!.length).toBeGreaterThan(7.5 * MB);
    // Let the server settle its baseline first.
    expect((await post(server, bigPush('warm', 10, ts))).status).toBe(204);
    const before = procMemory(server.proc.pid!);

    let maxSeen = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxSeen = Math.max(maxSeen, await inflight(server));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const refusals: { body: string; retryAfter: string | null }[] = [];
    const statuses: number[] = [];
    await Promise.all(
      bodies.map(async (body) => {
        for (;;) {
          const r = await post(server, body);
          statuses.push(r.status);
          if (r.status === 204) return;
          expect(r.status, r.body).toBe(429);
          refusals.push(r);
          await new Promise((res) => setTimeout(res, Number(r.retryAfter) * 1000));
        }
      }),
    );
    sampling = false;
    await sampler;
    const after = procMemory(server.proc.pid!);

    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(refusals.length).toBeGreaterThan(0);
    for (const r of refusals) {
      expect(r.retryAfter).toBe('1');
      expect(r.body).toMatch(new RegExp(`^too many push bytes in flight: this push needs \\d+ bytes while other pushes hold \\d+ bytes being read, decoded or written, over distributor\\.max_inflight_push_bytes \\(${budget} bytes\\); retry after 1s\\n$`));
    }
    // What pushes hold together never passed the budget (one push alone may, and none here is that big).
    expect(maxSeen).toBeLessThanOrEqual(budget);
    // 194 MB of bodies arrived at once; held two at a time they cost a part of that (~135 MiB of peak
    // RSS growth measured, with the ingester's own share; ~430 MiB without the budget).
    expect(after.hwm - before.hwm, `peak RSS grew by ${Math.round((after.hwm - before.hwm) / MB)} MiB`).toBeLessThan(230 * MB);
    expect(await metric(server, 'narvi_distributor_inflight_push_refused_total')).toBe(refusals.length);

    // Every push answered 204 is queryable, whole.
    const q = new URLSearchParams({ query: 'sum by (push) (count_over_time({app="inflight"}[1h]))', time: String(Number(ts / 1_000_000_000n) + 600) });
    const res = (await (await fetch(`${server.url}/loki/api/v1/query?${q}`)).json()) as { data: { result: { metric: { push: string }; value: [number, string] }[] } };
    const counts = Object.fromEntries(res.data.result.map((r) => [r.metric.push, Number(r.value[1])]));
    for (let p = 0; p < PUSHES; p++) expect(counts[`p${p}`], `push p${p}`).toBe(LINES);

    // Everything was given back: nothing is held, and a push as big as the budget alone goes through.
    expect(await inflight(server)).toBe(0);
    expect((await post(server, bigPush('later', 16_000, nowNs(-30_000)))).status).toBe(204);
    expect(await inflight(server)).toBe(0);
  });

  it('holds a declared Content-Length before buffering it, and gives it back when the client aborts mid-body', async () => {
    const server = await start({ args: ['--distributor.max-inflight-push-bytes', '8MiB'] });
    const small = bigPush('small', 4000, nowNs(-10_000)); // ~4 MB
    // A client declares 6 MiB and sends 1 MiB of it: the 6 MiB are held at once.
    const stuck = await stuckPush(server, 6 * MiB, MiB);
    await waitFor(async () => (await inflight(server)) === 6 * MiB, 'the declared body to be held');
    const refused = await post(server, small);
    expect(refused.status, refused.body).toBe(429);
    expect(refused.retryAfter).toBe('1');
    expect(refused.body).toContain(`this push needs ${small.length} bytes while other pushes hold ${6 * MiB} bytes`);
    expect(refused.body).toContain('distributor.max_inflight_push_bytes (8388608 bytes)');
    // The client goes away mid-body: its bytes come back and the same push now passes.
    stuck.sock.destroy();
    await waitFor(async () => (await inflight(server)) === 0, 'the aborted push to give its bytes back');
    const ok = await post(server, small);
    expect(ok.status, ok.body).toBe(204);
    expect(await inflight(server)).toBe(0);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });

  it('refuses a chunked body as soon as it passes the budget, before it has all arrived', async () => {
    const server = await start({ args: ['--distributor.max-inflight-push-bytes', '8MiB'] });
    const holder = await stuckPush(server, 6 * MiB, 1024);
    await waitFor(async () => (await inflight(server)) === 6 * MiB, 'the declared body to be held');
    // Chunked: no length known. 1 MiB fits beside the 6 MiB held; the next 2 MiB do not.
    const chunked = await stuckPush(server, null, MiB);
    await waitFor(async () => (await inflight(server)) === 7 * MiB, 'the first chunk to be counted');
    const second = Buffer.alloc(2 * MiB, 0x20);
    chunked.sock.write(`${second.length.toString(16)}\r\n${second.toString('latin1')}\r\n`);
    // The answer comes though the body was never finished (no last chunk was sent).
    await waitFor(() => chunked.text().includes('retry after'), 'an answer to the unfinished chunked push');
    const answer = chunked.text();
    expect(answer).toMatch(/^HTTP\/1\.1 429/);
    expect(answer).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(answer).toContain('over distributor.max_inflight_push_bytes (8388608 bytes)');
    chunked.sock.destroy();
    holder.sock.destroy();
    await waitFor(async () => (await inflight(server)) === 0, 'every byte to be given back');
  });

  it('counts what a compressed body inflates to', async () => {
    const server = await start({ args: ['--distributor.max-inflight-push-bytes', '8MiB', '--limits.ingestion-rate-mb', '0'] });
    // ~4 MB of JSON gzipped to a few KB: the body is small, what it inflates to is not.
    const gz = gzipSync(bigPush('gz', 4000, nowNs(-10_000)));
    expect(gz.length).toBeLessThan(200_000);
    const headers = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
    const holder = await stuckPush(server, 6 * MiB, 1024);
    await waitFor(async () => (await inflight(server)) === 6 * MiB, 'the declared body to be held');
    const refused = await post(server, gz, headers);
    expect(refused.status, refused.body).toBe(429);
    expect(refused.retryAfter).toBe('1');
    expect(refused.body).toContain('over distributor.max_inflight_push_bytes (8388608 bytes)');
    holder.sock.destroy();
    await waitFor(async () => (await inflight(server)) === 0, 'every byte to be given back');
    // Alone it goes through, whatever it inflates to.
    expect((await post(server, gz, headers)).status).toBe(204);
  });

  it('is off at 0', async () => {
    const server = await start({ args: ['--distributor.max-inflight-push-bytes', '0'] });
    const holder = await stuckPush(server, 60 * MiB, 1024);
    const r = await post(server, bigPush('off', 4000, nowNs(-10_000)));
    expect(r.status, r.body).toBe(204);
    holder.sock.destroy();
  });
});
