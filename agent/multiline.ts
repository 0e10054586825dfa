import type { Emit, ParsedLine } from './parsed-line.js';
import { truncateUtf8 } from './truncate.js';

export interface MultilineConfig {
  /** A line matching this starts a new block (e.g. `^\d{4}-\d{2}-\d{2}` or `^\S`). */
  firstline: RegExp;
  /** A block with no new line for this long is sent as it is. */
  maxWaitMs: number;
  /** A block is sent once it has this many lines. */
  maxLines: number;
}

interface Block {
  first: ParsedLine;
  lines: string[];
  /** Raw lines in the block, including any cut off by the size cap. */
  count: number;
  bytes: number;
  end: number;
  lastAt: number;
  truncated: boolean;
}

/**
 * Joins continuation lines (stack traces) onto the line that starts them, separately per stream, so stdout and
 * stderr blocks never mix. The block keeps its first line's timestamp; its parts are joined with `\n`.
 */
export class Multiline {
  private blocks = new Map<string, Block>();

  constructor(
    private readonly cfg: MultilineConfig,
    private readonly maxLineSize: number,
    private readonly onTruncate: () => void = () => {},
  ) {}

  push(p: ParsedLine, nowMs: number, emit: Emit): void {
    const key = p.stream ?? '';
    let b = this.blocks.get(key);
    if (b && this.cfg.firstline.test(p.line)) {
      this.blocks.delete(key);
      emit(this.entryOf(b));
      b = undefined;
    }
    if (!b) {
      this.blocks.set(key, { first: p, lines: [p.line], count: 1, bytes: Buffer.byteLength(p.line), end: p.end, lastAt: nowMs, truncated: false });
    } else {
      b.end = p.end;
      b.lastAt = nowMs;
      b.count++;
      if (!b.truncated) {
        b.lines.push(p.line);
        b.bytes += 1 + Buffer.byteLength(p.line);
        if (b.bytes > this.maxLineSize) {
          b.lines = [truncateUtf8(b.lines.join('\n'), this.maxLineSize)];
          b.truncated = true;
          this.onTruncate();
        }
      }
    }
    const cur = this.blocks.get(key)!;
    if (cur.count >= this.cfg.maxLines) {
      this.blocks.delete(key);
      emit(this.entryOf(cur));
    }
  }

  /** Sends blocks that waited longer than max_wait_time for another line. */
  flushExpired(nowMs: number, emit: Emit): void {
    for (const [key, b] of [...this.blocks]) {
      if (nowMs - b.lastAt >= this.cfg.maxWaitMs) {
        this.blocks.delete(key);
        emit(this.entryOf(b));
      }
    }
  }

  flush(emit: Emit): void {
    const all = [...this.blocks.values()].sort((a, b) => a.first.start - b.first.start);
    this.blocks.clear();
    for (const b of all) emit(this.entryOf(b));
  }

  heldStart(): number | undefined {
    let min: number | undefined;
    for (const b of this.blocks.values()) if (min === undefined || b.first.start < min) min = b.first.start;
    return min;
  }

  pending(): boolean {
    return this.blocks.size > 0;
  }

  reset(): void {
    this.blocks.clear();
  }

  private entryOf(b: Block): ParsedLine {
    return { ts: b.first.ts, line: b.lines.length === 1 ? b.lines[0]! : b.lines.join('\n'), stream: b.first.stream, start: b.first.start, end: b.end };
  }
}
