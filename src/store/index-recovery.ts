import { existsSync, renameSync } from 'node:fs';
import type { Logger } from '../model/logger.js';
import { rebuildIndex, type RebuildStats } from './index-rebuild.js';
import { LabelIndex } from './label-index.js';
import type { ObjectStore } from './object-store.js';

/** SQLite keeps a database's recent commits in these files beside it: they move with it, or not at all. */
const SIDE_FILES = ['-wal', '-shm'];

export interface CheckedIndex {
  index: LabelIndex;
  /** Why the index must be rebuilt from the store before serving, or null when it is sound. */
  rebuild: 'missing' | 'corrupt' | null;
}

/**
 * Opens the label index at start. A missing file, one SQLite cannot open, or one that fails
 * `PRAGMA quick_check` (a truncated or overwritten file) is not fatal: a damaged file is moved aside as
 * `index.sqlite.corrupt-<time>` (kept for a person to look at), and a fresh index is opened that the
 * caller fills from the store with rebuildIndex before it serves.
 */
export function openCheckedIndex(path: string, log: Logger): CheckedIndex {
  if (!existsSync(path)) {
    // Side files without their database belong to one that is gone: never apply them to a new one.
    moveAside(path, 'orphan', SIDE_FILES);
    return { index: new LabelIndex(path), rebuild: 'missing' };
  }
  let index: LabelIndex | null = null;
  let problem: string;
  try {
    index = new LabelIndex(path);
    const check = index.db.pragma('quick_check', { simple: true }) as unknown;
    if (check === 'ok') return { index, rebuild: null };
    problem = `PRAGMA quick_check reported: ${String(check).slice(0, 500)}`;
  } catch (err) {
    problem = (err as Error).message;
  }
  try {
    index?.close();
  } catch {
    // closing a damaged database may fail too; the file is moved aside either way
  }
  const moved = moveAside(path, 'corrupt', ['', ...SIDE_FILES]);
  log.error('label index is damaged; moved it aside and will rebuild it from the chunk store', { path, problem, moved_to: moved[0] ?? null });
  return { index: new LabelIndex(path), rebuild: 'corrupt' };
}

/** Renames `path<suffix>` for each suffix that exists to `path.<tag>-<time><suffix>`; the new names. */
export function moveAside(path: string, tag: string, suffixes: string[]): string[] {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const moved: string[] = [];
  for (const s of suffixes) {
    if (!existsSync(path + s)) continue;
    const to = `${path}.${tag}-${stamp}${s}`;
    renameSync(path + s, to);
    moved.push(to);
  }
  return moved;
}

/** Rebuilds `index` from `store` and logs what was found, including what could not be recovered. */
export async function rebuildAndReport(index: LabelIndex, store: ObjectStore, log: Logger, reason: string): Promise<RebuildStats> {
  const started = performance.now();
  const stats = await rebuildIndex(index, store, log);
  const found = stats.chunks + stats.chunksWithoutLabels + stats.unreadableChunks > 0;
  // A brand-new data directory also has no index: only say something when the store had data.
  if (found || reason !== 'missing') {
    log.info('label index rebuilt from the chunk store', { reason, streams: stats.streams, chunks: stats.chunks, entries: stats.entries, unreadable_chunks: stats.unreadableChunks, ms: Math.round(performance.now() - started) });
  }
  if (stats.chunksWithoutLabels > 0) {
    log.warn('some chunks could not be indexed: their streams were flushed before narvi stored stream labels beside chunks, so their labels are unknown; they stay in the store but queries will not find them', {
      streams: stats.streamsWithoutLabels,
      chunks: stats.chunksWithoutLabels,
    });
  }
  return stats;
}
