import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nowNs, pushProto } from '../helpers/push.js';
import { queryLines } from '../helpers/query-lines.js';
import { removeDir, startServer, tempDir, waitFor, type RunningServer, serverSlot } from '../helpers/server.js';

const slot = serverSlot();

const NO_FLUSH = ['--ingester.chunk-idle-period', '24h', '--ingester.max-chunk-age', '24h', '--ingester.flush-check-period', '1h', '--ingester.wal.checkpoint-duration', '0', '--ingester.wal.checkpoint-size', '0', '--limits.ingestion-rate-mb', '0'];

function walBytes(dataDir: string): number {
  const dir = join(dataDir, 'wal');
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
}

describe('WAL replay within ingester.max_unflushed_bytes', () => {
  it('flushes chunks while replaying a WAL several times its memory budget, loses nothing, and lets the WAL go after', async () => {
    const dataDir = tempDir();
    slot.keep(dataDir);
    slot.server = await startServer({ dataDir, args: ['--ingester.max-unflushed-bytes', '0', ...NO_FLUSH] });
    const sent: string[] = [];
    const base = nowNs(-600_000);
    let x = 12345;
    // Barely compressible lines, so the unflushed (compressed) data is several times the 1 MB budget below.
    const noise = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0).toString(36) + x.toString(16)).repeat(3);
    for (let b = 0; b < 24; b++) {
      const streams = Array.from({ length: 8 }, (_, s) => ({
        labels: `{app="budget", s="${s}"}`,
        entries: Array.from({ length: 250 }, (_, i) => ({ ts: base + BigInt(b * 1_000_000 + s * 1000 + i), line: `b=${b} s=${s} i=${i} ${noise()} ${noise()}` })),
      }));
      const r = await pushProto(slot.server.url, streams);
      expect(r.status, r.body).toBe(204);
      for (const st of streams) for (const e of st.entries) sent.push(e.line);
    }
    const wal = walBytes(dataDir);
    expect(wal).toBeGreaterThan(4_000_000);
    await slot.server.kill();

    slot.server = await startServer({ dataDir, args: ['--ingester.max-unflushed-bytes', '1MB', ...NO_FLUSH] });
    const flushes = Number(/msg="WAL replayed".* flushed_during_replay=(\d+)/.exec(slot.server.output())![1]);
    expect(flushes).toBeGreaterThan(1);
    expect(await metric(slot.server.url, 'narvi_ingester_unflushed_bytes')).toBeLessThanOrEqual(1_000_000);
    const got = await queryLines(slot.server.url, '{app="budget"}');
    expect(got.length).toBe(sent.length);
    expect(new Set(got)).toEqual(new Set(sent));
    // The checkpoint written after replay covers the old segments.
    await waitFor(() => walBytes(dataDir) < wal / 2, 'the WAL to shrink after the post-replay checkpoint');
  });

  it('restores a checkpoint\'s compressed blocks as they are: every line back once, and a re-sent batch is still a duplicate', async () => {
    const dataDir = tempDir();
    slot.keep(dataDir);
    slot.server = await startServer({ dataDir, args: NO_FLUSH });
    const base = nowNs(-300_000);
    const streams = Array.from({ length: 3 }, (_, s) => ({
      labels: `{app="restore", s="${s}"}`,
      entries: Array.from({ length: 3000 }, (_, i) => ({ ts: base + BigInt(i * 1000 + s), line: `s=${s} i=${i} ${'restore me '.repeat(10)}` })),
    }));
    expect((await pushProto(slot.server.url, streams)).status).toBe(204);
    // A clean stop leaves everything in one checkpoint (several cut blocks per stream plus the head).
    expect(await slot.server.stop()).toBe(0);
    slot.server = await startServer({ dataDir, args: NO_FLUSH });
    const sent = streams.flatMap((s) => s.entries.map((e) => e.line));
    expect(new Set(await queryLines(slot.server.url, '{app="restore"}'))).toEqual(new Set(sent));
    const r = await pushProto(slot.server.url, streams);
    expect(r.status).toBe(204);
    expect(await metric(slot.server.url, 'narvi_ingester_duplicate_entries_total{tenant="fake"}')).toBe(sent.length);
    const got = await queryLines(slot.server.url, '{app="restore"}');
    expect(got.length).toBe(sent.length);
  });
});
