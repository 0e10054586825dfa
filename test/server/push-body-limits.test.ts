import { deflateSync, gzipSync } from 'node:zlib';
import { compressSync } from 'snappy';
import { describe, expect, it } from 'vitest';
import type { PushStream } from '../../src/model/entry.js';
import { encodePushRequest } from '../../src/model/push-proto.js';
import { procMemory, MB } from '../helpers/proc-memory.js';
import { expectRefusedWhileDecompressing, jsonBody, nowNs, pushJson, pushProto, thousandByteLines } from '../helpers/push.js';
import { testServers, waitFor, type RunningServer } from '../helpers/server.js';
import { readAllEntries } from '../helpers/store-reader.js';
import { tinyEntriesBody } from '../../bench/lib/dataset.js';

const start = testServers();

async function post(server: RunningServer, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: string; ms: number; headers: Headers }> {
  const t = performance.now();
  const res = await fetch(`${server.url}/loki/api/v1/push`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.text(), ms: performance.now() - t, headers: res.headers };
}

/** Asks /ready every 100 ms while `work` runs; returns the slowest answer in ms. */
async function slowestReady(server: RunningServer, work: Promise<unknown>): Promise<number> {
  let done = false;
  void work.finally(() => (done = true));
  let worst = 0;
  while (!done) {
    const t = performance.now();
    const r = await fetch(`${server.url}/ready`);
    expect(r.status).toBe(200);
    worst = Math.max(worst, performance.now() - t);
    await new Promise((r) => setTimeout(r, 100));
  }
  return worst;
}

async function countStored(server: RunningServer, app: string): Promise<number> {
  return (await readAllEntries(server)).filter((e) => e.labels.app === app).length;
}

describe('structured metadata limits', () => {
  it("refuses an entry whose metadata is over max_structured_metadata_size with Loki's 400, storing nothing of it", async () => {
    const server = await start();
    const ts = nowNs();
    // The case: a 1-byte line carrying 20 MiB of metadata.
    const huge = jsonBody([{ stream: { app: 'md-big' }, values: [[String(ts), 'x', { blob: 'v'.repeat(20 * MB) }]] }]);
    const r = await pushJson(server.url, huge);
    expect(r.status, r.body).toBe(400);
    expect(r.body).toContain(`stream '{app="md-big"}' has structured metadata too large: '${20 * MB + 4}' bytes, limit: '65536' bytes. Please see \`limits.max_structured_metadata_size\``);
    // Right at the limit is fine; one byte over is not.
    const at = (n: number, app: string) => jsonBody([{ stream: { app }, values: [[String(ts), 'x', { k: 'v'.repeat(n - 1) }]] }]);
    expect((await pushJson(server.url, at(65536, 'md-edge'))).status).toBe(204);
    const over = await pushJson(server.url, at(65537, 'md-over'));
    expect(over.status).toBe(400);
    expect(over.body).toContain("'65537' bytes, limit: '65536' bytes");
    expect(await countStored(server, 'md-big')).toBe(0);
    expect(await countStored(server, 'md-over')).toBe(0);
    expect(await countStored(server, 'md-edge')).toBe(1);
  });

  it('refuses more than max_structured_metadata_entries_count names per entry, in JSON and protobuf', async () => {
    const server = await start({ args: ['--limits.max-structured-metadata-entries-count', '5'] });
    const md = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    const ts = nowNs();
    const ok = await pushJson(server.url, jsonBody([{ stream: { app: 'md-count' }, values: [[String(ts), 'five', md(5)]] }]));
    expect(ok.status, ok.body).toBe(204);
    const bad = await pushJson(server.url, jsonBody([{ stream: { app: 'md-count' }, values: [[String(ts + 1n), 'six', md(6)], [String(ts + 2n), 'plain']] }]));
    expect(bad.status).toBe(400);
    expect(bad.body).toContain(`stream '{app="md-count"}' has too many structured metadata labels: '6', limit: '5'. Please see \`limits.max_structured_metadata_entries_count\``);
    expect(bad.body).toContain('total ignored: 1 out of 2');
    const pb = await pushProto(server.url, [{ labels: '{app="md-count"}', entries: [{ ts: ts + 3n, line: 'pb', metadata: md(6) }] }]);
    expect(pb.status).toBe(400);
    expect(pb.body).toContain("too many structured metadata labels: '6'");
    expect((await readAllEntries(server)).map((e) => e.line).sort()).toEqual(['five', 'plain']);
  });

  it('counts structured metadata toward the ingestion rate limit', async () => {
    const server = await start({ args: ['--limits.ingestion-rate-mb', '1', '--limits.ingestion-burst-size-mb', '1'] });
    const ts = nowNs();
    // 20 one-byte lines with 60 KB of metadata each: 20 bytes of lines, 1.2 MB against a 1 MiB burst.
    const values = Array.from({ length: 20 }, (_, i) => [String(ts + BigInt(i)), 'x', { blob: String(i).padEnd(60_000, 'm') }] as [string, string, Record<string, string>]);
    const r = await pushJson(server.url, jsonBody([{ stream: { app: 'md-rate' }, values }]));
    expect(r.status, r.body).toBe(429);
    expect(r.body).toMatch(/Ingestion rate limit exceeded for user fake \(limit: 1048576 bytes\/sec\) while attempting to ingest '20' lines totaling '1200\d{3}' bytes/);
    expect(await countStored(server, 'md-rate')).toBe(0);
  });
});

describe('compressed bodies are inflated as a stream, with their limits applied while inflating', () => {
  /** Valid JSON of `entries` lines of 1000 bytes, gzipped: highly compressible, ~1 KB per entry inflated. */
  function bigGzipJson(app: string, entries: number): Buffer {
    const ts = nowNs();
    const line = 'a'.repeat(1000);
    const values = Array.from({ length: entries }, (_, i) => `["${ts + BigInt(i)}","${line}"]`).join(',');
    return gzipSync(Buffer.from(`{"streams":[{"stream":{"app":"${app}"},"values":[${values}]}]}`), { level: 1 });
  }

  it('answers 429 to a gzip of valid JSON whose lines exceed the rate limit before inflating all of it, in bounded memory', async () => {
    const server = await start();
    const body = bigGzipJson('gz-rate', 150_000); // ~150 MB inflated
    const before = procMemory(server.proc.pid!);
    const push = post(server, body, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    const worstReady = await slowestReady(server, push);
    const r = await push;
    expect(r.status, r.body).toBe(429);
    expect(r.body).toMatch(/Ingestion rate limit exceeded for user fake .* \(refused while decompressing the body\)/);
    const after = procMemory(server.proc.pid!);
    // Inflating it all would take 150 MB for the text alone; stopping after the burst (6 MB) takes little.
    expect(after.hwm - before.hwm).toBeLessThan(80 * MB);
    expect(worstReady).toBeLessThan(2000);
    expect(await countStored(server, 'gz-rate')).toBe(0);
  });

  it('answers 413 naming distributor.max_decompressed_size to a body that inflates past it, and keeps answering', async () => {
    const server = await start({ args: ['--limits.ingestion-rate-mb', '0', '--distributor.max-decompressed-size', '32MiB'] });
    // A bomb made of valid JSON: a prefix, then 64 gzip members of 64 MiB of spaces each (4 GiB inflated).
    const spaces = gzipSync(Buffer.alloc(64 * MB, 0x20), { level: 9 });
    const prefix = gzipSync(Buffer.from('{"streams":[{"stream":{"app":"bomb"},"values":['));
    const bomb = Buffer.concat([prefix, ...Array.from({ length: 64 }, () => spaces)]);
    expect(bomb.length).toBeLessThan(8 * MB);
    const before = procMemory(server.proc.pid!);
    const r = await post(server, bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(r.status, r.body).toBe(413);
    expect(r.body).toContain('gzip body inflates to more than 33554432 bytes, over distributor.max_decompressed_size (33554432)');
    expect(procMemory(server.proc.pid!).hwm - before.hwm).toBeLessThan(120 * MB);
    // A deflate body past the cap too; then a normal push still works.
    const deflated = await post(server, deflateSync(Buffer.concat([Buffer.from('{"streams":['), Buffer.alloc(40 * MB, 0x20)])), { 'content-type': 'application/json', 'content-encoding': 'deflate' });
    expect(deflated.status).toBe(413);
    expect((await pushJson(server.url, jsonBody([{ stream: { app: 'after' }, values: [[String(nowNs()), 'fine']] }]), { encoding: 'gzip' })).status).toBe(204);
  });

  it('refuses a gzip bomb of zeros at its first bytes (not JSON), and one announcing more than the cap before inflating', async () => {
    const server = await start();
    const zeros = gzipSync(Buffer.alloc(64 * MB), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => zeros)); // 4 GiB of zeros
    const before = procMemory(server.proc.pid!);
    const r = await post(server, bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(r.status, r.body).toBe(400);
    expect(r.body).toContain('invalid JSON body: unexpected byte 0x00 at byte 0');
    // One member announcing 300 MiB in its trailer: refused on the announcement.
    const announced = gzipSync(Buffer.alloc(300 * MB, 0x20), { level: 9 });
    const a = await post(server, announced, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(a.status, a.body).toBe(413);
    expect(a.body).toContain('over distributor.max_decompressed_size (268435456)');
    expect(procMemory(server.proc.pid!).hwm - before.hwm).toBeLessThan(60 * MB);
  });
});

describe('compressed protobuf bodies: the rate limit and the snappy cap are applied while inflating', () => {
  const proto = (streams: PushStream[]) => compressSync(Buffer.from(encodePushRequest(streams)));
  const pbHeaders = (encoding: string) => ({ 'content-type': 'application/x-protobuf', 'content-encoding': encoding });

  it('answers 429 to a gzip protobuf inflating to ~150 MB for a tenant with a low rate, early and in bounded memory', async () => {
    const server = await start({ args: ['--limits.ingestion-rate-mb', '1', '--limits.ingestion-burst-size-mb', '1'] });
    const ts = nowNs();
    const body = gzipSync(compressSync(thousandByteLines('{app="pb-rate"}', 150_000, ts)), { level: 1 });
    expect(body.length).toBeLessThan(10 * MB);
    const before = procMemory(server.proc.pid!);
    const push = post(server, body, pbHeaders('gzip'));
    const worstReady = await slowestReady(server, push);
    // Refused once past the 8192 entries charged whole (8.2 MB of lines), not after 150 MB.
    expectRefusedWhileDecompressing(await push);
    expect(procMemory(server.proc.pid!).hwm - before.hwm).toBeLessThan(80 * MB);
    expect(worstReady).toBeLessThan(2000);
    // The same as deflate.
    const d = await post(server, deflateSync(compressSync(thousandByteLines('{app="pb-rate"}', 20_000, ts))), pbHeaders('deflate'));
    expect(d.status, d.body).toBe(429);
    expect(d.body).toContain('(refused while decompressing the body)');
    expect(await countStored(server, 'pb-rate')).toBe(0);
  });

  it('does not refuse while inflating a push the rate limit would let through: few entries, most of them refused for age', async () => {
    const server = await start({ args: ['--limits.ingestion-rate-mb', '1', '--limits.ingestion-burst-size-mb', '1'] });
    const old = nowNs(-30 * 24 * 3600 * 1000);
    // 2 MB of lines against a 1 MiB burst, but all except one entry are too old to be charged.
    const entries = [...Array.from({ length: 100 }, (_, i) => ({ ts: old + BigInt(i), line: 'o'.repeat(20_000) })), { ts: nowNs(), line: 'fresh' }];
    const r = await post(server, gzipSync(proto([{ labels: '{app="pb-old"}', entries }])), pbHeaders('gzip'));
    expect(r.status, r.body).toBe(400);
    expect(r.body).toContain('total ignored: 100 out of 101');
    expect((await readAllEntries(server)).filter((e) => e.labels.app === 'pb-old').map((e) => e.line)).toEqual(['fresh']);
  });

  it('does not refuse while inflating a gzip JSON push the rate limit would let through either', async () => {
    const server = await start({ args: ['--limits.ingestion-rate-mb', '1', '--limits.ingestion-burst-size-mb', '1'] });
    const old = nowNs(-30 * 24 * 3600 * 1000);
    const values: [string, string][] = [...Array.from({ length: 100 }, (_, i) => [String(old + BigInt(i)), 'o'.repeat(20_000)] as [string, string]), [String(nowNs()), 'fresh']];
    const r = await pushJson(server.url, jsonBody([{ stream: { app: 'json-old' }, values }]), { encoding: 'gzip' });
    expect(r.status, r.body).toBe(400);
    expect(r.body).toContain('total ignored: 100 out of 101');
    expect((await readAllEntries(server)).filter((e) => e.labels.app === 'json-old').map((e) => e.line)).toEqual(['fresh']);
  });

  it('stores a valid gzip protobuf push within the rate exactly', async () => {
    const server = await start();
    const ts = nowNs(-60_000);
    // More entries than are charged whole (8192), so the in-flight count runs to the end without refusing.
    const streams: PushStream[] = [0, 1].map((s) => ({
      labels: `{app="pb-ok", s="${s}"}`,
      entries: Array.from({ length: 6000 }, (_, i) => ({ ts: ts + BigInt(i * 2 + s), line: `s${s} entry ${i} é ${'z'.repeat(i % 97)}`, ...(i % 10 === 0 ? { metadata: { trace: `t${i}` } } : {}) })),
    }));
    const r = await post(server, gzipSync(proto(streams)), pbHeaders('gzip'));
    expect(r.status, r.body).toBe(204);
    const stored = (await readAllEntries(server)).filter((e) => e.labels.app === 'pb-ok');
    const want = streams.flatMap((st, s) => st.entries.map((e) => ({ s: String(s), ts: e.ts, line: e.line, trace: e.metadata?.trace })));
    const got = stored.map((e) => ({ s: e.labels.s!, ts: e.ts, line: e.line, trace: e.metadata?.trace }));
    const key = (x: { s: string; ts: bigint }) => `${x.s}/${x.ts}`;
    expect(got.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(want.sort((a, b) => key(a).localeCompare(key(b))));
  });

  it('answers 413 naming distributor.max_decompressed_size to a snappy block declaring more, plain or inside gzip', async () => {
    const server = await start({ args: ['--distributor.max-decompressed-size', '1MiB'] });
    const big = proto([{ labels: '{app="pb-big"}', entries: [{ ts: nowNs(), line: 'q'.repeat(2 * MB) }] }]);
    const expected = /^snappy block declares \d+ uncompressed bytes, more than 1048576, over distributor\.max_decompressed_size \(1048576\): send smaller pushes/;
    const plain = await post(server, big, { 'content-type': 'application/x-protobuf' });
    expect(plain.status, plain.body).toBe(413);
    expect(plain.body).toMatch(expected);
    // A header alone, declaring 1 GiB, followed by nothing valid: refused on the header.
    const header = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04, 0x00, 0x61]);
    const bare = await post(server, header, { 'content-type': 'application/x-protobuf' });
    expect(bare.status, bare.body).toBe(413);
    expect(bare.body).toContain('snappy block declares 1073741824 uncompressed bytes');
    // Inside gzip: the gzip layer is under the cap, the snappy block within declares more.
    const gz = await post(server, gzipSync(big), pbHeaders('gzip'));
    expect(gz.status, gz.body).toBe(413);
    expect(gz.body).toMatch(expected);
    expect((await pushProto(server.url, [{ labels: '{app="pb-big"}', entries: [{ ts: nowNs(), line: 'fits' }] }])).status).toBe(204);
  });
});

describe('a compressed JSON body of leading whitespace', () => {
  it('is refused after 1 MiB of it, while whitespace between tokens (pretty-printing) of any length is fine', async () => {
    const server = await start();
    const spaces = gzipSync(Buffer.alloc(200 * MB, 0x20), { level: 9 });
    const before = procMemory(server.proc.pid!);
    const r = await post(server, spaces, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(r.status, r.body).toBe(400);
    expect(r.body).toContain('invalid JSON body: more than 1048576 bytes of whitespace before the first token');
    expect(procMemory(server.proc.pid!).hwm - before.hwm).toBeLessThan(40 * MB);
    // Just under the limit before the first token, and 3 MiB of indentation between tokens: accepted.
    const ws = (n: number) => ' \n\t\r'.repeat(n / 4);
    const pretty = `${ws(1024 * 1024 - 4)}{${ws(MB)}"streams"${ws(MB)}:[{"stream":{"app":"pretty"},"values":[${ws(MB)}["${nowNs()}","ok"]]}]}`;
    const ok = await pushJson(server.url, pretty, { encoding: 'gzip' });
    expect(ok.status, ok.body).toBe(204);
    expect((await pushJson(server.url, ' '.repeat(1024 * 1024 + 1) + '{"streams":[]}', { encoding: 'deflate' })).status).toBe(400);
    expect((await readAllEntries(server)).filter((e) => e.labels.app === 'pretty').map((e) => e.line)).toEqual(['ok']);
  });
});

describe('entries per push', () => {
  it('answers 413 naming distributor.max_push_entries past the cap, in JSON and protobuf, and stores nothing of it', async () => {
    const server = await start({ args: ['--distributor.max-push-entries', '1000'] });
    const ts = nowNs();
    const values = (n: number, tag: string) => Array.from({ length: n }, (_, i) => [String(ts + BigInt(i)), `${tag}-${i}`] as [string, string]);
    const over = await pushJson(server.url, jsonBody([{ stream: { app: 'cap' }, values: values(600, 'a') }, { stream: { app: 'cap2' }, values: values(401, 'b') }]));
    expect(over.status, over.body).toBe(413);
    expect(over.body).toContain('push carries more than 1000 entries, over distributor.max_push_entries (1000)');
    const pb = await pushProto(server.url, [{ labels: '{app="cap"}', entries: values(1001, 'c').map(([t, line]) => ({ ts: BigInt(t), line })) }]);
    expect(pb.status).toBe(413);
    const ok = await pushJson(server.url, jsonBody([{ stream: { app: 'cap' }, values: values(1000, 'd') }]));
    expect(ok.status, ok.body).toBe(204);
    const lines = (await readAllEntries(server)).map((e) => e.line);
    expect(lines).toHaveLength(1000);
    expect(lines.every((l) => l.startsWith('d-'))).toBe(true);
  });
});

describe('a 100 MB JSON push of tiny entries', () => {
  it('is stored whole, and leaves the server under 3x its size in RSS', { timeout: 240_000 }, async () => {
    const server = await start({ args: ['--limits.ingestion-rate-mb', '10000', '--limits.ingestion-burst-size-mb', '10000'] });
    const { body, entries } = tinyEntriesBody(100_000_000, nowNs(-60_000));
    const push = post(server, body, { 'content-type': 'application/json' });
    const worstReady = await slowestReady(server, push);
    const r = await push;
    expect(r.status, r.body).toBe(204);
    // The decode yields every few thousand entries and slices go out one at a time: others get in. (Before,
    // the loop held the thread for the whole 14 s decode; the bound leaves room for a machine shared by
    // several test processes, where a slice alone can take a second of wall time.)
    expect(worstReady).toBeLessThan(3000);
    const pid = server.proc.pid!;
    // Issue #10 measured 1.7 GB; the body is 100 MB.
    const settled = await waitFor(() => (procMemory(pid).rss < 300 * MB ? procMemory(pid) : null), 'RSS under 300 MB after the push', 30_000);
    expect(settled.rss).toBeLessThan(300 * MB);
    expect(procMemory(pid).hwm).toBeLessThan(600 * MB);
    const q = await fetch(`${server.url}/loki/api/v1/query?query=${encodeURIComponent('sum(count_over_time({app="tiny"}[10m]))')}`);
    const doc = (await q.json()) as { data: { result: { value: [number, string] }[] } };
    expect(Number(doc.data.result[0]!.value[1])).toBe(entries);
  });
});
