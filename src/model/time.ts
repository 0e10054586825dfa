/** Time and duration vocabulary shared by config, push, query and CLI. All instants are bigint nanoseconds. */

export const NS_PER_MS = 1_000_000n;
export const NS_PER_SEC = 1_000_000_000n;

export class TimeParseError extends Error {}

/** Well-formed, but past what an int64 of nanoseconds holds. */
export class TimeOutOfRangeError extends TimeParseError {}

/** Instants and durations are int64 nanoseconds, as in Go and on disk: about 292 years either side of 1970. */
export const MAX_NS = 2n ** 63n - 1n;
export const MIN_NS = -(2n ** 63n);

/** `ns` pinned into the int64 range: a bound computed past it (start minus a range minus an offset) means "all time". */
export function clampNs(ns: bigint): bigint {
  return ns > MAX_NS ? MAX_NS : ns < MIN_NS ? MIN_NS : ns;
}

function inInt64(ns: bigint): boolean {
  return ns >= MIN_NS && ns <= MAX_NS;
}

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
  d: 86400e9,
  w: 7 * 86400e9,
  y: 365 * 86400e9,
};

/**
 * A Go/Prometheus duration (`1h30m`, `500ms`, `7d`, `1.5s`) as nanoseconds.
 * A bare number is seconds, as Loki's `step` parameter allows.
 */
export function parseDuration(text: string): bigint {
  const ns = parseDurationUnchecked(text);
  if (ns === null || !inInt64(ns)) {
    throw new TimeOutOfRangeError(`invalid duration ${JSON.stringify(text)}: out of range, durations are limited to ±2562047h (about 292 years)`);
  }
  return ns;
}

/** A float count of nanoseconds as a bigint; null when it overflowed to Infinity (hundreds of digits). */
function floatNs(x: number): bigint | null {
  return Number.isFinite(x) ? BigInt(Math.round(x)) : null;
}

function parseDurationUnchecked(text: string): bigint | null {
  const s = text.trim();
  if (s === '') throw new TimeParseError('empty duration');
  if (/^-?\d+(\.\d+)?$/.test(s)) return floatNs(Number(s) * 1e9);
  let neg = false;
  let rest = s;
  if (rest.startsWith('-')) { neg = true; rest = rest.slice(1); }
  const re = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)/;
  let total = 0n;
  let matched = false;
  while (rest.length > 0) {
    const m = re.exec(rest);
    if (!m) {
      throw new TimeParseError(`invalid duration ${JSON.stringify(text)}: expected a number followed by one of ns, us, ms, s, m, h, d, w, y (e.g. 1h30m)`);
    }
    const unit = UNIT_NS[m[2]!]!;
    const n = m[1]!;
    const part = n.includes('.') ? floatNs(Number(n) * unit) : BigInt(n) * BigInt(unit);
    if (part === null) return null;
    total += part;
    rest = rest.slice(m[0].length);
    matched = true;
  }
  if (!matched) throw new TimeParseError(`invalid duration ${JSON.stringify(text)}`);
  return neg ? -total : total;
}

/** Nanoseconds to the shortest Go-style duration string (`1h30m`, `5m`, `250ms`). */
export function formatDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let v = neg ? -ns : ns;
  const parts: string[] = [];
  const units: [string, bigint][] = [['h', 3600n * NS_PER_SEC], ['m', 60n * NS_PER_SEC], ['s', NS_PER_SEC], ['ms', NS_PER_MS], ['us', 1000n], ['ns', 1n]];
  for (const [u, size] of units) {
    if (v >= size) { parts.push(`${v / size}${u}`); v %= size; }
  }
  return (neg ? '-' : '') + parts.join('');
}

/**
 * A timestamp as Loki's HTTP API accepts it: float seconds when it has a '.', integer seconds up to 10 digits,
 * nanoseconds when longer, otherwise RFC3339 (with optional fractional seconds down to nanoseconds).
 */
export function parseTimestamp(text: string): bigint {
  const ns = parseTimestampUnchecked(text.trim());
  if (!inInt64(ns)) {
    throw new TimeOutOfRangeError(`timestamp ${JSON.stringify(text.trim())} is out of range: it must lie between 1677-09-21T00:12:43Z and 2262-04-11T23:47:16Z (int64 nanoseconds)`);
  }
  return ns;
}

function parseTimestampUnchecked(s: string): bigint {
  if (/^-?\d+$/.test(s)) {
    const digits = s.replace('-', '');
    return digits.length <= 10 ? BigInt(s) * NS_PER_SEC : BigInt(s);
  }
  if (/^-?\d+\.\d*$/.test(s)) {
    const [intPart, frac = ''] = s.split('.');
    const fracNs = BigInt((frac + '000000000').slice(0, 9));
    const neg = intPart!.startsWith('-');
    const whole = BigInt(intPart!) * NS_PER_SEC;
    return neg ? whole - fracNs : whole + fracNs;
  }
  return parseRFC3339(s);
}

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9})\d*)?(Z|z|[+-]\d{2}:?\d{2})$/;

export function parseRFC3339(s: string): bigint {
  const m = RFC3339_RE.exec(s);
  if (!m) {
    throw new TimeParseError(`invalid timestamp ${JSON.stringify(s)}: use RFC3339 (2024-01-02T15:04:05Z), Unix seconds, or Unix nanoseconds`);
  }
  const [, Y, M, D, h, mi, sec, frac = '', zone] = m;
  let ms = Date.UTC(Number(Y), Number(M) - 1, Number(D), Number(h), Number(mi), Number(sec));
  if (Number.isNaN(ms)) throw new TimeParseError(`invalid timestamp ${JSON.stringify(s)}`);
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone!.startsWith('-') ? -1 : 1;
    const digits = zone!.slice(1).replace(':', '');
    const offMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
    ms -= sign * offMin * 60_000;
  }
  return BigInt(ms) * NS_PER_MS + BigInt((frac + '000000000').slice(0, 9));
}

/** RFC3339 with nanoseconds, trailing zeros trimmed, as Go prints time.RFC3339Nano in UTC. */
export function formatRFC3339Nano(ns: bigint): string {
  const secs = ns / NS_PER_SEC - (ns < 0n && ns % NS_PER_SEC !== 0n ? 1n : 0n);
  const frac = ns - secs * NS_PER_SEC;
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  const f = frac === 0n ? '' : '.' + frac.toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${f}Z`;
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * NS_PER_MS;
}

/** Sizes as Loki's config spells them: `1.5MB`, `256KB`, `1MiB`, or a plain byte count. */
export function parseBytes(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B?)?\s*$/i.exec(text);
  if (!m) throw new TimeParseError(`invalid size ${JSON.stringify(text)}: expected a number with an optional unit B, KB, MB, GB, KiB, MiB, GiB`);
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toUpperCase();
  const pow: Record<string, number> = { '': 1, B: 1, K: 1e3, KB: 1e3, M: 1e6, MB: 1e6, G: 1e9, GB: 1e9, T: 1e12, TB: 1e12, KI: 1024, KIB: 1024, MI: 1024 ** 2, MIB: 1024 ** 2, GI: 1024 ** 3, GIB: 1024 ** 3 };
  const mult = pow[unit];
  if (mult === undefined) throw new TimeParseError(`invalid size unit in ${JSON.stringify(text)}`);
  return Math.round(n * mult);
}
