import { GoParseError, goParseBytes, goParseDuration, goParseFloat } from '../../query/go-values.js';

/** The value types Loki's detected_fields reports. */
export type FieldType = 'int' | 'float' | 'boolean' | 'duration' | 'bytes' | 'string';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const GO_BOOLS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);

/** strconv.ParseInt(v, 10, 64) succeeds: an optional sign, decimal digits, inside int64. */
export function isGoInt(v: string): boolean {
  if (!/^[+-]?[0-9]+$/.test(v)) return false;
  const n = BigInt(v);
  return n >= INT64_MIN && n <= INT64_MAX;
}

/**
 * A value's type as Loki guesses it, trying in its order: int, float, boolean (Go's ParseBool words),
 * duration (time.ParseDuration), bytes (go-humanize ParseBytes), else string. The order matters: `1` is an
 * int, not a boolean; `5m` is a duration, not five megabytes.
 */
export function fieldTypeOf(v: string): FieldType {
  if (isGoInt(v)) return 'int';
  if (!(goParseFloat(v) instanceof GoParseError)) return 'float';
  if (GO_BOOLS.has(v)) return 'boolean';
  if (!(goParseDuration(v) instanceof GoParseError)) return 'duration';
  if (!(goParseBytes(v) instanceof GoParseError)) return 'bytes';
  return 'string';
}

// Suffixes that mark a value as written in bytes, for the values endpoint's rewrite (lower case).
const BYTE_UNIT_SUFFIXES = ['b', 'kib', 'kb', 'mib', 'mb', 'gib', 'gb', 'tib', 'tb', 'pib', 'pb', 'eib', 'eb', 'ki', 'k', 'mi', 'm', 'gi', 'g', 'ti', 't', 'pi', 'p', 'ei', 'e'];
const SI_SIZES = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** Go's `%.0f`: rounds half to even, as fmt does for a value with an exact .5. */
function goFixed0(v: number): string {
  const r = Math.round(v);
  return String(Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r);
}

/** go-humanize Bytes (SI units), without its space: 83854982 → `84MB`, 1500 → `1.5kB`, 7 → `7B`. */
export function humanBytesSI(n: number): string {
  if (n < 10) return `${Math.trunc(n)}B`;
  const e = Math.min(Math.floor(Math.log(n) / Math.log(1000)), SI_SIZES.length - 1);
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return (val < 10 ? val.toFixed(1) : goFixed0(val)) + SI_SIZES[e]!;
}

/**
 * A parsed field's value as the values endpoint lists it: a value written with a byte unit is rewritten in
 * go-humanize's SI form (`1024KiB` → `1.0MB`), so it can be pasted into a `| size > 1.0MB` filter as Loki
 * does; anything else stays as written.
 */
export function listedValue(v: string): string {
  const bytes = goParseBytes(v);
  if (bytes instanceof GoParseError) return v;
  const lower = v.toLowerCase();
  return BYTE_UNIT_SUFFIXES.some((u) => lower.endsWith(u)) ? humanBytesSI(bytes) : v;
}
