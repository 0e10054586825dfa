import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nowNs, pushProto } from '../helpers/push.js';
import { removeDir, startServer, tempDir, waitFor, type RunningServer } from '../helpers/server.js';
import { readAllEntries } from '../helpers/store-reader.js';
import { afterEach } from 'vitest';

const dirs: string[] = [];
const running: RunningServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.kill().catch(() => undefined);
  for (const d of dirs.splice(0)) removeDir(d);
});

async function serve(dataDir: string, args: string[]): Promise<RunningServer> {
  const s = await startServer({ dataDir, args });
  running.push(s);
  return s;
}

// Highly compressible streams that never fill a chunk: without time or size checkpoints the WAL
// would only grow, since nothing is flushed.
const NO_FLUSH = ['--ingester.chunk-target-size', '1GB', '--ingester.max-chunk-age', '24h', '--ingester.chunk-idle-period', '24h', '--ingester.flush-check-period', '1h', '--limits.ingestion-rate-mb', '1000', '--limits.ingestion-burst-size-mb', '1000'];

function walBytes(dataDir: string): number {
  const dir = join(dataDir, 'wal');
  let n = 0;
  for (const f of readdirSync(dir)) {
    try {
      n += statSync(join(dir, f)).size;
    } catch {
      // removed meanwhile
    }
  }
  return n;
}

/** Pushes `batches` of `perBatch` compressible lines over 5 streams; resolves with every acknowledged line. */
async function pushCompressible(server: RunningServer, tag: string, batches: number, perBatch: number, acked: string[], stop?: () => boolean): Promise<void> {
  const base = nowNs();
  for (let b = 0; b < batches && !stop?.(); b++) {
    const streams = Array.from({ length: 5 }, (_, s) => ({
      labels: `{app="cp", tag="${tag}", shard="${s}"}`,
      entries: Array.from({ length: perBatch / 5 }, (_, i) => ({ ts: base + BigInt(b * 100_000 + i), line: `${tag} b=${b} s=${s} i=${i} ${'level=info msg="request served" path=/api/v1/items status=200 '.repeat(4)}` })),
    }));
    let r;
    try {
      r = await pushProto(server.url, streams);
    } catch {
      return; // the server was killed mid-request: this batch was never acknowledged
    }
    if (r.status !== 204) return;
    for (const s of streams) for (const e of s.entries) acked.push(e.line);
  }
}

describe('WAL checkpoints by time and size', () => {
  it('checkpoints every ingester.wal.checkpoint_duration without any flush, keeping the WAL small, and replays it exactly', { timeout: 120_000 }, async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    let server = await serve(dataDir, ['--ingester.wal.checkpoint-duration', '300ms', '--ingester.wal.checkpoint-size', '0', '--ingester.wal.segment-size', '1MB', ...NO_FLUSH]);
    const acked: string[] = [];
    let maxWal = 0;
    const started = Date.now();
    let batches = 0;
    // At least 6 s (many checkpoint periods) and 20 MB appended, however slow this machine is today.
    while (Date.now() - started < 6000 || acked.length * 250 <= 20_000_000) {
      if (Date.now() - started > 90_000) throw new Error(`only ${acked.length * 250} bytes pushed in 90 s`);
      await pushCompressible(server, `t${batches++}`, 1, 2000, acked);
      maxWal = Math.max(maxWal, walBytes(dataDir));
    }
    const appended = acked.length * 250; // each line is ~250 bytes in the WAL
    expect(server.output()).toMatch(/msg="WAL checkpoint written" trigger=time/);
    expect(server.output()).not.toMatch(/flushed chunks/);
    // The checkpoint holds the compressed blocks: a small fraction of what was appended.
    await waitFor(() => walBytes(dataDir) < appended / 4, 'WAL shrunk by a time checkpoint');
    expect(maxWal).toBeLessThan(appended / 2);
    await server.kill();
    server = await serve(dataDir, NO_FLUSH);
    const stored = (await readAllEntries(server)).map((e) => e.line);
    expect(stored.length).toBe(acked.length);
    expect(new Set(stored)).toEqual(new Set(acked));
  });

  it('checkpoints once ingester.wal.checkpoint_size bytes were appended since the last one', { timeout: 120_000 }, async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const server = await serve(dataDir, ['--ingester.wal.checkpoint-duration', '0', '--ingester.wal.checkpoint-size', '4MB', '--ingester.wal.segment-size', '1MB', ...NO_FLUSH]);
    const acked: string[] = [];
    let maxWal = 0;
    for (let b = 0; b < 60; b++) {
      await pushCompressible(server, `s${b}`, 1, 2000, acked);
      maxWal = Math.max(maxWal, walBytes(dataDir));
    }
    expect(acked.length * 250).toBeGreaterThan(25_000_000);
    expect(server.output()).toMatch(/msg="WAL checkpoint written" trigger=size/);
    expect(server.output()).not.toMatch(/trigger=time/);
    // At most the threshold, a segment and pushes past it while a checkpoint is being written (longer on a
    // loaded machine), plus the old and the new checkpoint: well under the 25 MB+ appended, which is what the WAL
    // would hold without size checkpoints.
    expect(maxWal).toBeLessThan(16_000_000);
  });

  it('loses nothing acknowledged when killed -9 in the middle of a checkpoint, again and again', { timeout: 240_000 }, async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const args = ['--ingester.wal.checkpoint-duration', '100ms', '--ingester.wal.segment-size', '1MB', ...NO_FLUSH];
    const acked: string[] = [];
    for (let round = 0; round < 4; round++) {
      const server = await serve(dataDir, args);
      // A checkpoint left half-written by the previous round is gone; the one before it still counts.
      expect(readdirSync(join(dataDir, 'wal')).some((f) => f.endsWith('.tmp'))).toBe(false);
      let killed = false;
      const pushers = [0, 1, 2].map((w) => pushCompressible(server, `r${round}w${w}`, 1_000_000, 1000, acked, () => killed));
      // Wait until enough is held that a checkpoint takes a while, then kill while one is being written.
      await waitFor(() => acked.length > (round + 1) * 20_000, 'data pushed', 60_000);
      const wal = join(dataDir, 'wal');
      await waitFor(() => readdirSync(wal).some((f) => f.endsWith('.tmp')), 'a checkpoint being written', 60_000);
      await server.kill();
      killed = true;
      await Promise.all(pushers);
    }
    const server = await serve(dataDir, args);
    const stored = (await readAllEntries(server)).map((e) => e.line);
    const storedSet = new Set(stored);
    expect(storedSet.size).toBe(stored.length);
    for (const l of acked) if (!storedSet.has(l)) throw new Error(`acknowledged line lost: ${l.slice(0, 40)}`);
  });
});
