import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '../model/logger.js';
import { storageWriteError } from './storage-error.js';
import { decodeRecord, type WalRecord } from './wal-record.js';

export interface WalOptions {
  sync: 'always' | 'interval' | 'never';
  syncIntervalMs: number;
  segmentSize: number;
}

export interface ReplayStats {
  records: number;
  segments: number;
  corrupt: number;
  bytes: number;
  /** Bytes passed over to resynchronise after damage (and torn tails). */
  skippedBytes: number;
}

export interface ReplayOptions {
  /**
   * The caller copies what it keeps of a record before its onRecord returns (or its promise settles):
   * every file is then read into one reused buffer instead of a fresh one per file, which a large WAL
   * otherwise pays for in page faults and garbage collection (~1/4 of replay's CPU).
   */
  recordsAreCopied?: boolean;
}

/** Reads whole files into one buffer that grows to the largest file and is reused for the next. */
class ReusedReader {
  private buf: Buffer = Buffer.alloc(0);

  async read(path: string): Promise<Buffer> {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      if (this.buf.length < size) this.buf = Buffer.allocUnsafeSlow(size);
      let got = 0;
      while (got < size) {
        const { bytesRead } = await fh.read(this.buf, got, size - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return this.buf.subarray(0, got);
    } finally {
      await fh.close();
    }
  }
}

const FRAME_HEADER = 8;
const SEGMENT_RE = /^segment-(\d{8})$/;
const CHECKPOINT_RE = /^checkpoint-(\d{8})$/;
// Every record starts with its type (1 or 2) and a u16 tenant length; Loki caps tenant ids at 150 bytes.
const MIN_PAYLOAD = 3;
const MAX_TENANT = 150;
const name = (kind: 'segment' | 'checkpoint', n: number) => `${kind}-${String(n).padStart(8, '0')}`;

interface Pending {
  parts: Buffer[];
  resolve: () => void;
  reject: (err: Error) => void;
}

type QueueItem = { kind: 'write'; p: Pending } | { kind: 'task'; run: () => Promise<void>; done: (err?: Error) => void };

/**
 * The write-ahead log: framed records (u32 length, u32 CRC32, payload) in numbered segments.
 * Appends are group-committed: one writev and one fdatasync serve every push that arrived meanwhile,
 * and each push's promise resolves only after its bytes are durable under the sync policy.
 * A checkpoint rolls to a new segment N, writes everything still unflushed to `checkpoint-N`, and then
 * deletes the segments before N, so the log shrinks back once chunks are flushed.
 */
export class Wal {
  private fd: FileHandle | null = null;
  private segment = 0;
  private segmentBytes = 0;
  private queue: QueueItem[] = [];
  private draining = false;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Bytes appended since the last checkpoint rolled the log: what a size-triggered checkpoint watches. */
  sinceCheckpoint = 0;
  private warnedStray = new Set<string>();

  private constructor(readonly dir: string, private opts: WalOptions, private log: Logger) {}

  static create(dir: string, opts: WalOptions, log: Logger): Wal {
    mkdirSync(dir, { recursive: true });
    return new Wal(dir, opts, log);
  }

  private async listing(): Promise<{ segments: number[]; checkpoints: number[]; highest: number }> {
    const entries = await readdir(this.dir, { withFileTypes: true });
    const segments: number[] = [];
    const checkpoints: number[] = [];
    let highest = 0;
    for (const e of entries) {
      const s = SEGMENT_RE.exec(e.name);
      const c = CHECKPOINT_RE.exec(e.name);
      if (!s && !c) continue;
      highest = Math.max(highest, Number((s ?? c)![1]));
      // A directory (or socket, fifo…) that happens to carry a segment's name holds no records; reading
      // it would fail start-up, and replacing it is not ours to do.
      if (!e.isFile()) {
        if (!this.warnedStray.has(e.name)) this.log.warn('WAL directory holds something that is not a regular file under a segment or checkpoint name; ignoring it', { file: e.name });
        this.warnedStray.add(e.name);
        continue;
      }
      if (s) segments.push(Number(s[1]));
      if (c) checkpoints.push(Number(c[1]));
    }
    segments.sort((a, b) => a - b);
    checkpoints.sort((a, b) => a - b);
    return { segments, checkpoints, highest };
  }

  /**
   * Feeds every intact record to `onRecord`: the newest checkpoint first, then the segments after it.
   * Damage costs only the records it touches: after a frame whose checksum fails, or whose length runs
   * past the file, replay resynchronises on the next frame that checks out (see nextFrame); a frame whose
   * checksum matches but whose content cannot be decoded or applied is skipped. When `onRecord` returns a
   * promise (the ingester flushing to stay within its memory budget) replay waits for it.
   */
  async replay(onRecord: (rec: WalRecord) => unknown): Promise<ReplayStats>;
  /** With the decoder given (the ingester's span decoder), records reach `onRecord` in its form. */
  async replay<R>(onRecord: (rec: R) => unknown, decode: (payload: Buffer) => R, opts?: ReplayOptions): Promise<ReplayStats>;
  async replay(onRecord: (rec: never) => unknown, decode: (payload: Buffer) => unknown = decodeRecord, opts: ReplayOptions = {}): Promise<ReplayStats> {
    const reader = opts.recordsAreCopied ? new ReusedReader() : null;
    const { segments, checkpoints } = await this.listing();
    const stats: ReplayStats = { records: 0, segments: 0, corrupt: 0, bytes: 0, skippedBytes: 0 };
    const cp = checkpoints.at(-1);
    const files: string[] = [];
    if (cp !== undefined) files.push(name('checkpoint', cp));
    for (const s of segments) if (cp === undefined || s >= cp) files.push(name('segment', s));
    for (const f of files) {
      let buf: Buffer;
      try {
        buf = reader ? await reader.read(join(this.dir, f)) : await readFile(join(this.dir, f));
      } catch (err) {
        this.log.warn('WAL file could not be read; skipping it', { file: f, err: (err as Error).message });
        stats.corrupt++;
        continue;
      }
      stats.segments++;
      stats.bytes += buf.length;
      let p = 0;
      while (p < buf.length) {
        const len = buf.length - p >= FRAME_HEADER ? buf.readUInt32LE(p) : -1;
        if (len < 0 || len > buf.length - p - FRAME_HEADER || crc32(buf.subarray(p + FRAME_HEADER, p + FRAME_HEADER + len)) !== buf.readUInt32LE(p + 4)) {
          const next = nextFrame(buf, p + 1);
          stats.corrupt++;
          if (next < 0) {
            // Nothing after it checks out: a write torn by a crash, or damage in the file's last record.
            const torn = len < 0 || len > buf.length - p - FRAME_HEADER;
            this.log.warn(torn ? 'WAL has a torn record at its tail; dropping it' : 'WAL record failed its checksum and no intact record follows; dropping the tail', { file: f, offset: p, bytes: buf.length - p, declared: len });
            stats.skippedBytes += buf.length - p;
            break;
          }
          this.log.warn('WAL record failed its checksum; skipped to the next intact record', { file: f, offset: p, skipped_bytes: next - p, resumed_at: next });
          stats.skippedBytes += next - p;
          p = next;
          continue;
        }
        const payload = buf.subarray(p + FRAME_HEADER, p + FRAME_HEADER + len);
        const at = p;
        p += FRAME_HEADER + len;
        let rec: unknown;
        try {
          rec = decode(payload);
        } catch (err) {
          this.log.warn('WAL record could not be decoded; skipping it', { file: f, offset: at, err: (err as Error).message });
          stats.corrupt++;
          continue;
        }
        try {
          const pending = onRecord(rec as never);
          if (pending instanceof Promise) await pending;
        } catch (err) {
          // A checksum-valid record the ingester cannot use (a checkpoint chunk that does not decode,
          // labels that do not parse): it is lost, the rest of the log is not.
          this.log.warn('WAL record could not be applied; skipping it', { file: f, offset: at, err: (err as Error).message });
          stats.corrupt++;
          continue;
        }
        stats.records++;
      }
    }
    return stats;
  }

  /** Opens a fresh segment after the newest on disk; call after replay. */
  async start(): Promise<void> {
    // A checkpoint interrupted by a crash leaves its temp file; the previous checkpoint still stands.
    for (const f of await readdir(this.dir)) {
      if (f.startsWith('checkpoint-') && f.endsWith('.tmp')) await rm(join(this.dir, f), { force: true }).catch((err: Error) => this.log.warn('could not remove a leftover checkpoint temp file', { file: f, err: err.message }));
    }
    // Numbered past stray entries too, so the new segment's name is free.
    const { highest } = await this.listing();
    this.segment = highest + 1;
    await this.openSegment();
    if (this.opts.sync === 'interval') {
      this.timer = setInterval(() => void this.syncIfDirty(), this.opts.syncIntervalMs);
      this.timer.unref();
    }
  }

  private async openSegment(): Promise<void> {
    const fd = await open(join(this.dir, name('segment', this.segment)), 'a');
    this.fd = fd;
    // Whole records only: a segment reopened after a failed open holds nothing, or what it held before.
    this.segmentBytes = (await fd.stat()).size;
    await this.syncDir();
  }

  private async syncDir(): Promise<void> {
    const d = await open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }

  private async syncIfDirty(): Promise<void> {
    if (!this.dirty || !this.fd) return;
    this.dirty = false;
    await this.fd.datasync().catch((err: Error) => this.log.error('WAL sync failed', { err: err.message }));
  }

  /** Appends one record (given as parts of one payload); resolves once durable per the sync policy. */
  append(parts: Buffer | Buffer[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('WAL is closed'));
    const list = Array.isArray(parts) ? parts : [parts];
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'write', p: { parts: list, resolve, reject } });
      this.drain();
    });
  }

  /** Runs `fn` with the writer to itself: no append is written while it runs. */
  private exclusive(fn: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'task', run: fn, done: (err) => (err ? reject(err) : resolve()) });
      this.drain();
    });
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    void this.drainLoop().finally(() => {
      this.draining = false;
      if (this.queue.length > 0) this.drain();
    });
  }

  private async drainLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const item = this.queue[0]!;
      if (item.kind === 'task') {
        this.queue.shift();
        try {
          await item.run();
          item.done();
        } catch (err) {
          item.done(err as Error);
        }
        continue;
      }
      // Take every write queued before the next task: one writev and one sync for all of them.
      const batch: Pending[] = [];
      while (this.queue.length > 0 && this.queue[0]!.kind === 'write') batch.push((this.queue.shift() as { p: Pending }).p);
      const bufs: Buffer[] = [];
      let total = 0;
      for (const p of batch) {
        let len = 0;
        for (const part of p.parts) len += part.length;
        const header = Buffer.allocUnsafe(FRAME_HEADER);
        header.writeUInt32LE(len, 0);
        let sum = 0;
        for (const part of p.parts) sum = crc32(part, sum);
        header.writeUInt32LE(sum, 4);
        bufs.push(header, ...p.parts);
        total += FRAME_HEADER + len;
      }
      try {
        // No segment open: the last roll, or the cut after a failed write, could not open one.
        if (!this.fd) await this.openSegment();
        await writeAll(this.fd!, bufs, total);
        if (this.opts.sync === 'always') await this.fd!.datasync();
        else this.dirty = true;
        this.segmentBytes += total;
        this.sinceCheckpoint += total;
        for (const p of batch) p.resolve();
      } catch (err) {
        const e = storageWriteError('WAL write', err);
        this.log.error('WAL write failed; the push is refused', { err: (err as Error).message, code: e.code, pushes: batch.length, bytes: total });
        await this.discardTail();
        for (const p of batch) p.reject(e);
      }
      if (this.segmentBytes >= this.opts.segmentSize) await this.roll().catch((err: Error) => this.log.error('WAL segment roll failed', { err: err.message }));
    }
  }

  /**
   * After a failed write the segment may end in part of a record, which replay would take for a torn
   * tail and stop at, losing what is appended after it: cut it back to its last whole record. When even
   * that fails, the segment is left as it is (its records before the tail stay readable) and the next
   * write opens a fresh one.
   */
  private async discardTail(): Promise<void> {
    const fd = this.fd;
    if (!fd) return;
    try {
      await fd.truncate(this.segmentBytes);
      await fd.datasync();
    } catch (err) {
      this.log.error('WAL segment could not be cut back after a failed write; continuing in a new segment', { segment: name('segment', this.segment), err: (err as Error).message });
      this.fd = null;
      this.segment++;
      await fd.close().catch(() => undefined);
    }
  }

  /** Closes the segment and opens the next; if opening fails, the next write tries again. */
  private async roll(): Promise<void> {
    const fd = this.fd;
    this.fd = null;
    this.segment++;
    if (fd) {
      try {
        await fd.datasync();
      } finally {
        await fd.close().catch(() => undefined);
      }
    }
    await this.openSegment();
  }

  /**
   * Rolls to a new segment and, at that same instant, captures everything still unflushed (`capture`
   * is synchronous); writes it as the new checkpoint; then deletes what the checkpoint covers.
   */
  async checkpoint(capture: () => Buffer[][]): Promise<{ records: number; bytes: number }> {
    let records: Buffer[][] = [];
    let covers = 0;
    await this.exclusive(async () => {
      await this.roll();
      covers = this.segment;
      this.sinceCheckpoint = 0;
      // A push enters memory when its append resolves: let every resolved one do so before the capture,
      // or the checkpoint would miss records of the segments it replaces.
      await new Promise((r) => setImmediate(r));
      records = capture();
    });
    const final = join(this.dir, name('checkpoint', covers));
    const tmp = final + '.tmp';
    let bytes = 0;
    try {
      const fh = await open(tmp, 'w');
      try {
        for (const parts of records) {
          let len = 0;
          let sum = 0;
          for (const part of parts) {
            len += part.length;
            sum = crc32(part, sum);
          }
          const header = Buffer.allocUnsafe(FRAME_HEADER);
          header.writeUInt32LE(len, 0);
          header.writeUInt32LE(sum, 4);
          // A short write (the disk filling up) must not leave a hole in the record: the rest follows or fails.
          await writeAll(fh, [header, ...parts], FRAME_HEADER + len);
          bytes += FRAME_HEADER + len;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      // The segments it would replace stay; a partial checkpoint only takes the space a retry needs.
      await rm(tmp, { force: true }).catch(() => undefined);
      throw storageWriteError('WAL checkpoint write', err);
    }
    await rename(tmp, final);
    await this.syncDir();
    const { segments, checkpoints } = await this.listing();
    for (const s of segments) if (s < covers) await rm(join(this.dir, name('segment', s)), { force: true });
    for (const c of checkpoints) if (c < covers) await rm(join(this.dir, name('checkpoint', c)), { force: true });
    return { records: records.length, bytes };
  }

  /** Bytes of every WAL file on disk. */
  async diskBytes(): Promise<number> {
    let total = 0;
    for (const f of await readdir(this.dir)) {
      try {
        total += (await stat(join(this.dir, f))).size;
      } catch {
        // removed meanwhile
      }
    }
    return total;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.exclusive(async () => {
      this.closed = true;
      if (this.timer) clearInterval(this.timer);
      if (this.fd) {
        await this.fd.datasync();
        await this.fd.close();
        this.fd = null;
      }
    });
  }
}

/** Writes every byte of `bufs` (`total` long), going on after short writes. */
async function writeAll(fh: FileHandle, bufs: Buffer[], total: number): Promise<void> {
  let written = 0;
  let list = bufs;
  while (written < total) {
    const { bytesWritten } = await fh.writev(list);
    written += bytesWritten;
    if (written < total) list = [Buffer.concat(list).subarray(bytesWritten)];
  }
}

/**
 * The first offset at or after `from` where a frame checks out: a length that fits in the file, a
 * payload that starts like a record (type 1 or 2, a tenant length within Loki's cap) and a CRC32 that
 * matches. The cheap tests come first so a scan over damaged bytes computes almost no checksums; a false
 * match needs a 32-bit checksum collision as well. -1 when there is none.
 */
export function nextFrame(buf: Buffer, from: number): number {
  const last = buf.length - FRAME_HEADER - MIN_PAYLOAD;
  for (let q = from; q <= last; q++) {
    const t = buf[q + FRAME_HEADER];
    if (t !== 1 && t !== 2) continue;
    const len = buf.readUInt32LE(q);
    if (len < MIN_PAYLOAD || len > buf.length - q - FRAME_HEADER) continue;
    const tlen = buf.readUInt16LE(q + FRAME_HEADER + 1);
    if (tlen > MAX_TENANT || MIN_PAYLOAD + tlen > len) continue;
    if (crc32(buf.subarray(q + FRAME_HEADER, q + FRAME_HEADER + len)) === buf.readUInt32LE(q + 4)) return q;
  }
  return -1;
}
