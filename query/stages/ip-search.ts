/**
 * `ip("…")` as Loki evaluates it: the pattern is read strictly (one address, a CIDR prefix or an `a-b` range,
 * the forms Go's netip/netipx accept, no spaces), and a text matches when any address found anywhere inside it
 * falls in the pattern — `client 10.0.0.7:80` is in `10.0.0.0/8`. Addresses are found the way Loki finds them:
 * at a position that looks like the start of one (a digit with a dot within the next three characters for
 * IPv4; a hex group followed by a colon, or `::` and a hex digit, for IPv6), the longest run of address
 * characters there is parsed; a run that is no address is skipped whole, so `110.0.0.1` never yields
 * `10.0.0.1`. Shared by the label filter (`addr = ip(…)`) and the line filter (`|= ip(…)`).
 */
import { parseIP } from './ip-match.js';

interface Range {
  v6: boolean;
  lo: bigint;
  hi: bigint;
}

/** Go's netip.ParseAddr for a pattern: a zone (`fe80::1%eth0`) is allowed and returned apart. */
function parseAddrWithZone(s: string): { v6: boolean; n: bigint; zone: string } | undefined {
  const pct = s.indexOf('%');
  if (pct >= 0) {
    // Only IPv6 carries a zone, and it must not be empty.
    if (pct === s.length - 1 || !s.slice(0, pct).includes(':')) return undefined;
    const a = parseIP(s.slice(0, pct));
    return a && a.v6 ? { v6: true, n: a.n, zone: s.slice(pct + 1) } : undefined;
  }
  const a = parseIP(s);
  return a ? { v6: a.v6, n: a.n, zone: '' } : undefined;
}

/**
 * The range a pattern stands for, or undefined when Loki would reject it (`ip: invalid pattern`). A single
 * address with a zone is valid but matches nothing, since addresses found in text never carry one.
 */
export function parseIPPattern(pattern: string): Range | null | undefined {
  const single = parseAddrWithZone(pattern);
  if (single) return single.zone !== '' ? null : { v6: single.v6, lo: single.n, hi: single.n };
  const slash = pattern.lastIndexOf('/');
  if (slash >= 0) {
    const addr = pattern.slice(0, slash);
    // A prefix carries no zone.
    const a = addr.includes('%') ? undefined : parseIP(addr);
    const bits = pattern.slice(slash + 1);
    if (a && /^(?:0|[1-9]\d{0,2})$/.test(bits)) {
      const width = a.v6 ? 128 : 32;
      const b = Number(bits);
      if (b <= width) {
        const mask = (1n << BigInt(width - b)) - 1n;
        const lo = a.n & ~mask;
        return { v6: a.v6, lo, hi: lo | mask };
      }
    }
  }
  const dash = pattern.indexOf('-');
  if (dash >= 0) {
    const from = parseAddrWithZone(pattern.slice(0, dash));
    const to = parseAddrWithZone(pattern.slice(dash + 1));
    if (from && to && from.v6 === to.v6 && from.n <= to.n) return { v6: from.v6, lo: from.n, hi: to.n };
  }
  return undefined;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function isV4Char(c: number): boolean {
  return isDigit(c) || c === 46;
}

function isV6Char(c: number): boolean {
  return isHex(c) || c === 58 || c === 46;
}

function v4Start(s: string, i: number): boolean {
  return isDigit(s.charCodeAt(i)) && (s.charCodeAt(i + 1) === 46 || s.charCodeAt(i + 2) === 46 || s.charCodeAt(i + 3) === 46);
}

function v6Start(s: string, i: number): boolean {
  const c0 = s.charCodeAt(i);
  if (c0 === 58) return s.charCodeAt(i + 1) === 58 && isHex(s.charCodeAt(i + 2));
  if (!isHex(c0)) return false;
  // One to four hex digits, then a colon.
  for (let k = 1; k <= 4; k++) {
    const c = s.charCodeAt(i + k);
    if (c === 58) return true;
    if (!isHex(c)) return false;
  }
  return false;
}

/**
 * The IPv4 address `s[start, end)` as a number (four decimal parts of at most 255 without leading zeros, as Go
 * reads them), or -1: read in place, since most candidates in a line are not addresses.
 */
function v4At(s: string, start: number, end: number): number {
  let n = 0;
  let i = start;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= end || s.charCodeAt(i) !== 46) return -1;
      i++;
    }
    const from = i;
    let v = 0;
    while (i < end && i - from < 3 && isDigit(s.charCodeAt(i))) v = v * 10 + (s.charCodeAt(i++) - 48);
    const len = i - from;
    if (len === 0 || v > 255 || (len > 1 && s.charCodeAt(from) === 48)) return -1;
    n = n * 256 + v;
  }
  return i === end ? n : -1;
}

/**
 * Whether `text` contains an address in `r` (null: a pattern that matches nothing). As in Loki, a start needs
 * four characters left for IPv4 and five for IPv6, so a value as short as `::1` holds no address. An IPv4
 * range is also given as plain numbers (`lo4`, `hi4`) so IPv4 candidates are tested without a BigInt.
 */
function scan(r: Range, lo4: number, hi4: number, text: string): boolean {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    if (i + 3 < n && v4Start(text, i)) {
      let end = i + 1;
      while (end < n && isV4Char(text.charCodeAt(end))) end++;
      if (!r.v6) {
        const a = v4At(text, i, end);
        if (a >= lo4 && a <= hi4) return true;
      }
      // Skip the whole run (and, as Loki's loop does, the character after it).
      i = end;
    } else if (i + 4 < n && v6Start(text, i)) {
      let end = i + 1;
      while (end < n && isV6Char(text.charCodeAt(end))) end++;
      // A run holding a colon is never an IPv4 address (an IPv4-mapped one included: Go's netip rules).
      if (r.v6) {
        const a = parseIP(text.slice(i, end));
        if (a !== undefined && a.v6 && a.n >= r.lo && a.n <= r.hi) return true;
      }
      i = end;
    }
  }
  return false;
}

export function containsIPIn(r: Range | null, text: string): boolean {
  return r !== null && scan(r, Number(r.lo), Number(r.hi), text);
}

/** A predicate for `ip(pattern)` over text (label values and lines alike); throws when the pattern is invalid (callers validate first). */
export function compileIPSearch(pattern: string): (text: string) => boolean {
  const r = parseIPPattern(pattern);
  if (r === undefined) throw new Error(`ip: invalid pattern: ${JSON.stringify(pattern)}`);
  if (r === null) return () => false;
  const lo4 = r.v6 ? 0 : Number(r.lo);
  const hi4 = r.v6 ? -1 : Number(r.hi);
  return (text) => scan(r, lo4, hi4, text);
}
