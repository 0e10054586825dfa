import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { nowNs, pushProto } from '../helpers/push.js';
import { queryLines } from '../helpers/query-lines.js';
import { NARVI_BIN, removeDir, startServer, tempDir, type RunningServer, serverSlot } from '../helpers/server.js';

const run = promisify(execFile);
const slot = serverSlot();

const STREAMS = 40;
const QUERY = '{app="rebuild"}';

/** Two flushed rounds over many streams (so the index spans several SQLite pages), then a round left in the WAL. */
async function fill(url: string): Promise<string[]> {
  const sent: string[] = [];
  const base = nowNs(-300_000);
  for (let round = 0; round < 3; round++) {
    const streams = Array.from({ length: STREAMS }, (_, s) => ({
      labels: `{app="rebuild", stream="s${s}", team="t${s % 4}"}`,
      entries: Array.from({ length: 10 }, (_, i) => ({ ts: base + BigInt(round * 1_000_000_000 + i), line: `round=${round} s=${s} i=${i}` })),
    }));
    const r = await pushProto(url, streams);
    expect(r.status, r.body).toBe(204);
    for (const st of streams) for (const e of st.entries) sent.push(e.line);
    if (round < 2) expect((await fetch(`${url}/flush`, { method: 'POST' })).status).toBe(204);
  }
  return sent;
}

function indexDir(dataDir: string): string {
  return join(dataDir, 'index');
}

async function started(dataDir: string): Promise<RunningServer> {
  slot.server = await startServer({ dataDir });
  return slot.server;
}

async function filledAndStopped(how: 'kill' | 'stop'): Promise<{ dataDir: string; sent: string[] }> {
  const dataDir = tempDir();
  slot.keep(dataDir);
  const s = await started(dataDir);
  const sent = await fill(s.url);
  if (how === 'kill') await s.kill();
  else expect(await s.stop()).toBe(0);
  slot.server = undefined;
  return { dataDir, sent };
}

async function expectAllLines(url: string, sent: string[]): Promise<void> {
  const got = await queryLines(url, QUERY);
  expect(got.length).toBe(sent.length);
  expect(new Set(got)).toEqual(new Set(sent));
}

describe('a lost or damaged label index is rebuilt from the chunk store', () => {
  it('rebuilds a deleted index on start (kill -9, SQLite side files left behind) and serves every line', async () => {
    const { dataDir, sent } = await filledAndStopped('kill');
    rmSync(join(indexDir(dataDir), 'index.sqlite'));
    const s = await started(dataDir);
    expect(s.output()).toMatch(/msg="label index rebuilt from the chunk store" reason=missing streams=40 chunks=80 entries=800/);
    await expectAllLines(s.url, sent);
    // The side files of the deleted database were not applied to the new one.
    expect(readdirSync(indexDir(dataDir)).some((f) => f.includes('.orphan-'))).toBe(true);
  });

  it('moves an index SQLite cannot open aside and rebuilds it', async () => {
    const { dataDir, sent } = await filledAndStopped('stop');
    const file = join(indexDir(dataDir), 'index.sqlite');
    const buf = readFileSync(file);
    buf.fill(0x5a, 0, 512);
    writeFileSync(file, buf);
    const s = await started(dataDir);
    expect(s.output()).toMatch(/label index is damaged; moved it aside/);
    expect(s.output()).toMatch(/reason=corrupt streams=40 chunks=80/);
    await expectAllLines(s.url, sent);
    expect(readdirSync(indexDir(dataDir)).filter((f) => f.startsWith('index.sqlite.corrupt-'))).toHaveLength(1);
  });

  it('finds a truncated index with quick_check and rebuilds it', async () => {
    const { dataDir, sent } = await filledAndStopped('stop');
    const file = join(indexDir(dataDir), 'index.sqlite');
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(4 * 4096);
    truncateSync(file, Math.floor(size / 4096 / 2) * 4096);
    const s = await started(dataDir);
    expect(s.output()).toMatch(/label index is damaged; moved it aside/);
    await expectAllLines(s.url, sent);
  });

  it('narvi index rebuild rebuilds the same index offline, and says what it could not recover', async () => {
    const { dataDir, sent } = await filledAndStopped('stop');
    const before = await run(process.execPath, [NARVI_BIN, 'index', 'rebuild', '--storage.path', dataDir]);
    expect(before.stdout).toMatch(/rebuilt .*index\.sqlite: 40 streams, 80 chunks, 800 entries; the old index is kept as .*index\.sqlite\.replaced-/);
    // A stream flushed by an older narvi has no labels object: its chunks cannot be indexed, and it says so.
    const fakeDir = join(dataDir, 'chunks', 'fake');
    const victim = readdirSync(fakeDir).sort()[0]!;
    rmSync(join(fakeDir, victim, 'labels'));
    rmSync(join(indexDir(dataDir), 'index.sqlite'));
    const r = await run(process.execPath, [NARVI_BIN, 'index', 'rebuild', '--storage.path', dataDir]);
    expect(r.stdout).toMatch(/39 streams, 78 chunks, 780 entries; 2 chunks of 1 streams left out \(no labels object/);
    expect(r.stderr).toMatch(/some chunks could not be indexed/);
    expect(existsSync(join(indexDir(dataDir), 'index.sqlite.rebuilding'))).toBe(false);
    const s = await started(dataDir);
    const got = await queryLines(s.url, QUERY);
    // The lost stream's flushed rounds are missing; its third round came back from the WAL checkpoint.
    const lostStream = sent.filter((l) => !got.includes(l));
    expect(lostStream).toHaveLength(20);
    expect(new Set(lostStream.map((l) => / s=(\d+) /.exec(l)![1]))).toHaveProperty('size', 1);
  });

  it('refuses a bad setting with exit code 2', async () => {
    const err = await run(process.execPath, [NARVI_BIN, 'index', 'rebuild', '--storage.nope', 'x']).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toMatch(/narvi index rebuild: /);
  });
});
