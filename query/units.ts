/**
 * Value parsing and printing as Go (and therefore Loki) does it at query time: label values compared as
 * durations, byte sizes and floats, and numbers printed the way Go's fmt prints a float64. These differ from
 * the config vocabulary in src/model/time.ts on purpose (Go's time.ParseDuration has no `d`, a bare number is
 * not a duration, sizes accept `PB`, `kib`, spaces).
 */

export class ValueParseError extends Error {}

const GO_DURATION_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n,
  'μs': 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const DURATION_PART = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/y;

/** Go's time.ParseDuration: `1h30m`, `250ms`, `-1.5s`, `0`. Returns nanoseconds. */
export function parseGoDuration(text: string): bigint {
  let s = text;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw new ValueParseError(`invalid duration ${JSON.stringify(text)}`);
  let total = 0n;
  let pos = 0;
  while (pos < s.length) {
    DURATION_PART.lastIndex = pos;
    const m = DURATION_PART.exec(s);
    if (!m || (m[1] === '' && (m[2] === undefined || m[2] === ''))) {
      throw new ValueParseError(`invalid duration ${JSON.stringify(text)}: expected numbers with units ns, us, ms, s, m, h (e.g. 1m30s)`);
    }
    const unit = GO_DURATION_UNITS[m[3]!]!;
    total += BigInt(m[1] || '0') * unit;
    const frac = m[2];
    if (frac) {
      // Exact decimal fraction of the unit, truncated toward zero as Go does.
      total += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    }
    pos = DURATION_PART.lastIndex;
  }
  return neg ? -total : total;
}

const BYTES_RE = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z]*)\s*$/;
const SI: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12, p: 1e15, pb: 1e15, e: 1e18, eb: 1e18 };
const IEC: Record<string, number> = { ki: 2 ** 10, kib: 2 ** 10, mi: 2 ** 20, mib: 2 ** 20, gi: 2 ** 30, gib: 2 ** 30, ti: 2 ** 40, tib: 2 ** 40, pi: 2 ** 50, pib: 2 ** 50, ei: 2 ** 60, eib: 2 ** 60 };

/** A human byte size as Loki's bytes() label filters read it: `20MB`, `1.5 GiB`, `42`, `10kb`. */
export function parseHumanBytes(text: string): number {
  const m = BYTES_RE.exec(text);
  if (!m) throw new ValueParseError(`invalid byte size ${JSON.stringify(text)}: expected a number with an optional unit like B, KB, MB, GB, KiB, MiB`);
  const unit = m[2]!.toLowerCase();
  const mult = SI[unit] ?? IEC[unit];
  if (mult === undefined) throw new ValueParseError(`invalid byte size unit ${JSON.stringify(m[2])} in ${JSON.stringify(text)}: use B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB, PiB`);
  return Number(m[1]) * mult;
}

const GO_FLOAT_RE = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|0[xX][0-9a-fA-F]+)$/;

/** Go's strconv.ParseFloat for the forms log lines carry: decimals, exponents, hex integers, Inf and NaN. */
export function parseGoFloat(text: string): number {
  const s = text;
  const lower = s.toLowerCase();
  switch (lower) {
    case 'inf': case '+inf': case 'infinity': case '+infinity': return Infinity;
    case '-inf': case '-infinity': return -Infinity;
    case 'nan': return NaN;
  }
  if (!GO_FLOAT_RE.test(s)) {
    throw new ValueParseError(`strconv.ParseFloat: parsing ${JSON.stringify(text)}: invalid syntax`);
  }
  if (/^[+-]?0[xX]/.test(s)) {
    const neg = s.startsWith('-');
    const v = Number.parseInt(s.replace(/^[+-]?0[xX]/, ''), 16);
    return neg ? -v : v;
  }
  return Number(s);
}

/**
 * A float64 as Go's fmt prints it with %v (strconv 'g' with shortest digits): exponent form when the exponent is
 * below -4 or at least `expThreshold` (6 for %v, so 1e6 prints `1e+06`), exponents with a sign and at least two
 * digits (`1e-05`), no trailing `.0`.
 */
export function formatGoFloat(v: number, expThreshold = 6): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const exp = v.toExponential(); // shortest digits: d.ddde±x
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exp)!;
  const sign = m[1]!;
  const digits = m[2]! + (m[3] ?? '');
  const e = Number(m[4]);
  if (e < -4 || e >= expThreshold) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ae = Math.abs(e);
    return `${sign}${mant}e${e < 0 ? '-' : '+'}${ae < 10 ? '0' + ae : ae}`;
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  if (digits.length <= e + 1) return sign + digits + '0'.repeat(e + 1 - digits.length);
  return `${sign}${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`;
}

/**
 * A JSON number as a label value. Loki shows the number's own digits; since JSON.parse keeps only the double, we
 * print its shortest form with plain digits below 1e21 (so integers look as written, `1.0` becomes `1`) and
 * Go-style exponents outside that range.
 */
export function formatJsonNumber(v: number): string {
  return formatGoFloat(v, 21);
}
