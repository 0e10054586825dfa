/**
 * The compactor: on every interval, under the store's single-compactor lease, it
 *  (a) drops chunks wholly past their stream's retention cutoff,
 *  (b) rewrites chunks that straddle the cutoff or hold entries a delete request removes,
 *  (c) merges each stream's small adjacent chunks into full-size ones,
 *  (d) removes orphaned chunk objects and vacuums the index when that pays.
 * Every change is: write the new chunk objects (their keys noted first in compactor_writes), switch the
 * index in one transaction (old refs out, new refs in, old objects queued in compactor_deletes), then
 * delete the old objects once `retention_delete_delay` has passed — so a query that read the old refs
 * can still read the old objects, and a crash at any point leaves bookkeeping the next run finishes.
 */
import { ChunkCorruptError, decodeChunk } from '../chunk/chunk.js';
import type { EntryBatch } from '../model/batch.js';
import type { Logger } from '../model/logger.js';
import type { ChunkRef, LabelIndex } from '../store/label-index.js';
import { ObjectNotFoundError, type ObjectStore } from '../store/object-store.js';
import { chunkKeyBeside, isChunkKey } from './chunk-key.js';
import { rewriteEntries } from './chunk-rewrite.js';
import type { CompactionPolicy, StreamPolicy } from './compaction-policy.js';
import { CompactorIndex, type CompactorStream, type NewRef } from './compactor-index.js';
import type { Lease, LeaseHolder } from './lease.js';
import type { CompactorMetrics } from './metrics.js';
import { crashPoint, stepDelay } from './test-hooks.js';

export interface CompactorSettings {
  /** 0: no periodic runs (only on request). */
  intervalMs: number;
  deleteDelayMs: number;
  /** Chunks below this share of targetSize (compressed) are merged with their small neighbours. */
  smallChunkFraction: number;
  orphanGraceMs: number;
  /** A merge never makes a chunk spanning more than this (ns). */
  maxMergedSpanNs: bigint;
  blockSize: number;
  targetSize: number;
}

export interface RunReport {
  outcome: 'success' | 'skipped' | 'lease_lost' | 'failed';
  /** For `skipped`: who holds the lease. */
  holder?: LeaseHolder | null;
  error?: string;
  streams: number;
  chunksDeleted: number;
  chunksRewritten: number;
  chunksMerged: number;
  chunksWritten: number;
  orphansDeleted: number;
  objectsDeleted: number;
  /** Chunks that could not be read (damaged or missing) and were left as they are. */
  chunksSkipped: number;
  entriesRemoved: number;
  duplicatesDropped: number;
  bytesReclaimed: number;
  vacuumed: boolean;
  durationMs: number;
}

const DELETE_CONCURRENCY = 16;

class LeaseLostError extends Error {
  constructor(where: string) {
    super(`the compactor lease (${where}) was lost or expired mid-run; stopping before the next index change`);
  }
}

export class Compactor {
  private cindex: CompactorIndex;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RunReport> | null = null;
  private stopped = false;

  constructor(
    private index: LabelIndex,
    private store: ObjectStore,
    private lease: Lease,
    private policy: CompactionPolicy,
    private settings: CompactorSettings,
    private metrics: CompactorMetrics,
    private log: Logger,
  ) {
    this.cindex = new CompactorIndex(index.db);
  }

  /** Starts the periodic runs (the first one interval from now). */
  start(): void {
    if (this.settings.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (!this.running) void this.run().catch(() => undefined);
    }, this.settings.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.running) await this.running.catch(() => undefined);
  }

  /** One run now; a run already in progress in this process is waited for and then another starts. */
  run(): Promise<RunReport> {
    const prev = this.running;
    const p = (async () => {
      if (prev) await prev.catch(() => undefined);
      return this.runOnce();
    })().finally(() => {
      if (this.running === p) this.running = null;
    });
    this.running = p;
    return p;
  }

  private async runOnce(): Promise<RunReport> {
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    const r: RunReport = { outcome: 'success', streams: 0, chunksDeleted: 0, chunksRewritten: 0, chunksMerged: 0, chunksWritten: 0, orphansDeleted: 0, objectsDeleted: 0, chunksSkipped: 0, entriesRemoved: 0, duplicatesDropped: 0, bytesReclaimed: 0, vacuumed: false, durationMs: 0 };
    const got = await this.lease.acquire();
    if (!got.held) {
      r.outcome = 'skipped';
      r.holder = got.holder;
      this.metrics.runs.inc({ outcome: 'skipped' });
      this.log.info('compaction skipped: another compactor holds the lease', { lease: this.lease.where, holder: got.holder ? `${got.holder.host} pid ${got.holder.pid}` : 'unknown', expires: got.holder ? new Date(got.holder.expiresAt).toISOString() : '' });
      return r;
    }
    const renewEvery = Math.max(200, Math.floor(this.lease.ttlMs / 3));
    const renewer = setInterval(() => void this.lease.renew().catch(() => undefined), renewEvery);
    renewer.unref();
    try {
      await this.finishPending(r);
      await this.policy.beginRun?.(Date.now());
      await this.compactStreams(r);
      await this.deleteDue(r);
      await this.sweepOrphans(r);
      r.vacuumed = this.cindex.vacuumIfWorthIt();
      await this.policy.endRun?.(!this.stopped);
    } catch (err) {
      r.outcome = err instanceof LeaseLostError ? 'lease_lost' : 'failed';
      r.error = (err as Error).message;
      await Promise.resolve(this.policy.endRun?.(false)).catch(() => undefined);
    } finally {
      clearInterval(renewer);
      await this.lease.release().catch(() => undefined);
    }
    r.durationMs = Math.round(performance.now() - started);
    const cpu = process.cpuUsage(cpuStart);
    this.metrics.runs.inc({ outcome: r.outcome });
    this.metrics.runDuration.observe(r.durationMs / 1000);
    if (r.outcome === 'success') this.metrics.lastSuccess.set(Date.now() / 1000);
    const fields = {
      outcome: r.outcome,
      streams: r.streams,
      chunks_deleted: r.chunksDeleted,
      chunks_rewritten: r.chunksRewritten,
      chunks_merged: r.chunksMerged,
      chunks_written: r.chunksWritten,
      objects_deleted: r.objectsDeleted,
      orphans_deleted: r.orphansDeleted,
      chunks_skipped: r.chunksSkipped,
      entries_removed: r.entriesRemoved,
      duplicates_dropped: r.duplicatesDropped,
      bytes_reclaimed: r.bytesReclaimed,
      vacuumed: r.vacuumed,
      ms: r.durationMs,
      cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    };
    if (r.outcome === 'success') this.log.info('compaction run finished', fields);
    else this.log.error('compaction run stopped', { ...fields, err: r.error });
    return r;
  }

  private checkLease(): void {
    if (!this.lease.valid()) throw new LeaseLostError(this.lease.where);
  }

  /** Objects a crashed run wrote but never indexed are deleted; ones it did index are kept. */
  private async finishPending(r: RunReport): Promise<void> {
    for (const key of this.cindex.pendingWrites()) {
      if (!this.cindex.isReferenced(key)) {
        await this.store.delete(key);
        r.orphansDeleted++;
        this.metrics.orphansDeleted.inc();
      }
      this.cindex.clearWrite(key);
    }
  }

  private async compactStreams(r: RunReport): Promise<void> {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    for (const s of this.cindex.streams()) {
      if (this.stopped) return;
      const policy = await this.policy.forStream(s.tenant, s.labels, nowNs);
      const refs = this.cindex.chunks(s.id);
      if (refs.length === 0) continue;
      r.streams++;
      await this.applyPolicy(s, refs, policy, r);
      await this.mergeSmall(s, policy, r);
    }
  }

  /** (a) and (b): chunks wholly expired go; chunks partly expired or holding deleted entries are rewritten. */
  private async applyPolicy(s: CompactorStream, refs: ChunkRef[], policy: StreamPolicy, r: RunReport): Promise<void> {
    const cutoff = policy.cutoff;
    const expired = cutoff === null ? [] : refs.filter((c) => c.maxTs < cutoff);
    if (expired.length > 0) {
      await stepDelay();
      this.checkLease();
      if (this.cindex.swap(s.id, expired, [], this.dueAt())) {
        r.chunksDeleted += expired.length;
        for (const c of expired) {
          r.entriesRemoved += c.entries;
          r.bytesReclaimed += c.compressedSize;
        }
        this.metrics.chunksDeleted.inc(expired.length);
        this.metrics.bytesReclaimed.inc(expired.reduce((n, c) => n + c.compressedSize, 0));
        crashPoint('after-index');
        await this.deleteDue(r);
      }
    }
    const drops = (c: ChunkRef) => policy.drop !== undefined && (policy.dropsWithin?.(c.minTs, c.maxTs) ?? true);
    const candidates = refs.filter((c) => !expired.includes(c) && ((cutoff !== null && c.minTs < cutoff) || drops(c)));
    for (const c of candidates) {
      const batches = await this.readOrSkip([c], r);
      if (!batches) continue;
      const out = rewriteEntries(batches, policy, this.settings);
      if (out.removed === 0) continue;
      if (await this.replace(s, [c], out.chunks, r)) {
        r.entriesRemoved += out.removed;
        if (out.chunks.length === 0) {
          r.chunksDeleted++;
          this.metrics.chunksDeleted.inc();
        } else {
          r.chunksRewritten++;
          this.metrics.chunksRewritten.inc();
        }
      }
    }
  }

  /** (c): runs of adjacent chunks each below the small-chunk size, merged up to the target size. */
  private async mergeSmall(s: CompactorStream, policy: StreamPolicy, r: RunReport): Promise<void> {
    const small = this.settings.targetSize * this.settings.smallChunkFraction;
    const groups: ChunkRef[][] = [];
    let group: ChunkRef[] = [];
    let size = 0;
    const close = () => {
      if (group.length >= 2) groups.push(group);
      group = [];
      size = 0;
    };
    for (const c of this.cindex.chunks(s.id)) {
      if (c.compressedSize >= small) {
        close();
        continue;
      }
      // A merged chunk is read whole by every query that touches it: bound its time span too, so a query
      // over the last hour of a quiet stream does not fetch the stream's whole week.
      if (size + c.compressedSize > this.settings.targetSize || (group.length > 0 && c.maxTs - group[0]!.minTs > this.settings.maxMergedSpanNs)) close();
      group.push(c);
      size += c.compressedSize;
    }
    close();
    for (const g of groups) {
      if (this.stopped) return;
      const batches = await this.readOrSkip(g, r);
      if (!batches) continue;
      const out = rewriteEntries(batches, policy, this.settings);
      if (await this.replace(s, g, out.chunks, r)) {
        r.chunksMerged += g.length;
        r.entriesRemoved += out.removed;
        r.duplicatesDropped += out.duplicates;
        this.metrics.chunksMerged.inc(g.length);
      }
    }
  }

  /**
   * Every block of the chunks, or null when one is damaged or missing: that group is left as it is (the
   * query path reports damaged chunks) rather than stopping the run for every other stream.
   */
  private async readOrSkip(refs: ChunkRef[], r: RunReport): Promise<EntryBatch[] | null> {
    const out: EntryBatch[] = [];
    for (const c of refs) {
      try {
        out.push(...decodeChunk(await this.store.get(c.key), c.key));
      } catch (err) {
        if (!(err instanceof ChunkCorruptError) && !(err instanceof ObjectNotFoundError)) throw err;
        r.chunksSkipped++;
        this.log.warn('chunk left as it is: it cannot be read', { key: c.key, err: (err as Error).message });
        return null;
      }
    }
    return out;
  }

  private dueAt(): number {
    return Date.now() + this.settings.deleteDelayMs;
  }

  /** Write new chunks → switch the index in one transaction → delete the old objects when due. */
  private async replace(s: CompactorStream, old: ChunkRef[], chunks: ReturnType<typeof rewriteEntries>['chunks'], r: RunReport): Promise<boolean> {
    const refs: NewRef[] = chunks.map((c) => ({ minTs: c.minTs, maxTs: c.maxTs, key: chunkKeyBeside(old[0]!.key, c.minTs, c.maxTs, c.bytes), entries: c.count, rawSize: c.lineBytes, compressedSize: c.bytes.length }));
    this.cindex.noteWrites(refs.map((x) => x.key));
    for (let i = 0; i < chunks.length; i++) await this.store.put(refs[i]!.key, chunks[i]!.bytes);
    crashPoint('after-write');
    await stepDelay();
    this.checkLease();
    if (!this.cindex.swap(s.id, old, refs, this.dueAt())) {
      // The plan went stale (the refs changed under it): the new objects are not needed.
      for (const x of refs) if (!this.cindex.isReferenced(x.key)) await this.store.delete(x.key);
      for (const x of refs) this.cindex.clearWrite(x.key);
      return false;
    }
    crashPoint('after-index');
    const oldBytes = old.reduce((n, c) => n + c.compressedSize, 0);
    const newBytes = refs.reduce((n, c) => n + c.compressedSize, 0);
    r.chunksWritten += refs.length;
    this.metrics.chunksWritten.inc(refs.length);
    r.bytesReclaimed += oldBytes - newBytes;
    if (oldBytes > newBytes) this.metrics.bytesReclaimed.inc(oldBytes - newBytes);
    await this.deleteDue(r);
    return true;
  }

  /**
   * Deletes the queued old objects whose delay has passed (unless something refers to the key again), a
   * few at a time: each delete waits on a directory sync, and a merge of many small chunks frees many.
   */
  private async deleteDue(r: RunReport): Promise<void> {
    const due = this.cindex.dueDeletes(Date.now());
    for (let i = 0; i < due.length; i += DELETE_CONCURRENCY) {
      const slice = due.slice(i, i + DELETE_CONCURRENCY);
      await Promise.all(
        slice.map(async (d) => {
          if (this.cindex.isReferenced(d.key)) return;
          await this.store.delete(d.key);
          r.objectsDeleted++;
          crashPoint('after-delete');
        }),
      );
      this.cindex.clearDeletes(slice.map((d) => d.key));
    }
  }

  /**
   * (d): chunk objects no index row, pending write or queued delete knows — left by an ingester that
   * crashed between writing a chunk and indexing it — are deleted once older than the grace period, so a
   * flush in progress is never taken. Only chunk-shaped keys are considered (never `labels` objects or
   * the lease).
   */
  private async sweepOrphans(r: RunReport): Promise<void> {
    const cutoff = Date.now() - this.settings.orphanGraceMs;
    for await (const key of this.store.list('')) {
      if (this.stopped) return;
      if (!isChunkKey(key) || this.cindex.isReferenced(key) || this.cindex.isTracked(key)) continue;
      const st = await this.store.stat(key);
      if (!st || st.modifiedMs > cutoff) continue;
      this.checkLease();
      // Checked again right before: an ingester may have indexed it meanwhile.
      if (this.cindex.isReferenced(key)) continue;
      await this.store.delete(key);
      r.orphansDeleted++;
      r.bytesReclaimed += st.size;
      this.metrics.orphansDeleted.inc();
      this.metrics.bytesReclaimed.inc(st.size);
    }
  }
}
