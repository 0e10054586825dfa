/**
 * `| logfmt [--strict] [--keep-empty] [a, b="key"]`: `key=value` pairs, values bare or double-quoted with JSON-style
 * escapes. As in Loki, a pair with an empty value (`key=`, `key=""` or a standalone `key`) is skipped unless
 * --keep-empty, which keeps it as ""; when a key occurs twice the first occurrence wins. With parameters every
 * named label is set, empty when its key is missing or empty. A malformed pair is skipped, or with --strict ends
 * parsing and sets `__error__="LogfmtParserErr"` (pairs before it stay extracted).
 */
import type { LogfmtStage } from '../ast.js';
import { type LabelsBuilder, sanitizeLabelName } from './labels-builder.js';
import { FirstSeen } from './first-seen.js';
import { LogfmtFieldScanner } from './logfmt-scan.js';
import type { EntryState, Stage } from './stage.js';

export const LOGFMT_PARSER_ERR = 'LogfmtParserErr';

/** Receives one pair; `bare` when the key stood alone, without `=`. */
export type LogfmtPairHandler = (key: string, value: string, bare: boolean) => void;

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function isSpace(c: number): boolean {
  return c <= 0x20;
}

/**
 * Scans `line`, calling `onPair` for each well-formed pair. On a malformed pair: in strict mode returns the
 * error message; otherwise skips to the next whitespace and carries on. Returns undefined when done.
 */
export function scanLogfmt(line: string, strict: boolean, onPair: LogfmtPairHandler): string | undefined {
  const n = line.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n) {
      const c = line.charCodeAt(i);
      if (isSpace(c) || c === 0x3d /* = */ || c === 0x22 /* " */) break;
      i++;
    }
    let err: string | undefined;
    if (i === keyStart) {
      err = `unexpected ${JSON.stringify(line[i])}`;
    } else {
      const key = line.slice(keyStart, i);
      const c = line.charCodeAt(i);
      if (i >= n || isSpace(c)) {
        onPair(key, '', true);
        continue;
      }
      if (c === 0x22) {
        err = `unexpected '"' after key ${JSON.stringify(key)}`;
      } else {
        i++; // '='
        if (i < n && line.charCodeAt(i) === 0x22) {
          const r = readQuoted(line, i);
          if (typeof r === 'string') err = r;
          else if (r.end < n && !isSpace(line.charCodeAt(r.end))) {
            i = r.end;
            err = `unexpected ${JSON.stringify(line[i])} after the quoted value of ${JSON.stringify(key)}`;
          } else {
            i = r.end;
            onPair(key, r.value, false);
            continue;
          }
        } else {
          const valStart = i;
          while (i < n) {
            const v = line.charCodeAt(i);
            if (isSpace(v)) break;
            if (v === 0x3d || v === 0x22) {
              err = `unexpected ${JSON.stringify(line[i])} in the value of ${JSON.stringify(key)}`;
              break;
            }
            i++;
          }
          if (err === undefined) {
            onPair(key, line.slice(valStart, i), false);
            continue;
          }
        }
      }
    }
    if (strict) return `logfmt syntax error at pos ${i + 1}: ${err}`;
    while (i < n && !isSpace(line.charCodeAt(i))) i++;
  }
  return undefined;
}

/** A quoted value starting at the opening quote: its text and the offset after the closing quote, or an error. */
function readQuoted(line: string, open: number): { value: string; end: number } | string {
  const n = line.length;
  let i = open + 1;
  let out = '';
  let chunk = i;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 0x22) {
      return { value: out + line.slice(chunk, i), end: i + 1 };
    }
    if (c === 0x5c /* \ */) {
      out += line.slice(chunk, i);
      const e = line[i + 1];
      if (e === undefined) break;
      if (e === 'u') {
        const hex = line.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) return `invalid escape \\u${hex} in quoted value`;
        out += String.fromCharCode(Number.parseInt(hex, 16));
        i += 6;
      } else {
        const r = ESCAPES[e];
        if (r === undefined) return `invalid escape \\${e} in quoted value`;
        out += r;
        i += 2;
      }
      chunk = i;
      continue;
    }
    i++;
  }
  return 'unterminated quoted value';
}

export class LogfmtParser implements Stage {
  private readonly strict: boolean;
  private readonly keepEmpty: boolean;
  /** logfmt key → label name, when parameters restrict what is extracted. */
  private readonly wanted: Map<string, string> | null;

  /** Label names worth extracting (required-labels hint), or null for all. */
  private readonly needed: Set<string> | null;
  /** With a hint: scans the line's bytes for the needed keys only, without decoding the line. */
  readonly scanner: LogfmtFieldScanner | null;

  /** `required`: the labels later stages and the consumer read (null: all); only used without parameters. */
  constructor(stage: LogfmtStage, required: ReadonlySet<string> | null = null) {
    this.strict = stage.strict;
    this.keepEmpty = stage.keepEmpty;
    this.wanted = stage.params.length > 0 ? new Map(stage.params.map((p) => [p.expr, p.label])) : null;
    this.needed = null;
    this.scanner = null;
    if (required && !this.wanted) {
      const needed = new Set<string>();
      for (const r of required) {
        needed.add(r);
        // A key clashing with a stream label is extracted as name_extracted.
        if (r.endsWith('_extracted')) needed.add(r.slice(0, -'_extracted'.length));
      }
      this.needed = needed;
      this.scanner = new LogfmtFieldScanner(needed, this.strict, this.keepEmpty);
    }
  }

  private lbs: LabelsBuilder | null = null;
  private readonly seen = new FirstSeen();

  /** Bound once so scanning a line allocates no closure. */
  private readonly onPair: LogfmtPairHandler = (key, value) => {
    const lbs = this.lbs!;
    if (this.wanted) {
      // Loki's logfmt with parameters keeps empty values whatever the flags say.
      const label = this.wanted.get(key);
      if (label !== undefined && this.seen.claim(label)) lbs.setExtracted(label, value);
      return;
    }
    if (value === '' && !this.keepEmpty) return;
    const needed = this.needed;
    if (needed && needed.has(key)) {
      if (this.seen.claim(key)) lbs.setExtracted(key, value);
      return;
    }
    const name = sanitizeLabelName(key);
    if (name !== '' && (!needed || needed.has(name)) && this.seen.claim(name)) lbs.setExtracted(name, value);
  };

  process(e: EntryState): boolean {
    const sc = this.scanner;
    // The scanner keeps only the first non-empty (or, with --keep-empty, any) value of each name.
    if (sc && e.bytes && sc.scan(e.bytes, e.byteStart!, e.byteEnd!)) {
      for (let k = 0; k < sc.count; k++) e.labels.setExtracted(sc.names[k]!, sc.values[k]!);
      return true;
    }
    this.seen.next();
    if (this.wanted) {
      // Every named label exists afterwards, empty when the line lacks its key; a name already taken (a stream
      // label, metadata) is left to the found value's own precedence.
      for (const label of this.wanted.values()) if (e.labels.get(label) === undefined) e.labels.set(label, '');
    }
    this.lbs = e.labels;
    const err = scanLogfmt(e.line, this.strict, this.onPair);
    if (err !== undefined) e.labels.setError(LOGFMT_PARSER_ERR, err);
    this.lbs = null;
    return true;
  }
}
