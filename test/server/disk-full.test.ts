import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readAllEntries } from '../helpers/store-reader.js';
import { nowNs, pushProto, type PushResult } from '../helpers/push.js';
import { startServer, waitFor, type RunningServer } from '../helpers/server.js';

/**
 * A real full disk: an 8 MB tmpfs mounted for this suite. Mounting needs root (or CAP_SYS_ADMIN); where
 * that is impossible the suite is skipped and says why.
 */
const mountPoint = mkdtempSync(join(tmpdir(), 'narvi-full-'));
let mountError: string | null = null;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint], { stdio: 'pipe' });
} catch (err) {
  mountError = ((err as { stderr?: Buffer }).stderr?.toString() || (err as Error).message).trim();
  console.warn(`disk-full tests skipped: cannot mount a tmpfs at ${mountPoint} (${mountError}); they need root or CAP_SYS_ADMIN`);
}

afterAll(() => {
  if (!mountError) execFileSync('umount', ['-l', mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

const servers: RunningServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A data directory on the small filesystem, or beside it for a process that must not fill it. */
function dirOn(where: 'tmpfs' | 'disk'): string {
  const d = where === 'tmpfs' ? mkdtempSync(join(mountPoint, 'data-')) : mkdtempSync(join(tmpdir(), 'narvi-full-other-'));
  dirs.push(d);
  return d;
}

/** Files that take the small filesystem's space, leaving about `leave` bytes. */
function fill(leave: number, name = 'filler'): string {
  const f = join(mountPoint, name);
  dirs.push(f);
  writeFileSync(f, Buffer.alloc(Math.max(0, freeBytes(mountPoint) - leave), 1));
  return f;
}

async function start(dataDir: string, args: string[] = []): Promise<RunningServer> {
  const s = await startServer({ dataDir, args: ['--limits.ingestion-rate-mb', '0', ...args] });
  servers.push(s);
  return s;
}

const freeBytes = (dir: string) => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

interface Batch {
  id: number;
  lines: string[];
  streams: { labels: string; entries: { ts: bigint; line: string }[] }[];
}

let nextId = 0;
/** ~20 KB of barely compressible lines on a big stream, plus one line on a small stream. */
function makeBatch(tag: string): Batch {
  const id = nextId++;
  const base = nowNs() + BigInt(id) * 1000n;
  const big = Array.from({ length: 100 }, (_, i) => ({ ts: base + BigInt(i), line: `${tag} batch=${id} i=${i} ${randomBytes(90).toString('hex')}` }));
  const small = [{ ts: base, line: `${tag} batch=${id} small` }];
  return { id, lines: [...big, ...small].map((e) => e.line), streams: [{ labels: '{app="full", part="big"}', entries: big }, { labels: '{app="full", part="small"}', entries: small }] };
}

/** Pushes batches four at a time until `stop` says so; every answer is kept with its batch. */
async function pushUntil(url: string, tag: string, stop: (results: { batch: Batch; r: PushResult }[]) => boolean, max: number): Promise<{ batch: Batch; r: PushResult }[]> {
  const results: { batch: Batch; r: PushResult }[] = [];
  let sent = 0;
  const worker = async () => {
    while (sent < max && !stop(results)) {
      sent++;
      const batch = makeBatch(tag);
      results.push({ batch, r: await pushProto(url, batch.streams) });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return results;
}

const lastAreRefused = (n: number) => (results: { r: PushResult }[]) => results.length >= n && results.slice(-n).every((x) => x.r.status === 507);

describe.skipIf(mountError !== null)('a full disk', () => {
  it('answers 507 for what it cannot write, stays up, accepts again once space is back, and loses nothing acknowledged', async () => {
    const dataDir = dirOn('tmpfs');
    // Flushes only when asked or after a short idle period, checked every second: the flush cycle and
    // its checkpoint run into the full disk on their own too.
    const server = await start(dataDir, ['--ingester.chunk-idle-period', '2s', '--ingester.flush-check-period', '1s', '--ingester.wal.checkpoint-size', '256KB']);
    // Leave about 1.5 MB: a filler that comes back later, and a small one freed first.
    const smallFiller = join(mountPoint, 'filler-small');
    dirs.push(smallFiller);
    writeFileSync(smallFiller, Buffer.alloc(128 * 1024, 1));
    const bigFiller = fill(1_500_000, 'filler-big');

    const full = await pushUntil(server.url, 'full', lastAreRefused(8), 400);
    const statuses = new Set(full.map((x) => x.r.status));
    const ok = full.filter((x) => x.r.status === 204);
    const refused = full.filter((x) => x.r.status === 507);
    expect([...statuses].sort(), full.filter((x) => x.r.status !== 204 && x.r.status !== 507).map((x) => `${x.r.status} ${x.r.body}`).join('\n')).toEqual([204, 507]);
    expect(ok.length).toBeGreaterThan(20);
    expect(refused[0]!.r.body).toMatch(/WAL write failed: .*ENOSPC.*disk is full/);

    // Still up: ready, and answering queries with what it holds.
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const q = await fetch(`${server.url}/loki/api/v1/query_range?query=${encodeURIComponent('{app="full"}')}&limit=10&since=1h`);
    expect(q.status).toBe(200);
    expect(((await q.json()) as { data: { result: unknown[] } }).data.result.length).toBeGreaterThan(0);

    // A forced flush cannot write the big stream's chunk: never 204 for that.
    const flush = await fetch(`${server.url}/flush`, { method: 'POST' });
    expect(flush.status, await flush.text()).toBeGreaterThanOrEqual(500);

    // With a little room the small stream's chunk is written but the checkpoint after it is not: logged
    // and retried, never the end of the process.
    unlinkSync(smallFiller);
    await waitFor(() => /WAL checkpoint after flush failed/.test(server.output()), 'a checkpoint after a flush to fail on the full disk');
    expect(server.proc.exitCode).toBeNull();
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);

    // Space back: pushes are accepted again, and a client's resend of a refused batch is stored.
    unlinkSync(bigFiller);
    const resent = refused.filter((_, i) => i % 2 === 0);
    for (const { batch } of resent) {
      const r = await pushProto(server.url, batch.streams);
      expect(r.status, r.body).toBe(204);
    }
    const after = await pushUntil(server.url, 'after', (rs) => rs.length >= 20, 20);
    for (const x of after) expect(x.r.status, x.r.body).toBe(204);

    await server.kill();
    const restarted = await start(dataDir);
    const stored = (await readAllEntries(restarted)).map((e) => e.line);
    const acknowledged = [...ok, ...after].flatMap((x) => x.batch.lines).concat(resent.flatMap((x) => x.batch.lines));
    // Every acknowledged line, and not one that was refused and not resent. (A chunk written just before
    // the kill may be stored again from the WAL; queries merge such duplicates, so lines are compared as a set.)
    expect(new Set(stored)).toEqual(new Set(acknowledged));
  });

  it('passes 507 from an ingester in another process on to the client of its distributor', async () => {
    const ingester = await start(dirOn('tmpfs'), ['--target', 'ingester']);
    const distributor = await start(dirOn('disk'), ['--target', 'distributor', '--distributor.ingesters', ingester.url]);
    fill(300_000);
    const results = await pushUntil(distributor.url, 'remote', lastAreRefused(4), 200);
    const refused = results.filter((x) => x.r.status === 507);
    expect(refused.length).toBeGreaterThan(0);
    expect(results.every((x) => x.r.status === 204 || x.r.status === 507), results.map((x) => `${x.r.status} ${x.r.body}`).join('\n')).toBe(true);
    expect(refused[0]!.r.body).toContain(`ingester ${ingester.url}`);
    expect(refused[0]!.r.body).toMatch(/ENOSPC.*disk is full/);
    expect((await fetch(`${ingester.url}/ready`)).status).toBe(200);
  });
});
