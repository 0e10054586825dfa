import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRecord, RECORD_CHECKPOINT, RECORD_PUSH } from '../../src/ingester/wal-record.js';
import { decodeChunk } from '../../src/chunk/chunk.js';
import { nowNs, pushProto } from '../helpers/push.js';
import { queryLines } from '../helpers/query-lines.js';
import { removeDir, startServer, tempDir, type RunningServer, serverSlot } from '../helpers/server.js';

const slot = serverSlot();

/** One push per batch, so one WAL record per batch: `batches` pushes of 2 streams × `per` lines. */
async function pushBatches(url: string, tag: string, batches: number, per: number): Promise<string[]> {
  const sent: string[] = [];
  const base = nowNs(-60_000);
  for (let b = 0; b < batches; b++) {
    const streams = [0, 1].map((s) => ({
      labels: `{app="damage", tag="${tag}", shard="${s}"}`,
      entries: Array.from({ length: per }, (_, i) => ({ ts: base + BigInt(b * 10_000 + i), line: `${tag} b=${b} s=${s} i=${i} ${'x'.repeat(40)}` })),
    }));
    const r = await pushProto(url, streams);
    expect(r.status, r.body).toBe(204);
    for (const st of streams) for (const e of st.entries) sent.push(e.line);
  }
  return sent;
}

interface Frame {
  offset: number;
  length: number;
  lines: string[];
}

/** The frames of a WAL file and the lines each holds, read with the codec (the file is intact here). */
function frames(file: string): Frame[] {
  const buf = readFileSync(file);
  const out: Frame[] = [];
  for (let p = 0; p + 8 <= buf.length; ) {
    const length = buf.readUInt32LE(p);
    const rec = decodeRecord(buf.subarray(p + 8, p + 8 + length));
    const lines: string[] = [];
    if (rec.type === RECORD_PUSH) for (const s of rec.streams) for (const e of s.entries) lines.push(e.line.toString());
    if (rec.type === RECORD_CHECKPOINT) for (const b of decodeChunk(rec.chunk, 'test')) for (let i = 0; i < b.count; i++) lines.push(b.lines.toString('utf8', b.lineOffsets[i]!, b.lineOffsets[i + 1]!));
    out.push({ offset: p, length, lines });
    p += 8 + length;
  }
  return out;
}

function walFile(dataDir: string, kind: 'segment' | 'checkpoint'): string {
  const dir = join(dataDir, 'wal');
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${kind}-`) && !f.endsWith('.tmp') && statSync(join(dir, f)).size > 0)
    .map((f) => join(dir, f))
    .sort()
    .at(-1)!;
}

function flipBit(file: string, at: number, bit: number): void {
  const buf = readFileSync(file);
  buf[at] = buf[at]! ^ (1 << bit);
  writeFileSync(file, buf);
}

const QUERY = '{app="damage"}';

describe('a damaged WAL costs only the damaged records', () => {
  it('skips records with flipped bits in their length, checksum and payload, and replays every other one', async () => {
    const dataDir = slot.dir();
    slot.server = await startServer({ dataDir });
    const sent = await pushBatches(slot.server.url, 'seg', 30, 20);
    await slot.server.kill();
    const file = walFile(dataDir, 'segment');
    const fr = frames(file);
    expect(fr.length).toBe(30);
    // The first frame's length (a high bit: it then runs past the file), a middle frame's checksum, a
    // later frame's payload, and a low bit of another's length (it then ends inside its own payload).
    const hits = [
      { frame: 0, at: fr[0]!.offset + 3, bit: 6 },
      { frame: 9, at: fr[9]!.offset + 5, bit: 2 },
      { frame: 17, at: fr[17]!.offset + 8 + Math.floor(fr[17]!.length / 2), bit: 0 },
      { frame: 24, at: fr[24]!.offset, bit: 1 },
    ];
    for (const h of hits) flipBit(file, h.at, h.bit);
    const lost = new Set(hits.flatMap((h) => fr[h.frame]!.lines));

    slot.server = await startServer({ dataDir });
    expect(slot.server.output()).toMatch(/WAL record failed its checksum; skipped to the next intact record/);
    const got = await queryLines(slot.server.url, QUERY);
    const expected = sent.filter((l) => !lost.has(l));
    expect(got.length).toBe(expected.length);
    expect(new Set(got)).toEqual(new Set(expected));
    const metrics = await (await fetch(`${slot.server.url}/metrics`)).text();
    expect(Number(/^narvi_ingester_wal_corrupt_records_total (\d+)/m.exec(metrics)![1])).toBe(4);
  });

  it('skips one damaged stream record of a checkpoint and replays the other streams and later segments', async () => {
    const dataDir = slot.dir();
    slot.server = await startServer({ dataDir });
    const before = await pushBatches(slot.server.url, 'cp', 10, 20);
    // A clean stop writes a checkpoint: one record per stream.
    expect(await slot.server.stop()).toBe(0);
    slot.server = await startServer({ dataDir });
    const after = await pushBatches(slot.server.url, 'late', 5, 10);
    await slot.server.kill();
    const cp = walFile(dataDir, 'checkpoint');
    const fr = frames(cp);
    expect(fr.length).toBe(2);
    flipBit(cp, fr[0]!.offset + 8 + fr[0]!.length - 3, 4);

    slot.server = await startServer({ dataDir });
    const got = await queryLines(slot.server.url, QUERY);
    const expected = [...before, ...after].filter((l) => !fr[0]!.lines.includes(l));
    expect(got.length).toBe(expected.length);
    expect(new Set(got)).toEqual(new Set(expected));
  });

  it('skips a checksum-valid record whose content does not decode, and a directory named like a segment', async () => {
    const dataDir = slot.dir();
    slot.server = await startServer({ dataDir });
    const sent = await pushBatches(slot.server.url, 'valid', 6, 10);
    await slot.server.kill();
    const file = walFile(dataDir, 'segment');
    const fr = frames(file);
    // Rewrite frame 2's payload as an unknown record type and fix up its checksum: the frame is intact,
    // its content is not.
    const buf = readFileSync(file);
    const { crc32 } = await import('node:zlib');
    buf[fr[2]!.offset + 8] = 9;
    buf.writeUInt32LE(crc32(buf.subarray(fr[2]!.offset + 8, fr[2]!.offset + 8 + fr[2]!.length)), fr[2]!.offset + 4);
    writeFileSync(file, buf);
    mkdirSync(join(dataDir, 'wal', 'segment-00009999'));
    mkdirSync(join(dataDir, 'wal', 'checkpoint-00009998'));

    slot.server = await startServer({ dataDir });
    expect(slot.server.output()).toMatch(/WAL record could not be decoded; skipping it/);
    expect(slot.server.output()).toMatch(/not a regular file/);
    const got = await queryLines(slot.server.url, QUERY);
    const expected = sent.filter((l) => !fr[2]!.lines.includes(l));
    expect(got.length).toBe(expected.length);
    expect(new Set(got)).toEqual(new Set(expected));
    // It keeps accepting pushes: the new segment is numbered past the stray directories, never opened over one.
    const more = await pushBatches(slot.server.url, 'more', 1, 5);
    expect((await queryLines(slot.server.url, QUERY)).length).toBe(expected.length + more.length);
  });
});
