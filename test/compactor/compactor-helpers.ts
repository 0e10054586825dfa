import { crc32 } from 'node:zlib';
import { Registry } from 'prom-client';
import { join } from 'node:path';
import { decodeChunk, encodeChunk } from '../../src/chunk/chunk.js';
import type { CompactionPolicy } from '../../src/compactor/compaction-policy.js';
import { Compactor, type CompactorSettings } from '../../src/compactor/compactor.js';
import { FsLeaseBackend, Lease, LEASE_KEY } from '../../src/compactor/lease.js';
import { compactorMetrics } from '../../src/compactor/metrics.js';
import { batchFromEntries } from '../../src/model/batch.js';
import { canonicalLabels, fingerprint, type Labels } from '../../src/model/labels.js';
import { silentLogger } from '../../src/model/logger.js';
import { FsObjectStore } from '../../src/store/fs-object-store.js';
import { LabelIndex } from '../../src/store/label-index.js';
import type { ObjectStore } from '../../src/store/object-store.js';

export interface TestEntry {
  ts: bigint;
  line: string;
  metadata?: Record<string, string>;
}

export interface InProcessStore {
  dir: string;
  index: LabelIndex;
  store: ObjectStore;
}

export function openStore(dir: string): InProcessStore {
  return { dir, index: new LabelIndex(join(dir, 'index', 'index.sqlite')), store: new FsObjectStore(join(dir, 'chunks')) };
}

/** Writes one chunk the way the ingester's flush does (object first, then its ref). */
export async function writeChunk(s: InProcessStore, labels: Labels, entries: TestEntry[], tenant = 'fake', blockEntries = 1000): Promise<string> {
  const fp = fingerprint(canonicalLabels(labels));
  const id = s.index.ensureStream(tenant, fp, labels);
  const sorted = [...entries].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  const batches = [];
  for (let i = 0; i < sorted.length; i += blockEntries) batches.push(batchFromEntries(sorted.slice(i, i + blockEntries)));
  const bytes = encodeChunk(batches);
  const minTs = sorted[0]!.ts;
  const maxTs = sorted[sorted.length - 1]!.ts;
  const key = `${tenant}/${fp}/${minTs.toString(16)}-${maxTs.toString(16)}-${crc32(bytes).toString(16).padStart(8, '0')}`;
  await s.store.put(key, bytes);
  s.index.addChunk({ streamId: id, minTs, maxTs, key, entries: sorted.length, rawSize: sorted.reduce((n, e) => n + Buffer.byteLength(e.line), 0), compressedSize: bytes.length });
  return key;
}

/** Every stored entry of every chunk the index refers to, as sortable strings (timestamp, line, metadata). */
export async function indexedEntries(s: InProcessStore, tenant = 'fake'): Promise<string[]> {
  const out: string[] = [];
  for (const ref of s.index.allChunks(tenant)) {
    for (const b of decodeChunk(await s.store.get(ref.key), ref.key)) {
      for (let i = 0; i < b.count; i++) out.push(`${b.ts[i]} ${b.lines.toString('utf8', b.lineOffsets[i]!, b.lineOffsets[i + 1]!)} ${JSON.stringify(b.metadata?.[i] ?? null)}`);
    }
  }
  return out.sort();
}

export async function chunkObjects(s: InProcessStore): Promise<string[]> {
  const out: string[] = [];
  for await (const k of s.store.list('')) if (!k.startsWith('.narvi/')) out.push(k);
  return out.sort();
}

export const SETTINGS: CompactorSettings = { intervalMs: 0, deleteDelayMs: 0, smallChunkFraction: 0.25, orphanGraceMs: 3_600_000, maxMergedSpanNs: 24n * 3_600_000_000_000n, blockSize: 256 * 1024, targetSize: 1_500_000 };

export function compactorFor(s: InProcessStore, policy: CompactionPolicy, settings: Partial<CompactorSettings> = {}, leaseTtlMs = 60_000, lease = new Lease(new FsLeaseBackend(join(s.dir, 'chunks', ...LEASE_KEY.split('/'))), leaseTtlMs)): Compactor {
  return new Compactor(s.index, s.store, lease, policy, { ...SETTINGS, ...settings }, compactorMetrics(new Registry()), silentLogger);
}
