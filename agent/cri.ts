import type { Emit, LineParser, ParsedLine } from './parsed-line.js';
import { parseRFC3339Fast } from './timestamp.js';
import { truncateUtf8 } from './truncate.js';

/** One CRI log line: `<RFC3339Nano> <stdout|stderr> <P|F>[:more tags] <content>`. */
export interface CriRecord {
  ts: bigint;
  stream: string;
  partial: boolean;
  content: string;
}

/** Parses one CRI line, or returns null when it is not one. */
export function parseCriLine(raw: string): CriRecord | null {
  const sp1 = raw.indexOf(' ');
  if (sp1 < 20) return null;
  const sp2 = raw.indexOf(' ', sp1 + 1);
  if (sp2 < 0) return null;
  let sp3 = raw.indexOf(' ', sp2 + 1);
  if (sp3 < 0) sp3 = raw.length;
  const ts = parseRFC3339Fast(raw.slice(0, sp1));
  if (ts === null) return null;
  const stream = raw.slice(sp1 + 1, sp2);
  if (stream !== 'stdout' && stream !== 'stderr') return null;
  const tag = raw.charCodeAt(sp2 + 1);
  if (tag !== 80 /* P */ && tag !== 70 /* F */) return null;
  return { ts, stream, partial: tag === 80, content: sp3 >= raw.length ? '' : raw.slice(sp3 + 1) };
}

interface Partial {
  ts: bigint;
  parts: string[];
  bytes: number;
  start: number;
  /** Past the last part seen so far. */
  end: number;
  truncated: boolean;
}

/**
 * CRI runtimes split lines longer than their buffer (16 KiB in containerd) into `P` records closed by an `F`
 * record. Parts are joined per stream (stdout and stderr interleave) up to `maxLineSize` bytes; the entry keeps
 * the first part's timestamp, as the runtime stamped the start of the line.
 */
export class CriParser implements LineParser {
  private partials = new Map<string, Partial>();

  constructor(private readonly maxLineSize: number, private readonly onTruncate: () => void = () => {}) {}

  push(raw: string, start: number, end: number, readTs: bigint, emit: Emit): void {
    const rec = parseCriLine(raw);
    if (rec === null) {
      // Not CRI (a foreign line in the file): keep it rather than lose it, stamped with the read time.
      emit({ ts: readTs, line: raw, start, end });
      return;
    }
    const held = this.partials.get(rec.stream);
    if (!held) {
      if (!rec.partial) {
        emit({ ts: rec.ts, line: rec.content, stream: rec.stream, start, end });
        return;
      }
      this.partials.set(rec.stream, { ts: rec.ts, parts: [rec.content], bytes: Buffer.byteLength(rec.content), start, end, truncated: false });
      this.capAt(this.partials.get(rec.stream)!);
      return;
    }
    held.end = end;
    if (!held.truncated) {
      held.parts.push(rec.content);
      held.bytes += Buffer.byteLength(rec.content);
      this.capAt(held);
    }
    if (!rec.partial) {
      this.partials.delete(rec.stream);
      emit(this.entryOf(rec.stream, held, end));
    }
  }

  private capAt(p: Partial): void {
    if (p.bytes <= this.maxLineSize) return;
    const joined = truncateUtf8(p.parts.join(''), this.maxLineSize);
    p.parts = [joined];
    p.bytes = this.maxLineSize;
    p.truncated = true;
    this.onTruncate();
  }

  private entryOf(stream: string, p: Partial, end: number): ParsedLine {
    return { ts: p.ts, line: p.parts.length === 1 ? p.parts[0]! : p.parts.join(''), stream, start: p.start, end };
  }

  heldStart(): number | undefined {
    let min: number | undefined;
    for (const p of this.partials.values()) if (min === undefined || p.start < min) min = p.start;
    return min;
  }

  flush(emit: Emit): void {
    const held = [...this.partials.entries()].sort((a, b) => a[1].start - b[1].start);
    this.partials.clear();
    for (const [stream, p] of held) emit(this.entryOf(stream, p, p.end));
  }

  reset(): void {
    this.partials.clear();
  }
}
