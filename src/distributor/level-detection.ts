import type { Limits } from '../config/config.js';
import type { IngestEntry } from '../model/entry.js';
import type { Labels } from '../model/labels.js';

/**
 * `detected_level`, the structured metadata Loki 3 adds to every pushed entry (limits.discover_log_levels)
 * and Grafana's Logs Drilldown colours and filters by. Where the level comes from, first match wins:
 *
 *   1. the entry already carries `detected_level`: kept, its value normalised;
 *   2. a stream label named by limits.log_level_fields (in that list's order);
 *   3. structured metadata named by that list;
 *   4. OTLP's `severity_number` metadata (1–4 trace … 21–24 fatal, 0 unknown; not a number: info);
 *   5. the line: a JSON object's first string field named by the list (document order, nested objects down
 *      to log_level_from_json_max_depth), or a logfmt line's field matched case-insensitively (earlier in
 *      the list wins); when neither gives a known level, the first level word standing alone in the line.
 *
 * Known values become `trace debug info warn error critical fatal` (`trc dbg inf information wrn warning
 * err` fold in, case-insensitively); a label's or metadata's unknown value is kept as it is; a line with no
 * clue is `unknown`. Detection depends only on the entry and its stream, so a resent entry gets the same
 * metadata and is still recognised as a duplicate.
 */
export const DETECTED_LEVEL = 'detected_level';
/** OTLP's numeric severity, as the OTLP mapping stores it in structured metadata. */
export const SEVERITY_NUMBER = 'severity_number';

const WORDS = new Map<string, string>([
  ['trace', 'trace'], ['trc', 'trace'],
  ['debug', 'debug'], ['dbg', 'debug'],
  ['info', 'info'], ['inf', 'info'], ['information', 'info'],
  ['warn', 'warn'], ['wrn', 'warn'], ['warning', 'warn'],
  ['error', 'error'], ['err', 'error'],
  ['critical', 'critical'],
  ['fatal', 'fatal'],
]);
const LONGEST_WORD = 11;
const CANONICAL = new Set([...WORDS.values(), 'unknown']);

/** A known level spelling's canonical value, else undefined. */
function knownLevel(v: string): string | undefined {
  return v.length <= LONGEST_WORD ? WORDS.get(v.toLowerCase()) : undefined;
}

// The spellings by length, for matching bytes without making a string of them.
const BY_LENGTH: [string, string][][] = [];
for (const [w, level] of WORDS) (BY_LENGTH[w.length] ??= []).push([w, level]);

/** knownLevel of the bytes `buf[s, e)`, compared in any ASCII case without decoding them. */
export function knownLevelAt(buf: Buffer, s: number, e: number): string | undefined {
  const words = BY_LENGTH[e - s];
  if (!words) return undefined;
  next: for (const [w, level] of words) {
    for (let k = 0; k < w.length; k++) if ((buf[s + k]! | 0x20) !== w.charCodeAt(k)) continue next;
    return level;
  }
  return undefined;
}

/** A label's or metadata value as Loki normalises it: known spellings canonical, anything else unchanged. */
export function normalizeLevel(v: string): string {
  return knownLevel(v) ?? v;
}

/** Entries without metadata of their own share one frozen metadata object per level. */
const SHARED = new Map<string, Readonly<Record<string, string>>>();
function sharedMetadata(level: string): Record<string, string> {
  let md = SHARED.get(level);
  if (!md) {
    md = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, { [DETECTED_LEVEL]: level }));
    // Only the canonical values are kept: a label's free-form value must not grow this map.
    if (CANONICAL.has(level)) SHARED.set(level, md);
  }
  return md as Record<string, string>;
}

function isEmpty(md: Record<string, string> | undefined): md is undefined {
  if (!md) return true;
  for (const _ in md) return false;
  return true;
}

// Loki's word boundaries: a level word counts only between these (a colon may follow it but not precede it).
const LEFT = new Uint8Array(256);
const RIGHT = new Uint8Array(256);
for (const c of ' \t\n[({"=') LEFT[c.charCodeAt(0)] = 1;
for (const c of ' \t\n[](){}:,!"=') RIGHT[c.charCodeAt(0)] = 1;

/** Whether `buf[at, at+word.length)` is `word` (lower-case ASCII) in any case, followed by a boundary or the end. */
function wordAt(buf: Buffer, at: number, word: string): boolean {
  const end = at + word.length;
  if (end > buf.length) return false;
  for (let k = 1; k < word.length; k++) if ((buf[at + k]! | 0x20) !== word.charCodeAt(k)) return false;
  return end === buf.length || RIGHT[buf[end]!] === 1;
}

/** The level of the first level word standing alone in the line (earliest position wins), else `unknown`. */
export function levelFromWords(buf: Buffer): string {
  const n = buf.length;
  for (let i = 0; i < n; i++) {
    if (i > 0 && LEFT[buf[i - 1]!] !== 1) continue;
    switch (buf[i]! | 0x20) {
      case 0x74 /* t */:
        if (wordAt(buf, i, 'trace')) return 'trace';
        break;
      case 0x64 /* d */:
        if (wordAt(buf, i, 'debug')) return 'debug';
        break;
      case 0x66 /* f */:
        if (wordAt(buf, i, 'fatal')) return 'fatal';
        break;
      case 0x63 /* c */:
        if (wordAt(buf, i, 'critical')) return 'critical';
        break;
      case 0x65 /* e */:
        if (wordAt(buf, i, 'error') || wordAt(buf, i, 'err')) return 'error';
        break;
      case 0x77 /* w */:
        if (wordAt(buf, i, 'warning') || wordAt(buf, i, 'warn')) return 'warn';
        break;
      case 0x69 /* i */:
        if (wordAt(buf, i, 'info')) return 'info';
        break;
    }
  }
  return 'unknown';
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Loki's test for a JSON line: it starts with `{` and ends with `}`, whitespace aside. */
export function looksLikeJson(buf: Buffer): boolean {
  let i = 0;
  while (i < buf.length && isSpace(buf[i]!)) i++;
  let j = buf.length - 1;
  while (j >= 0 && isSpace(buf[j]!)) j--;
  return i < j && buf[i] === 0x7b && buf[j] === 0x7d;
}

/** Offset just past the JSON string whose opening quote is at `i`, or -1 if it never closes. */
function stringEnd(buf: Buffer, i: number): number {
  for (let k = i + 1; k < buf.length; k++) {
    const c = buf[k]!;
    if (c === 0x5c) k++;
    else if (c === 0x22) return k + 1;
  }
  return -1;
}

/** Offset just past the JSON value at `i` (not a string: those use stringEnd), or -1 when malformed. */
function skipValue(buf: Buffer, i: number): number {
  const c = buf[i];
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let k = i; k < buf.length; k++) {
      const b = buf[k]!;
      if (b === 0x22) {
        k = stringEnd(buf, k) - 1;
        if (k < 0) return -1;
      } else if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) {
        if (--depth === 0) return k + 1;
      }
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  let k = i;
  while (k < buf.length) {
    const b = buf[k]!;
    if (b === 0x2c || b === 0x7d || b === 0x5d || isSpace(b)) break;
    k++;
  }
  return k > i ? k : -1;
}

/** The text of a JSON string's body (`[s, e)` without quotes) with its escapes decoded. */
function jsonText(buf: Buffer, s: number, e: number): string | undefined {
  const bs = buf.indexOf(0x5c, s);
  if (bs === -1 || bs >= e) return buf.toString('utf8', s, e);
  try {
    return JSON.parse(buf.toString('utf8', s - 1, e + 1)) as string;
  } catch {
    return undefined;
  }
}

/** Where a field's value lies in the line; `decode` when it holds escapes to decode before comparing. */
interface Span {
  start: number;
  end: number;
  decode: boolean;
}

function hasBackslash(buf: Buffer, s: number, e: number): boolean {
  const i = buf.indexOf(0x5c, s);
  return i !== -1 && i < e;
}

export class LevelDetector {
  private readonly fieldSet: Set<string>;
  private readonly fieldLengths = new Set<number>();
  /** Lower-cased field name → its first position in the list (logfmt keys match case-insensitively). */
  private readonly folded = new Map<string, number>();
  /** Each field's UTF-8 bytes, grouped by length: keys are compared as bytes, no string made. */
  private readonly exact: Buffer[][] = [];
  /** Lower-cased ASCII fields with their first position, by length (other fields go through `folded`). */
  private readonly foldedAscii: [Buffer, number][][] = [];
  private readonly nonAscii: boolean;

  constructor(
    readonly fields: readonly string[],
    readonly maxDepth: number,
  ) {
    this.fieldSet = new Set(fields);
    let nonAscii = false;
    fields.forEach((f, i) => {
      const b = Buffer.from(f, 'utf8');
      this.fieldLengths.add(b.length);
      (this.exact[b.length] ??= []).push(b);
      const low = f.toLowerCase();
      if (!this.folded.has(low)) {
        this.folded.set(low, i);
        if (/^[\x00-\x7f]*$/.test(f)) (this.foldedAscii[b.length] ??= []).push([Buffer.from(low, 'latin1'), i]);
        else nonAscii = true;
      }
    });
    this.nonAscii = nonAscii;
  }

  /** Whether the raw JSON key `buf[s, e)` is one of the fields (exactly). */
  private isField(buf: Buffer, s: number, e: number): boolean {
    const same = this.exact[e - s];
    if (!same) return false;
    const bs = buf.indexOf(0x5c, s);
    if (bs !== -1 && bs < e) {
      const key = jsonText(buf, s, e);
      return key !== undefined && this.fieldSet.has(key);
    }
    for (const f of same) if (buf.compare(f, 0, f.length, s, e) === 0) return true;
    return false;
  }

  /** The list position of the field the logfmt key `buf[s, e)` matches in any case, else -1. */
  private foldedField(buf: Buffer, s: number, e: number): number {
    let best = -1;
    const cands = this.foldedAscii[e - s];
    if (cands) {
      next: for (const [f, at] of cands) {
        for (let k = 0; k < f.length; k++) {
          const c = buf[s + k]!;
          const low = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
          if (low !== f[k]) continue next;
        }
        if (best === -1 || at < best) best = at;
      }
    }
    if (this.nonAscii && this.fieldLengths.has(e - s)) {
      const at = this.folded.get(buf.toString('utf8', s, e).toLowerCase());
      if (at !== undefined && (best === -1 || at < best)) best = at;
    }
    return best;
  }

  private static byLimits = new WeakMap<Limits, LevelDetector>();

  /** The detector for a tenant's limits (built once per limits object). */
  static of(limits: Limits): LevelDetector {
    let d = LevelDetector.byLimits.get(limits);
    if (!d) {
      d = new LevelDetector(limits.logLevelFields, limits.logLevelFromJsonMaxDepth);
      LevelDetector.byLimits.set(limits, d);
    }
    return d;
  }

  /** Step 2: the normalised value of the first level field among the stream's labels, else undefined. */
  streamLevel(labels: Labels): string | undefined {
    for (const f of this.fields) {
      const v = labels[f];
      if (v !== undefined) return v === '' ? undefined : normalizeLevel(v);
    }
    return undefined;
  }

  /**
   * Sets `e.metadata` to carry `detected_level` (steps 1–5). `streamLevel` is this stream's streamLevel(),
   * worked out once per stream. A client's metadata object is copied, never changed in place.
   */
  decorate(e: IngestEntry, streamLevel: string | undefined): void {
    const md = isEmpty(e.metadata) ? undefined : e.metadata;
    if (md && Object.prototype.hasOwnProperty.call(md, DETECTED_LEVEL)) {
      const v = md[DETECTED_LEVEL]!;
      const norm = normalizeLevel(v);
      if (norm !== v) e.metadata = Object.assign(Object.create(null) as Record<string, string>, md, { [DETECTED_LEVEL]: norm });
      return;
    }
    let level = streamLevel;
    if (level === undefined && md) {
      const own = this.metadataLevel(md);
      if (own === '') return;
      level = own;
    }
    level ??= this.lineLevel(e.line);
    if (md) e.metadata = Object.assign(Object.create(null) as Record<string, string>, md, { [DETECTED_LEVEL]: level });
    else e.metadata = sharedMetadata(level);
  }

  /** Steps 3 and 4 for metadata: a value, '' when the field is present but empty (no level then), else undefined. */
  private metadataLevel(md: Record<string, string>): string | undefined {
    for (const f of this.fields) {
      if (Object.prototype.hasOwnProperty.call(md, f)) return normalizeLevel(md[f]!);
    }
    const sev = md[SEVERITY_NUMBER];
    if (sev !== undefined && sev !== '') return severityLevel(sev);
    return undefined;
  }

  /** Step 5: the level the line itself shows. */
  lineLevel(line: Buffer): string {
    let span: Span | undefined;
    if (looksLikeJson(line)) span = this.jsonField(line);
    else if (line.indexOf(0x3d) !== -1) span = this.logfmtField(line);
    else return levelFromWords(line);
    let level: string | undefined;
    if (span) {
      if (span.decode) {
        const text = jsonText(line, span.start, span.end);
        level = text === undefined ? undefined : knownLevel(text);
      } else level = knownLevelAt(line, span.start, span.end);
    }
    return level ?? levelFromWords(line);
  }

  /**
   * The first string value (document order) whose key is a level field, searching nested objects down to
   * maxDepth levels. Arrays are not searched. A malformed line yields what was found before the fault.
   */
  jsonField(buf: Buffer): Span | undefined {
    let i = buf.indexOf(0x7b);
    let depth = 0;
    i++;
    const n = buf.length;
    const ws = () => {
      while (i < n && isSpace(buf[i]!)) i++;
    };
    for (;;) {
      ws();
      if (i >= n) return undefined;
      if (buf[i] === 0x7d) {
        // The end of an object: back to its parent's members, or done at the top.
        if (depth === 0) return undefined;
        depth--;
        i++;
        ws();
        if (buf[i] === 0x2c) i++;
        else if (buf[i] !== 0x7d) return undefined;
        continue;
      }
      if (buf[i] !== 0x22) return undefined;
      const keyEnd = stringEnd(buf, i);
      if (keyEnd < 0) return undefined;
      const ks = i + 1;
      const ke = keyEnd - 1;
      i = keyEnd;
      ws();
      if (buf[i] !== 0x3a) return undefined;
      i++;
      ws();
      const c = buf[i];
      if (c === 0x22) {
        const end = stringEnd(buf, i);
        if (end < 0) return undefined;
        // The raw string, as Loki's JSON scanner hands it over: escapes are not decoded.
        if (this.isField(buf, ks, ke)) return { start: i + 1, end: end - 1, decode: false };
        i = end;
      } else if (c === 0x7b && (this.maxDepth <= 0 || depth + 1 < this.maxDepth)) {
        depth++;
        i++;
        continue;
      } else {
        const end = skipValue(buf, i);
        if (end < 0) return undefined;
        i = end;
      }
      ws();
      if (buf[i] === 0x2c) i++;
      else if (buf[i] !== 0x7d) return undefined;
    }
  }

  /**
   * The value of the logfmt key matching a level field case-insensitively; a field earlier in the list wins
   * over a later one, the first occurrence over a repeat. Scanning stops at the first malformed pair.
   */
  logfmtField(buf: Buffer): Span | undefined {
    const n = buf.length;
    let best = this.fields.length;
    let found: Span | undefined;
    let i = 0;
    while (i < n) {
      while (i < n && buf[i]! <= 0x20) i++;
      if (i >= n) break;
      const ks = i;
      while (i < n) {
        const c = buf[i]!;
        if (c <= 0x20 || c === 0x3d || c === 0x22) break;
        i++;
      }
      if (i === ks || buf[i] === 0x22) break;
      const ke = i;
      let vs = i;
      let ve = i;
      let quoted = false;
      if (i < n && buf[i] === 0x3d) {
        i++;
        if (i < n && buf[i] === 0x22) {
          const end = stringEnd(buf, i);
          if (end < 0 || (end < n && buf[end]! > 0x20)) break;
          vs = i + 1;
          ve = end - 1;
          quoted = true;
          i = end;
        } else {
          vs = i;
          while (i < n && buf[i]! > 0x20) {
            if (buf[i] === 0x3d || buf[i] === 0x22) return found;
            i++;
          }
          ve = i;
        }
      }
      if (this.fieldLengths.has(ke - ks)) {
        const at = this.foldedField(buf, ks, ke);
        if (at !== -1 && at < best) {
          best = at;
          found = { start: vs, end: ve, decode: quoted && hasBackslash(buf, vs, ve) };
          if (at === 0) return found;
        }
      }
    }
    return found;
  }
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** OTLP SeverityNumber ranges (the OpenTelemetry log data model), as Loki reads `severity_number`. */
export function severityLevel(text: string): string {
  if (!/^[+-]?[0-9]+$/.test(text)) return 'info';
  const big = BigInt(text);
  if (big < I64_MIN || big > I64_MAX) return 'info';
  const n = Number(big);
  if (n === 0) return 'unknown';
  if (n <= 4) return 'trace';
  if (n <= 8) return 'debug';
  if (n <= 12) return 'info';
  if (n <= 16) return 'warn';
  if (n <= 20) return 'error';
  if (n <= 24) return 'fatal';
  return 'unknown';
}
