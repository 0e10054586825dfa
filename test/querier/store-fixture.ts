/**
 * A real store for querier tests: a SQLite label index and a filesystem chunk store in a temp dir,
 * filled with chunks encoded by the real codec, plus an in-memory "ingester" holding unflushed batches.
 */
import { join } from 'node:path';
import type { Matcher } from '../../query/ast.js';
import { encodeBlock, encodeChunk } from '../../src/chunk/chunk.js';
import { pieceCount, pieceMaxTs, pieceMinTs, type StreamSnapshot } from '../../src/ingester/memory-piece.js';
import { batchFromEntries, type EntryBatch } from '../../src/model/batch.js';
import { canonicalLabels, fingerprint, type Labels } from '../../src/model/labels.js';
import type { MemorySource } from '../../src/querier/memory-source.js';
import { selectorPredicate } from '../../src/querier/resolve-streams.js';
import { FsObjectStore } from '../../src/store/fs-object-store.js';
import { LabelIndex } from '../../src/store/label-index.js';

export const TENANT = 'fake';

/** A filesystem store that counts the objects it hands out, so tests can see what a query read. */
export class CountingFsStore extends FsObjectStore {
  gets = 0;

  override async get(key: string): Promise<Buffer> {
    this.gets++;
    return super.get(key);
  }
}

export interface Fixture {
  dir: string;
  index: LabelIndex;
  store: CountingFsStore;
  memory: MemorySource & { held: StreamSnapshot[] };
  /** Writes one chunk of `blocks` (each a list of entries, ascending) for `labels`. */
  addChunk(labels: Labels, blocks: { ts: bigint; line: string }[][]): Promise<void>;
  /** Keeps entries "in the ingester" for `labels`. */
  addMemory(labels: Labels, entries: { ts: bigint; line: string }[]): void;
}

let chunkSeq = 0;

export function openFixture(dir: string): Fixture {
  const index = new LabelIndex(join(dir, 'index', 'index.sqlite'));
  const store = new CountingFsStore(join(dir, 'chunks'));
  const held: StreamSnapshot[] = [];
  const memory = {
    held,
    async select(_tenant: string, matchers: Matcher[], start: bigint, end: bigint): Promise<StreamSnapshot[]> {
      const match = selectorPredicate(matchers);
      return held.filter((s) => match(s.labels) && s.pieces.some((p) => pieceCount(p) > 0 && pieceMinTs(p) < end && pieceMaxTs(p) >= start));
    },
    async streams(): Promise<Labels[]> {
      return held.map((s) => s.labels);
    },
  };
  return {
    dir,
    index,
    store,
    memory,
    async addChunk(labels, blocks) {
      const fp = fingerprint(canonicalLabels(labels));
      const streamId = index.ensureStream(TENANT, fp, labels);
      const batches: EntryBatch[] = blocks.map((b) => batchFromEntries(b));
      const buf = encodeChunk(batches);
      const all = blocks.flat();
      let minTs = all[0]!.ts;
      let maxTs = all[0]!.ts;
      for (const e of all) {
        if (e.ts < minTs) minTs = e.ts;
        if (e.ts > maxTs) maxTs = e.ts;
      }
      const key = `${TENANT}/chunks/${fp}/${minTs}-${maxTs}-${chunkSeq++}`;
      await store.put(key, buf);
      index.addChunk({ streamId, minTs, maxTs, key, entries: all.length, rawSize: all.reduce((n, e) => n + Buffer.byteLength(e.line), 0), compressedSize: buf.length });
    },
    addMemory(labels, entries) {
      index.ensureStream(TENANT, fingerprint(canonicalLabels(labels)), labels);
      const key = canonicalLabels(labels);
      let snap = held.find((s) => canonicalLabels(s.labels) === key);
      if (!snap) held.push((snap = { labels, pieces: [] }));
      // Held as the ingester holds cut blocks: compressed, decoded only when a query reaches them.
      const batch = batchFromEntries(entries);
      snap.pieces.push(batch.count > 0 ? { kind: 'block', block: encodeBlock(batch) } : { kind: 'batch', batch });
    },
  };
}
