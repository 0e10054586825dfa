/**
 * The `|= ip("…")` line filter: whether a line holds an IP address inside a pattern (one address, a CIDR block or
 * an inclusive `a-b` range, IPv4 or IPv6). Addresses are found the way Loki finds them, without a regex: at each
 * offset a cheap hint (a digit with a `.` within the next three characters for IPv4; a hex group or `::` followed by
 * `:` for IPv6) starts a candidate, the candidate runs over the family's characters, and a candidate that is not
 * an address in the pattern is skipped whole. An IPv4-mapped IPv6 address does not match an IPv4 pattern, nor the
 * reverse (Go's netip rules).
 */
import { parseIP } from './ip-match.js';

interface Range {
  v6: boolean;
  lo: bigint;
  hi: bigint;
}

/** The pattern as a range; undefined when it is not a valid pattern (the parser has already refused those). */
export function ipRange(pattern: string): Range | undefined {
  const slash = pattern.indexOf('/');
  if (slash >= 0) {
    const a = parseIP(pattern.slice(0, slash));
    const bits = pattern.slice(slash + 1);
    if (!a || !/^\d{1,3}$/.test(bits)) return undefined;
    const width = a.v6 ? 128 : 32;
    if (Number(bits) > width) return undefined;
    const mask = (1n << BigInt(width - Number(bits))) - 1n;
    return { v6: a.v6, lo: a.n & ~mask, hi: (a.n & ~mask) | mask };
  }
  const dash = pattern.indexOf('-');
  if (dash >= 0) {
    const lo = parseIP(pattern.slice(0, dash));
    const hi = parseIP(pattern.slice(dash + 1));
    if (!lo || !hi || lo.v6 !== hi.v6 || lo.n > hi.n) return undefined;
    return { v6: lo.v6, lo: lo.n, hi: hi.n };
  }
  const a = parseIP(pattern);
  return a ? { v6: a.v6, lo: a.n, hi: a.n } : undefined;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function v4Char(c: number): boolean {
  return isDigit(c) || c === 46;
}

function v6Char(c: number): boolean {
  return isHex(c) || c === 58 || c === 46;
}

/**
 * The IPv4 address `s[start, end)` as a number (four decimal parts of at most 255 without leading zeros, as Go
 * reads them), or -1; read in place, as most candidates in a line are not addresses.
 */
function v4At(s: string, start: number, end: number): number {
  let n = 0;
  let parts = 0;
  let i = start;
  while (parts < 4) {
    const from = i;
    let v = 0;
    while (i < end && i - from < 3 && isDigit(s.charCodeAt(i))) v = v * 10 + (s.charCodeAt(i++) - 48);
    const len = i - from;
    if (len === 0 || v > 255 || (len > 1 && s.charCodeAt(from) === 48)) return -1;
    n = n * 256 + v;
    parts++;
    if (parts < 4) {
      if (i >= end || s.charCodeAt(i) !== 46) return -1;
      i++;
    }
  }
  return i === end ? n : -1;
}

export class IPLineMatcher {
  private readonly range: Range;
  /** An IPv4 range as plain numbers, so candidates are tested without BigInt. */
  private readonly lo4: number;
  private readonly hi4: number;

  constructor(pattern: string) {
    const r = ipRange(pattern);
    if (!r) throw new Error(`ip: invalid pattern ${JSON.stringify(pattern)}`);
    this.range = r;
    this.lo4 = r.v6 ? 0 : Number(r.lo);
    this.hi4 = r.v6 ? -1 : Number(r.hi);
  }

  /** Whether the IPv4 candidate `line[start, end)` is an address inside the range (never, for an IPv6 range). */
  private v4InRange(line: string, start: number, end: number): boolean {
    if (this.range.v6) return false;
    const n = v4At(line, start, end);
    return n >= this.lo4 && n <= this.hi4;
  }

  /**
   * Whether the IPv6 candidate `line[start, end)` is an address inside the range. It holds a `:`, so it is never
   * an IPv4 address (an IPv4-mapped one included) and cannot fall in an IPv4 range.
   */
  private v6InRange(line: string, start: number, end: number): boolean {
    if (!this.range.v6) return false;
    const a = parseIP(line.slice(start, end));
    return a !== undefined && a.v6 && a.n >= this.range.lo && a.n <= this.range.hi;
  }

  matches(line: string): boolean {
    const n = line.length;
    for (let i = 0; i < n; i++) {
      const c0 = line.charCodeAt(i);
      if (!isHex(c0) && c0 !== 58) continue;
      if (i + 3 < n && isDigit(c0) && (line.charCodeAt(i + 1) === 46 || line.charCodeAt(i + 2) === 46 || line.charCodeAt(i + 3) === 46)) {
        let e = i + 1;
        while (e < n && v4Char(line.charCodeAt(e))) e++;
        if (this.v4InRange(line, i, e)) return true;
        i = e;
        continue;
      }
      if (i + 4 < n && v6Hint(line, i)) {
        let e = i + 1;
        while (e < n && v6Char(line.charCodeAt(e))) e++;
        if (this.v6InRange(line, i, e)) return true;
        i = e;
      }
    }
    return false;
  }
}

/** An IPv6 address may start at `i`: `::` and a hex digit, or one to four hex digits and a `:`. */
function v6Hint(line: string, i: number): boolean {
  const c0 = line.charCodeAt(i);
  if (c0 === 58) return line.charCodeAt(i + 1) === 58 && isHex(line.charCodeAt(i + 2));
  for (let k = 1; k <= 4; k++) {
    const c = line.charCodeAt(i + k);
    if (c === 58) return true;
    if (!isHex(c)) return false;
  }
  return false;
}
