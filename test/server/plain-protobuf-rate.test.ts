import { compressSync } from 'snappy';
import { describe, expect, it } from 'vitest';
import type { PushStream } from '../../src/model/entry.js';
import { encodePushRequest } from '../../src/model/push-proto.js';
import { procMemory, MB } from '../helpers/proc-memory.js';
import { expectRefusedWhileDecompressing, nowNs, thousandByteLines } from '../helpers/push.js';
import { testServers } from '../helpers/server.js';
import { readAllEntries } from '../helpers/store-reader.js';

const start = testServers();
const proto = (streams: PushStream[]) => compressSync(Buffer.from(encodePushRequest(streams)));

async function post(url: string, body: Buffer) {
  const res = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
  return { status: res.status, body: await res.text() };
}

describe('plain (snappy only) protobuf bodies: the rate limit is applied before they are decoded', () => {
  it('answers 429 to a body uncompressing to ~150 MB for a tenant with a low rate, without uncompressing it', async () => {
    const server = await start({ args: ['--limits.ingestion-rate-mb', '1', '--limits.ingestion-burst-size-mb', '1'] });
    const body = compressSync(thousandByteLines('{app="plain-rate"}', 150_000, nowNs()));
    expect(body.length).toBeLessThan(20 * MB);
    const before = procMemory(server.proc.pid!);
    const r = await post(server.url, body);
    // Refused by the look-ahead once past the 8192 entries charged whole, not after decoding 150 000.
    expectRefusedWhileDecompressing(r);
    // Uncompressing it would take 150 MB for the block alone.
    expect(procMemory(server.proc.pid!).hwm - before.hwm).toBeLessThan(80 * MB);
    expect((await readAllEntries(server)).filter((e) => e.labels.app === 'plain-rate')).toEqual([]);
  });

  it('decodes a body the rate limit may let through: few entries, most of them refused for age', async () => {
    const server = await start({ args: ['--limits.ingestion-rate-mb', '1', '--limits.ingestion-burst-size-mb', '1'] });
    const old = nowNs(-30 * 24 * 3600 * 1000);
    // 2 MB of lines against a 1 MiB burst, but all except one entry are too old to be charged.
    const entries = [...Array.from({ length: 100 }, (_, i) => ({ ts: old + BigInt(i), line: 'o'.repeat(20_000) })), { ts: nowNs(), line: 'fresh' }];
    const r = await post(server.url, proto([{ labels: '{app="plain-old"}', entries }]));
    expect(r.status, r.body).toBe(400);
    expect(r.body).toContain('total ignored: 100 out of 101');
    expect((await readAllEntries(server)).filter((e) => e.labels.app === 'plain-old').map((e) => e.line)).toEqual(['fresh']);
  });
});
