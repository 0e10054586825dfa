/**
 * The compactor's statements over the label index, and its two bookkeeping tables that make every step
 * crash-safe:
 *  - `compactor_writes`: keys of chunk objects the compactor is about to write. A row outlives a crash
 *    between the write and the index switch; the next run deletes the object unless the index refers to it.
 *  - `compactor_deletes`: keys of chunk objects the index no longer refers to, with the time after which
 *    they may go. Rows are inserted in the same transaction that drops the refs, so an object is never
 *    forgotten; waiting until `due_at` lets queries that read the old refs finish reading the old objects.
 */
import type Database from 'better-sqlite3';
import { labelsFromJson, type Labels } from '../model/labels.js';
import type { ChunkRef } from '../store/label-index.js';

export interface CompactorStream {
  id: number;
  tenant: string;
  labels: Labels;
}

/** A chunk the compactor wrote, before the swap gives it its stream. */
export type NewRef = Omit<ChunkRef, 'streamId'>;

export class CompactorIndex {
  private stmts;

  constructor(private db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS compactor_writes (key TEXT PRIMARY KEY, created_at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS compactor_deletes (key TEXT PRIMARY KEY, due_at INTEGER NOT NULL, bytes INTEGER NOT NULL) WITHOUT ROWID;
    `);
    this.stmts = {
      streams: db.prepare('SELECT id, tenant, labels_json FROM streams ORDER BY id'),
      chunks: db.prepare('SELECT min_ts, max_ts, key, entries, raw_size, compressed_size FROM chunks WHERE stream_id = ? ORDER BY min_ts, max_ts').safeIntegers(true),
      refOf: db.prepare('SELECT stream_id FROM chunks WHERE key = ?').pluck(),
      deleteRef: db.prepare('DELETE FROM chunks WHERE key = ? AND stream_id = ?'),
      insertRef: db.prepare('INSERT OR IGNORE INTO chunks (stream_id, min_ts, max_ts, key, entries, raw_size, compressed_size) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      noteWrite: db.prepare('INSERT OR REPLACE INTO compactor_writes (key, created_at) VALUES (?, ?)'),
      clearWrite: db.prepare('DELETE FROM compactor_writes WHERE key = ?'),
      pendingWrites: db.prepare('SELECT key FROM compactor_writes').pluck(),
      isPendingWrite: db.prepare('SELECT 1 FROM compactor_writes WHERE key = ?').pluck(),
      queueDelete: db.prepare('INSERT OR REPLACE INTO compactor_deletes (key, due_at, bytes) VALUES (?, ?, ?)'),
      dueDeletes: db.prepare('SELECT key, bytes FROM compactor_deletes WHERE due_at <= ? ORDER BY due_at'),
      isPendingDelete: db.prepare('SELECT 1 FROM compactor_deletes WHERE key = ?').pluck(),
      clearDelete: db.prepare('DELETE FROM compactor_deletes WHERE key = ?'),
    };
  }

  streams(): CompactorStream[] {
    const rows = this.stmts.streams.all() as { id: number; tenant: string; labels_json: string }[];
    return rows.map((r) => ({ id: r.id, tenant: r.tenant, labels: labelsFromJson(r.labels_json) }));
  }

  /** Every chunk ref of the stream, oldest first. */
  chunks(streamId: number): ChunkRef[] {
    const rows = this.stmts.chunks.all(streamId) as { min_ts: bigint; max_ts: bigint; key: string; entries: bigint; raw_size: bigint; compressed_size: bigint }[];
    return rows.map((r) => ({ streamId, minTs: r.min_ts, maxTs: r.max_ts, key: r.key, entries: Number(r.entries), rawSize: Number(r.raw_size), compressedSize: Number(r.compressed_size) }));
  }

  isReferenced(key: string): boolean {
    return this.stmts.refOf.get(key) !== undefined;
  }

  /** Known to the compactor's bookkeeping: an object it is writing or one queued for deletion. */
  isTracked(key: string): boolean {
    return this.stmts.isPendingWrite.get(key) !== undefined || this.stmts.isPendingDelete.get(key) !== undefined;
  }

  noteWrites(keys: string[]): void {
    const now = Date.now();
    this.db.transaction(() => {
      for (const k of keys) this.stmts.noteWrite.run(k, now);
    })();
  }

  pendingWrites(): string[] {
    return this.stmts.pendingWrites.all() as string[];
  }

  clearWrite(key: string): void {
    this.stmts.clearWrite.run(key);
  }

  /**
   * In one transaction: drops the stream's refs `oldRefs`, adds `newRefs`, queues the old objects for
   * deletion at `dueAt` and forgets the write intents of the new ones. False, with nothing changed, if
   * any old ref is gone already (the plan is stale).
   */
  swap(streamId: number, oldRefs: ChunkRef[], newRefs: NewRef[], dueAt: number): boolean {
    const newKeys = new Set(newRefs.map((r) => r.key));
    return this.db.transaction(() => {
      for (const r of oldRefs) if (this.stmts.refOf.get(r.key) !== streamId) return false;
      for (const r of oldRefs) {
        if (newKeys.has(r.key)) continue;
        this.stmts.deleteRef.run(r.key, streamId);
        this.stmts.queueDelete.run(r.key, dueAt, r.compressedSize);
      }
      for (const r of newRefs) {
        this.stmts.insertRef.run(streamId, r.minTs, r.maxTs, r.key, r.entries, r.rawSize, r.compressedSize);
        this.stmts.clearWrite.run(r.key);
      }
      return true;
    })();
  }

  dueDeletes(nowMs: number): { key: string; bytes: number }[] {
    return this.stmts.dueDeletes.all(nowMs) as { key: string; bytes: number }[];
  }

  clearDeletes(keys: string[]): void {
    this.db.transaction(() => {
      for (const k of keys) this.stmts.clearDelete.run(k);
    })();
  }

  /**
   * Reclaims the space of deleted rows when enough of the file is free pages: VACUUM rewrites the whole
   * file and blocks writers meanwhile, so it runs only when it pays. True when it ran.
   */
  vacuumIfWorthIt(): boolean {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    if (free < 256 || free < pages * 0.2) return false;
    this.db.exec('VACUUM');
    return true;
  }
}
