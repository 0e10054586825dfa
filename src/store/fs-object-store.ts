/**
 * The default object store: one file per object under a root directory. A put is atomic and durable —
 * temp file in the object's directory, fsync, rename over the key, fsync the directory — so a crash
 * leaves either the old object, the new one, or a stray temp file that `list` never shows.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PathClashError, writeFilesDurably } from './fs-bulk-write.js';
import { InvalidObjectKeyError, ObjectNotFoundError, validateKey, validatePrefix, type ObjectStore, type ObjectWrite } from './object-store.js';

/** Temp files start with this; keys whose segments do are refused so list can tell them apart. */
const TEMP_PREFIX = '.narvi-tmp-';

export class FsObjectStore implements ObjectStore {
  readonly root: string;
  /** Directories putMany has made or found (see writeFilesDurably). */
  private knownDirs = new Set<string>();

  constructor(root: string) {
    this.root = root;
  }

  private pathOf(key: string): string {
    validateKey(key);
    if (key.split('/').some((seg) => seg.startsWith(TEMP_PREFIX))) {
      throw new InvalidObjectKeyError(key, `segments starting with "${TEMP_PREFIX}" are reserved for temporary files`);
    }
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, data: Buffer): Promise<void> {
    const path = this.pathOf(key);
    const dir = dirname(path);
    const tmp = join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    // delete() leaves directories in place, but another process (a cleanup of empty directories) may
    // remove one between mkdir and open: recreate it and retry.
    for (let attempt = 0; ; attempt++) {
      let created: string | undefined;
      try {
        created = await mkdir(dir, { recursive: true });
      } catch (err) {
        if (errCode(err) === 'EEXIST' || errCode(err) === 'ENOTDIR') throw keyClash(key);
        throw err;
      }
      if (created !== undefined) await syncNewDirs(created, dir);
      try {
        await writeDurably(tmp, data);
        break;
      } catch (err) {
        if (errCode(err) === 'ENOENT' && attempt < 3) continue;
        throw err;
      }
    }
    try {
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      if (errCode(err) === 'EISDIR' || errCode(err) === 'ENOTEMPTY') throw keyClash(key);
      throw err;
    }
    await syncDir(dir);
  }

  /** See ObjectStore.putMany: the same files as put writes, made durable by one barrier for the batch. */
  async putMany(items: readonly ObjectWrite[]): Promise<void> {
    const batch = `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}-`;
    const files = items.map((it, i) => {
      const path = this.pathOf(it.key);
      return { path, data: it.data, tmp: join(dirname(path), `${batch}${i}`) };
    });
    try {
      writeFilesDurably(this.root, files, this.knownDirs);
    } catch (err) {
      if (err instanceof PathClashError) throw keyClash(items[files.findIndex((f) => f.path === err.path)]!.key);
      throw err;
    }
  }

  async get(key: string): Promise<Buffer> {
    const path = this.pathOf(key);
    try {
      return await readFile(path);
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw new ObjectNotFoundError(key, `no file ${path}`);
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    await syncDir(dirname(path));
  }

  async exists(key: string): Promise<boolean> {
    const path = this.pathOf(key);
    try {
      return (await stat(path)).isFile();
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw err;
    }
  }

  async stat(key: string): Promise<{ size: number; modifiedMs: number } | null> {
    const path = this.pathOf(key);
    try {
      const st = await stat(path);
      return st.isFile() ? { size: st.size, modifiedMs: st.mtimeMs } : null;
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    validatePrefix(prefix);
    // Start at the deepest directory the prefix names entirely; filter the rest by string prefix.
    const cut = prefix.lastIndexOf('/');
    const base = cut >= 0 ? prefix.slice(0, cut + 1) : '';
    yield* this.walk(base, prefix);
  }

  /**
   * Yields keys under directory `rel` (a key prefix ending in '/' or '') in byte order. Within one
   * directory, a subdirectory sorts as its name plus '/', which is exactly where its keys fall among
   * the sibling files, so the walk streams in global order without collecting everything first.
   */
  private async *walk(rel: string, prefix: string): AsyncGenerator<string> {
    let entries;
    try {
      entries = await readdir(join(this.root, ...rel.split('/').filter(Boolean)), { withFileTypes: true });
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    const items: { key: string; sortKey: Buffer; dir: boolean }[] = [];
    for (const e of entries) {
      if (e.name.startsWith(TEMP_PREFIX)) continue;
      const dir = e.isDirectory();
      if (!dir && !e.isFile()) continue;
      const key = rel + e.name + (dir ? '/' : '');
      // Keep a directory only if its keys can match: it is inside the prefix or the prefix goes deeper into it.
      if (dir ? !(key.startsWith(prefix) || prefix.startsWith(key)) : !key.startsWith(prefix)) continue;
      items.push({ key, sortKey: Buffer.from(key, 'utf8'), dir });
    }
    items.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
    for (const it of items) {
      if (it.dir) yield* this.walk(it.key, prefix);
      else yield it.key;
    }
  }
}

async function writeDurably(path: string, data: Buffer): Promise<void> {
  const fh = await open(path, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw err;
  }
  await fh.close();
}

/**
 * `mkdir -p` created `first` and everything down to `last`: fsync the parent of each new directory so
 * the new entries survive a crash (`last` itself is synced after the rename into it).
 */
async function syncNewDirs(first: string, last: string): Promise<void> {
  const stop = dirname(first);
  for (let d = dirname(last); ; d = dirname(d)) {
    await syncDir(d);
    if (d === stop || dirname(d) === d) break;
  }
}

function keyClash(key: string): InvalidObjectKeyError {
  return new InvalidObjectKeyError(key, 'on a filesystem store a key cannot also be a directory of other keys (e.g. both "a" and "a/b")');
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
