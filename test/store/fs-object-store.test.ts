import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../src/store/fs-object-store.js';
import { InvalidObjectKeyError, ObjectNotFoundError } from '../../src/store/object-store.js';
import { removeDir, tempDir } from '../helpers/server.js';

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const k of it) out.push(k);
  return out;
}

function byteOrder(keys: string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

describe('FsObjectStore', () => {
  let root: string;
  let store: FsObjectStore;

  beforeEach(() => {
    root = tempDir('narvi-fsstore-');
    store = new FsObjectStore(root);
  });
  afterEach(() => removeDir(root));

  it('puts, gets, checks and deletes objects', async () => {
    const data = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    await store.put('fake/chunks/abc/1-2-ff', data);
    expect(await store.exists('fake/chunks/abc/1-2-ff')).toBe(true);
    expect((await store.get('fake/chunks/abc/1-2-ff')).equals(data)).toBe(true);
    // The object is a real file at the key's path.
    expect(readdirSync(join(root, 'fake', 'chunks', 'abc'))).toEqual(['1-2-ff']);

    await store.put('fake/chunks/abc/1-2-ff', Buffer.from('replaced'));
    expect((await store.get('fake/chunks/abc/1-2-ff')).toString()).toBe('replaced');

    await store.delete('fake/chunks/abc/1-2-ff');
    expect(await store.exists('fake/chunks/abc/1-2-ff')).toBe(false);
    await expect(store.get('fake/chunks/abc/1-2-ff')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.get('fake/chunks/abc/1-2-ff')).rejects.toThrow(/object not found: fake\/chunks\/abc\/1-2-ff/);
    await store.delete('fake/chunks/abc/1-2-ff'); // deleting twice is fine
    await store.delete('never/existed');
  });

  it('stores empty and large objects byte-exact', async () => {
    await store.put('empty', Buffer.alloc(0));
    expect((await store.get('empty')).length).toBe(0);
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 255;
    await store.put('big/object', big);
    expect((await store.get('big/object')).equals(big)).toBe(true);
  });

  it('a directory is not an object', async () => {
    await store.put('a/b/c', Buffer.from('x'));
    expect(await store.exists('a/b')).toBe(false);
    await expect(store.get('a/b')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.get('a/b/c/d')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await store.exists('a/b/c/d')).toBe(false);
  });

  it('lists keys under a prefix in byte order, across subdirectories', async () => {
    const keys = ['t1/s/b', 't1/s/a', 't1/s-x', 't1/s/a2/z', 't1/r', 't2/s/a', 'top', 't1/é', 't1/z', 't1/\u{1F680}', 't1/\uFF5E'];
    for (const k of keys) await store.put(k, Buffer.from(k));
    expect(await collect(store.list(''))).toEqual(byteOrder(keys));
    expect(await collect(store.list('t1/'))).toEqual(byteOrder(keys.filter((k) => k.startsWith('t1/'))));
    expect(await collect(store.list('t1/s'))).toEqual(['t1/s-x', 't1/s/a', 't1/s/a2/z', 't1/s/b']);
    expect(await collect(store.list('t1/s/a'))).toEqual(['t1/s/a', 't1/s/a2/z']);
    expect(await collect(store.list('nothing/here/'))).toEqual([]);
    expect(await collect(store.list('t'))).toEqual(byteOrder(keys));
    expect(await collect(store.list('to'))).toEqual(['top']);
  });

  it('never shows temp files, even ones left by a crash', async () => {
    await store.put('fake/chunks/x/1', Buffer.from('one'));
    // What a crash between write and rename leaves behind.
    writeFileSync(join(root, 'fake', 'chunks', 'x', '.narvi-tmp-999-abcdef'), 'half-written');
    mkdirSync(join(root, 'fake', 'other'), { recursive: true });
    writeFileSync(join(root, 'fake', 'other', '.narvi-tmp-1-2'), 'half');
    expect(await collect(store.list(''))).toEqual(['fake/chunks/x/1']);
    // And concurrent puts leave no temp file behind once done.
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`fake/chunks/x/${i}`, Buffer.alloc(10_000, i))));
    const names = readdirSync(join(root, 'fake', 'chunks', 'x'));
    expect(names.filter((n) => n.startsWith('.narvi-tmp-'))).toEqual(['.narvi-tmp-999-abcdef']);
    expect(await collect(store.list('fake/chunks/x/'))).toHaveLength(20);
  });

  it('rejects invalid keys with a clear error and touches nothing', async () => {
    const bad: [string, RegExp][] = [
      ['', /empty/],
      ['/etc/passwd', /absolute/],
      ['../escape', /'\.\.'/],
      ['a/../../b', /'\.\.'/],
      ['a\\b', /backslash/],
      ['a\0b', /NUL/],
      ['a//b', /empty segment/],
      ['a/b/', /empty segment/],
      ['./a', /'\.' segment/],
      ['x/.narvi-tmp-1', /reserved for temporary files/],
    ];
    for (const [key, why] of bad) {
      for (const op of [() => store.put(key, Buffer.from('x')), () => store.get(key), () => store.delete(key), () => store.exists(key)]) {
        const err = await op().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, `key ${JSON.stringify(key)}`).toBeInstanceOf(InvalidObjectKeyError);
        expect((err as Error).message).toMatch(why);
        expect((err as Error).message).toContain('invalid object key');
      }
    }
    await expect(collect(store.list('../'))).rejects.toBeInstanceOf(InvalidObjectKeyError);
    expect(readdirSync(root)).toEqual([]);
  });

  it('refuses a key that is also a directory of other keys', async () => {
    await store.put('a/b', Buffer.from('1'));
    await expect(store.put('a', Buffer.from('2'))).rejects.toThrow(/cannot also be a directory/);
    await expect(store.put('a/b/c', Buffer.from('3'))).rejects.toThrow(/cannot also be a directory/);
    expect((await store.get('a/b')).toString()).toBe('1');
    expect(await collect(store.list(''))).toEqual(['a/b']);
  });
});
