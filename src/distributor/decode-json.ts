import { isUtf8 } from 'node:buffer';
import type { IngestStream } from '../model/entry.js';
import { wellFormed } from '../model/labels.js';
import { EntryColumns, type DecodedPush, type DecodedStream } from './entry-columns.js';

export class JsonPushError extends Error {}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

// Deeper than any push body needs; a body nested past it is refused before recursion can overflow.
const MAX_DEPTH = 64;

const YIELD_EVERY = 32768;
const POW10 = Array.from({ length: 10 }, (_, i) => 10n ** BigInt(i));
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** A string's raw bytes between its quotes, and whether they hold an escape. */
interface Span {
  start: number;
  end: number;
  escaped: boolean;
}

/** A value of an entry array: a string left as its span, anything else parsed. */
type Item = { span: Span } | { value: unknown };

/**
 * Loki's JSON push body: `{"streams":[{"stream":{…},"values":[["<ns>","line",{metadata}?]]}]}`, parsed
 * straight from the body's bytes. Entries go into columns and lines stay in the body (unescaped only when
 * they hold an escape), so decoding takes memory proportional to the body rather than a JS object per
 * value. Every type error names the exact path so a client author can find the bad field.
 */
class Parser {
  pos = 0;
  constructor(private readonly buf: Buffer, private readonly cols: EntryColumns) {}

  syntax(what: string): never {
    if (this.pos >= this.buf.length) throw new JsonPushError(`invalid JSON body: unexpected end of input at byte ${this.pos}${what ? ` (expected ${what})` : ''}`);
    const c = this.buf[this.pos]!;
    const shown = c >= 0x20 && c < 0x7f ? JSON.stringify(String.fromCharCode(c)) : `byte 0x${c.toString(16).padStart(2, '0')}`;
    throw new JsonPushError(`invalid JSON body: unexpected ${shown} at byte ${this.pos}${what ? ` (expected ${what})` : ''}`);
  }

  ws(): void {
    const b = this.buf;
    let p = this.pos;
    while (p < b.length) {
      const c = b[p]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      p++;
    }
    this.pos = p;
  }

  peek(): number {
    this.ws();
    return this.pos < this.buf.length ? this.buf[this.pos]! : -1;
  }

  expect(c: number, what: string): void {
    if (this.peek() !== c) this.syntax(what);
    this.pos++;
  }

  /** After a member or element: true when another follows, false at the closing bracket. */
  more(close: number): boolean {
    const c = this.peek();
    if (c === 0x2c) {
      this.pos++;
      return true;
    }
    if (c === close) {
      this.pos++;
      return false;
    }
    return this.syntax(`',' or '${String.fromCharCode(close)}'`);
  }

  span(): Span {
    const b = this.buf;
    if (this.peek() !== QUOTE) this.syntax('a string');
    const start = ++this.pos;
    let p = start;
    let q: number;
    for (;;) {
      // indexOf runs natively: a long line costs one scan to find its end.
      q = b.indexOf(QUOTE, p);
      if (q < 0) {
        this.pos = b.length;
        this.syntax('a closing quote');
      }
      let bs = 0;
      for (let k = q - 1; k >= start && b[k] === BACKSLASH; k--) bs++;
      if ((bs & 1) === 0) break;
      p = q + 1;
    }
    let escaped = false;
    for (let k = start; k < q; k++) {
      const c = b[k]!;
      if (c === BACKSLASH) escaped = true;
      else if (c < 0x20) {
        this.pos = k;
        this.syntax('no control characters inside a string');
      }
    }
    this.pos = q + 1;
    return { start, end: q, escaped };
  }

  text(s: Span): string {
    if (!s.escaped) return this.buf.toString('utf8', s.start, s.end);
    try {
      return JSON.parse(this.buf.toString('utf8', s.start - 1, s.end + 1)) as string;
    } catch (err) {
      this.pos = s.start;
      throw new JsonPushError(`invalid JSON body: bad escape in the string at byte ${s.start - 1}: ${(err as Error).message}`);
    }
  }

  string(): string {
    return this.text(this.span());
  }

  /** Any JSON value, as JSON.parse would give it (objects without a prototype, so `__proto__` is a plain key). */
  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw new JsonPushError(`invalid JSON body: nested deeper than ${MAX_DEPTH} levels at byte ${this.pos}`);
    const c = this.peek();
    if (c === QUOTE) return this.string();
    if (c === 0x7b) {
      this.pos++;
      const o = Object.create(null) as Record<string, unknown>;
      if (this.peek() === 0x7d) {
        this.pos++;
        return o;
      }
      do {
        const k = this.string();
        this.expect(0x3a, "':'");
        o[k] = this.value(depth + 1);
      } while (this.more(0x7d));
      return o;
    }
    if (c === 0x5b) {
      this.pos++;
      const a: unknown[] = [];
      if (this.peek() === 0x5d) {
        this.pos++;
        return a;
      }
      do a.push(this.value(depth + 1));
      while (this.more(0x5d));
      return a;
    }
    return this.scalar();
  }

  scalar(): unknown {
    const b = this.buf;
    const start = this.pos;
    let p = start;
    while (p < b.length) {
      const c = b[p]!;
      if (c === 0x2c || c === 0x5d || c === 0x7d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) break;
      p++;
    }
    const word = b.toString('latin1', start, p);
    if (word === 'true') {
      this.pos = p;
      return true;
    }
    if (word === 'false') {
      this.pos = p;
      return false;
    }
    if (word === 'null') {
      this.pos = p;
      return null;
    }
    if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(word)) {
      this.pos = p;
      return Number(word);
    }
    return this.syntax('a JSON value');
  }

  async document(): Promise<DecodedStream[]> {
    const c = this.peek();
    if (c !== 0x7b) {
      const v = this.value(0);
      this.end();
      throw new JsonPushError(`body must be a JSON object with a "streams" array, got ${kind(v)}`);
    }
    this.pos++;
    let streams: DecodedStream[] | undefined;
    let other: unknown = undefined;
    let sawStreams = false;
    if (this.peek() === 0x7d) this.pos++;
    else {
      do {
        const k = this.string();
        this.expect(0x3a, "':'");
        if (k === 'streams') {
          sawStreams = true;
          if (this.peek() === 0x5b) {
            streams = await this.streams();
            other = undefined;
          } else {
            streams = undefined;
            other = this.value(1);
          }
        } else this.value(1);
      } while (this.more(0x7d));
    }
    this.end();
    if (!streams) throw new JsonPushError(`"streams" must be an array, got ${sawStreams ? kind(other) : 'undefined'}`);
    return streams;
  }

  end(): void {
    if (this.peek() !== -1) this.syntax('the end of the body');
  }

  async streams(): Promise<DecodedStream[]> {
    this.pos++; // '['
    const out: DecodedStream[] = [];
    if (this.peek() === 0x5d) {
      this.pos++;
      return out;
    }
    let si = 0;
    do out.push(await this.stream(si++));
    while (this.more(0x5d));
    return out;
  }

  async stream(si: number): Promise<DecodedStream> {
    const at = `streams[${si}]`;
    if (this.peek() !== 0x7b) {
      const v = this.value(2);
      throw new JsonPushError(`${at} must be an object with "stream" and "values", got ${kind(v)}`);
    }
    this.pos++;
    let labels: unknown = undefined;
    let range: { from: number; to: number } | null = null;
    let values: unknown = undefined;
    if (this.peek() === 0x7d) this.pos++;
    else {
      do {
        const k = this.string();
        this.expect(0x3a, "':'");
        if (k === 'stream') labels = this.value(3);
        else if (k === 'values') {
          if (this.peek() === 0x5b) {
            range = await this.values(at);
            values = undefined;
          } else {
            range = null;
            values = this.value(3);
          }
        } else this.value(3);
      } while (this.more(0x7d));
    }
    labels ??= {};
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) throw new JsonPushError(`${at}.stream must be an object of label names to string values, got ${kind(labels)}`);
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string') throw new JsonPushError(`${at}.stream.${k} must be a string, got ${kind(v)}`);
    }
    if (!range) throw new JsonPushError(`${at}.values must be an array of ["<unix epoch ns>", "<line>"] pairs, got ${kind(values)}`);
    return { labels: labels as Record<string, string>, from: range.from, to: range.to };
  }

  async values(at: string): Promise<{ from: number; to: number }> {
    this.pos++; // '['
    const from = this.cols.count;
    if (this.peek() === 0x5d) {
      this.pos++;
      return { from, to: from };
    }
    let i = 0;
    do {
      this.entry(`${at}.values[${i++}]`);
      // A body of millions of entries takes seconds to decode: let other requests (and /ready) in.
      if ((i & (YIELD_EVERY - 1)) === 0) await new Promise<void>((r) => setImmediate(r));
    } while (this.more(0x5d));
    return { from, to: this.cols.count };
  }

  item(depth: number): Item {
    return this.peek() === QUOTE ? { span: this.span() } : { value: this.value(depth) };
  }

  entry(vat: string): void {
    if (this.peek() !== 0x5b) {
      const v = this.value(4);
      throw new JsonPushError(`${vat} must be an array of 2 or 3 elements ["<unix epoch ns>", "<line>", {structured metadata}?], got ${kind(v)}`);
    }
    this.pos++;
    const items: Item[] = [];
    if (this.peek() === 0x5d) this.pos++;
    else {
      do {
        if (items.length < 3) items.push(this.item(5));
        else {
          this.value(5);
          items.push({ value: undefined });
        }
      } while (this.more(0x5d));
    }
    if (items.length < 2 || items.length > 3) throw new JsonPushError(`${vat} must be an array of 2 or 3 elements ["<unix epoch ns>", "<line>", {structured metadata}?], got ${items.length} elements`);
    const ts = this.timestamp(items[0]!, vat);
    const lineItem = items[1]!;
    if (!('span' in lineItem)) throw new JsonPushError(`${vat}[1]: line must be a string, got ${kind(lineItem.value)}`);
    let md: Record<string, string> | undefined;
    const metaItem = items[2];
    if (metaItem !== undefined) {
      const meta = 'span' in metaItem ? this.text(metaItem.span) : metaItem.value;
      if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new JsonPushError(`${vat}[2]: structured metadata must be an object of string values, got ${kind(meta)}`);
      for (const [k, mv] of Object.entries(meta)) {
        if (typeof mv !== 'string') throw new JsonPushError(`${vat}[2].${k}: structured metadata values must be strings, got ${kind(mv)}`);
        md ??= Object.create(null) as Record<string, string>;
        // Lone surrogates cannot be stored as UTF-8: U+FFFD now, so what is acknowledged is what reads back.
        md[wellFormed(k)] = wellFormed(mv);
      }
    }
    const s = lineItem.span;
    let idx: number;
    if (s.escaped) idx = this.cols.addOwned(ts, Buffer.from(this.text(s), 'utf8'));
    else if (isUtf8(this.buf.subarray(s.start, s.end))) idx = this.cols.add(ts, s.start, s.end);
    // Invalid UTF-8 becomes U+FFFD, as decoding the body as text always did.
    else idx = this.cols.addOwned(ts, Buffer.from(this.buf.toString('utf8', s.start, s.end), 'utf8'));
    if (md) this.cols.setMetadata(idx, md);
  }

  timestamp(item: Item, vat: string): bigint {
    if ('span' in item) {
      const { start, end, escaped } = item.span;
      const n = end - start;
      if (!escaped && n >= 1 && n <= 19) {
        const b = this.buf;
        let ok = true;
        for (let k = start; k < end; k++) if (b[k]! < 0x30 || b[k]! > 0x39) ok = false;
        if (ok) {
          // Two exact halves: a 19-digit number does not fit a double.
          let hi = 0;
          let lo = 0;
          const split = Math.max(start, end - 9);
          for (let k = start; k < split; k++) hi = hi * 10 + b[k]! - 0x30;
          for (let k = split; k < end; k++) lo = lo * 10 + b[k]! - 0x30;
          return hi === 0 ? BigInt(lo) : BigInt(hi) * POW10[end - split]! + BigInt(lo);
        }
      }
      const raw = this.text(item.span);
      throw new JsonPushError(`${vat}[0]: timestamp must be a string of Unix epoch nanoseconds like "1700000000000000000", got ${JSON.stringify(raw)}`);
    }
    throw new JsonPushError(`${vat}[0]: timestamp must be a string of Unix epoch nanoseconds like "1700000000000000000", got ${JSON.stringify(item.value)}`);
  }
}

/** Decodes a JSON push body into columns; rejects with JsonPushError (always a 400) on anything malformed. */
export async function decodePushJsonColumns(body: Buffer, maxEntries: number): Promise<DecodedPush> {
  const columns = new EntryColumns(body, maxEntries);
  const streams = await new Parser(body, columns).document();
  return { streams, columns };
}

/** The same, as one object per entry (for callers with small bodies). */
export async function decodePushJson(body: Buffer, maxEntries = Number.MAX_SAFE_INTEGER): Promise<IngestStream[]> {
  const { streams, columns } = await decodePushJsonColumns(body, maxEntries);
  return streams.map((s) => ({ labels: s.labels, entries: columns.entries(s.from, s.to) }));
}
