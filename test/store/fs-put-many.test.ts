import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../src/store/fs-object-store.js';
import { InvalidObjectKeyError } from '../../src/store/object-store.js';
import { removeDir, tempDir } from '../helpers/server.js';

/** Every file under `dir`, relative, temp files included (list() hides those). */
function allFiles(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(dir, join(rel, e.name)) : [join(rel, e.name)]));
}

async function keys(store: FsObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const k of store.list('')) out.push(k);
  return out;
}

describe('FsObjectStore.putMany (one durability barrier for a batch)', () => {
  let root: string;
  let store: FsObjectStore;
  const savedPath = process.env.PATH;

  beforeEach(() => {
    root = tempDir('narvi-putmany-');
    store = new FsObjectStore(root);
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    removeDir(root);
  });

  it('stores every object of the batch, in new and existing directories, replacing what was there, with no temp file left', async () => {
    await store.put('fake/chunks/aa/old', Buffer.from('before'));
    const items = [
      { key: 'fake/chunks/aa/old', data: Buffer.from('after') },
      { key: 'fake/chunks/aa/1-2-ff', data: Buffer.alloc(300_000, 7) },
      { key: 'other/deep/new/dirs/x', data: Buffer.from([0, 1, 2, 255]) },
      { key: 'fake/labels/aa', data: Buffer.alloc(0) },
    ];
    await store.putMany(items);
    for (const it of items) expect((await store.get(it.key)).equals(it.data), it.key).toBe(true);
    expect(allFiles(root).sort()).toEqual(['fake/chunks/aa/1-2-ff', 'fake/chunks/aa/old', 'fake/labels/aa', 'other/deep/new/dirs/x']);
  });

  it('refuses a batch holding an invalid key before writing any of it', async () => {
    const items = [
      { key: 'fake/a', data: Buffer.from('a') },
      { key: 'fake/../escape', data: Buffer.from('b') },
    ];
    await expect(store.putMany(items)).rejects.toThrow(InvalidObjectKeyError);
    await expect(store.putMany(items)).rejects.toThrow("contains '..'");
    expect(allFiles(root)).toEqual([]);
  });

  it('names the key that clashes with a directory, and leaves no temp file', async () => {
    await store.put('fake/dir/inner', Buffer.from('x'));
    const err = await store.putMany([{ key: 'fake/ok', data: Buffer.from('ok') }, { key: 'fake/dir', data: Buffer.from('clash') }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidObjectKeyError);
    expect((err as Error).message).toContain('"fake/dir"');
    expect((err as Error).message).toContain('cannot also be a directory');
    // A file standing where a directory must be is the other way round.
    const err2 = await store.putMany([{ key: 'fake/ok/below', data: Buffer.from('x') }]).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(InvalidObjectKeyError);
    expect((err2 as Error).message).toContain('"fake/ok/below"');
    expect(allFiles(root).filter((f) => f.includes('.narvi-tmp-'))).toEqual([]);
  });

  it('makes a directory again when it was removed after an earlier batch made it', async () => {
    await store.putMany([{ key: 'fake/chunks/s1/a', data: Buffer.from('a') }]);
    rmSync(join(root, 'fake'), { recursive: true });
    await store.putMany([{ key: 'fake/chunks/s1/b', data: Buffer.from('b') }]);
    expect(await keys(store)).toEqual(['fake/chunks/s1/b']);
  });

  it('still writes and syncs everything when `sync -f` cannot run (each file and directory is fsynced instead)', async () => {
    process.env.PATH = join(root, 'no-such-bin');
    mkdirSync(join(root, 'fake'));
    const items = Array.from({ length: 30 }, (_, i) => ({ key: `fake/s${i % 4}/c${i}`, data: Buffer.from(`chunk ${i}`) }));
    await store.putMany(items);
    expect((await keys(store)).length).toBe(30);
    for (const it of items) expect((await store.get(it.key)).toString()).toBe(it.data.toString());
  });
});
