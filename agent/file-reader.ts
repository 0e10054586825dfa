import type { Sink } from './batcher.js';
import type { ByteSource } from './byte-source.js';
import type { AgentMetrics } from './metrics.js';
import type { Format } from './parsed-line.js';
import { LineSplitter } from './line-splitter.js';
import { PlainClock } from './plain-clock.js';
import { HEAD_BYTES, type FilePosition } from './positions.js';
import { MonotonicClock, type RecordChain } from './record-chain.js';
import { nowNs } from '../src/model/time.js';
import { hashHead } from './rotated.js';

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
 * It records the hash of the file's first bytes as it reads them, so the file can be recognised by content.
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
  /** The first bytes, while they are being read (empty when the reader started past them). */
  private head: Buffer;

  constructor(
    readonly source: ByteSource,
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
    this.head = Buffer.alloc(0);
    if (fp.acked === 0) fp.setHead('', 0);
    const plainClock = format === 'plain' ? fp.clock! : undefined;
    this.onRaw = plainClock
      ? (raw, start, end) => this.chain.push(raw, start, end, plainClock.tsFor(start, this.chunkTs))
      : (raw, start, end) => this.chain.push(raw, start, end, this.chunkTs);
  }

  get offset(): number {
    return this.splitter.offset;
  }

  /**
   * Reads everything available, or until the batcher is full: it never waits for room, so its tailer keeps
   * watching the path (and holding rotated files open) while the server is away. Resolves true when it
   * reached the end of the file, false when it stopped for backpressure or because it was closed.
   */
  async readAvailable(isStopped: () => boolean): Promise<boolean> {
    const size = await this.source.size();
    if (size < this.splitter.offset) {
      const from = this.splitter.offset;
      this.fp.truncated();
      this.fp.setHead('', 0);
      this.head = Buffer.alloc(0);
      this.chain.reset();
      this.splitter.reset(0);
      this.onTruncated(from, size);
    }
    if (size !== this.size) this.lastGrowthAt = Date.now();
    this.size = size;
    if (Number.isFinite(size) && size > this.fp.seen) this.fp.seen = size;
    while (this.splitter.offset < size) {
      if (!this.sink.hasRoom() || isStopped()) return false;
      const want = Math.min(this.chunkSize, size - this.splitter.offset);
      const buf = takeReadBuffer(want);
      try {
        const at = this.splitter.offset;
        const bytesRead = await this.source.read(buf, want, at);
        if (this.closed) return false;
        if (bytesRead === 0) {
          // Shrunk between size and read (the next poll sees the truncation), or a stream's end.
          if (!Number.isFinite(size)) this.size = at;
          break;
        }
        const chunk = bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
        if (at === this.head.length && at < HEAD_BYTES) this.growHead(chunk);
        this.chunkTs = this.format === 'plain' ? nowNs() : this.clock.now();
        this.metrics.readBytes.inc(bytesRead);
        // Lines become strings and the splitter copies any unterminated tail, so the buffer is free after this.
        const lines = this.splitter.push(chunk, this.onRaw);
        this.metrics.readLines.inc(lines);
        if (this.splitter.offset > this.fp.seen) this.fp.seen = this.splitter.offset;
      } finally {
        giveReadBuffer(buf);
      }
    }
    this.chain.tick();
    return true;
  }

  private growHead(chunk: Buffer): void {
    this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_BYTES - this.head.length)]);
    this.fp.setHead(hashHead(this.head), this.head.length);
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
    await this.source.close().catch(() => {});
  }
}
