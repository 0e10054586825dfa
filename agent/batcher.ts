import { Backoff } from './backoff.js';
import type { PushClient } from './client.js';
import type { AgentConfig } from './config.js';
import type { Logger } from '../src/model/logger.js';
import type { AgentMetrics } from './metrics.js';
import type { FilePosition } from './positions.js';
import { StreamBuffer } from './stream-buffer.js';

/** Rough per-entry overhead beside the line bytes, so budgets hold for many tiny lines too. */
const ENTRY_OVERHEAD = 40;

class Batch {
  streams = new Map<string, StreamBuffer>();
  bytes = 0;
  entries = 0;
  /** Per file: the generation and offset its position may move to once this batch is acknowledged. */
  acks = new Map<FilePosition, { gen: number; offset: number }>();
  /** Per plain file: the end of the last line in this batch (see PlainClock.coveredTo). */
  covers = new Map<FilePosition, number>();
  lineBytes = 0;
}

export interface Sink {
  /** Queues an entry; `fp`/`gen`/`ackOffset` say how far the file's position may move once it is acknowledged. */
  add(stream: string, ts: bigint, line: string, fp?: FilePosition, gen?: number, ackOffset?: number, end?: number): void;
  /** Moves a position without an entry (dropped lines), in order with the entries before it. */
  mark(fp: FilePosition, gen: number, offset: number): void;
  hasRoom(): boolean;
  waitForRoom(): Promise<void>;
}

/**
 * Collects entries into batches (by size and wait), sends them one at a time in order, retries with backoff,
 * and moves file positions only when the server acknowledged the batch that carried their lines.
 * Memory is bounded: once `max_buffered_bytes` are waiting, `hasRoom()` turns false and the tailers stop
 * reading until batches drain (backpressure instead of dropping or growing without bound).
 */
export class Batcher implements Sink {
  private cur = new Batch();
  private queue: Batch[] = [];
  private buffered = 0;
  private timer: NodeJS.Timeout | undefined;
  private roomWaiters: (() => void)[] = [];
  private sending = false;
  private stopped = false;
  private idleWaiters: ((allSent: boolean) => void)[] = [];
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryWake: (() => void) | undefined;
  /** Persists plain-file clock anchors before a batch that uses them leaves (set by the agent). */
  beforeSend: ((covers: Map<FilePosition, number>) => Promise<void>) | undefined;

  constructor(
    private readonly cfg: AgentConfig['client'],
    private readonly client: PushClient,
    private readonly metrics: AgentMetrics,
    private readonly log: Logger,
  ) {
    this.backoff = new Backoff(cfg.backoff.minMs, cfg.backoff.maxMs);
  }

  add(stream: string, ts: bigint, line: string, fp?: FilePosition, gen = 0, ackOffset = 0, end?: number): void {
    const b = this.cur;
    let s = b.streams.get(stream);
    if (!s) {
      s = new StreamBuffer(stream, this.cfg.encoding);
      b.streams.set(stream, s);
    }
    s.add(ts, line);
    const size = line.length + ENTRY_OVERHEAD;
    b.bytes += size;
    b.lineBytes += line.length;
    b.entries++;
    this.buffered += size;
    if (fp) {
      this.noteAck(b, fp, gen, ackOffset);
      if (end !== undefined && fp.clock) {
        const c = b.covers.get(fp);
        if (c === undefined || end > c) b.covers.set(fp, end);
      }
    }
    if (b.bytes >= this.cfg.batchSize) this.seal();
    else if (!this.timer) this.armTimer();
  }

  mark(fp: FilePosition, gen: number, offset: number): void {
    this.noteAck(this.cur, fp, gen, offset);
    if (!this.timer) this.armTimer();
  }

  private noteAck(b: Batch, fp: FilePosition, gen: number, offset: number): void {
    const a = b.acks.get(fp);
    if (!a) b.acks.set(fp, { gen, offset });
    else if (gen !== a.gen) { a.gen = gen; a.offset = offset; }
    else if (offset > a.offset) a.offset = offset;
  }

  private armTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.seal();
    }, this.cfg.batchWaitMs);
  }

  hasRoom(): boolean {
    return this.buffered < this.cfg.maxBufferedBytes;
  }

  waitForRoom(): Promise<void> {
    if (this.hasRoom() || this.stopped) return Promise.resolve();
    return new Promise((res) => this.roomWaiters.push(res));
  }

  /** Closes the current batch and queues it for sending. */
  seal(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const b = this.cur;
    if (b.entries === 0 && b.acks.size === 0) return;
    this.cur = new Batch();
    this.queue.push(b);
    this.metrics.bufferedBytes.set(this.buffered);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const b = this.queue[0]!;
        const delivered = await this.deliver(b);
        if (!delivered) return; // stopped while retrying: the batch stays unacknowledged
        this.queue.shift();
        this.buffered -= b.bytes;
        this.metrics.bufferedBytes.set(this.buffered);
        for (const [fp, a] of b.acks) fp.ack(a.gen, a.offset);
        if (this.hasRoom()) this.wakeRoom();
      }
    } finally {
      this.sending = false;
      if (this.queue.length === 0 || this.stopped) for (const w of this.idleWaiters.splice(0)) w(this.queue.length === 0);
    }
  }

  private wakeRoom(): void {
    for (const w of this.roomWaiters.splice(0)) w();
  }

  /** Sends until acknowledged or rejected for good; false when stopped before that. */
  private async deliver(b: Batch): Promise<boolean> {
    if (b.entries === 0) return true;
    if (b.covers.size > 0 && this.beforeSend) {
      try {
        await this.beforeSend(b.covers);
      } catch (err) {
        this.log.error('could not save positions before sending; retrying', { err: (err as Error).message });
      }
    }
    const body = this.client.encode([...b.streams.values()]);
    b.streams.clear();
    this.backoff.reset();
    for (;;) {
      const started = process.hrtime.bigint();
      const out = await this.client.send(body);
      const secs = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.requests.inc({ status_code: String(out.status) });
      this.metrics.requestDuration.observe({ status_code: String(out.status) }, secs);
      if (out.kind === 'ok') {
        this.metrics.sentEntries.inc(b.entries);
        this.metrics.sentBytes.inc(b.lineBytes);
        return true;
      }
      if (out.kind === 'reject') {
        const reason = `http_${out.status}`;
        this.metrics.droppedEntries.inc({ reason }, b.entries);
        this.log.error('server rejected batch; dropping it', { status: out.status, entries: b.entries, streams: b.streams.size, reason: out.message });
        return true;
      }
      const max = this.cfg.backoff.maxRetries;
      if (max > 0 && this.backoff.attempts >= max) {
        this.metrics.droppedEntries.inc({ reason: 'max_retries' }, b.entries);
        this.log.error('giving up on batch after client.backoff.max_retries attempts; dropping it', { retries: max, entries: b.entries, last_status: out.status, last_error: out.message });
        return true;
      }
      if (this.stopped) return false;
      this.metrics.retries.inc();
      const wait = this.backoff.next();
      this.log.warn('push failed; will retry', { status: out.status, error: out.message, retry_in_ms: wait, attempt: this.backoff.attempts });
      await new Promise<void>((res) => {
        this.retryWake = res;
        this.retryTimer = setTimeout(res, wait);
      });
      this.retryWake = undefined;
    }
  }

  get pendingBytes(): number {
    return this.buffered;
  }

  /** True when nothing is queued or in flight. */
  idle(): boolean {
    return this.queue.length === 0 && this.cur.entries === 0 && this.cur.acks.size === 0 && !this.sending;
  }

  /** Seals the current batch and resolves once everything queued was delivered (retrying as usual). */
  async flushAll(): Promise<void> {
    this.seal();
    if (this.queue.length === 0 && !this.sending) return;
    await new Promise<boolean>((res) => this.idleWaiters.push(res));
  }

  /**
   * Sends what is buffered, giving up after `timeoutMs` (unsent lines stay unacknowledged, so they are read
   * again after the restart rather than lost).
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.seal();
    this.stopped = true;
    this.wakeRoom();
    if (this.queue.length === 0 && !this.sending) return true;
    const idle = new Promise<boolean>((res) => this.idleWaiters.push(res));
    // A batch sleeping before its next retry gets one last attempt now rather than after its backoff.
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryWake?.();
    if (!this.sending) void this.pump();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((res) => {
      timer = setTimeout(() => res(false), timeoutMs);
    });
    const allSent = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return allSent;
  }
}
