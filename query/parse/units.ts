/**
 * The numeric literals with a unit — durations (`1h30m`) and byte sizes (`20MB`) — told apart by their suffix,
 * and all three kinds (plain numbers too, read in number-literal.ts) printed back in a form that parses to the
 * same value.
 */
import { NS_PER_SEC, parseDuration } from '../../src/model/time.js';

export type NumericLiteral =
  | { type: 'duration'; value: bigint }
  | { type: 'bytes'; value: number };

const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|μs|ms|s|m|h|d|w|y))+$/;
const BYTES_RE = /^(\d+(?:\.\d+)?)([kmgtpe]i?b?|b)$/i;

const BYTE_UNIT: Record<string, number> = { b: 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15, e: 1e18 };
const BYTE_UNIT_BINARY: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50, e: 2 ** 60 };

/**
 * Classifies a run like `1h30m` or `20MB` that is not a plain number (those follow Go's rules, see
 * number-literal.ts). Durations win over sizes for the shared letter `m`, as in Loki (`1m` is a minute,
 * `1MB` a megabyte). Returns undefined when the run is neither.
 */
export function classifyNumeric(text: string): NumericLiteral | undefined {
  if (DURATION_RE.test(text)) return { type: 'duration', value: parseDuration(text.replace(/μ/g, 'µ')) };
  const b = BYTES_RE.exec(text);
  if (b) {
    const unit = b[2]!.toLowerCase();
    const mult = unit.length > 1 && unit[1] === 'i' ? BYTE_UNIT_BINARY[unit[0]!]! : BYTE_UNIT[unit[0]!]!;
    return { type: 'bytes', value: Math.round(Number(b[1]) * mult) };
  }
  return undefined;
}

const DURATION_UNITS: [string, bigint][] = [
  ['y', 365n * 86400n * NS_PER_SEC],
  ['w', 7n * 86400n * NS_PER_SEC],
  ['d', 86400n * NS_PER_SEC],
  ['h', 3600n * NS_PER_SEC],
  ['m', 60n * NS_PER_SEC],
  ['s', NS_PER_SEC],
  ['ms', 1_000_000n],
  ['us', 1000n],
  ['ns', 1n],
];

/** Shortest Prometheus-style spelling: `5m`, `1h30m`, `1w`, `1d12h`, `250ms`. */
export function formatDurationLiteral(ns: bigint): string {
  if (ns === 0n) return '0s';
  let v = ns < 0n ? -ns : ns;
  let out = ns < 0n ? '-' : '';
  for (const [unit, size] of DURATION_UNITS) {
    if (v >= size) {
      out += `${v / size}${unit}`;
      v %= size;
    }
  }
  return out;
}

const BYTE_SPELLINGS: [string, number][] = [
  ['EiB', 2 ** 60], ['EB', 1e18], ['PiB', 2 ** 50], ['PB', 1e15], ['TiB', 2 ** 40], ['TB', 1e12],
  ['GiB', 2 ** 30], ['GB', 1e9], ['MiB', 2 ** 20], ['MB', 1e6], ['KiB', 2 ** 10], ['KB', 1e3],
];

/** `20MB`, `1GiB`, `1536B`: the largest unit that divides the size exactly, so it parses back unchanged. */
export function formatBytesLiteral(n: number): string {
  if (n > 0 && Number.isInteger(n)) {
    for (const [unit, size] of BYTE_SPELLINGS) {
      if (n >= size && n % size === 0) return `${n / size}${unit}`;
    }
  }
  return `${n}B`;
}

/** A number as LogQL source text; the caller adds a unary minus for negative values via this same string. */
export function formatNumberLiteral(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Inf';
  if (n === -Infinity) return '-Inf';
  if (Object.is(n, -0)) return '-0';
  return String(n);
}
