import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nextFrame, Wal } from '../../src/ingester/wal.js';
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

  it('resynchronises after damage anywhere: every byte of every record flipped in turn costs at most that record', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const wal = Wal.create(dir, { ...opts, segmentSize: 1 << 30 }, log);
    await wal.start();
    for (let i = 0; i < 6; i++) await wal.append(record(i));
    await wal.close();
    const seg = join(dir, readdirSync(dir).find((f) => f.startsWith('segment-'))!);
    const clean = readFileSync(seg);
    const starts: number[] = [];
    for (let p = 0; p < clean.length; p += 8 + clean.readUInt32LE(p)) starts.push(p);
    for (let at = 0; at < clean.length; at++) {
      const bad = Buffer.from(clean);
      bad[at] = bad[at]! ^ (1 << at % 8);
      writeFileSync(seg, bad);
      const hit = starts.findLastIndex((p) => p <= at);
      const got = (await replayAll(dir)).map((r) => (r.type === RECORD_PUSH ? Number(r.streams[0]!.entries[0]!.ts) : -1));
      expect(got, `bit flipped at byte ${at}`).toEqual([0, 1, 2, 3, 4, 5].filter((i) => i !== hit));
    }
  });

  it('reading every file into one reused buffer replays a small file after a large one without the large one\'s leftovers', async () => {
    const dir = tempDir();
    dirs.push(dir);
    // The second file is far shorter than the first: bytes of the first left past its end would be intact frames.
    writeFileSync(join(dir, 'segment-00000001'), Buffer.concat(Array.from({ length: 300 }, (_, i) => frame(record(i)))));
    writeFileSync(join(dir, 'segment-00000002'), Buffer.concat([1000, 1001].map((i) => frame(record(i)))));
    writeFileSync(join(dir, 'segment-00000003'), Buffer.concat(Array.from({ length: 50 }, (_, i) => frame(record(2000 + i)))));
    const seen: number[] = [];
    const lines: string[] = [];
    const stats = await Wal.create(dir, opts, log).replay(
      (r) => {
        if (r.type !== RECORD_PUSH) return;
        const entry = r.streams[0]!.entries[0]!;
        seen.push(Number(entry.ts));
        lines.push(entry.line.toString());
      },
      decodeRecord,
      { recordsAreCopied: true },
    );
    const expected = [...Array.from({ length: 300 }, (_, i) => i), 1000, 1001, ...Array.from({ length: 50 }, (_, i) => 2000 + i)];
    expect(seen).toEqual(expected);
    expect(lines).toEqual(expected.map((i) => `line ${i} ${'z'.repeat(i % 50)}`));
    expect(stats).toMatchObject({ records: expected.length, corrupt: 0, skippedBytes: 0 });
  });

  it('finds no frame in bytes that only look like one until the checksum', () => {
    const fake = Buffer.alloc(64);
    fake.writeUInt32LE(20, 0);
    fake.writeUInt32LE(12345, 4);
    fake[8] = 1;
    expect(nextFrame(fake, 0)).toBe(-1);
    const real = Buffer.concat([Buffer.alloc(5, 0xee), frame(record(3))]);
    expect(nextFrame(real, 0)).toBe(5);
  });
});

function frame(payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(payload.length, 0);
  h.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([h, payload]);
}
