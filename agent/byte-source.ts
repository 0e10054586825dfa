import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

/** The bytes of one log file as a reader sees them: a size so far, and reads at increasing offsets. */
export interface ByteSource {
  /** Bytes available now; Infinity while a stream's end is not known yet. */
  size(): Promise<number>;
  read(buf: Buffer, len: number, pos: number): Promise<number>;
  close(): Promise<void>;
}

export class FileSource implements ByteSource {
  constructor(readonly fh: FileHandle) {}

  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }

  async read(buf: Buffer, len: number, pos: number): Promise<number> {
    return (await this.fh.read(buf, 0, len, pos)).bytesRead;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/**
 * A gzip-compressed rotated file, decompressed as it is read (never whole in memory). Reads only move forward,
 * which is all a reader does; a read at an offset past what was decompressed skips up to it. A damaged stream
 * ends where it can no longer be decompressed (`onError` says so).
 */
export class GzipSource implements ByteSource {
  private readonly chunks: AsyncIterator<Buffer>;
  private readonly stream;
  private pending: Buffer = Buffer.alloc(0);
  /** Decompressed offset of `pending[0]`. */
  private at = 0;
  private ended = false;

  constructor(fh: FileHandle, private readonly onError: (err: Error) => void) {
    this.stream = createReadStream('', { fd: fh, autoClose: true }).pipe(createGunzip());
    this.chunks = this.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  async size(): Promise<number> {
    return this.ended ? this.at + this.pending.length : Number.POSITIVE_INFINITY;
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    try {
      const r = await this.chunks.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      this.pending = this.pending.length === 0 ? r.value : Buffer.concat([this.pending, r.value]);
      return true;
    } catch (err) {
      this.ended = true;
      this.onError(err as Error);
      return false;
    }
  }

  async read(buf: Buffer, len: number, pos: number): Promise<number> {
    for (;;) {
      if (pos < this.at) throw new Error(`compressed file read backwards (at ${this.at}, asked ${pos})`);
      const skip = pos - this.at;
      if (skip >= this.pending.length) {
        // Nothing buffered at `pos` yet: drop what lies before it and decompress on.
        this.at += this.pending.length;
        this.pending = Buffer.alloc(0);
        if (!(await this.more())) return 0;
        continue;
      }
      const n = Math.min(len, this.pending.length - skip);
      this.pending.copy(buf, 0, skip, skip + n);
      this.at = pos + n;
      this.pending = this.pending.subarray(skip + n);
      return n;
    }
  }

  async close(): Promise<void> {
    this.stream.destroy();
  }
}
