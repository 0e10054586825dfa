import { join } from 'node:path';
import { decodeChunk } from '../../src/chunk/chunk.js';
import { FsObjectStore } from '../../src/store/fs-object-store.js';
import { LabelIndex } from '../../src/store/label-index.js';
import type { RunningServer } from './server.js';

export interface StoredEntry {
  labels: Record<string, string>;
  ts: bigint;
  line: string;
  metadata?: Record<string, string> | null;
}

/**
 * Everything a tenant has in the store of a running filesystem-backed server: asks it to flush
 * (POST /flush), then reads the SQLite index and decodes every chunk it references.
 * Entries come back ordered by stream, then time.
 */
export async function readAllEntries(server: RunningServer | { url: string; dataDir: string }, tenant = 'fake'): Promise<StoredEntry[]> {
  const res = await fetch(`${server.url}/flush`, { method: 'POST' });
  if (res.status !== 204) throw new Error(`POST /flush answered ${res.status}: ${await res.text()}`);
  return readStoredEntries(server.dataDir, tenant);
}

/** Reads the store of a data directory directly (the server may be running or stopped). */
export async function readStoredEntries(dataDir: string, tenant = 'fake'): Promise<StoredEntry[]> {
  const index = new LabelIndex(join(dataDir, 'index', 'index.sqlite'), { readonly: true });
  const store = new FsObjectStore(join(dataDir, 'chunks'));
  try {
    const labelsById = new Map(index.streams(tenant).map((s) => [s.id, s.labels]));
    const out: StoredEntry[] = [];
    for (const ref of index.allChunks(tenant)) {
      const labels = labelsById.get(ref.streamId)!;
      for (const b of decodeChunk(await store.get(ref.key), ref.key)) {
        for (let i = 0; i < b.count; i++) {
          const e: StoredEntry = { labels, ts: b.ts[i]!, line: b.lines.toString('utf8', b.lineOffsets[i]!, b.lineOffsets[i + 1]!) };
          if (b.metadata?.[i]) e.metadata = b.metadata[i];
          out.push(e);
        }
      }
    }
    return out;
  } finally {
    index.close();
  }
}
