const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_FRAMES = 64;
// Whitespace allowed before the first token. Pretty-printing indents between tokens, never this much
// before the first one; a body that is only whitespace would otherwise inflate up to the size cap.
export const MAX_LEADING_WHITESPACE = 1024 * 1024;

// Bytes that may appear outside strings in JSON: structure, whitespace, numbers, true/false/null.
const OUTSIDE = new Uint8Array(256);
for (const c of '{}[],: \t\r\n0123456789+-.eEtrufalsn') OUTSIDE[c.charCodeAt(0)] = 1;

/** A byte no JSON document can hold where it was found: the body is refused before inflating the rest. */
export class NotJsonError extends Error {}

interface Frame {
  arr: boolean;
  idx: number;
  expectKey: boolean;
  key: string;
}

/**
 * Counts, a chunk at a time, the entries and the bytes of lines and structured metadata in a JSON push
 * body as it is being inflated, so a body that can never pass the rate limit can be refused before the
 * rest of it is decompressed. An escape counts as one byte, so the count never exceeds what the
 * full decode will find. It tracks structure only; syntax errors are left to the real decoder.
 */
export class JsonLineCounter {
  bytes = 0;
  /** Entries (arrays in streams[*].values) begun so far. */
  entries = 0;
  private frames: Frame[] = [];
  private depth = 0;
  private inString = false;
  private escape = false;
  private hex = 0;
  private isKey = false;
  private counting = false;
  private key = '';
  private offset = 0;
  private started = false;

  feed(chunk: Uint8Array): void {
    let n = this.bytes;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (!this.started) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
          if (this.offset + i >= MAX_LEADING_WHITESPACE) throw new NotJsonError(`invalid JSON body: more than ${MAX_LEADING_WHITESPACE} bytes of whitespace before the first token`);
          continue;
        }
        this.started = true;
      }
      if (this.inString) {
        if (this.hex > 0) {
          this.hex--;
        } else if (this.escape) {
          this.escape = false;
          if (c === 0x75) this.hex = 4;
          if (this.counting) n++;
          if (this.isKey && this.key.length < 8) this.key += '\\';
        } else if (c === BACKSLASH) {
          this.escape = true;
        } else if (c === QUOTE) {
          this.inString = false;
          if (this.isKey) {
            const top = this.top();
            if (top) top.key = this.key;
          }
        } else {
          if (this.counting) n++;
          if (this.isKey && this.key.length < 8) this.key += String.fromCharCode(c);
        }
        continue;
      }
      switch (c) {
        case 0x7b: // {
          this.push(false);
          break;
        case 0x5b: // [
          this.push(true);
          break;
        case 0x7d: // }
        case 0x5d: // ]
          if (this.depth > 0) this.depth--;
          break;
        case 0x2c: {
          // ,
          const top = this.top();
          if (top) {
            if (top.arr) top.idx++;
            else top.expectKey = true;
          }
          break;
        }
        case 0x3a: {
          // :
          const top = this.top();
          if (top) top.expectKey = false;
          break;
        }
        case QUOTE: {
          const top = this.top();
          this.inString = true;
          this.isKey = top !== null && !top.arr && top.expectKey;
          this.key = '';
          this.counting = this.inEntryPayload();
          break;
        }
        default:
          if (OUTSIDE[c] === 0) throw new NotJsonError(`invalid JSON body: unexpected byte 0x${c.toString(16).padStart(2, '0')} at byte ${this.offset + i}`);
      }
    }
    this.offset += chunk.length;
    this.bytes = n;
  }

  private top(): Frame | null {
    return this.depth > 0 && this.depth <= MAX_FRAMES ? this.frames[this.depth - 1]! : null;
  }

  private push(arr: boolean): void {
    this.depth++;
    if (this.depth > MAX_FRAMES) return;
    const f = this.frames[this.depth - 1];
    if (f) {
      f.arr = arr;
      f.idx = 0;
      f.expectKey = !arr;
      f.key = '';
    } else this.frames.push({ arr, idx: 0, expectKey: !arr, key: '' });
    if (this.depth === 5 && arr && this.inValues()) this.entries++;
  }

  private inValues(): boolean {
    const f = this.frames;
    return !f[0]!.arr && f[0]!.key === 'streams' && f[1]!.arr && !f[2]!.arr && f[2]!.key === 'values' && f[3]!.arr;
  }

  /** Inside streams[*].values[*], past the timestamp: the line, or structured metadata names and values. */
  private inEntryPayload(): boolean {
    if (this.depth < 5 || this.depth > MAX_FRAMES) return false;
    const f = this.frames;
    return this.inValues() && f[4]!.arr && f[4]!.idx >= 1;
  }
}
