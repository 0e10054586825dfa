/**
 * Which label names a parser has already set while parsing the current line: when a key occurs twice in one line
 * the first occurrence wins, as in Loki. A generation stamp per name makes starting a new line free.
 */
const MAX_NAMES = 4096;

export class FirstSeen {
  private readonly stamps = new Map<string, number>();
  private gen = 0;

  /** Starts a new line. */
  next(): void {
    this.gen++;
    // High-cardinality keys (ids used as keys) would grow the map without end.
    if (this.stamps.size > MAX_NAMES) this.stamps.clear();
  }

  /** True the first time `name` is claimed on this line. */
  claim(name: string): boolean {
    if (this.stamps.get(name) === this.gen) return false;
    this.stamps.set(name, this.gen);
    return true;
  }
}
