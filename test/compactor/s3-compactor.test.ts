import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepEverything } from '../../src/compactor/compaction-policy.js';
import { Lease, LEASE_KEY, S3LeaseBackend } from '../../src/compactor/lease.js';
import { LabelIndex } from '../../src/store/label-index.js';
import { S3ObjectStore } from '../../src/store/s3-object-store.js';
import { removeDir, tempDir } from '../helpers/server.js';
import { chunkObjects, compactorFor, indexedEntries, writeChunk, type InProcessStore } from './compactor-helpers.js';

/** s3rver in its own process (its list tokens need OpenSSL's legacy provider, a start-up flag). */
async function startS3rver(dir: string): Promise<{ port: number; proc: ChildProcess }> {
  const script = `new (require('s3rver'))({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[1] }).run().then((a) => console.log(JSON.stringify({ port: a.port })), (e) => { console.error(e); process.exit(1); });`;
  const proc = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script, dir], { cwd: resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const port = await new Promise<number>((res, rej) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) res(Number(m[1]));
    });
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code) => rej(new Error(`s3rver exited with code ${code}:\n${out}`)));
  });
  return { port, proc };
}

describe('the compactor on an S3 store (s3rver)', () => {
  let dir: string;
  let s3rver: ChildProcess | undefined;
  let store: S3ObjectStore;
  const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

  beforeAll(async () => {
    dir = tempDir('narvi-s3-compactor-');
    const started = await startS3rver(join(dir, 's3'));
    s3rver = started.proc;
    const endpoint = `http://127.0.0.1:${started.port}`;
    const admin = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: creds });
    await admin.send(new CreateBucketCommand({ Bucket: 'narvi' }));
    admin.destroy();
    store = new S3ObjectStore({ endpoint, region: 'us-east-1', bucket: 'narvi', prefix: 'c1', ...creds });
  });
  afterAll(() => {
    store?.destroy();
    s3rver?.kill('SIGKILL');
    removeDir(dir);
  });

  it('holds the lease as an object: a second holder is refused until release, then takes it', async () => {
    const a = new Lease(new S3LeaseBackend(store, LEASE_KEY), 10_000);
    const b = new Lease(new S3LeaseBackend(store, LEASE_KEY), 10_000);
    expect(await a.acquire()).toEqual({ held: true });
    const refused = await b.acquire();
    expect(refused.held).toBe(false);
    expect(!refused.held && refused.holder?.owner).toBe(a.owner);
    expect(await a.renew()).toBe(true);
    await a.release();
    expect(await store.exists(LEASE_KEY)).toBe(false);
    expect(await b.acquire()).toEqual({ held: true });
    expect(await a.renew()).toBe(false);
    await b.release();
  });

  it('merges small chunks in the bucket and deletes the replaced objects, never the lease or labels objects', async () => {
    const s: InProcessStore = { dir, index: new LabelIndex(join(dir, 'index', 'index.sqlite')), store };
    try {
      const now = BigInt(Date.now()) * 1_000_000n;
      for (let k = 0; k < 6; k++) {
        await writeChunk(s, { app: 's3' }, Array.from({ length: 10 }, (_, i) => ({ ts: now - 3_600_000_000_000n + BigInt(k * 10 + i) * 1_000_000_000n, line: `s3 line ${k}-${i}` })));
      }
      await store.put('fake/0123456789abcdef/labels', Buffer.from('{"app":"s3"}'));
      const before = await indexedEntries(s);
      const lease = new Lease(new S3LeaseBackend(store, LEASE_KEY), 10_000);
      const r = await compactorFor(s, keepEverything, { orphanGraceMs: 0 }, 10_000, lease).run();
      expect(r.outcome, r.error).toBe('success');
      expect(r.chunksMerged).toBe(6);
      expect(await indexedEntries(s)).toEqual(before);
      const objects = await chunkObjects(s);
      expect(objects).toEqual(['fake/0123456789abcdef/labels', ...s.index.allChunks('fake').map((c) => c.key)].sort());
    } finally {
      s.index.close();
    }
  });
});
