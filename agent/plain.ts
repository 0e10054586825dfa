import type { Emit, LineParser } from './parsed-line.js';

/**
 * Plain text lines carry no timestamp; the tailer supplies one per line (see `plain-clock.ts`), so this parser
 * only drops a Windows line ending.
 */
export class PlainParser implements LineParser {
  push(raw: string, start: number, end: number, readTs: bigint, emit: Emit): void {
    emit({ ts: readTs, line: raw.endsWith('\r') ? raw.slice(0, -1) : raw, start, end });
  }
  heldStart(): number | undefined {
    return undefined;
  }
  flush(): void {}
  reset(): void {}
}
