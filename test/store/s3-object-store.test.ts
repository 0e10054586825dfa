import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidObjectKeyError, ObjectNotFoundError } from '../../src/store/object-store.js';
import { S3ObjectStore } from '../../src/store/s3-object-store.js';
import { removeDir, tempDir } from '../helpers/server.js';

/**
 * Runs s3rver in its own Node process: its ListObjectsV2 continuation tokens use DES, which OpenSSL 3
 * only offers with the legacy provider, a flag that can only be given at process start.
 */
async function startS3rver(dir: string): Promise<{ port: number; proc: ChildProcess }> {
  const script = `
    const S3rver = require('s3rver');
    new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[1] })
      .run()
      .then((addr) => console.log(JSON.stringify({ port: addr.port })), (err) => { console.error(err); process.exit(1); });
  `;
  const proc = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script, dir], {
    cwd: resolve(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const port = await new Promise<number>((res, rej) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) res(Number(m[1]));
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code) => rej(new Error(`s3rver exited with code ${code} before listening:\n${out}`)));
  });
  return { port, proc };
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const k of it) out.push(k);
  return out;
}

describe('S3ObjectStore against a real s3rver', () => {
  let dir: string;
  let s3rver: ChildProcess | undefined;
  let endpoint: string;
  let store: S3ObjectStore;
  const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

  beforeAll(async () => {
    dir = tempDir('narvi-s3rver-');
    const started = await startS3rver(dir);
    s3rver = started.proc;
    endpoint = `http://127.0.0.1:${started.port}`;
    const admin = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: creds });
    await admin.send(new CreateBucketCommand({ Bucket: 'narvi' }));
    admin.destroy();
    store = new S3ObjectStore({ endpoint, region: 'us-east-1', bucket: 'narvi', prefix: 'cluster-a', ...creds, listPageSize: 7 });
  });

  afterAll(async () => {
    store?.destroy();
    if (s3rver && s3rver.exitCode === null) {
      const exited = new Promise((res) => s3rver!.once('exit', res));
      s3rver.kill('SIGTERM');
      await exited;
    }
    removeDir(dir);
  });

  it('puts, gets, checks and deletes', async () => {
    await store.put('fake/chunks/abc/1-2-ff', Buffer.from('hello chunk'));
    expect(await store.exists('fake/chunks/abc/1-2-ff')).toBe(true);
    expect((await store.get('fake/chunks/abc/1-2-ff')).toString()).toBe('hello chunk');
    await store.put('fake/chunks/abc/1-2-ff', Buffer.from('replaced'));
    expect((await store.get('fake/chunks/abc/1-2-ff')).toString()).toBe('replaced');
    await store.delete('fake/chunks/abc/1-2-ff');
    expect(await store.exists('fake/chunks/abc/1-2-ff')).toBe(false);
    await store.delete('fake/chunks/abc/1-2-ff');
  });

  it('maps a missing object to ObjectNotFoundError', async () => {
    const err = await store.get('no/such/object').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectNotFoundError);
    expect((err as ObjectNotFoundError).key).toBe('no/such/object');
    expect(await store.exists('no/such/object')).toBe(false);
  });

  it('a missing bucket is an error, not a missing object', async () => {
    const other = new S3ObjectStore({ endpoint, bucket: 'no-such-bucket', ...creds });
    try {
      const err = await other.get('k').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(ObjectNotFoundError);
    } finally {
      other.destroy();
    }
  });

  it('round-trips a 5 MiB binary object byte-exact, stored under the prefix', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024);
    let x = 12345;
    for (let i = 0; i < big.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      big[i] = x >>> 24;
    }
    await store.put('fake/big', big);
    const back = await store.get('fake/big');
    expect(back.length).toBe(big.length);
    expect(back.equals(big)).toBe(true);
    // The raw bucket holds exactly these bytes under the configured prefix (no checksum framing).
    const raw = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: creds });
    try {
      const out = await raw.send(new GetObjectCommand({ Bucket: 'narvi', Key: 'cluster-a/fake/big' }));
      expect(Buffer.from(await out.Body!.transformToByteArray()).equals(big)).toBe(true);
    } finally {
      raw.destroy();
    }
    await store.delete('fake/big');
  });

  it('lists keys in order across many pages, scoped to its prefix', async () => {
    const keys = Array.from({ length: 45 }, (_, i) => `list/t1/${String(i).padStart(3, '0')}`);
    await Promise.all(keys.map((k) => store.put(k, Buffer.from(k))));
    await store.put('list/t2/x', Buffer.from('other tenant'));
    // An object outside the store's prefix must never show up.
    const raw = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: creds });
    await raw.send(new PutObjectCommand({ Bucket: 'narvi', Key: 'cluster-b/list/t1/zzz', Body: 'x' }));
    raw.destroy();

    expect(await collect(store.list('list/t1/'))).toEqual(keys); // 45 keys at 7 per page: 7 pages
    expect(await collect(store.list('list/t1/01'))).toEqual(keys.slice(10, 20));
    expect(await collect(store.list('list/'))).toEqual([...keys, 'list/t2/x']);
    expect(await collect(store.list('nothing/'))).toEqual([]);
  });

  it('rejects invalid keys before any request', async () => {
    for (const key of ['', '/abs', 'a/../b', 'a\\b', 'a//b']) {
      await expect(store.put(key, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidObjectKeyError);
      await expect(store.get(key)).rejects.toBeInstanceOf(InvalidObjectKeyError);
    }
  });

  it('builds its client with path-style URLs and checksums only when required', async () => {
    // Flexible checksums on by default make some S3-compatible servers store corrupted objects.
    const cfg = store.client.config;
    expect(await cfg.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await cfg.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect(cfg.forcePathStyle).toBe(true);
    const vhost = new S3ObjectStore({ endpoint, bucket: 'narvi', forcePathStyle: false });
    expect(vhost.client.config.forcePathStyle).toBe(false);
    vhost.destroy();
  });

  it('rejects a bad configuration clearly', () => {
    expect(() => new S3ObjectStore({ bucket: '' })).toThrow(/bucket is required/);
    expect(() => new S3ObjectStore({ bucket: 'b', listPageSize: 0 })).toThrow(/listPageSize must be an integer from 1 to 1000/);
  });
});
