import type { Emit, LineParser } from './parsed-line.js';
import { parseRFC3339Fast } from './timestamp.js';
import { truncateUtf8 } from './truncate.js';

/** One docker json-file record: `{"log":"text\n","stream":"stdout","time":"2024-…Z"}`. */
export interface DockerRecord {
  ts: bigint;
  stream: string;
  log: string;
}

export function parseDockerLine(raw: string): DockerRecord | null {
  if (raw.charCodeAt(0) !== 123 /* { */) return null;
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof obj !== 'object' || obj === null) return null;
  const { log, stream, time } = obj as { log?: unknown; stream?: unknown; time?: unknown };
  if (typeof log !== 'string' || typeof time !== 'string') return null;
  const ts = parseRFC3339Fast(time);
  if (ts === null) return null;
  return { ts, stream: typeof stream === 'string' ? stream : 'stdout', log };
}

interface Held {
  ts: bigint;
  text: string;
  start: number;
  end: number;
  truncated: boolean;
}

/**
 * Docker splits lines over 16 KiB into records whose `log` lacks the trailing newline; the record that ends
 * with `\n` closes the line. Joined per stream up to `maxLineSize`, keeping the first record's time.
 */
export class DockerParser implements LineParser {
  private held = new Map<string, Held>();

  constructor(private readonly maxLineSize: number, private readonly onTruncate: () => void = () => {}) {}

  push(raw: string, start: number, end: number, readTs: bigint, emit: Emit): void {
    const rec = parseDockerLine(raw);
    if (rec === null) {
      emit({ ts: readTs, line: raw, start, end });
      return;
    }
    const complete = rec.log.endsWith('\n');
    const text = complete ? rec.log.slice(0, rec.log.endsWith('\r\n') ? -2 : -1) : rec.log;
    const h = this.held.get(rec.stream);
    if (!h) {
      if (complete) emit({ ts: rec.ts, line: text, stream: rec.stream, start, end });
      else {
        const capped = this.cap(text);
        this.held.set(rec.stream, { ts: rec.ts, text: capped, start, end, truncated: capped !== text });
      }
      return;
    }
    if (!h.truncated) {
      const joined = h.text + text;
      h.text = this.cap(joined);
      h.truncated = h.text !== joined;
    }
    h.end = end;
    if (complete) {
      this.held.delete(rec.stream);
      emit({ ts: h.ts, line: h.text, stream: rec.stream, start: h.start, end });
    }
  }

  private cap(s: string): string {
    const t = truncateUtf8(s, this.maxLineSize);
    if (t !== s) this.onTruncate();
    return t;
  }

  heldStart(): number | undefined {
    let min: number | undefined;
    for (const h of this.held.values()) if (min === undefined || h.start < min) min = h.start;
    return min;
  }

  flush(emit: Emit): void {
    const held = [...this.held.entries()].sort((a, b) => a[1].start - b[1].start);
    this.held.clear();
    for (const [stream, h] of held) emit({ ts: h.ts, line: h.text, stream, start: h.start, end: h.end });
  }

  reset(): void {
    this.held.clear();
  }
}
