// Where a frame is in the PushRequest: the request, one of its streams, one of a stream's entries.
const REQUEST = 0;
const STREAM = 1;
const ENTRY = 2;

// What the next bytes are: a tag, a varint value to skip, a length prefix, or a run of bytes to skip.
const TAG = 0;
const VARINT = 1;
const LENGTH = 2;
const SKIP = 3;

/**
 * Follows a protobuf PushRequest (streams = 1; a stream's entries = 2; an entry's line = 2) a chunk at a
 * time and counts its entries and the bytes of their lines, so a body that can never pass the rate limit
 * is refused while it is still being inflated. The count never exceeds what the decoder will charge:
 * a line's bytes are counted as they arrive, and a second line field in one entry replaces the first, as
 * it does in the decoder. Structured metadata is not counted here (a repeated name keeps only its last
 * value, so its raw bytes are no lower bound). On anything it cannot follow it stops counting (`lost`)
 * and leaves the verdict to the decoder.
 */
export class ProtoLineCounter {
  entries = 0;
  lost = false;
  private committed = 0;
  private entryLine = 0;
  private pos = 0;
  private kinds: number[] = [REQUEST];
  private ends: number[] = [Infinity];
  private state = TAG;
  private varValue = 0;
  private varMult = 1;
  private varBytes = 0;
  private field = 0;
  private skipLeft = 0;
  private counting = false;

  /** Bytes of lines seen so far: a lower bound of the lines' bytes in the decoded push. */
  get lineBytes(): number {
    return this.committed + this.entryLine;
  }

  feed(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n && !this.lost) {
      if (this.state === SKIP) {
        const take = Math.min(this.skipLeft, n - i);
        i += take;
        this.pos += take;
        this.skipLeft -= take;
        if (this.counting) this.entryLine += take;
        if (this.skipLeft === 0) this.state = TAG;
        continue;
      }
      if (this.state === TAG && this.varBytes === 0) this.closeFrames();
      const b = chunk[i++]!;
      this.pos++;
      this.varValue += (b & 0x7f) * this.varMult;
      this.varMult *= 128;
      if (b >= 0x80) {
        if (++this.varBytes >= 10) this.lost = true;
        continue;
      }
      const v = this.varValue;
      this.varValue = 0;
      this.varMult = 1;
      this.varBytes = 0;
      if (this.state === TAG) this.tag(v);
      else if (this.state === LENGTH) this.length(v);
      else this.state = TAG;
      if (this.pos > this.ends[this.ends.length - 1]!) this.lost = true;
    }
  }

  private tag(tag: number): void {
    this.field = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0:
        this.state = VARINT;
        return;
      case 1:
        return this.skip(8, false);
      case 2:
        this.state = LENGTH;
        return;
      case 5:
        return this.skip(4, false);
      default:
        this.lost = true;
    }
  }

  private length(len: number): void {
    const end = this.pos + len;
    if (end > this.ends[this.ends.length - 1]!) {
      this.lost = true;
      return;
    }
    const kind = this.kinds[this.kinds.length - 1]!;
    if (kind === REQUEST && this.field === 1) this.open(STREAM, end);
    else if (kind === STREAM && this.field === 2) {
      this.entries++;
      this.open(ENTRY, end);
    } else if (kind === ENTRY && this.field === 2) {
      this.entryLine = 0;
      this.skip(len, true);
    } else this.skip(len, false);
  }

  private open(kind: number, end: number): void {
    this.kinds.push(kind);
    this.ends.push(end);
    this.state = TAG;
  }

  private skip(len: number, counting: boolean): void {
    if (this.pos + len > this.ends[this.ends.length - 1]!) {
      this.lost = true;
      return;
    }
    this.skipLeft = len;
    this.counting = counting;
    this.state = len > 0 ? SKIP : TAG;
  }

  private closeFrames(): void {
    while (this.ends.length > 1 && this.pos >= this.ends[this.ends.length - 1]!) {
      if (this.kinds.pop() === ENTRY) {
        this.committed += this.entryLine;
        this.entryLine = 0;
      }
      this.ends.pop();
    }
  }
}
