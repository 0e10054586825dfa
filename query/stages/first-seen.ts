/**
 * Which label names a parser has already set while parsing the current line: when a key occurs twice in one line
 * the first occurrence wins, as in Loki. A line sets few names, and the names are mostly fresh slices of the line
 * (a Map would hash each one), so a reused array scanned linearly is the cheaper set.
 */
export class FirstSeen {
  private readonly names: string[] = [];
  private count = 0;

  /** Starts a new line. */
  next(): void {
    this.count = 0;
  }

  /** True the first time `name` is claimed on this line. */
  claim(name: string): boolean {
    const names = this.names;
    const n = this.count;
    for (let i = 0; i < n; i++) if (names[i] === name) return false;
    names[n] = name;
    this.count = n + 1;
    return true;
  }
}
