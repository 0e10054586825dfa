import type { FileHandle } from 'node:fs/promises';
import type { Sink } from './batcher.js';
import type { AgentMetrics } from './metrics.js';
import type { Format } from './parsed-line.js';
import { LineSplitter } from './line-splitter.js';
import { PlainClock } from './plain-clock.js';
import type { FilePosition } from './positions.js';
import { MonotonicClock, type RecordChain } from './record-chain.js';
import { nowNs } from '../src/model/time.js';

/**
 * Read buffers are pooled: at a high write rate every file is read several times a second, and fresh buffers
 * for each read would be garbage the GC only reclaims in bulk (RSS). Reads up to POOLED bytes share a few
 * recycled buffers; larger catch-up reads allocate.
 */
const POOLED = 64 * 1024;
const pool: Buffer[] = [];

function takeReadBuffer(want: number): Buffer {
  if (want > POOLED) return Buffer.allocUnsafe(want);
  const b = pool.pop() ?? Buffer.allocUnsafe(POOLED);
  return b.subarray(0, want);
}

function giveReadBuffer(b: Buffer): void {
  if (b.buffer.byteLength === POOLED && b.byteOffset === 0 && pool.length < 16) pool.push(Buffer.from(b.buffer, 0, POOLED));
}

/**
 * Reads one open file (one inode) from its acknowledged position in chunks, through the record chain into the
 * batcher. It keeps reading the same descriptor when the path is renamed, which is how a rotated file is
 * finished. A size below the read offset means the file was truncated (copytruncate): start again at 0.
 */
export class FileReader {
  private readonly splitter: LineSplitter;
  private readonly clock = new MonotonicClock();
  private readonly onRaw: (raw: string, start: number, end: number) => void;
  private chunkTs = 0n;
  private closed = false;
  /** When this file stopped being the one at its path (rotated or deleted); undefined while current. */
  detachedAt: number | undefined;
  lastGrowthAt = Date.now();
  size = 0;

  constructor(
    readonly fh: FileHandle,
    readonly fp: FilePosition,
    readonly chain: RecordChain,
    private readonly format: Format,
    private readonly sink: Sink,
    private readonly metrics: AgentMetrics,
    private readonly chunkSize: number,
    maxRawLine: number,
    private readonly onTruncated: (from: number, to: number) => void,
  ) {
    chain.fp = fp;
    fp.claimed = true;
    if (format === 'plain') fp.clock ??= new PlainClock();
    this.splitter = new LineSplitter(maxRawLine, () => metrics.truncatedLines.inc(), fp.acked);
    const plainClock = format === 'plain' ? fp.clock! : undefined;
    this.onRaw = plainClock
      ? (raw, start, end) => this.chain.push(raw, start, end, plainClock.tsFor(start, this.chunkTs))
      : (raw, start, end) => this.chain.push(raw, start, end, this.chunkTs);
  }

  get offset(): number {
    return this.splitter.offset;
  }

  /**
   * Reads everything available (or until the batcher is full). Resolves true when it reached the end of the
   * file, false when it stopped for backpressure or because it was closed.
   */
  async readAvailable(isStopped: () => boolean): Promise<boolean> {
    const { size } = await this.fh.stat();
    if (size < this.splitter.offset) {
      const from = this.splitter.offset;
      this.fp.truncated();
      this.chain.reset();
      this.splitter.reset(0);
      this.onTruncated(from, size);
    }
    if (size !== this.size) this.lastGrowthAt = Date.now();
    this.size = size;
    while (this.splitter.offset < size) {
      if (!this.sink.hasRoom()) {
        await this.sink.waitForRoom();
        if (isStopped() || this.closed) return false;
        if (!this.sink.hasRoom()) return false;
      }
      const want = Math.min(this.chunkSize, size - this.splitter.offset);
      const buf = takeReadBuffer(want);
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.fh.read(buf, 0, want, this.splitter.offset));
        if (this.closed || bytesRead === 0) {
          // Closed meanwhile, or shrunk between stat and read (the next poll sees the truncation).
          if (this.closed) return false;
          break;
        }
        this.chunkTs = this.format === 'plain' ? nowNs() : this.clock.now();
        this.metrics.readBytes.inc(bytesRead);
        // Lines become strings and the splitter copies any unterminated tail, so the buffer is free after this.
        const lines = this.splitter.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), this.onRaw);
        this.metrics.readLines.inc(lines);
      } finally {
        giveReadBuffer(buf);
      }
    }
    this.chain.tick();
    return true;
  }

  /** The file is finished (rotated away and quiet, or deleted): emit held content and let its position go. */
  finish(onDone: () => void): void {
    this.splitter.flush(this.onRaw);
    this.chain.flush();
    const final = this.splitter.offset;
    this.fp.finalOffset = final;
    this.fp.onDone = onDone;
    this.sink.mark(this.fp, this.fp.gen, final);
    if (this.fp.acked >= final) onDone();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fp.claimed = false;
    await this.fh.close().catch(() => {});
  }
}
