/**
 * The single-compactor lease: a small JSON record in the store naming its holder and an expiry. A
 * compactor takes it when it is absent, expired, or held by a process on this host that no longer runs
 * (a `kill -9` leaves a lease behind; waiting out its expiry would only delay the next run), renews it
 * while it works, and stops committing once it can no longer prove it holds it.
 *
 * Every change is a compare-and-swap against the version that was read, so two compactors that both see
 * an expired lease cannot both take it: on the filesystem, replacements are serialised by an exclusive
 * mutex file beside the lease and a new lease is created with link(2), which fails if one exists; on S3,
 * PutObject carries If-None-Match: * or If-Match: <etag>. Servers that ignore those conditions (s3rver,
 * older MinIO) are handled best effort: the writer reads the lease back and only proceeds if it names it.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { S3ObjectStore } from '../store/s3-object-store.js';

export interface LeaseHolder {
  owner: string;
  host: string;
  pid: number;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** What a lease backend stores: `version` is what a compare-and-swap compares against. */
interface Stored {
  holder: LeaseHolder | null;
  version: string;
}

interface LeaseBackend {
  read(): Promise<Stored | null>;
  /** Creates the lease if none exists; false if one does. */
  create(data: Buffer): Promise<boolean>;
  /** Replaces the lease if it is still at `version`; false otherwise. */
  replace(data: Buffer, version: string): Promise<boolean>;
  remove(version: string): Promise<void>;
  readonly where: string;
}

export type AcquireResult = { held: true } | { held: false; holder: LeaseHolder | null };

export class Lease {
  readonly owner = randomBytes(8).toString('hex');
  private expiresAt = 0;

  constructor(
    private backend: LeaseBackend,
    readonly ttlMs: number,
  ) {}

  get where(): string {
    return this.backend.where;
  }

  /** True while this process holds the lease with time to spare before its expiry. */
  valid(): boolean {
    return this.expiresAt > 0 && Date.now() < this.expiresAt - Math.min(1000, this.ttlMs / 10);
  }

  private record(): { data: Buffer; expiresAt: number } {
    const expiresAt = Date.now() + this.ttlMs;
    const holder: LeaseHolder = { owner: this.owner, host: hostname(), pid: process.pid, expiresAt };
    return { data: Buffer.from(JSON.stringify(holder) + '\n'), expiresAt };
  }

  async acquire(): Promise<AcquireResult> {
    const cur = await this.backend.read();
    const next = this.record();
    let ok: boolean;
    if (!cur) ok = await this.backend.create(next.data);
    else if (cur.holder && cur.holder.owner !== this.owner && holderLive(cur.holder)) return { held: false, holder: cur.holder };
    else ok = await this.backend.replace(next.data, cur.version);
    if (ok) {
      // Read back: a store that ignored the write condition may have let another writer win.
      const now = await this.backend.read();
      if (now?.holder?.owner === this.owner) {
        this.expiresAt = next.expiresAt;
        return { held: true };
      }
      return { held: false, holder: now?.holder ?? null };
    }
    return { held: false, holder: (await this.backend.read())?.holder ?? null };
  }

  /** Pushes the expiry out; false (and the lease counts as lost) if another process holds it now. */
  async renew(): Promise<boolean> {
    if (!this.valid()) {
      this.expiresAt = 0;
      return false;
    }
    const cur = await this.backend.read();
    if (cur?.holder?.owner !== this.owner) {
      this.expiresAt = 0;
      return false;
    }
    const next = this.record();
    if (!(await this.backend.replace(next.data, cur.version))) {
      this.expiresAt = 0;
      return false;
    }
    this.expiresAt = next.expiresAt;
    return true;
  }

  async release(): Promise<void> {
    this.expiresAt = 0;
    const cur = await this.backend.read();
    if (cur?.holder?.owner === this.owner) await this.backend.remove(cur.version);
  }
}

/** Held and not expired, and (on this host) its process still runs. */
export function holderLive(h: LeaseHolder): boolean {
  if (Date.now() >= h.expiresAt) return false;
  if (h.host === hostname() && h.pid !== process.pid && !pidAlive(h.pid)) return false;
  return true;
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseHolder(raw: string): LeaseHolder | null {
  try {
    const h = JSON.parse(raw) as Partial<LeaseHolder>;
    if (typeof h.owner === 'string' && typeof h.host === 'string' && typeof h.pid === 'number' && typeof h.expiresAt === 'number') return h as LeaseHolder;
  } catch {
    // a damaged lease counts as expired: it is replaced like one
  }
  return null;
}

/** A mutex file older than this belongs to a process that died inside its few-millisecond critical section. */
const STALE_MUTEX_MS = 10_000;

export class FsLeaseBackend implements LeaseBackend {
  private mutex: string;

  constructor(readonly path: string) {
    this.mutex = path + '.lock';
  }

  get where(): string {
    return this.path;
  }

  async read(): Promise<Stored | null> {
    let raw: string;
    try {
      raw = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return { holder: parseHolder(raw), version: raw };
  }

  private async writeTemp(data: Buffer): Promise<string> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = join(dirname(this.path), `.narvi-tmp-lease-${process.pid}-${randomBytes(4).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return tmp;
  }

  async create(data: Buffer): Promise<boolean> {
    const tmp = await this.writeTemp(data);
    try {
      await link(tmp, this.path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async replace(data: Buffer, version: string): Promise<boolean> {
    return this.locked(async () => {
      const cur = await this.read();
      if (!cur || cur.version !== version) return false;
      const tmp = await this.writeTemp(data);
      try {
        await rename(tmp, this.path);
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
      return true;
    });
  }

  async remove(version: string): Promise<void> {
    await this.locked(async () => {
      const cur = await this.read();
      if (cur && cur.version === version) await unlink(this.path).catch(() => undefined);
      return true;
    });
  }

  /**
   * Runs `fn` holding the mutex file. Critical sections last milliseconds, so a busy mutex is waited for
   * (a holder's renewal must not fail because a contender is looking); false if it stays busy.
   */
  private async locked(fn: () => Promise<boolean>): Promise<boolean> {
    await mkdir(dirname(this.path), { recursive: true });
    for (let attempt = 0; ; attempt++) {
      try {
        const fh = await open(this.mutex, 'wx', 0o644);
        await fh.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const st = await stat(this.mutex).catch(() => null);
        if (st && Date.now() - st.mtimeMs > STALE_MUTEX_MS) await unlink(this.mutex).catch(() => undefined);
        if (attempt >= 200) return false;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    try {
      return await fn();
    } finally {
      await unlink(this.mutex).catch(() => undefined);
    }
  }
}

export class S3LeaseBackend implements LeaseBackend {
  constructor(
    private store: S3ObjectStore,
    private key: string,
  ) {}

  get where(): string {
    return `s3 object ${this.key}`;
  }

  async read(): Promise<Stored | null> {
    const got = await this.store.getVersioned(this.key);
    if (!got) return null;
    return { holder: parseHolder(got.data.toString('utf8')), version: got.etag };
  }

  create(data: Buffer): Promise<boolean> {
    return this.store.putIf(this.key, data, { ifNoneMatch: '*' });
  }

  replace(data: Buffer, version: string): Promise<boolean> {
    return this.store.putIf(this.key, data, { ifMatch: version });
  }

  async remove(): Promise<void> {
    await this.store.delete(this.key);
  }
}

/** The lease's key in the store: `.narvi` is never a tenant's segment (such ids are written `%2Enarvi`). */
export const LEASE_KEY = '.narvi/compactor-lease';
