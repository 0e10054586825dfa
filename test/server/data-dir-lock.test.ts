import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readAllEntries } from '../helpers/store-reader.js';
import { nowNs, pushProto } from '../helpers/push.js';
import { NARVI_BIN, removeDir, startServer, tempDir, type RunningServer } from '../helpers/server.js';

const dirs: string[] = [];
const servers: RunningServer[] = [];
const sleepers: ReturnType<typeof spawn>[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.kill();
  for (const p of sleepers.splice(0)) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) removeDir(d);
});

function freshDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

async function start(dataDir: string, args: string[] = []): Promise<RunningServer> {
  const s = await startServer({ dataDir, args });
  servers.push(s);
  return s;
}

/** Runs a server that is expected to refuse to start; resolves with its exit code and everything it wrote. */
function startRefused(dataDir: string): Promise<{ code: number | null; out: string }> {
  const proc = spawn(process.execPath, [NARVI_BIN, 'server', '--server.http-listen-address', '127.0.0.1', '--server.http-listen-port', '0', '--storage.path', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  return new Promise((res) =>
    proc.once('close', (code) => {
      clearTimeout(timer);
      res({ code, out });
    }),
  );
}

let seq = 0;
async function pushLines(url: string, tag: string, n: number): Promise<string[]> {
  const base = nowNs();
  const lines = Array.from({ length: n }, (_, i) => `${tag} line ${i} #${seq++}`);
  const r = await pushProto(url, [{ labels: `{app="lock", tag="${tag}"}`, entries: lines.map((line, i) => ({ ts: base + BigInt(i), line })) }]);
  expect(r.status, r.body).toBe(204);
  return lines;
}

/** A long-lived process on this host that is not a narvi server, to hold a PID. */
function sleeper(): number {
  const p = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  sleepers.push(p);
  return p.pid!;
}

describe('the data directory has one owner', () => {
  it('refuses a second server on a held directory with one line naming the holder, and the first keeps every line', async () => {
    const dataDir = freshDir();
    const first = await start(dataDir);
    const before = await pushLines(first.url, 'before', 200);

    const second = await startRefused(dataDir);
    expect(second.code).not.toBe(0);
    expect(second.code).not.toBeNull();
    const lines = second.out.trim().split('\n');
    expect(lines, second.out).toHaveLength(1);
    expect(lines[0]).toContain(`pid ${first.proc.pid}`);
    expect(lines[0]).toContain(dataDir);
    // The refused server touched nothing: the holder still owns the lock and keeps accepting.
    expect(JSON.parse(readFileSync(join(dataDir, 'narvi.lock'), 'utf8')).pid).toBe(first.proc.pid);
    const after = await pushLines(first.url, 'after', 200);

    // kill -9 leaves the lock behind; the next server takes it over and replays everything.
    await first.kill();
    expect(existsSync(join(dataDir, 'narvi.lock'))).toBe(true);
    const third = await start(dataDir);
    expect(third.output()).toMatch(new RegExp(`taking over a stale data directory lock.*holder_pid=${first.proc.pid}.*reason="process ${first.proc.pid} is not running"`));
    expect(JSON.parse(readFileSync(join(dataDir, 'narvi.lock'), 'utf8')).pid).toBe(third.proc.pid);
    const stored = (await readAllEntries(third)).map((e) => e.line);
    expect(stored.sort()).toEqual([...before, ...after].sort());

    // A clean stop gives the directory up.
    expect(await third.stop()).toBe(0);
    expect(existsSync(join(dataDir, 'narvi.lock'))).toBe(false);
  });

  it('lets a read-only querier share the directory its ingester holds', async () => {
    const dataDir = freshDir();
    const ingester = await start(dataDir, ['--target', 'ingester']);
    const querier = await start(dataDir, ['--target', 'querier', '--querier.ingesters', ingester.url]);
    expect((await fetch(`${querier.url}/ready`)).status).toBe(200);
    const refused = await startRefused(dataDir);
    expect(refused.out).toContain(`pid ${ingester.proc.pid}`);
  });

  it('refuses a lock held by another live process on this host, whatever that process is', async () => {
    const dataDir = freshDir();
    mkdirSync(dataDir, { recursive: true });
    const pid = sleeper();
    writeFileSync(join(dataDir, 'narvi.lock'), JSON.stringify({ pid, host: hostname(), started: '2026-01-01T00:00:00Z' }));
    const r = await startRefused(dataDir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`pid ${pid} on host ${hostname()}`);
    expect(r.out).toContain(join(dataDir, 'narvi.lock'));
  });

  it('takes over a lock whose PID now belongs to another process, one from before a reboot, and an unreadable old one', async () => {
    const pid = sleeper();
    const cases: { lock: string; reason: RegExp }[] = [
      { lock: JSON.stringify({ pid, host: hostname(), started: 'x', procStart: '1' }), reason: /now belongs to another process/ },
      { lock: JSON.stringify({ pid, host: hostname(), started: 'x', bootId: 'another-boot' }), reason: /before this machine rebooted/ },
      { lock: '{"pid": 12', reason: /unreadable/ },
    ];
    for (const c of cases) {
      const dataDir = freshDir();
      mkdirSync(dataDir, { recursive: true });
      const file = join(dataDir, 'narvi.lock');
      writeFileSync(file, c.lock);
      const old = new Date(Date.now() - 120_000);
      utimesSync(file, old, old);
      const s = await start(dataDir);
      expect(s.output()).toMatch(c.reason);
      expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(s.proc.pid);
    }
  });

  it('treats a lock from another host as held while its holder keeps it fresh, and as stale once it stops', async () => {
    const dataDir = freshDir();
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'narvi.lock');
    writeFileSync(file, JSON.stringify({ pid: 1, host: 'elsewhere.example', started: '2026-01-01T00:00:00Z' }));
    const r = await startRefused(dataDir);
    expect(r.code).toBe(1);
    expect(r.out).toContain('pid 1 on host elsewhere.example');
    const old = new Date(Date.now() - 120_000);
    utimesSync(file, old, old);
    const s = await start(dataDir);
    expect(s.output()).toMatch(/holder on host elsewhere.example has not refreshed it/);
  });
});
