import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Wal } from '../../src/ingester/wal.js';
import { decodeRecord, encodePushRecord, RECORD_PUSH, type WalRecord } from '../../src/ingester/wal-record.js';
import { createLogger } from '../../src/model/logger.js';
import { removeDir, tempDir } from '../helpers/server.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));
const log = createLogger('error');
const opts = { sync: 'always' as const, syncIntervalMs: 100, segmentSize: 64 * 1024 };

function record(i: number): Buffer {
  return encodePushRecord('tenant', [{ canonical: '{app="x"}', entries: [{ ts: BigInt(i), line: Buffer.from(`line ${i} ${'z'.repeat(i % 50)}`), metadata: i % 7 === 0 ? { k: String(i) } : undefined }] }]);
}

async function replayAll(dir: string): Promise<WalRecord[]> {
  const out: WalRecord[] = [];
  await Wal.create(dir, opts, log).replay((r) => out.push(r));
  return out;
}

describe('WAL', () => {
  it('group-commits concurrent appends and replays every one of them across segments', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const wal = Wal.create(dir, opts, log);
    await wal.replay(() => undefined);
    await wal.start();
    await Promise.all(Array.from({ length: 500 }, (_, i) => wal.append(record(i))));
    await wal.close();
    // 500 records of ~100 bytes roll over 64 KiB segments.
    expect(readdirSync(dir).filter((f) => f.startsWith('segment-')).length).toBeGreaterThan(0);
    const got = await replayAll(dir);
    const ts = got.map((r) => (r.type === RECORD_PUSH ? Number(r.streams[0]!.entries[0]!.ts) : -1)).sort((a, b) => a - b);
    expect(ts).toEqual(Array.from({ length: 500 }, (_, i) => i));
    const seven = got.find((r) => r.type === RECORD_PUSH && r.streams[0]!.entries[0]!.ts === 7n);
    expect(seven?.type === RECORD_PUSH && seven.streams[0]!.entries[0]!.metadata).toEqual({ k: '7' });
  });

  it('checkpoints: later replay sees the checkpoint and what came after, and old segments are gone', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const wal = Wal.create(dir, opts, log);
    await wal.start();
    for (let i = 0; i < 50; i++) await wal.append(record(i));
    const before = await wal.diskBytes();
    await wal.checkpoint(() => [[record(1000)]]);
    await wal.append(record(2000));
    await wal.close();
    expect(await Wal.create(dir, opts, log).diskBytes()).toBeLessThan(before);
    const got = (await replayAll(dir)).map((r) => (r.type === RECORD_PUSH ? r.streams[0]!.entries[0]!.ts : -1n));
    expect(got).toEqual([1000n, 2000n]);
  });

  it('refuses to decode a record with an unknown type, and a truncated one', () => {
    const r = record(1);
    expect(decodeRecord(r).type).toBe(RECORD_PUSH);
    const bad = Buffer.from(r);
    bad[0] = 9;
    expect(() => decodeRecord(bad)).toThrow(/unknown record type 9/);
    expect(() => decodeRecord(r.subarray(0, r.length - 3))).toThrow(/record truncated/);
  });

  it('ignores a half-written checkpoint left by a crash', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const wal = Wal.create(dir, opts, log);
    await wal.start();
    await wal.append(record(1));
    await wal.close();
    writeFileSync(join(dir, 'checkpoint-00000009.tmp'), 'partial garbage');
    const got = await replayAll(dir);
    expect(got).toHaveLength(1);
  });
});
