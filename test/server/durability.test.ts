import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readAllEntries } from '../helpers/store-reader.js';
import { nowNs, pushProto } from '../helpers/push.js';
import { removeDir, startServer, tempDir, type RunningServer, serverSlot } from '../helpers/server.js';

const slot = serverSlot();

/** Pushes `batches` protobuf batches of `perBatch` lines over 5 streams, 4 at a time; resolves when all got 204. */
async function pushMany(url: string, tag: string, batches: number, perBatch: number): Promise<string[]> {
  const sent: string[] = [];
  const base = nowNs();
  let next = 0;
  const worker = async () => {
    while (next < batches) {
      const b = next++;
      const streams = Array.from({ length: 5 }, (_, s) => ({
        labels: `{app="crash", tag="${tag}", shard="${s}"}`,
        entries: Array.from({ length: perBatch / 5 }, (_, i) => {
          const line = `${tag} batch=${b} shard=${s} i=${i} ${'payload '.repeat(8)}`;
          return { ts: base + BigInt(b * 1_000_000 + i), line };
        }),
      }));
      const r = await pushProto(url, streams);
      expect(r.status, r.body).toBe(204);
      for (const s of streams) for (const e of s.entries) sent.push(e.line);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return sent;
}

function walFiles(dataDir: string): string[] {
  const dir = join(dataDir, 'wal');
  return readdirSync(dir).map((f) => join(dir, f));
}

describe('acknowledged means durable', () => {
  it('keeps every acknowledged line through kill -9, exactly once, across flushed and unflushed data', async () => {
    const dataDir = slot.dir();
    slot.server = await startServer({ dataDir });
    const before = await pushMany(slot.server.url, 'early', 20, 100);
    // Part of the data reaches chunks before the crash, the rest lives only in the WAL.
    expect((await fetch(`${slot.server.url}/flush`, { method: 'POST' })).status).toBe(204);
    const after = await pushMany(slot.server.url, 'late', 30, 100);
    await slot.server.kill();

    slot.server = await startServer({ dataDir });
    const stored = await readAllEntries(slot.server);
    const lines = stored.map((e) => e.line);
    expect(lines.length).toBe(before.length + after.length);
    expect(new Set(lines)).toEqual(new Set([...before, ...after]));
  });

  it('drops a torn WAL tail with a warning and keeps everything before it', async () => {
    const dataDir = slot.dir();
    slot.server = await startServer({ dataDir });
    const sent = await pushMany(slot.server.url, 'torn', 4, 50);
    await slot.server.kill();
    // A crash mid-write leaves a partial frame: a length that promises more bytes than exist.
    const segment = walFiles(dataDir).filter((f) => f.includes('segment-')).sort().at(-1)!;
    const partial = Buffer.alloc(12);
    partial.writeUInt32LE(5000, 0);
    appendFileSync(segment, partial);

    slot.server = await startServer({ dataDir });
    expect(slot.server.output()).toMatch(/WAL has a torn record at its tail/);
    expect(new Set((await readAllEntries(slot.server)).map((e) => e.line))).toEqual(new Set(sent));
  });

  it('survives a corrupt last WAL record: drops it, logs it, and still starts', async () => {
    const dataDir = slot.dir();
    slot.server = await startServer({ dataDir });
    const first = await pushMany(slot.server.url, 'one', 1, 50);
    const second = await pushMany(slot.server.url, 'two', 1, 50);
    await slot.server.kill();
    const segment = walFiles(dataDir).filter((f) => f.includes('segment-') && statSync(f).size > 0).sort().at(-1)!;
    const buf = readFileSync(segment);
    const firstLen = buf.readUInt32LE(0);
    // Flip a byte inside the second record's payload so its checksum fails.
    const second0 = 8 + firstLen;
    buf[second0 + 8 + 20] = buf[second0 + 8 + 20]! ^ 0xff;
    writeFileSync(segment, buf);

    slot.server = await startServer({ dataDir });
    expect(slot.server.output()).toMatch(/WAL record failed its checksum/);
    const lines = new Set((await readAllEntries(slot.server)).map((e) => e.line));
    for (const l of first) expect(lines.has(l)).toBe(true);
    expect(second.some((l) => lines.has(l))).toBe(false);
  });

  it('shuts down cleanly on SIGTERM, and the WAL shrinks back after a flush', async () => {
    const dataDir = slot.dir();
    slot.server = await startServer({ dataDir });
    const sent = await pushMany(slot.server.url, 'term', 10, 100);
    const walBytes = () => walFiles(dataDir).reduce((n, f) => n + statSync(f).size, 0);
    const grown = walBytes();
    expect(grown).toBeGreaterThan(50_000);
    expect((await fetch(`${slot.server.url}/flush`, { method: 'POST' })).status).toBe(204);
    expect(walBytes()).toBeLessThan(1_000);
    const code = await slot.server.stop();
    expect(code).toBe(0);
    expect(slot.server.output()).toContain('stopped cleanly');

    slot.server = await startServer({ dataDir });
    const lines = (await readAllEntries(slot.server)).map((e) => e.line);
    expect(lines.length).toBe(sent.length);
  });

  it('answers /ready with 503 until the WAL has been replayed', async () => {
    const dataDir = slot.dir();
    slot.server = await startServer({ dataDir });
    await pushMany(slot.server.url, 'ready', 20, 500);
    await slot.server.kill();
    slot.server = await startServer({ dataDir, waitReady: false });
    const statuses = new Set<number>();
    for (;;) {
      const r = await fetch(`${slot.server.url}/ready`).catch(() => null);
      if (r) statuses.add(r.status);
      if (r?.status === 200) break;
    }
    const log = slot.server.output();
    // Ready is only logged after the replay line, and /ready never said 200 before that.
    expect(log.indexOf('msg="WAL replayed"')).toBeGreaterThan(-1);
    expect(log.indexOf('msg="ready"')).toBeGreaterThan(log.indexOf('msg="WAL replayed"'));
    expect([...statuses].every((s) => s === 200 || s === 503)).toBe(true);
  });
});
