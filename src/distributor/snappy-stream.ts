// Copies reach back at most this far: snappy compressors (C++, Go, snappyjs) work in 64 KiB blocks.
const WINDOW = 64 * 1024;

/**
 * Decodes a raw (block-format) snappy stream a chunk at a time, handing each decoded run of bytes to
 * `sink`, and keeps only the last 64 KiB of output for back-references. It is a look-ahead for limits
 * checked while a body is still inflating, not the decoder: when the stream leaves what it can follow
 * (a copy from further back, a malformed element) it stops quietly and `lost` is set; the real
 * decompression later says what was wrong.
 */
export class SnappyStream {
  /** The uncompressed length the block declares, once its preamble has been read. */
  declared: number | null = null;
  lost = false;
  private window = new Uint8Array(2 * WINDOW);
  private used = 0;
  private produced = 0;
  // Element being read: a tag and its extra bytes, or the rest of a literal.
  private head = new Uint8Array(5);
  private headLen = 0;
  private headNeed = 0;
  private literalLeft = 0;
  private preambleValue = 0;
  private preambleMult = 1;
  private preambleBytes = 0;

  constructor(private sink: (bytes: Uint8Array) => void) {}

  feed(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n && !this.lost) {
      if (this.declared === null) {
        const b = chunk[i++]!;
        this.preambleValue += (b & 0x7f) * this.preambleMult;
        this.preambleMult *= 128;
        if (b < 0x80) this.declared = this.preambleValue;
        else if (++this.preambleBytes >= 5) this.lost = true;
        continue;
      }
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, n - i, WINDOW);
        this.emit(chunk.subarray(i, i + take));
        i += take;
        this.literalLeft -= take;
        continue;
      }
      if (this.headLen === 0) {
        const tag = chunk[i]!;
        const type = tag & 3;
        const upper = tag >>> 2;
        this.headNeed = 1 + (type === 0 ? (upper < 60 ? 0 : upper - 59) : type === 1 ? 1 : type === 2 ? 2 : 4);
      }
      while (this.headLen < this.headNeed && i < n) this.head[this.headLen++] = chunk[i++]!;
      if (this.headLen < this.headNeed) break;
      this.headLen = 0;
      this.element();
    }
  }

  private element(): void {
    const h = this.head;
    const tag = h[0]!;
    const upper = tag >>> 2;
    let extra = 0;
    for (let k = this.headNeed - 1; k >= 1; k--) extra = extra * 256 + h[k]!;
    switch (tag & 3) {
      case 0:
        this.literalLeft = (upper < 60 ? upper : extra) + 1;
        return;
      case 1:
        return this.copy(((tag >>> 5) << 8) | h[1]!, (upper & 7) + 4);
      default:
        return this.copy(extra, upper + 1);
    }
  }

  private copy(offset: number, length: number): void {
    if (offset === 0 || offset > WINDOW || offset > this.produced) {
      this.lost = true;
      return;
    }
    this.room(length);
    const w = this.window;
    const from = this.used - offset;
    // Byte by byte: a copy may overlap its own output (a run).
    for (let k = 0; k < length; k++) w[this.used + k] = w[from + k]!;
    const out = w.subarray(this.used, this.used + length);
    this.used += length;
    this.produced += length;
    this.sink(out);
  }

  private emit(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.window.set(bytes, this.used);
    this.used += bytes.length;
    this.produced += bytes.length;
    this.sink(bytes);
  }

  /** Makes room for `n` ≤ 64 KiB more bytes while keeping the last 64 KiB. */
  private room(n: number): void {
    if (this.used + n <= this.window.length) return;
    const keep = Math.min(this.used, WINDOW);
    this.window.copyWithin(0, this.used - keep, this.used);
    this.used = keep;
  }
}
