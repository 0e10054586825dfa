import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/** Pushes ~5 MB of barely compressible lines (8 streams) into a WAL that nothing flushes, then kills the server. */
async function fillWal(dataDir: string, app: string): Promise<string[]> {
  slot.server = await startServer({ dataDir, args: ['--ingester.max-unflushed-bytes', '0', ...NO_FLUSH] });
  const sent: string[] = [];
  const base = nowNs(-600_000);
  let x = 12345;
  // Barely compressible lines, so the unflushed (compressed) data is several times the 1 MB budget below.
  const noise = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0).toString(36) + x.toString(16)).repeat(3);
  for (let b = 0; b < 24; b++) {
    const streams = Array.from({ length: 8 }, (_, s) => ({
      labels: `{app="${app}", s="${s}"}`,
      entries: Array.from({ length: 250 }, (_, i) => ({ ts: base + BigInt(b * 1_000_000 + s * 1000 + i), line: `b=${b} s=${s} i=${i} ${noise()} ${noise()}` })),
    }));
    const r = await pushProto(slot.server.url, streams);
    expect(r.status, r.body).toBe(204);
    for (const st of streams) for (const e of st.entries) sent.push(e.line);
  }
  expect(walBytes(dataDir)).toBeGreaterThan(4_000_000);
  await slot.server.kill();
  return sent;
}

describe('WAL replay within ingester.max_unflushed_bytes', () => {
  it('flushes chunks while replaying a WAL several times its memory budget, loses nothing, and lets the WAL go after', async () => {
    const dataDir = tempDir();
    slot.keep(dataDir);
    const sent = await fillWal(dataDir, 'budget');
    const wal = walBytes(dataDir);

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

  it('a kill -9 right after a replay that flushed (before its checkpoint lands) replays again: every line back exactly once', async () => {
    const dataDir = tempDir();
    slot.keep(dataDir);
    const sent = await fillWal(dataDir, 'again');
    slot.server = await startServer({ dataDir, args: ['--ingester.max-unflushed-bytes', '1MB', ...NO_FLUSH] });
    expect(Number(/msg="WAL replayed".* flushed_during_replay=(\d+)/.exec(slot.server.output())![1])).toBeGreaterThan(1);
    await slot.server.kill();
    // The chunks written during the first replay are in the store and the index; the segments are all still
    // there (or the checkpoint that replaced them is): the second replay writes the same data again.
    slot.server = await startServer({ dataDir, args: ['--ingester.max-unflushed-bytes', '1MB', ...NO_FLUSH] });
    const got = await queryLines(slot.server.url, '{app="again"}');
    expect(got.length).toBe(sent.length);
    expect(new Set(got)).toEqual(new Set(sent));
  });

  it('when the store refuses chunks during replay they stay in memory, replay finishes, and a later flush stores every line', async () => {
    const dataDir = tempDir();
    slot.keep(dataDir);
    const sent = await fillWal(dataDir, 'refused');
    // A file where the tenant's chunk directory must go: every chunk write of the replay fails.
    mkdirSync(join(dataDir, 'chunks'), { recursive: true });
    writeFileSync(join(dataDir, 'chunks', 'fake'), 'in the way');
    slot.server = await startServer({ dataDir, args: ['--ingester.max-unflushed-bytes', '1MB', ...NO_FLUSH] });
    const out = slot.server.output();
    expect(out).toMatch(/msg="chunks could not be flushed during WAL replay; keeping them in memory"/);
    expect(out).toMatch(/msg="WAL replayed" records=24 /);
    // Over the 1 MB budget: nothing could leave memory.
    expect(await metric(slot.server.url, 'narvi_ingester_unflushed_bytes')).toBeGreaterThan(1_000_000);
    expect(new Set(await queryLines(slot.server.url, '{app="refused"}'))).toEqual(new Set(sent));
    const refused = await fetch(`${slot.server.url}/flush`, { method: 'POST' });
    expect(refused.status).toBeGreaterThanOrEqual(500);
    rmSync(join(dataDir, 'chunks', 'fake'));
    const flushed = await fetch(`${slot.server.url}/flush`, { method: 'POST' });
    expect(flushed.status, await flushed.text()).toBe(204);
    await slot.server.kill();
    // Flushed for real this time: a restart with no WAL left to replay still has every line, once.
    slot.server = await startServer({ dataDir, args: ['--ingester.max-unflushed-bytes', '1MB', ...NO_FLUSH] });
    const got = await queryLines(slot.server.url, '{app="refused"}');
    expect(got.length).toBe(sent.length);
    expect(new Set(got)).toEqual(new Set(sent));
  });
});
