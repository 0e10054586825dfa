import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/model/labels.js';
import { LabelIndex } from '../../src/store/label-index.js';
import { removeDir, tempDir } from '../helpers/server.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function openIndex(opts: { streamIdCacheBytes?: number } = {}): LabelIndex {
  const dir = tempDir('narvi-index-');
  dirs.push(dir);
  return new LabelIndex(join(dir, 'index.sqlite'), opts);
}

describe('the label index stream-id cache', () => {
  it('never holds more bytes than its bound, however long the tenant ids and label sets pushed', () => {
    const limit = 256 * 1024;
    const index = openIndex({ streamIdCacheBytes: limit });
    const ids = new Map<string, number>();
    // 150-character tenant ids (the longest allowed, with a character past U+00FF) and 2 KB label values.
    for (let i = 0; i < 3000; i++) {
      const tenant = `t${i}-`.padEnd(149, 'é') + 'x';
      const labels = { app: 'cache', v: `${i}`.padEnd(2048, 'v'), w: `${i}`.padEnd(2048, 'w') };
      const fp = fingerprint(JSON.stringify(labels));
      ids.set(`${tenant}/${fp}`, index.ensureStream(tenant, fp, labels));
      const c = index.streamIdCache;
      expect(c.bytes).toBeLessThanOrEqual(limit);
    }
    const c = index.streamIdCache;
    // Each entry is accounted at its key's length (150 + 1 + 16 characters, two bytes each) plus its overhead.
    expect(c.entries).toBe(Math.floor(limit / (2 * 167 + 64)));
    expect(c.bytes).toBe(c.entries * (2 * 167 + 64));
    // Streams that fell out of the cache keep their ids: they are found again in SQLite.
    for (const [key, id] of [...ids].slice(0, 50)) {
      const [tenant, fp] = key.split('/') as [string, string];
      expect(index.ensureStream(tenant, fp, {})).toBe(id);
    }
    expect(index.streamIdCache.bytes).toBeLessThanOrEqual(limit);
    index.close();
  });

  it('is bounded by 32 MiB by default and accounts a short key at its own length', () => {
    const index = openIndex();
    expect(index.streamIdCache.limit).toBe(32 * 1024 * 1024);
    const insert = index.db.transaction(() => {
      for (let i = 0; i < 2000; i++) index.ensureStream('fake', fingerprint(String(i)), { n: String(i) });
    });
    insert();
    expect(index.streamIdCache.entries).toBe(2000);
    expect(index.streamIdCache.bytes).toBe(2000 * (2 * 21 + 64));
    index.close();
  });
});
