/**
 * Label values read as numbers, durations and byte sizes exactly as Loki reads them at query time — Go's
 * strconv.ParseFloat, time.ParseDuration and go-humanize's ParseBytes — failing with the very text those
 * functions give, because that text is what Loki puts in `__error_details__`. Label filters and `unwrap`
 * share them. They run once per line, so success allocates nothing beyond the value (a duration is a bigint);
 * a failure is returned, not thrown, as a GoParseError.
 */

import { goParseFloat as parseFloat64 } from './parse/go-float.js';

export class GoParseError {
  constructor(readonly message: string) {}
}

// ---------------------------------------------------------------- quoting

const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;
const SHORT_ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' };

/** strconv.Quote: printable runes as they are, the rest escaped (\n, \x01, \u00a0). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c === 0x20 || (c > 0x20 && c < 0x7f) || (c > 0x7f && PRINTABLE.test(ch))) out += ch;
    else if (SHORT_ESCAPES[c] !== undefined) out += SHORT_ESCAPES[c];
    else if (c < 0x80) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c < 0x10000) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += '\\U' + c.toString(16).padStart(8, '0');
  }
  return out + '"';
}

const UTF8 = new TextEncoder();

/** The time package's own quoting: ASCII below space and every non-ASCII byte as \xNN. */
export function goTimeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x80 || c < 0x20) {
      for (const b of UTF8.encode(ch)) out += '\\x' + b.toString(16).padStart(2, '0');
    } else out += c === 0x22 || c === 0x5c ? '\\' + ch : ch;
  }
  return out + '"';
}

// ---------------------------------------------------------------- strconv.ParseFloat

function floatError(s: string, why: string): GoParseError {
  return new GoParseError(`strconv.ParseFloat: parsing ${goQuote(s)}: ${why}`);
}

/** strconv.ParseFloat(s, 64) (see parse/go-float.ts), or the error it returns (invalid syntax, value out of range). */
export function goParseFloat(s: string): number | GoParseError {
  const f = parseFloat64(s);
  return f.ok ? f.value : floatError(s, f.reason);
}

// ---------------------------------------------------------------- time.ParseDuration

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const INT64_LIMIT = 1n << 63n;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** time.ParseDuration(s) in nanoseconds, or its error (`time: unknown unit "d" in duration "1d"`, …). */
export function goParseDuration(s: string): bigint | GoParseError {
  const invalid = (): GoParseError => new GoParseError(`time: invalid duration ${goTimeQuote(s)}`);
  let i = 0;
  const n = s.length;
  let neg = false;
  if (n > 0 && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    i = 1;
  }
  if (i === n - 1 && s[i] === '0') return 0n;
  if (i === n) return invalid();
  let total = 0n;
  while (i < n) {
    const c0 = s.charCodeAt(i);
    if (!(c0 === 46 || isDigit(c0))) return invalid();
    // Whole part: more than 2^63 is an overflow, not a silent wrap.
    const wholeStart = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    let whole = 0n;
    if (i > wholeStart) {
      whole = i - wholeStart <= 15 ? BigInt(Number(s.slice(wholeStart, i))) : BigInt(s.slice(wholeStart, i));
      if (whole > INT64_LIMIT) return invalid();
    }
    const pre = i > wholeStart;
    // Fraction: digits past what fits in 63 bits are read but ignored, as Go does.
    let frac = 0n;
    let scale = 1;
    let post = false;
    if (i < n && s.charCodeAt(i) === 46) {
      i++;
      const fracStart = i;
      let overflow = false;
      for (; i < n && isDigit(s.charCodeAt(i)); i++) {
        if (overflow) continue;
        const next = frac * 10n + BigInt(s.charCodeAt(i) - 48);
        if (next > INT64_LIMIT) {
          overflow = true;
          continue;
        }
        frac = next;
        scale *= 10;
      }
      post = i > fracStart;
    }
    if (!pre && !post) return invalid();
    const unitStart = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 46 || isDigit(c)) break;
      i++;
    }
    if (i === unitStart) return new GoParseError(`time: missing unit in duration ${goTimeQuote(s)}`);
    const unitText = s.slice(unitStart, i);
    const unit = UNIT_NS[unitText];
    if (unit === undefined) return new GoParseError(`time: unknown unit ${goTimeQuote(unitText)} in duration ${goTimeQuote(s)}`);
    if (whole > INT64_LIMIT / unit) return invalid();
    let v = whole * unit;
    if (frac > 0n) {
      // Go computes the fraction in float64 (nanosecond-exact for every unit up to hours) and truncates.
      v += BigInt(Math.trunc(Number(frac) * (Number(unit) / scale)));
      if (v > INT64_LIMIT) return invalid();
    }
    total += v;
    if (total > INT64_LIMIT) return invalid();
  }
  if (neg) return -total;
  if (total > INT64_LIMIT - 1n) return invalid();
  return total;
}

// ---------------------------------------------------------------- humanize.ParseBytes

const BYTE_SIZES: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, ki: 2 ** 10, kib: 2 ** 10,
  m: 1e6, mb: 1e6, mi: 2 ** 20, mib: 2 ** 20,
  g: 1e9, gb: 1e9, gi: 2 ** 30, gib: 2 ** 30,
  t: 1e12, tb: 1e12, ti: 2 ** 40, tib: 2 ** 40,
  p: 1e15, pb: 1e15, pi: 2 ** 50, pib: 2 ** 50,
  e: 1e18, eb: 1e18, ei: 2 ** 60, eib: 2 ** 60,
};

/**
 * go-humanize ParseBytes: the leading run of digits, dots and commas (commas dropped) read by ParseFloat, then
 * an optional space and a unit (B, KB, KiB, K, Ki … EiB, any case); the result truncated to whole bytes.
 */
export function goParseBytes(s: string): number | GoParseError {
  let end = 0;
  let comma = false;
  for (; end < s.length; end++) {
    const c = s.charCodeAt(end);
    if (c === 44) comma = true;
    else if (c !== 46 && !isDigit(c)) break;
  }
  const num = comma ? s.slice(0, end).replace(/,/g, '') : s.slice(0, end);
  const f = goParseFloat(num);
  if (f instanceof GoParseError) return f;
  const unit = end === s.length ? '' : s.slice(end).trim().toLowerCase();
  const mult = BYTE_SIZES[unit];
  if (mult === undefined) return new GoParseError(`unhandled size name: ${unit}`);
  const v = f * mult;
  if (v >= 2 ** 64) return new GoParseError(`too large: ${s}`);
  return Math.trunc(v);
}
