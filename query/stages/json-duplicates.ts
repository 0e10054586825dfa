/**
 * Duplicate keys in a JSON line. JSON.parse keeps the last value of a repeated key, Loki the first; a repeat is
 * rare, so the fast path parses with JSON.parse and only checks whether the text holds more keys than the parsed
 * document. When it does, the line is walked again in document order (it is already known to be valid JSON).
 */
import { formatJsonNumber } from '../units.js';
import { MAX_JSON_DEPTH } from './json-scan.js';
import { sanitizeLabelName } from './labels-builder.js';

/** The keys written in `line`: string tokens followed by a colon, found by jumping from quote to quote. */
export function textKeyCount(line: string): number {
  let n = 0;
  let i = line.indexOf('"');
  while (i >= 0) {
    const close = stringEnd(line, i);
    if (close < 0) return n;
    let j = close + 1;
    while (j < line.length && isWs(line.charCodeAt(j))) j++;
    if (line.charCodeAt(j) === 58 /* : */) n++;
    i = line.indexOf('"', close + 1);
  }
  return n;
}

/** The index of the quote closing the string that opens at `open`, or -1. */
function stringEnd(s: string, open: number): number {
  let q = s.indexOf('"', open + 1);
  while (q >= 0) {
    let bs = 0;
    for (let k = q - 1; s.charCodeAt(k) === 92; k--) bs++;
    if ((bs & 1) === 0) return q;
    q = s.indexOf('"', q + 1);
  }
  return -1;
}

function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Every key of every object in a parsed document, arrays included; iterative, as lines may nest deep. */
export function parsedKeyCount(doc: unknown): number {
  let n = 0;
  const stack: unknown[] = [doc];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const x of v) if (x !== null && typeof x === 'object') stack.push(x);
      continue;
    }
    for (const k in v as object) {
      n++;
      const x = (v as Record<string, unknown>)[k];
      if (x !== null && typeof x === 'object') stack.push(x);
    }
  }
  return n;
}

export class JsonTooDeep extends Error {}

/** A walk over valid JSON text. */
class Walker {
  i = 0;
  constructor(readonly s: string) {}

  ws(): void {
    while (this.i < this.s.length && isWs(this.s.charCodeAt(this.i))) this.i++;
  }

  string(): string {
    const open = this.i;
    const close = stringEnd(this.s, open);
    this.i = close + 1;
    const body = this.s.slice(open + 1, close);
    return body.includes('\\') ? (JSON.parse(this.s.slice(open, close + 1)) as string) : body;
  }

  /** A number, true, false or null as its raw text. */
  bare(): string {
    const start = this.i;
    for (;;) {
      const c = this.s.charCodeAt(this.i);
      if (this.i >= this.s.length || c === 44 || c === 125 || c === 93 || isWs(c)) break;
      this.i++;
    }
    return this.s.slice(start, this.i);
  }

  /** Skips any value without recursing: strings are jumped over, brackets counted. */
  skip(): void {
    const s = this.s;
    let depth = 0;
    do {
      const c = s.charCodeAt(this.i);
      if (c === 34) {
        this.i = stringEnd(s, this.i) + 1;
        continue;
      }
      if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) depth--;
      else if (depth === 0) {
        this.bare();
        return;
      }
      this.i++;
    } while (depth > 0);
  }

  /** Any value, kept-first objects built as it goes. */
  value(depth: number): unknown {
    if (depth > MAX_JSON_DEPTH) throw new JsonTooDeep();
    this.ws();
    const c = this.s.charCodeAt(this.i);
    if (c === 34) return this.string();
    if (c === 123) {
      const out: Record<string, unknown> = {};
      this.members((key) => {
        const v = this.value(depth + 1);
        if (!Object.prototype.hasOwnProperty.call(out, key)) Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      });
      return out;
    }
    if (c === 91) {
      const out: unknown[] = [];
      this.i++;
      this.ws();
      if (this.s.charCodeAt(this.i) === 93) {
        this.i++;
        return out;
      }
      for (;;) {
        out.push(this.value(depth + 1));
        this.ws();
        if (this.s.charCodeAt(this.i++) !== 44) return out;
      }
    }
    const raw = this.bare();
    return raw === 'true' ? true : raw === 'false' ? false : raw === 'null' ? null : Number(raw);
  }

  /** The members of the object at `i`, each key handed to `onKey` with `i` at its value, which it must consume. */
  members(onKey: (key: string) => void): void {
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === 125) {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      const key = this.string();
      this.ws();
      this.i++; // ':'
      this.ws();
      onKey(key);
      this.ws();
      if (this.s.charCodeAt(this.i++) !== 44) return;
    }
  }

  /** Flattens the object at `i` under `prefix`, calling `emit` for every scalar in document order. */
  flatten(prefix: string, depth: number, emit: (name: string, value: string) => void): void {
    if (depth > MAX_JSON_DEPTH) throw new JsonTooDeep();
    this.members((key) => {
      const part = sanitizeLabelName(key);
      const c = this.s.charCodeAt(this.i);
      if (part === '' || c === 91) {
        this.skip();
        return;
      }
      const name = prefix === '' ? part : `${prefix}_${part}`;
      if (c === 123) this.flatten(name, depth + 1, emit);
      else if (c === 34) emit(name, this.string());
      else {
        const raw = this.bare();
        if (raw === 'true' || raw === 'false') emit(name, raw);
        else if (raw !== 'null') emit(name, formatJsonNumber(Number(raw)));
      }
    });
  }
}

/** The document of a valid JSON object line where a repeated key keeps its first value. */
export function parseKeepingFirst(line: string): Record<string, unknown> {
  const w = new Walker(line);
  w.ws();
  return w.value(1) as Record<string, unknown>;
}

/** Flattens a valid JSON object line in document order (the caller keeps the first value of each name). */
export function flattenInOrder(line: string, emit: (name: string, value: string) => void): void {
  const w = new Walker(line);
  w.ws();
  w.flatten('', 1, emit);
}
