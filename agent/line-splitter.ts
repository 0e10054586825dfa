/**
 * Splits a byte stream into lines at `\n`, tracking the file offset of each line. Works on whole read chunks
 * (one `indexOf` per line, one `toString` per line) and keeps the unterminated tail for the next chunk.
 * A line longer than `maxBytes` keeps its first `maxBytes` and the rest is skipped up to the newline, so one
 * runaway line cannot exhaust memory. Bytes that are not valid UTF-8 become U+FFFD.
 */
export type RawLineHandler = (raw: string, start: number, end: number) => void;

export class LineSplitter {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Offset of the first byte of the unterminated line (= the end of the last complete line). */
  lineStart: number;
  private next: number;
  private skipping = false;

  constructor(private readonly maxBytes: number, private readonly onTruncate: () => void, offset = 0) {
    this.lineStart = offset;
    this.next = offset;
  }

  /** The offset the next chunk must start at. */
  get offset(): number {
    return this.next;
  }

  push(chunk: Buffer, emit: RawLineHandler): number {
    let lines = 0;
    const base = this.next;
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) break;
      const end = base + nl + 1;
      if (this.carryBytes === 0 && !this.skipping) {
        if (nl - pos <= this.maxBytes) {
          emit(chunk.toString('utf8', pos, nl), this.lineStart, end);
        } else {
          this.onTruncate();
          emit(cut(chunk.subarray(pos, pos + this.maxBytes)), this.lineStart, end);
        }
      } else {
        if (!this.skipping) this.append(chunk.subarray(pos, nl));
        const whole = this.carry.length === 1 ? this.carry[0]! : Buffer.concat(this.carry, this.carryBytes);
        emit(this.skipping ? cut(whole) : whole.toString('utf8'), this.lineStart, end);
        this.carry = [];
        this.carryBytes = 0;
        this.skipping = false;
      }
      this.lineStart = end;
      pos = nl + 1;
      lines++;
    }
    if (pos < n && !this.skipping) this.append(chunk.subarray(pos));
    this.next = base + n;
    return lines;
  }

  private append(part: Buffer): void {
    const room = this.maxBytes - this.carryBytes;
    if (part.length <= room) {
      // Copy: the chunk buffer may be reused by the reader.
      this.carry.push(Buffer.from(part));
      this.carryBytes += part.length;
      return;
    }
    if (room > 0) {
      this.carry.push(Buffer.from(part.subarray(0, room)));
      this.carryBytes += room;
    }
    this.skipping = true;
    this.onTruncate();
  }

  /** True when bytes of an unterminated line are held. */
  get pending(): boolean {
    return this.carryBytes > 0 || this.skipping;
  }

  /** Emits the unterminated tail as a line (the file will not grow any more). */
  flush(emit: RawLineHandler): void {
    if (!this.pending) return;
    const whole = Buffer.concat(this.carry, this.carryBytes);
    emit(this.skipping ? cut(whole) : whole.toString('utf8'), this.lineStart, this.next);
    this.carry = [];
    this.carryBytes = 0;
    this.skipping = false;
    this.lineStart = this.next;
  }

  reset(offset: number): void {
    this.carry = [];
    this.carryBytes = 0;
    this.skipping = false;
    this.lineStart = offset;
    this.next = offset;
  }
}

/** Decodes a truncated line, dropping a character split by the cut rather than showing a replacement mark. */
function cut(b: Buffer): string {
  let end = b.length;
  let back = 0;
  // Walk back over at most 3 continuation bytes to the lead byte of the last character.
  while (back < 3 && end - back - 1 >= 0 && (b[end - back - 1]! & 0xc0) === 0x80) back++;
  const lead = end - back - 1;
  if (lead >= 0) {
    const c = b[lead]!;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (need > back + 1) end = lead;
  }
  return b.toString('utf8', 0, end);
}
