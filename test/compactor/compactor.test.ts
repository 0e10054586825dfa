import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keepEverything, retentionCutoffPolicy, type CompactionPolicy } from '../../src/compactor/compaction-policy.js';
import { removeDir, tempDir } from '../helpers/server.js';
import { chunkObjects, compactorFor, indexedEntries, openStore, writeChunk, type InProcessStore, type TestEntry } from './compactor-helpers.js';

const NOW = BigInt(Date.now()) * 1_000_000n;
const HOUR = 3_600_000_000_000n;

function run(from: bigint, n: number, prefix: string, stepNs = 1_000_000_000n): TestEntry[] {
  return Array.from({ length: n }, (_, i) => ({ ts: from + BigInt(i) * stepNs, line: `${prefix} ${i}` }));
}

describe('compactor (in process)', () => {
  const opened: InProcessStore[] = [];
  afterEach(() => {
    for (const s of opened.splice(0)) {
      s.index.close();
      removeDir(s.dir);
    }
  });
  function fresh(): InProcessStore {
    const s = openStore(tempDir('narvi-compactor-'));
    opened.push(s);
    return s;
  }

  it('deletes chunks wholly past the cutoff, rewrites the one that straddles it, and leaves the rest', async () => {
    const s = fresh();
    const old = await writeChunk(s, { app: 'a' }, run(NOW - 30n * HOUR, 50, 'old'));
    const straddle = await writeChunk(s, { app: 'a' }, run(NOW - 24n * HOUR - 25n * 1_000_000_000n, 50, 'edge'));
    const recent = await writeChunk(s, { app: 'a' }, run(NOW - HOUR, 50, 'new'));
    const otherTenant = await writeChunk(s, { app: 'a' }, run(NOW - 30n * HOUR, 5, 'kept'), 'other');
    // Only the retention steps: merging is off so the rewritten chunk stays on its own.
    const r = await compactorFor(s, { forStream: (tenant, _l, now) => ({ cutoff: tenant === 'fake' ? now - 24n * HOUR : null }) }, { smallChunkFraction: 0 }).run();
    expect(r.outcome).toBe('success');
    expect(r.chunksDeleted).toBe(1);
    expect(r.chunksRewritten).toBe(1);
    const entries = await indexedEntries(s);
    expect(entries.filter((e) => e.includes(' old '))).toEqual([]);
    const edge = entries.filter((e) => e.includes(' edge '));
    // The cutoff sits between 'edge 24' and 'edge 25' (give or take the milliseconds the run took).
    expect(edge.length).toBeGreaterThanOrEqual(24);
    expect(edge.length).toBeLessThanOrEqual(26);
    expect(entries.filter((e) => e.includes(' new '))).toHaveLength(50);
    expect(await indexedEntries(s, 'other')).toHaveLength(5);
    const objects = await chunkObjects(s);
    expect(objects).not.toContain(old);
    expect(objects).not.toContain(straddle);
    expect(objects).toContain(recent);
    expect(objects).toContain(otherTenant);
    // No object without a ref, no ref without an object.
    const refs = [...s.index.allChunks('fake'), ...s.index.allChunks('other')].map((c) => c.key).sort();
    expect(objects).toEqual(refs);
  });

  it('rewrites only chunks holding entries the drop predicate picks, keeping structured metadata', async () => {
    const s = fresh();
    const withBob = await writeChunk(s, { app: 'd' }, [
      { ts: NOW - 10n, line: 'keep me', metadata: { user: 'ann' } },
      { ts: NOW - 9n, line: 'secret', metadata: { user: 'bob' } },
      { ts: NOW - 8n, line: 'secret', metadata: { user: 'ann' } },
    ]);
    const clean = await writeChunk(s, { app: 'd' }, [{ ts: NOW - 5n, line: 'nothing to drop', metadata: { user: 'ann' } }]);
    const policy: CompactionPolicy = { forStream: () => ({ cutoff: null, drop: (_ts, line, md) => line.toString() === 'secret' && md?.user === 'bob' }) };
    const r = await compactorFor(s, policy, { smallChunkFraction: 0 }).run();
    expect(r.chunksRewritten).toBe(1);
    expect(r.entriesRemoved).toBe(1);
    expect(await indexedEntries(s)).toEqual([`${NOW - 10n} keep me {"user":"ann"}`, `${NOW - 8n} secret {"user":"ann"}`, `${NOW - 5n} nothing to drop {"user":"ann"}`].sort());
    const objects = await chunkObjects(s);
    expect(objects).not.toContain(withBob);
    expect(objects).toContain(clean);
  });

  it('merges small adjacent chunks into fewer, without losing or duplicating entries', async () => {
    const s = fresh();
    const expected = new Set<string>();
    for (let k = 0; k < 30; k++) {
      const entries = run(NOW - HOUR + BigInt(k) * 60_000_000_000n, 20, `chunk${k}`);
      // Overlap: every chunk also carries the first entry of the next one, as a retried push would.
      if (k < 29) entries.push({ ts: NOW - HOUR + BigInt(k + 1) * 60_000_000_000n, line: `chunk${k + 1} 0` });
      await writeChunk(s, { app: 'm' }, entries);
    }
    for (const e of await indexedEntries(s)) expected.add(e);
    const before = (await chunkObjects(s)).length;
    const r = await compactorFor(s, keepEverything).run();
    expect(r.chunksMerged).toBe(30);
    expect(r.duplicatesDropped).toBe(29);
    const after = await indexedEntries(s);
    expect(after).toEqual([...expected].sort());
    const objects = await chunkObjects(s);
    expect(objects.length).toBe(1);
    expect(objects.length).toBeLessThan(before);
    expect(objects).toEqual(s.index.allChunks('fake').map((c) => c.key).sort());
    // A second run finds nothing to do.
    const again = await compactorFor(s, keepEverything).run();
    expect(again.chunksMerged + again.chunksWritten + again.objectsDeleted).toBe(0);
  });

  it('keeps replaced objects readable until retention_delete_delay has passed, and never sweeps them as orphans', async () => {
    const s = fresh();
    const a = await writeChunk(s, { app: 'x' }, run(NOW - HOUR, 5, 'a'));
    const b = await writeChunk(s, { app: 'x' }, run(NOW - HOUR + 60_000_000_000n, 5, 'b'));
    const r = await compactorFor(s, keepEverything, { deleteDelayMs: 3_600_000, orphanGraceMs: 0 }).run();
    expect(r.chunksMerged).toBe(2);
    expect(r.objectsDeleted).toBe(0);
    // A query that read the old refs can still read their objects.
    const objects = await chunkObjects(s);
    expect(objects).toContain(a);
    expect(objects).toContain(b);
    expect(s.index.allChunks('fake').map((c) => c.key)).not.toContain(a);
    expect(await indexedEntries(s)).toHaveLength(10);
  });

  it('deletes orphaned chunk objects older than the grace period, never labels objects or young orphans', async () => {
    const s = fresh();
    await writeChunk(s, { app: 'o' }, run(NOW, 3, 'indexed'));
    await s.store.put('fake/0123456789abcdef/1-2-0badf00d', Buffer.from('orphan'));
    await s.store.put('fake/0123456789abcdef/3-4-0badf00e', Buffer.from('young orphan'));
    await s.store.put('fake/0123456789abcdef/labels', Buffer.from('{"app":"o"}'));
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(join(s.dir, 'chunks', 'fake', '0123456789abcdef', '1-2-0badf00d'), old, old);
    await utimes(join(s.dir, 'chunks', 'fake', '0123456789abcdef', 'labels'), old, old);
    const r = await compactorFor(s, keepEverything, { orphanGraceMs: 3_600_000 }).run();
    expect(r.orphansDeleted).toBe(1);
    const objects = await chunkObjects(s);
    expect(objects).not.toContain('fake/0123456789abcdef/1-2-0badf00d');
    expect(objects).toContain('fake/0123456789abcdef/3-4-0badf00e');
    expect(objects).toContain('fake/0123456789abcdef/labels');
    expect(await indexedEntries(s)).toHaveLength(3);
  });

  it('does nothing while another compactor holds the lease', async () => {
    const s = fresh();
    await writeChunk(s, { app: 'l' }, run(NOW - 30n * HOUR, 5, 'old'));
    const holder = compactorFor(s, keepEverything);
    // Take the lease the way a run does, and keep it.
    const lease = (holder as unknown as { lease: { acquire(): Promise<{ held: boolean }> } }).lease;
    expect((await lease.acquire()).held).toBe(true);
    const r = await compactorFor(s, retentionCutoffPolicy(HOUR)).run();
    expect(r.outcome).toBe('skipped');
    expect(r.holder?.pid).toBe(process.pid);
    expect(await indexedEntries(s)).toHaveLength(5);
  });

  it('leaves a damaged chunk and its group as they are and still compacts every other stream', async () => {
    const s = fresh();
    const bad = await writeChunk(s, { app: 'bad' }, run(NOW - HOUR, 5, 'b1'));
    await writeChunk(s, { app: 'bad' }, run(NOW - HOUR + 60_000_000_000n, 5, 'b2'));
    await writeChunk(s, { app: 'good' }, run(NOW - HOUR, 5, 'g1'));
    await writeChunk(s, { app: 'good' }, run(NOW - HOUR + 60_000_000_000n, 5, 'g2'));
    const bytes = await s.store.get(bad);
    bytes[bytes.length - 3] ^= 0xff;
    await s.store.put(bad, bytes);
    const r = await compactorFor(s, keepEverything).run();
    expect(r.outcome).toBe('success');
    expect(r.chunksSkipped).toBe(1);
    expect(r.chunksMerged).toBe(2);
    const objects = await chunkObjects(s);
    expect(objects).toContain(bad);
    expect(objects).toHaveLength(3);
  });

  it('never merges past compactor.max_merged_chunk_span', async () => {
    const s = fresh();
    // A quiet stream: one small chunk every 2 hours over three days.
    for (let k = 0; k < 36; k++) await writeChunk(s, { app: 'quiet' }, run(NOW - 72n * HOUR + BigInt(k) * 2n * HOUR, 3, `q${k}`));
    const r = await compactorFor(s, keepEverything, { maxMergedSpanNs: 24n * HOUR }).run();
    expect(r.outcome).toBe('success');
    const refs = s.index.allChunks('fake');
    expect(refs.length).toBeGreaterThanOrEqual(3);
    expect(refs.length).toBeLessThanOrEqual(4);
    for (const c of refs) expect(c.maxTs - c.minTs).toBeLessThanOrEqual(24n * HOUR);
    expect(await indexedEntries(s)).toHaveLength(108);
  });
});
