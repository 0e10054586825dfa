/**
 * Turning an unwrapped label value into a sample value, with the parsing rules Loki inherits from Go:
 * strconv.ParseFloat for plain numbers, time.ParseDuration for duration()/duration_seconds(), and
 * go-humanize's ParseBytes for bytes(). A failure is reported as a message, never thrown: it becomes the
 * series' `__error_details__`.
 */
import { goParseFloat, goParseFloatError } from '../parse/go-float.js';

export type Conversion = 'float' | 'duration' | 'duration_seconds' | 'bytes';

export type Converted = { ok: true; value: number } | { ok: false; error: string };

export function convertUnwrapped(raw: string, conversion: Conversion): Converted {
  switch (conversion) {
    case 'float':
      return parseGoFloat(raw);
    case 'duration':
    case 'duration_seconds':
      return parseGoDurationSeconds(raw);
    case 'bytes':
      return parseHumanBytes(raw);
  }
}

/** strconv.ParseFloat(s, 64), as Loki reads an unwrapped value (see go-float.ts). */
export function parseGoFloat(s: string): Converted {
  const f = goParseFloat(s);
  return f.ok ? f : { ok: false, error: goParseFloatError(s, f.reason) };
}

const DURATION_UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n,
  'μs': 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const DURATION_PART_RE = /^(\d*)(?:\.(\d*))?([^\d.]+)/;
const MAX_INT64 = 2n ** 63n - 1n;

/** time.ParseDuration(s).Seconds(): units ns us µs ms s m h, combinable, a sign, "0" alone. */
export function parseGoDurationSeconds(s: string): Converted {
  const fail = (): Converted => ({ ok: false, error: `time: invalid duration ${JSON.stringify(s)}` });
  let rest = s;
  let neg = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return { ok: true, value: 0 };
  if (rest === '') return fail();
  let total = 0n;
  while (rest !== '') {
    const m = DURATION_PART_RE.exec(rest);
    if (!m) return fail();
    const whole = m[1]!;
    const frac = m[2] ?? '';
    if (whole === '' && frac === '') return fail();
    const unit = DURATION_UNIT_NS[m[3]!];
    if (unit === undefined) return { ok: false, error: `time: unknown unit ${JSON.stringify(m[3])} in duration ${JSON.stringify(s)}` };
    total += BigInt(whole || '0') * unit;
    if (frac !== '') total += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    if (total > MAX_INT64) return { ok: false, error: `time: invalid duration ${JSON.stringify(s)}` };
    rest = rest.slice(m[0].length);
  }
  if (neg) total = -total;
  // Duration.Seconds(): whole seconds plus the remainder, so large values keep their nanoseconds.
  const sec = total / 1_000_000_000n;
  const nsec = total % 1_000_000_000n;
  return { ok: true, value: Number(sec) + Number(nsec) / 1e9 };
}

const BYTE_SIZES: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, ki: 2 ** 10, kib: 2 ** 10,
  m: 1e6, mb: 1e6, mi: 2 ** 20, mib: 2 ** 20,
  g: 1e9, gb: 1e9, gi: 2 ** 30, gib: 2 ** 30,
  t: 1e12, tb: 1e12, ti: 2 ** 40, tib: 2 ** 40,
  p: 1e15, pb: 1e15, pi: 2 ** 50, pib: 2 ** 50,
  e: 1e18, eb: 1e18, ei: 2 ** 60, eib: 2 ** 60,
};

/** go-humanize ParseBytes: a number (commas allowed), optional space, a unit like KB, KiB, M; truncated to bytes. */
export function parseHumanBytes(s: string): Converted {
  const m = /^[\d.,]*/.exec(s)!;
  const num = m[0].replace(/,/g, '');
  const parsed = parseGoFloat(num);
  if (!parsed.ok) return parsed;
  const unit = s.slice(m[0].length).trim().toLowerCase();
  const mult = BYTE_SIZES[unit];
  if (mult === undefined) return { ok: false, error: `unhandled size name: ${unit}` };
  const v = parsed.value * mult;
  if (v >= 2 ** 64) return { ok: false, error: `too large: ${s}` };
  return { ok: true, value: Math.trunc(v) };
}
