/**
 * Strings for short byte ranges, remembered by their bytes. Parsers extracting a label from every line
 * mostly see the same few values (`info`, `warn`, `200`): turning the bytes into a string each time
 * costs a native call and an allocation, and every later Map lookup rehashes the fresh string. Here a
 * value seen before is found by hashing and comparing its bytes in place, and the same string object
 * comes back. A direct-mapped table with its bytes in one arena, so a miss allocates only the string.
 */

const SLOTS = 1024;
/** Longer values are decoded every time: they are rarely repeated and cost more to hash and compare. */
export const MAX_INTERNED = 48;

export class ByteInterner {
  private readonly arena = new Uint8Array(SLOTS * MAX_INTERNED);
  private readonly lengths = new Int16Array(SLOTS).fill(-1);
  private readonly strings: string[] = new Array<string>(SLOTS).fill('');

  /** `decode` turns the bytes into the string (called on a miss, and for long values). */
  constructor(private readonly decode: (b: Buffer, start: number, end: number) => string) {}

  get(b: Buffer, start: number, end: number): string {
    const len = end - start;
    if (len > MAX_INTERNED) return this.decode(b, start, end);
    let h = 0x811c9dc5 ^ len;
    for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    const slot = (h ^ (h >>> 15)) & (SLOTS - 1);
    const at = slot * MAX_INTERNED;
    const arena = this.arena;
    if (this.lengths[slot] === len) {
      let k = 0;
      while (k < len && arena[at + k] === b[start + k]) k++;
      if (k === len) return this.strings[slot]!;
    }
    const s = this.decode(b, start, end);
    for (let k = 0; k < len; k++) arena[at + k] = b[start + k]!;
    this.lengths[slot] = len;
    this.strings[slot] = s;
    return s;
  }
}

export const utf8Text = (b: Buffer, start: number, end: number): string => b.toString('utf8', start, end);
