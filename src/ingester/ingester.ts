import { crc32 } from 'node:zlib';
import { assembleChunk, ChunkCorruptError, decodeChunk, readChunkHeader, storedLineBytes } from '../chunk/chunk.js';
import type { EncodedBlock } from '../chunk/block-encode.js';
import type { Config } from '../config/config.js';
import { metadataBytes, type IngestEntry } from '../model/entry.js';
import { fingerprint as fingerprintOf, parseLabels, type Labels } from '../model/labels.js';
import type { Logger } from '../model/logger.js';
import { formatRFC3339Nano } from '../model/time.js';
import type { LabelIndex } from '../store/label-index.js';
import { putAll, type ObjectStore, type ObjectWrite } from '../store/object-store.js';
import { chunkKey, encodeStreamLabels, streamLabelsKey } from '../store/chunk-keys.js';
import type { IngesterMetrics } from './metrics.js';
import type { StreamSnapshot } from './memory-piece.js';
import { storageStatus, storageWriteError } from './storage-error.js';
import { BLOCK_LEVEL, REPLAY_BLOCK_LEVEL, Stream, type AppendResult, type ClosedChunk } from './stream.js';
import { Wal } from './wal.js';
import { decodeRecordSpans, encodeCheckpointRecord, encodePushRecord, RECORD_CHECKPOINT, type CheckpointRecord, type PushRecordSpans } from './wal-record.js';
import { fixedLimits, type TenantLimits } from '../config/overrides.js';
import { PatternStore } from './patterns/pattern-store.js';

/** A validated stream as the distributor hands it over. */
export interface IngestStreamIn {
  labels: Labels;
  canonical: string;
  fingerprint: string;
  entries: IngestEntry[];
}

export interface PushOutcome {
  accepted: number;
  acceptedBytes: number;
  duplicates: number;
  /** Entries refused here (out-of-order beyond the window, stream limit), with Loki-style messages. */
  rejections: { reason: 'too_far_behind' | 'stream_limit' | 'memory_limit'; entries: number; bytes: number; message: string }[];
  /** Set when the push was refused because unflushed data is over budget: seconds a client should wait. */
  retryAfterSeconds?: number;
}

export type { StreamSnapshot } from './memory-piece.js';

/** How a caller's query bounds a select (the querier's QueryLifetime): `due()` per stream, `pace()` when it is true. */
export interface SelectPacer {
  due(): boolean;
  pace(): Promise<void>;
}

export interface FlushFailure {
  tenant: string;
  stream: string;
  error: string;
}

/** A forced flush left chunks unwritten; they stay in memory and in the WAL and are retried. */
export class FlushError extends Error {
  constructor(readonly failures: FlushFailure[]) {
    const f = failures[0]!;
    super(`flush failed: ${failures.length} chunk(s) could not be written and stay in memory for the next attempt; first: tenant ${JSON.stringify(f.tenant)} stream ${f.stream.length > 200 ? f.stream.slice(0, 200) + '…' : f.stream}: ${f.error}`);
  }
}

/**
 * A checkpoint chunk's blocks as in-memory blocks, copied out of the checkpoint file's buffer (dropped
 * after replay); null when a block is of an older format (no raw line-size prefix), which in-memory blocks
 * never are: the caller then decodes the entries instead. The blocks' own CRCs are not computed again:
 * the WAL frame's CRC32 covered these very bytes.
 */
function checkpointBlocks(chunk: Buffer, id: string): { block: EncodedBlock; lineBytes: number }[] | null {
  const h = readChunkHeader(chunk, id);
  const out: { block: EncodedBlock; lineBytes: number }[] = [];
  for (const [i, b] of h.blocks.entries()) {
    if (b.offset + b.compressedSize > chunk.length) throw new ChunkCorruptError(id, `truncated: block needs bytes up to ${b.offset + b.compressedSize}, object has ${chunk.length}`, i);
    const stored = chunk.subarray(b.offset, b.offset + b.compressedSize);
    const lineBytes = storedLineBytes(stored, b);
    if (lineBytes === null) return null;
    out.push({ block: { minTs: b.minTs, maxTs: b.maxTs, count: b.count, rawSize: b.rawSize, data: Buffer.from(stored), crc: b.crc, hasMetadata: b.hasMetadata }, lineBytes });
  }
  return out;
}

/** CPU milliseconds (user + system) of a process.cpuUsage delta: with other work on the machine, wall time says little. */
const cpuMs = (u: NodeJS.CpuUsage) => Math.round((u.user + u.system) / 1000);

type FlushReason = 'full' | 'idle' | 'max_age' | 'forced' | 'shutdown' | 'memory';


// Flushing for memory starts at this share of ingester.max_unflushed_bytes and closes chunks, largest
// streams first, until what stays in memory is down to LOW_WATER: pushes see a 429 only if that cannot
// keep pace.
const HIGH_WATER = 0.75;
const LOW_WATER = 0.5;
const RETRY_AFTER_SECONDS = 2;

/**
 * Holds every tenant's recent streams in memory, makes each accepted push durable in the WAL before it
 * is acknowledged, and flushes closed chunks to the object store with their refs in the label index.
 */
export class Ingester {
  private tenants = new Map<string, Map<string, Stream>>();
  private wal: Wal | null = null;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<FlushFailure[]> | null = null;
  private memoryFlush: Promise<FlushFailure[]> | null = null;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private checkpointChain: Promise<void> = Promise.resolve();
  private checkpointRunning = false;
  /** The last checkpoint failed: retry it even if nothing new was appended or flushed. */
  private checkpointOwed = false;
  private stopped = false;
  /** Bytes every stream holds in memory until flushed (kept by deltas, recounted each flush cycle). */
  private unflushed = 0;
  /** True while the WAL replays: flushes then write no checkpoint (the log is not open yet). */
  private replaying = false;
  private replayFlushes = 0;
  /** Streams whose labels object this process has written (see flushChunk). */
  private labelsStored = new WeakSet<Stream>();
  /** Log patterns of the lines pushed here (pattern_ingester.enabled), for GET /loki/api/v1/patterns. */
  readonly patterns: PatternStore | null;

  constructor(
    private cfg: Config,
    private store: ObjectStore,
    private index: LabelIndex,
    private metrics: IngesterMetrics,
    private log: Logger,
    /** Each tenant's limits (the overrides file applied); omitted, cfg.limits for every tenant. */
    private limits: TenantLimits = fixedLimits(cfg.limits),
  ) {
    const p = cfg.patternIngester;
    this.patterns = p?.enabled ? new PatternStore({ maxClusters: p.maxClusters, maxStreams: p.maxStreams, retainForMs: p.retainForMs }) : null;
  }

  private get settings() {
    const i = this.cfg.ingester;
    return { blockSize: i.chunkBlockSize, targetSize: i.chunkTargetSize, maxChunkAge: i.maxChunkAge, outOfOrderWindow: i.outOfOrderWindow };
  }

  /** Replays the WAL, then opens it for appends and starts the flush loop. Resolves when ready to serve. */
  async start(): Promise<void> {
    this.patterns?.start();
    const ic = this.cfg.ingester;
    if (ic.wal.enabled) {
      this.wal = Wal.create(`${this.cfg.storage.path}/wal`, { sync: ic.wal.sync, syncIntervalMs: ic.wal.syncIntervalMs, segmentSize: ic.wal.segmentSize }, this.log.child('wal'));
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      this.replaying = true;
      let stats;
      try {
        // Lines are copied into heads and checkpoint blocks out of the record: the WAL may reuse its read buffer.
        stats = await this.wal.replay((rec) => this.applyRecord(rec), decodeRecordSpans, { recordsAreCopied: true });
      } finally {
        this.replaying = false;
        for (const streams of this.tenants.values()) for (const s of streams.values()) s.blockLevel = BLOCK_LEVEL;
      }
      this.metrics.walReplayRecords.inc(stats.records);
      this.metrics.walCorruptRecords.inc(stats.corrupt);
      this.log.info('WAL replayed', { records: stats.records, files: stats.segments, bytes: stats.bytes, corrupt: stats.corrupt, skipped_bytes: stats.skippedBytes, streams: this.streamCount(), flushed_during_replay: this.replayFlushes, ms: Math.round(performance.now() - started), cpu_ms: cpuMs(process.cpuUsage(cpuBefore)) });
      await this.wal.start();
      // Chunks flushed while replaying are still covered by the old segments: a checkpoint lets them go.
      // It runs after ready, like a timed one: until it lands, a crash replays the same segments again.
      if (this.replayFlushes > 0) this.checkpoint('replay').catch((err: Error) => this.log.error('WAL checkpoint after replay failed; segments kept', { err: err.message }));
      this.metrics.walBytes.set(await this.wal.diskBytes());
      if (ic.wal.checkpointDurationMs > 0) {
        this.checkpointTimer = setInterval(() => this.checkpointSoon('time'), ic.wal.checkpointDurationMs);
        this.checkpointTimer.unref();
      }
    }
    this.unflushed = this.recount();
    this.metrics.unflushedBytes.set(this.unflushed);
    // A cycle's failures are logged where they happen; none may end the process.
    this.timer = setInterval(() => void this.flushCycle(false).catch((err: Error) => this.log.error('flush cycle failed; retried next period', { err: err.message })), ic.flushCheckPeriodMs);
    this.timer.unref();
  }

  /** Unflushed bytes held in memory (what `ingester.max_unflushed_bytes` bounds). */
  get unflushedBytes(): number {
    return this.unflushed;
  }

  private recount(): number {
    let n = 0;
    for (const streams of this.tenants.values()) for (const s of streams.values()) n += s.memoryBytes;
    return n;
  }

  /** Starts a flush for memory unless one is already queued; pushes never wait for it. */
  private relieveMemory(): void {
    if (this.memoryFlush || this.stopped) return;
    const p = this.flushCycle(false, 'memory').finally(() => {
      if (this.memoryFlush === p) this.memoryFlush = null;
    });
    this.memoryFlush = p;
    p.catch(() => undefined);
  }

  private streamCount(): number {
    let n = 0;
    for (const t of this.tenants.values()) n += t.size;
    return n;
  }

  private getStream(tenant: string, labels: Labels, canonical: string, fp: string, enforceLimit: boolean): Stream | null {
    let streams = this.tenants.get(tenant);
    if (!streams) {
      streams = new Map();
      this.tenants.set(tenant, streams);
    }
    let s = streams.get(canonical);
    if (s) return s;
    const limit = this.limits.forTenant(tenant).maxGlobalStreamsPerUser;
    if (enforceLimit && limit > 0 && streams.size >= limit) return null;
    const id = this.index.ensureStream(tenant, fp, labels);
    s = new Stream(tenant, labels, canonical, fp, id, this.settings);
    if (this.replaying) s.blockLevel = REPLAY_BLOCK_LEVEL;
    streams.set(canonical, s);
    this.metrics.streams.inc({ tenant });
    return s;
  }

  /**
   * Applies one replayed record. Replay memory obeys the same budget as pushes: past its high-water mark
   * the largest streams' chunks are flushed before the next record, so a WAL far larger than
   * ingester.max_unflushed_bytes replays in bounded memory.
   */
  private applyRecord(rec: PushRecordSpans | CheckpointRecord): Promise<void> | undefined {
    this.applyRecordData(rec);
    const budget = this.cfg.ingester.maxUnflushedBytes;
    if (budget > 0 && this.unflushed >= budget * HIGH_WATER) return this.flushDuringReplay();
    return undefined;
  }

  private async flushDuringReplay(): Promise<void> {
    const failures = await this.flushCycle(false, 'memory');
    this.replayFlushes++;
    // A store that cannot take chunks now leaves them in memory, as for pushes; replay goes on.
    if (failures.length > 0) this.log.warn('chunks could not be flushed during WAL replay; keeping them in memory', { failures: failures.length, first: failures[0]!.error });
  }

  /** A replayed record's stream: labels are parsed and hashed only the first time a stream is seen. */
  private replayStream(tenant: string, canonical: string): Stream {
    return this.tenants.get(tenant)?.get(canonical) ?? this.getStream(tenant, parseLabels(canonical), canonical, fingerprintOf(canonical), false)!;
  }

  private applyRecordData(rec: PushRecordSpans | CheckpointRecord): void {
    const now = Date.now();
    if (rec.type === RECORD_CHECKPOINT) {
      const s = this.replayStream(rec.tenant, rec.canonical);
      const before = s.memoryBytes;
      const restored = checkpointBlocks(rec.chunk, `WAL checkpoint of ${rec.canonical}`);
      if (restored && s.restoreBlocks(restored, now)) {
        this.unflushed += s.memoryBytes - before;
        return;
      }
      for (const batch of decodeChunk(rec.chunk, `WAL checkpoint of ${rec.canonical}`)) {
        const entries: IngestEntry[] = [];
        for (let i = 0; i < batch.count; i++) {
          const e: IngestEntry = { ts: batch.ts[i]!, line: batch.lines.subarray(batch.lineOffsets[i]!, batch.lineOffsets[i + 1]!) };
          const md = batch.metadata?.[i];
          if (md) e.metadata = md;
          entries.push(e);
        }
        s.append(entries, now);
      }
      this.unflushed += s.memoryBytes - before;
      return;
    }
    for (const st of rec.streams) {
      const s = this.replayStream(rec.tenant, st.canonical);
      const before = s.memoryBytes;
      s.replaySpan(rec.buf, st, now);
      this.unflushed += s.memoryBytes - before;
    }
  }

  /** Applies a validated push and resolves once the accepted entries are durable in the WAL. */
  async push(tenant: string, streams: IngestStreamIn[]): Promise<PushOutcome> {
    if (this.stopped) throw new Error('ingester is shutting down');
    const outcome: PushOutcome = { accepted: 0, acceptedBytes: 0, duplicates: 0, rejections: [] };
    const budget = this.cfg.ingester.maxUnflushedBytes;
    if (budget > 0 && this.unflushed >= budget) {
      this.relieveMemory();
      let entries = 0;
      let bytes = 0;
      for (const vs of streams) {
        entries += vs.entries.length;
        for (const e of vs.entries) bytes += e.line.length;
      }
      outcome.retryAfterSeconds = RETRY_AFTER_SECONDS;
      outcome.rejections.push({
        reason: 'memory_limit',
        entries,
        bytes,
        message: `ingester is holding ${this.unflushed} bytes of unflushed data, over its limit ingester.max_unflushed_bytes (${budget} bytes); chunks are being flushed to make room: retry after ${RETRY_AFTER_SECONDS}s`,
      });
      return outcome;
    }
    // Entries are sorted into accepted, duplicates and too far behind first, written to the WAL, and
    // only then put in memory: a push whose WAL write fails leaves nothing behind, so its resend is
    // accepted (not taken for a duplicate of itself) and written, and no flush can store what was refused.
    const walStreams: { canonical: string; entries: IngestEntry[] }[] = [];
    const planned: { s: Stream; version: number; accepted: IngestEntry[]; canonical: string }[] = [];
    try {
      for (const vs of streams) {
        let s: Stream | null;
        try {
          s = this.getStream(tenant, vs.labels, vs.canonical, vs.fingerprint, true);
        } catch (err) {
          if (storageStatus(err) !== null) throw storageWriteError(`recording the new stream ${vs.canonical.length > 200 ? vs.canonical.slice(0, 200) + '…' : vs.canonical} in the label index`, err);
          throw err;
        }
        if (!s) {
          outcome.rejections.push({
            reason: 'stream_limit',
            entries: vs.entries.length,
            bytes: vs.entries.reduce((n, e) => n + e.line.length, 0),
            message: `Maximum active stream limit exceeded when trying to create stream ${vs.canonical}, reduce the number of active streams (reduce labels or reduce label values), or contact your administrator to see if the limit can be increased, user: '${tenant}' (limit: ${this.limits.forTenant(tenant).maxGlobalStreamsPerUser})`,
          });
          continue;
        }
        const r = s.classify(vs.entries);
        outcome.duplicates += r.duplicates;
        this.tooFarBehind(outcome, r.tooFarBehind, vs.canonical);
        if (r.accepted.length > 0) {
          s.pending++;
          planned.push({ s, version: s.version, accepted: r.accepted, canonical: vs.canonical });
          walStreams.push({ canonical: vs.canonical, entries: r.accepted });
        }
      }
      if (this.wal && walStreams.length > 0) {
        const record = encodePushRecord(tenant, walStreams);
        try {
          await this.wal.append(record);
        } catch (err) {
          const e = storageWriteError('WAL write', err);
          this.metrics.walWriteFailures.inc({ code: e.code ?? 'unknown' });
          throw e;
        }
        this.metrics.walAppended.inc(record.length + 8);
      }
      // Durable: into memory, in the order the WAL holds the records (replay repeats the same steps).
      const now = Date.now();
      for (const p of planned) {
        const before = p.s.memoryBytes;
        let accepted = p.accepted;
        if (p.s.version === p.version) p.s.commit(accepted, now);
        else {
          // Another push reached this stream while this one was being written: check again against it.
          const r = p.s.append(accepted, now);
          accepted = r.accepted;
          outcome.duplicates += r.duplicates;
          this.tooFarBehind(outcome, r.tooFarBehind, p.canonical);
        }
        this.unflushed += p.s.memoryBytes - before;
        // Only what was accepted (not duplicates of it) is counted, once the push is durable.
        if (this.patterns && accepted.length > 0) this.patterns.observe(tenant, p.canonical, p.s.labels, accepted, now);
        outcome.accepted += accepted.length;
        for (const e of accepted) outcome.acceptedBytes += e.line.length + metadataBytes(e.metadata);
      }
    } finally {
      for (const p of planned) p.s.pending--;
    }
    if (outcome.duplicates > 0) this.metrics.duplicates.inc({ tenant }, outcome.duplicates);
    this.metrics.unflushedBytes.set(this.unflushed);
    if (budget > 0 && this.unflushed >= budget * HIGH_WATER) this.relieveMemory();
    const size = this.cfg.ingester.wal.checkpointSize;
    if (this.wal && size > 0 && this.wal.sinceCheckpoint >= size) this.checkpointSoon('size');
    return outcome;
  }

  private tooFarBehind(outcome: PushOutcome, entries: AppendResult['tooFarBehind'], canonical: string): void {
    for (const { entry, oldest } of entries) {
      outcome.rejections.push({
        reason: 'too_far_behind',
        entries: 1,
        bytes: entry.line.length,
        message: `entry with timestamp ${formatRFC3339Nano(entry.ts)} ignored, reason: 'entry too far behind, entry timestamp is: ${formatRFC3339Nano(entry.ts)}, oldest acceptable timestamp is: ${formatRFC3339Nano(oldest)}' for stream: ${canonical}`,
      });
    }
  }

  /**
   * In-memory data of the tenant's streams whose labels satisfy `match`, overlapping [start, end), as
   * compressed blocks plus a copy of each head (see Stream.pieces); `head: 'stats'` copies nothing.
   * A selector's regexes can cost milliseconds per stream over long label values: with `pacer` (a
   * query's lifetime) the loop stops when the query must and gives the event loop a turn every slice.
   */
  async select(tenant: string, match: (labels: Labels) => boolean, start: bigint, end: bigint, head: 'copy' | 'stats' = 'copy', pacer?: SelectPacer): Promise<StreamSnapshot[]> {
    const out: StreamSnapshot[] = [];
    for (const s of this.tenants.get(tenant)?.values() ?? []) {
      if (pacer?.due()) await pacer.pace();
      if (!match(s.labels)) continue;
      const pieces = s.pieces(start, end, head);
      if (pieces.length > 0) out.push({ labels: s.labels, pieces });
    }
    return out;
  }


  /**
   * Closes every open chunk and writes every closed chunk (POST /flush). Rejects with FlushError when a
   * chunk could not be written: it stays in memory (and the WAL) and is retried, but the caller is told.
   */
  async flushAll(): Promise<void> {
    const failures = await this.flushCycle(true);
    if (failures.length > 0) throw new FlushError(failures);
  }

  private flushCycle(force: boolean, reason: FlushReason = 'forced'): Promise<FlushFailure[]> {
    // One cycle at a time; a forced flush waits for a running cycle and then runs its own.
    const run = async () => {
      const prev = this.flushing;
      if (prev) await prev.catch(() => undefined);
      return this.runFlush(force, reason);
    };
    const p = run().finally(() => {
      if (this.flushing === p) this.flushing = null;
    });
    this.flushing = p;
    return p;
  }

  private async runFlush(force: boolean, forcedReason: FlushReason): Promise<FlushFailure[]> {
    const now = Date.now();
    const ic = this.cfg.ingester;
    const idleMs = Number(ic.chunkIdlePeriod / 1_000_000n);
    const ageMs = Number(ic.maxChunkAge / 1_000_000n);
    const work: FlushWork[] = [];
    const close = (s: Stream) => {
      const before = s.memoryBytes;
      s.closeChunk();
      this.unflushed += s.memoryBytes - before;
    };
    const open: Stream[] = [];
    let staying = 0;
    for (const streams of this.tenants.values()) {
      for (const s of streams.values()) {
        const closedBefore = s.closed.length;
        let reason: FlushReason = 'full';
        if (force) {
          close(s);
          reason = forcedReason;
        } else if (s.openEntries > 0 && now - s.lastAppendAt >= idleMs) {
          close(s);
          reason = 'idle';
        } else if (s.openEntries > 0 && now - s.chunkStartedAt >= ageMs) {
          close(s);
          reason = 'max_age';
        }
        s.closed.forEach((c, i) => work.push({ s, c, reason: i >= closedBefore ? reason : 'full' }));
        if (s.openEntries > 0) {
          open.push(s);
          staying += s.openBytes;
        }
      }
    }
    const budget = ic.maxUnflushedBytes;
    if (forcedReason === 'memory' && !force && budget > 0 && staying > budget * LOW_WATER) {
      // Over budget: close the open chunks of the largest streams (the oldest first among equals) until
      // what stays in memory is down to the low-water mark.
      open.sort((a, b) => b.openBytes - a.openBytes || a.chunkStartedAt - b.chunkStartedAt);
      for (const s of open) {
        if (staying <= budget * LOW_WATER) break;
        staying -= s.openBytes;
        const closedBefore = s.closed.length;
        close(s);
        s.closed.slice(closedBefore).forEach((c) => work.push({ s, c, reason: 'memory' }));
      }
    }
    let flushed = 0;
    const failures: FlushFailure[] = [];
    const failed = (w: FlushWork, err: unknown) => {
      this.metrics.flushFailures.inc();
      failures.push({ tenant: w.s.tenant, stream: w.s.canonical, error: (err as Error).message });
      this.log.error('chunk flush failed; will retry', { stream: w.s.canonical, err: (err as Error).message });
    };
    if (this.replaying) {
      flushed = await this.flushTogether(work, failed);
    } else {
      let next = 0;
      const worker = async () => {
        while (next < work.length) {
          const w = work[next++]!;
          try {
            await this.flushChunk(w.s, w.c, w.reason);
            flushed++;
          } catch (err) {
            failed(w, err);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, ic.concurrentFlushes) }, worker));
    }
    if (forcedReason === 'memory' && !force) {
      // Under pressure the flushed chunks kept for the duplicate check go too (they count in the budget):
      // a batch retried after that long may then be stored twice, which beats refusing new data.
      for (const streams of this.tenants.values()) for (const s of streams.values()) this.unflushed -= s.forgetFlushed();
    }
    this.dropIdleStreams(now, idleMs);
    this.unflushed = this.recount();
    this.metrics.unflushedBytes.set(this.unflushed);
    // A checkpoint that failed (a full disk) is owed: the next cycle tries again, whether or not it flushed.
    if ((flushed > 0 || this.checkpointOwed) && this.wal && !this.stopped && !this.replaying) {
      await this.checkpoint().catch((err: Error) => this.log.error('WAL checkpoint after flush failed; segments kept, retried next flush cycle', { err: err.message }));
    }
    if (flushed > 0) this.log.info('flushed chunks', { chunks: flushed, streams: this.streamCount() });
    return failures;
  }

  private async flushChunk(s: Stream, c: ClosedChunk, reason: FlushReason): Promise<void> {
    const end = this.metrics.flushDuration.startTimer();
    const obj = chunkObject(s, c);
    const writes = [this.store.put(obj.key, obj.data)];
    // The labels object lands before the stream's first chunk is referenced, so the store alone can
    // rebuild the index (see chunk-keys.ts); written beside the chunk, it costs no extra round of fsyncs.
    // Rewriting it after a restart is harmless: the content is the same.
    if (!this.labelsStored.has(s)) writes.push(this.store.put(streamLabelsKey(s.tenant, s.fingerprint), encodeStreamLabels(s.tenant, s.labels)));
    await Promise.all(writes);
    this.labelsStored.add(s);
    this.chunkStored(s, c, obj.key, obj.data.length, reason);
    end();
  }

  /**
   * Replay's flush: every chunk (and new labels object) of the cycle is written in one batch with one
   * durability barrier (ObjectStore.putMany), then indexed. Per-object fsyncs were most of replay's CPU
   * and wall time; the WAL still holds everything until the checkpoint after replay, so a batch that
   * fails costs only a retry.
   */
  private async flushTogether(work: FlushWork[], failed: (w: FlushWork, err: unknown) => void): Promise<number> {
    if (work.length === 0) return 0;
    const end = this.metrics.flushDuration.startTimer();
    const objects = work.map((w) => chunkObject(w.s, w.c));
    const writes = [...objects];
    const labelled = new Set<Stream>();
    for (const { s } of work) {
      if (this.labelsStored.has(s) || labelled.has(s)) continue;
      labelled.add(s);
      writes.push({ key: streamLabelsKey(s.tenant, s.fingerprint), data: encodeStreamLabels(s.tenant, s.labels) });
    }
    try {
      await putAll(this.store, writes, this.cfg.ingester.concurrentFlushes);
    } catch (err) {
      for (const w of work) failed(w, err);
      return 0;
    }
    for (const s of labelled) this.labelsStored.add(s);
    const seconds = end();
    let flushed = 0;
    work.forEach((w, i) => {
      try {
        this.chunkStored(w.s, w.c, objects[i]!.key, objects[i]!.data.length, w.reason);
        // Each chunk took as long as the batch it was durable in.
        if (i > 0) this.metrics.flushDuration.observe(seconds);
        flushed++;
      } catch (err) {
        failed(w, err);
      }
    });
    return flushed;
  }

  /** A chunk is in the store: index it and let the stream drop it from memory. */
  private chunkStored(s: Stream, c: ClosedChunk, key: string, size: number, reason: FlushReason): void {
    this.index.addChunk({ streamId: s.streamId, minTs: c.minTs, maxTs: c.maxTs, key, entries: c.count, rawSize: c.lineBytes, compressedSize: size });
    const before = s.memoryBytes;
    s.flushed(c);
    this.unflushed += s.memoryBytes - before;
    this.metrics.chunksFlushed.inc({ reason });
    this.metrics.chunkBytesFlushed.inc(size);
    this.metrics.chunkEntriesFlushed.inc(c.count);
  }

  /** Streams with nothing left in memory and no recent writes are forgotten (the index still has them). */
  private dropIdleStreams(now: number, idleMs: number): void {
    for (const [tenant, streams] of this.tenants) {
      for (const [key, s] of streams) {
        if (s.isEmpty && s.pending === 0 && now - s.lastAppendAt >= idleMs) {
          this.unflushed -= s.memoryBytes;
          streams.delete(key);
          this.metrics.streams.dec({ tenant });
        }
      }
    }
  }

  /**
   * A checkpoint by time or size, unless one is already being written (that one covers what was
   * appended until it started). Failures are logged; the segments stay, so nothing is lost.
   */
  private checkpointSoon(trigger: 'time' | 'size'): void {
    if (this.checkpointRunning || this.stopped || !this.wal) return;
    // Nothing appended since the last checkpoint: it still holds everything.
    if (this.wal.sinceCheckpoint === 0 && !this.checkpointOwed) return;
    this.checkpoint(trigger).catch((err: Error) => this.log.error('WAL checkpoint failed; segments kept', { trigger, err: err.message }));
  }

  /**
   * Writes every unflushed stream to a new WAL checkpoint and drops the segments it covers. Checkpoints
   * run one at a time: a second request waits for the running one and then writes its own.
   */
  checkpoint(trigger: 'flush' | 'time' | 'size' | 'shutdown' | 'replay' = 'flush'): Promise<void> {
    const run = this.checkpointChain.then(() => this.writeCheckpoint(trigger));
    this.checkpointChain = run.catch(() => undefined);
    return run;
  }

  private async writeCheckpoint(trigger: string): Promise<void> {
    if (!this.wal || this.stopped) return;
    this.checkpointRunning = true;
    try {
      await this.writeCheckpointNow(trigger);
      this.checkpointOwed = false;
    } catch (err) {
      this.checkpointOwed = true;
      this.metrics.walCheckpointFailures.inc();
      throw err;
    } finally {
      this.checkpointRunning = false;
    }
  }

  private async writeCheckpointNow(trigger: string): Promise<void> {
    if (!this.wal) return;
    const started = performance.now();
    const r = await this.wal.checkpoint(() => {
      const records: Buffer[][] = [];
      for (const [tenant, streams] of this.tenants) {
        for (const s of streams.values()) {
          const blocks = s.checkpointBlocks();
          if (blocks.length > 0) records.push(encodeCheckpointRecord(tenant, s.canonical, assembleChunk(blocks)));
        }
      }
      return records;
    });
    this.metrics.walCheckpoints.inc();
    const disk = await this.wal.diskBytes();
    this.metrics.walBytes.set(disk);
    this.log.info('WAL checkpoint written', { trigger, streams: r.records, bytes: r.bytes, wal_disk_bytes: disk, ms: Math.round(performance.now() - started) });
  }


  /**
   * Stops the flush loop and leaves nothing behind: with the WAL on, a final checkpoint makes the next
   * start's replay short; with it off, every chunk is flushed so nothing held in memory is lost.
   */
  async stop(): Promise<void> {
    this.patterns?.stop();
    if (this.timer) clearInterval(this.timer);
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    if (this.flushing) await this.flushing.catch(() => undefined);
    if (this.wal) {
      // On a full disk the final checkpoint fails: the segments it would replace stay and replay reads them.
      await this.checkpoint('shutdown').catch((err: Error) => this.log.error('final WAL checkpoint failed; the segments are kept for replay', { err: err.message }));
      this.stopped = true;
      await this.wal.close();
    } else {
      this.stopped = true;
      await this.runFlush(true, 'shutdown');
    }
  }
}

interface FlushWork {
  s: Stream;
  c: ClosedChunk;
  reason: FlushReason;
}

/** A closed chunk as the object it is stored as. */
function chunkObject(s: Stream, c: ClosedChunk): ObjectWrite {
  const data = assembleChunk(c.blocks);
  return { key: chunkKey(s.tenant, s.fingerprint, c.minTs, c.maxTs, crc32(data)), data };
}
