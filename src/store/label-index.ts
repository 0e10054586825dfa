import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { labelsFromJson, type Labels } from '../model/labels.js';
import { clampNs } from '../model/time.js';

// The stream-id cache's default bound: ~100k entries of the longest keys (150-character tenant ids).
const STREAM_ID_CACHE_BYTES = 32 * 1024 * 1024;
// What an entry costs beside its key's characters: the Map's slot, the string's header and the id.
const STREAM_ID_ENTRY_OVERHEAD = 64;

export interface ChunkRef {
  streamId: number;
  /** `rawSize` is the bytes of the chunk's lines, uncompressed. */
  minTs: bigint;
  maxTs: bigint;
  key: string;
  entries: number;
  rawSize: number;
  compressedSize: number;
}

export interface IndexedStream {
  id: number;
  fingerprint: string;
  labels: Labels;
}

/**
 * The label index in SQLite: streams, postings (label name/value → stream) and chunk references.
 * It holds labels and chunk refs only, never line content. better-sqlite3 is synchronous, which suits
 * these small indexed statements; every write is a transaction.
 */
export class LabelIndex {
  readonly db: Database.Database;
  // tenant + fingerprint → stream id, so a push does not ask SQLite for streams it has seen. Its keys come
  // from clients (tenant ids), so it is bounded by bytes, not by count: the oldest entries make way.
  private streamIds = new Map<string, number>();
  private streamIdBytes = 0;
  private readonly streamIdCacheLimit: number;
  private stmts: ReturnType<LabelIndex['prepare']>;

  /** `streamIdCacheBytes`: the bound of the stream-id cache (default 32 MiB). */
  constructor(path: string, opts: { readonly?: boolean; streamIdCacheBytes?: number } = {}) {
    this.streamIdCacheLimit = opts.streamIdCacheBytes ?? STREAM_ID_CACHE_BYTES;
    if (!opts.readonly) mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { readonly: opts.readonly ?? false });
    if (!opts.readonly) {
      this.db.pragma('journal_mode = WAL');
      // WAL + NORMAL: each commit is durable once the WAL is synced at checkpoint; the chunk WAL replays anything newer.
      this.db.pragma('synchronous = NORMAL');
      this.migrate();
    }
    this.db.pragma('busy_timeout = 5000');
    this.stmts = this.prepare();
  }

  private migrate(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS streams (
        id INTEGER PRIMARY KEY,
        tenant TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        labels_json TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (tenant, fingerprint)
      );
      CREATE TABLE IF NOT EXISTS postings (
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        stream_id INTEGER NOT NULL,
        PRIMARY KEY (tenant, name, value, stream_id)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS chunks (
        id INTEGER PRIMARY KEY,
        stream_id INTEGER NOT NULL,
        min_ts INTEGER NOT NULL,
        max_ts INTEGER NOT NULL,
        key TEXT NOT NULL UNIQUE,
        entries INTEGER NOT NULL,
        raw_size INTEGER NOT NULL,
        compressed_size INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS chunks_by_stream_time ON chunks (stream_id, max_ts, min_ts);
    `);
  }

  private prepare() {
    return {
      findStream: this.db.prepare('SELECT id FROM streams WHERE tenant = ? AND fingerprint = ?').pluck(),
      insertStream: this.db.prepare('INSERT INTO streams (tenant, fingerprint, labels_json, created_at) VALUES (?, ?, ?, ?)'),
      insertPosting: this.db.prepare('INSERT OR IGNORE INTO postings (tenant, name, value, stream_id) VALUES (?, ?, ?, ?)'),
      insertChunk: this.db.prepare('INSERT OR IGNORE INTO chunks (stream_id, min_ts, max_ts, key, entries, raw_size, compressed_size) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      chunksOf: this.db.prepare('SELECT min_ts, max_ts, key, entries, raw_size, compressed_size FROM chunks WHERE stream_id = ? AND max_ts >= ? AND min_ts < ? ORDER BY min_ts').safeIntegers(true),
      allChunks: this.db.prepare('SELECT c.stream_id, c.min_ts, c.max_ts, c.key, c.entries, c.raw_size, c.compressed_size FROM chunks c JOIN streams s ON s.id = c.stream_id WHERE s.tenant = ? ORDER BY c.stream_id, c.min_ts').safeIntegers(true),
      streamsOfTenant: this.db.prepare('SELECT id, fingerprint, labels_json FROM streams WHERE tenant = ?'),
      idsByPosting: this.db.prepare('SELECT stream_id FROM postings WHERE tenant = ? AND name = ? AND value = ?').pluck(),
      valuesOf: this.db.prepare('SELECT DISTINCT value FROM postings WHERE tenant = ? AND name = ?').pluck(),
      streamById: this.db.prepare('SELECT id, fingerprint, labels_json FROM streams WHERE id = ?'),
      chunkStats: this.db.prepare('SELECT COUNT(*) AS chunks, COALESCE(SUM(entries),0) AS entries, COALESCE(SUM(raw_size),0) AS bytes FROM chunks WHERE stream_id = ? AND max_ts >= ? AND min_ts < ?'),
    };
  }

  /** The stream's id, registering it (and its postings) on first sight. */
  ensureStream(tenant: string, fingerprint: string, labels: Labels): number {
    const cacheKey = tenant + '\u0000' + fingerprint;
    const cached = this.streamIds.get(cacheKey);
    if (cached !== undefined) return cached;
    const found = this.stmts.findStream.get(tenant, fingerprint) as number | undefined;
    if (found !== undefined) {
      this.rememberStreamId(cacheKey, found);
      return found;
    }
    const id = this.db.transaction(() => {
      const info = this.stmts.insertStream.run(tenant, fingerprint, JSON.stringify(labels), Date.now());
      const sid = Number(info.lastInsertRowid);
      for (const [n, v] of Object.entries(labels)) this.stmts.insertPosting.run(tenant, n, v, sid);
      return sid;
    })();
    this.rememberStreamId(cacheKey, id);
    return id;
  }

  /** What the stream-id cache holds: entries and their accounted bytes (never above its bound). */
  get streamIdCache(): { entries: number; bytes: number; limit: number } {
    return { entries: this.streamIds.size, bytes: this.streamIdBytes, limit: this.streamIdCacheLimit };
  }

  private rememberStreamId(key: string, id: number): void {
    // Two bytes a character: V8 keeps a key with any character past U+00FF two bytes wide.
    const cost = 2 * key.length + STREAM_ID_ENTRY_OVERHEAD;
    if (cost > this.streamIdCacheLimit) return;
    while (this.streamIdBytes + cost > this.streamIdCacheLimit) {
      const oldest = this.streamIds.keys().next().value!;
      this.streamIds.delete(oldest);
      this.streamIdBytes -= 2 * oldest.length + STREAM_ID_ENTRY_OVERHEAD;
    }
    this.streamIds.set(key, id);
    this.streamIdBytes += cost;
  }

  addChunk(ref: ChunkRef): void {
    this.stmts.insertChunk.run(ref.streamId, ref.minTs, ref.maxTs, ref.key, ref.entries, ref.rawSize, ref.compressedSize);
  }

  /** Chunk refs of one stream overlapping [start, end), oldest first. */
  chunksOf(streamId: number, start: bigint, end: bigint): ChunkRef[] {
    // SQLite integers are int64: a bound a query computed past them (a range and offset before 1677) means "all time".
    const rows = this.stmts.chunksOf.all(streamId, clampNs(start), clampNs(end)) as { min_ts: bigint; max_ts: bigint; key: string; entries: bigint; raw_size: bigint; compressed_size: bigint }[];
    return rows.map((r) => ({ streamId, minTs: r.min_ts, maxTs: r.max_ts, key: r.key, entries: Number(r.entries), rawSize: Number(r.raw_size), compressedSize: Number(r.compressed_size) }));
  }

  /** Every chunk ref of a tenant (tests and tools; queries use `chunksOf`). */
  allChunks(tenant: string): ChunkRef[] {
    const rows = this.stmts.allChunks.all(tenant) as { stream_id: bigint; min_ts: bigint; max_ts: bigint; key: string; entries: bigint; raw_size: bigint; compressed_size: bigint }[];
    return rows.map((r) => ({ streamId: Number(r.stream_id), minTs: r.min_ts, maxTs: r.max_ts, key: r.key, entries: Number(r.entries), rawSize: Number(r.raw_size), compressedSize: Number(r.compressed_size) }));
  }

  streams(tenant: string): IndexedStream[] {
    const rows = this.stmts.streamsOfTenant.all(tenant) as { id: number; fingerprint: string; labels_json: string }[];
    return rows.map((r) => ({ id: r.id, fingerprint: r.fingerprint, labels: labelsFromJson(r.labels_json) }));
  }

  /** Ids of the tenant's streams carrying label `name` with exactly `value`. */
  streamIdsWith(tenant: string, name: string, value: string): number[] {
    return this.stmts.idsByPosting.all(tenant, name, value) as number[];
  }

  /** Every value label `name` has in the tenant's streams. */
  valuesOf(tenant: string, name: string): string[] {
    return this.stmts.valuesOf.all(tenant, name) as string[];
  }

  stream(id: number): IndexedStream | null {
    const r = this.stmts.streamById.get(id) as { id: number; fingerprint: string; labels_json: string } | undefined;
    return r ? { id: r.id, fingerprint: r.fingerprint, labels: labelsFromJson(r.labels_json) } : null;
  }


  /** Chunk count, entries and raw bytes of the stream's chunks overlapping [start, end). */
  chunkStats(streamId: number, start: bigint, end: bigint): { chunks: number; entries: number; bytes: number } {
    return this.stmts.chunkStats.get(streamId, clampNs(start), clampNs(end)) as { chunks: number; entries: number; bytes: number };
  }


  close(): void {
    this.db.close();
  }
}
