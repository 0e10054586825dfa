import { spawnSync } from 'node:child_process';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsLeaseBackend, Lease } from '../../src/compactor/lease.js';
import { removeDir, tempDir } from '../helpers/server.js';

describe('the filesystem compactor lease', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach(removeDir));
  function path(): string {
    const d = tempDir('narvi-lease-');
    dirs.push(d);
    return join(d, '.narvi', 'compactor-lease');
  }
  async function writeHolder(p: string, h: object): Promise<void> {
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, JSON.stringify(h));
  }

  it('lets one holder in at a time, renews, and frees on release', async () => {
    const p = path();
    const a = new Lease(new FsLeaseBackend(p), 10_000);
    const b = new Lease(new FsLeaseBackend(p), 10_000);
    expect(await a.acquire()).toEqual({ held: true });
    const refused = await b.acquire();
    expect(refused.held).toBe(false);
    expect(!refused.held && refused.holder?.owner).toBe(a.owner);
    expect(await a.renew()).toBe(true);
    expect(a.valid()).toBe(true);
    await a.release();
    expect(a.valid()).toBe(false);
    expect(await b.acquire()).toEqual({ held: true });
  });

  it('takes over an expired lease and a lease whose process on this host is gone; the old holder then loses it', async () => {
    const p = path();
    await writeHolder(p, { owner: 'elsewhere', host: 'another-host', pid: 1, expiresAt: Date.now() - 1 });
    const a = new Lease(new FsLeaseBackend(p), 10_000);
    expect(await a.acquire()).toEqual({ held: true });

    // A holder on this host whose process has exited (as after kill -9), though not expired yet.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await writeHolder(p, { owner: 'dead', host: hostname(), pid: Number(dead), expiresAt: Date.now() + 600_000 });
    expect(await a.renew()).toBe(false);
    expect(a.valid()).toBe(false);
    const b = new Lease(new FsLeaseBackend(p), 10_000);
    expect(await b.acquire()).toEqual({ held: true });
    expect(JSON.parse(await readFile(p, 'utf8')).owner).toBe(b.owner);
  });

  it('refuses a live holder on another host until it expires, and treats a damaged lease as expired', async () => {
    const p = path();
    await writeHolder(p, { owner: 'remote', host: 'another-host', pid: 1, expiresAt: Date.now() + 600_000 });
    const a = new Lease(new FsLeaseBackend(p), 10_000);
    const r = await a.acquire();
    expect(r.held).toBe(false);
    expect(!r.held && r.holder?.host).toBe('another-host');
    await writeFile(p, '{"owner": "tru');
    expect(await a.acquire()).toEqual({ held: true });
  });

  it('lets exactly one of many concurrent contenders take an expired lease', async () => {
    const p = path();
    await writeHolder(p, { owner: 'old', host: 'another-host', pid: 1, expiresAt: Date.now() - 1 });
    const leases = Array.from({ length: 8 }, () => new Lease(new FsLeaseBackend(p), 10_000));
    const results = await Promise.all(leases.map((l) => l.acquire()));
    expect(results.filter((x) => x.held)).toHaveLength(1);
  });
});
