import { readChunkHeader, storedLineBytes } from '../chunk/chunk.js';
import { canonicalLabels, fingerprint } from '../model/labels.js';
import type { Logger } from '../model/logger.js';
import { decodeStreamLabels, parseStreamKey, streamLabelsKey } from './chunk-keys.js';
import type { LabelIndex } from './label-index.js';
import type { ObjectStore } from './object-store.js';

export interface RebuildStats {
  /** Streams registered from their labels objects. */
  streams: number;
  /** Chunk refs written (or already there). */
  chunks: number;
  entries: number;
  /** Chunks of streams without a (readable) labels object: flushed before labels objects existed. */
  chunksWithoutLabels: number;
  streamsWithoutLabels: number;
  /** Chunks whose header could not be read (missing or corrupt objects). */
  unreadableChunks: number;
  /** Objects that are neither chunks nor labels objects (left alone). */
  otherObjects: number;
}

// Objects read at once: enough to keep an S3 store busy, few enough to bound memory by a few chunks.
const PARALLEL_READS = 8;

/**
 * Fills `index` from what the store holds: every stream that has a labels object, with a chunk ref for
 * each of its chunks (time range, entries and sizes from the chunk's header). Idempotent: what the index
 * already has is kept. A stream without a labels object (chunks flushed before narvi wrote them) cannot
 * be given its labels back, so its chunks are counted and left out, and the caller says so.
 */
export async function rebuildIndex(index: LabelIndex, store: ObjectStore, log: Logger): Promise<RebuildStats> {
  const stats: RebuildStats = { streams: 0, chunks: 0, entries: 0, chunksWithoutLabels: 0, streamsWithoutLabels: 0, unreadableChunks: 0, otherObjects: 0 };
  // Keys come in byte order, so a stream's directory is listed in one run: handle it when the run ends.
  let dir: string | null = null;
  let chunks: string[] = [];
  let hasLabels = false;
  const finish = async () => {
    if (dir === null) return;
    const [tenantSegment, fp] = dir.split('/') as [string, string];
    await rebuildStream(index, store, log, tenantSegment, fp, hasLabels, chunks, stats);
  };
  for await (const key of store.list('')) {
    const k = parseStreamKey(key);
    if (!k) {
      stats.otherObjects++;
      continue;
    }
    const d = `${k.tenantSegment}/${k.fingerprint}`;
    if (d !== dir) {
      await finish();
      dir = d;
      chunks = [];
      hasLabels = false;
    }
    if (k.kind === 'labels') hasLabels = true;
    else chunks.push(key);
  }
  await finish();
  return stats;
}

async function rebuildStream(index: LabelIndex, store: ObjectStore, log: Logger, tenantSegment: string, fp: string, hasLabels: boolean, chunks: string[], stats: RebuildStats): Promise<void> {
  let streamId: number | null = null;
  if (hasLabels) {
    const key = `${tenantSegment}/${fp}/labels`;
    try {
      const { tenant, labels } = decodeStreamLabels(await store.get(key), key);
      // The object must belong where it lies: a labels object copied into another stream's directory
      // (or another tenant's) would attach that stream's chunks to the wrong labels.
      if (fingerprint(canonicalLabels(labels)) !== fp || streamLabelsKey(tenant, fp) !== key) {
        throw new Error(`labels object ${key} holds tenant ${JSON.stringify(tenant)} and labels ${canonicalLabels(labels)}, which belong elsewhere`);
      }
      streamId = index.ensureStream(tenant, fp, labels);
      stats.streams++;
    } catch (err) {
      log.warn('stream labels object unreadable; its chunks are left out of the index', { key, err: (err as Error).message });
    }
  }
  if (streamId === null) {
    if (chunks.length > 0) {
      stats.streamsWithoutLabels++;
      stats.chunksWithoutLabels += chunks.length;
    }
    return;
  }
  const sid = streamId;
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const key = chunks[next++]!;
      try {
        const buf = await store.get(key);
        const h = readChunkHeader(buf, key);
        let rawSize = 0;
        for (const b of h.blocks) {
          // Version 2 blocks record their line bytes in a raw prefix; older blocks count their raw size.
          const lines = b.offset + b.compressedSize <= buf.length ? storedLineBytes(buf.subarray(b.offset, b.offset + b.compressedSize), b) : null;
          rawSize += lines ?? b.rawSize;
        }
        index.addChunk({ streamId: sid, minTs: h.minTs, maxTs: h.maxTs, key, entries: h.count, rawSize, compressedSize: buf.length });
        stats.chunks++;
        stats.entries += h.count;
      } catch (err) {
        // Left out: a query would only meet the same damage. The object stays for a person to look at.
        stats.unreadableChunks++;
        log.warn('chunk unreadable while rebuilding the index; left out', { key, err: (err as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_READS }, worker));
}
