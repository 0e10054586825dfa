/**
 * Turns --since/--from/--to (and --step, --now) into the nanosecond instants the HTTP API takes. A time flag
 * accepts what the API accepts (RFC3339, Unix seconds or nanoseconds) plus `now` and a relative duration
 * (`2h` meaning two hours ago), which is what people type at a terminal.
 */
import { NS_PER_SEC, nowNs, parseDuration, parseTimestamp } from '../../model/time.js';
import { usageError } from './errors.js';

export interface TimeRange {
  start: bigint;
  end: bigint;
}

export interface TimeRangeFlags {
  since?: string;
  from?: string;
  to?: string;
}

const TIME_HELP = 'use RFC3339 (2024-01-02T15:04:05Z), Unix seconds or nanoseconds, now, or a duration back from now like 2h';

export function parseTimeFlag(flag: string, value: string, now: bigint = nowNs()): bigint {
  const text = value.trim();
  if (text === 'now') return now;
  // A bare number is an instant (as the API reads it); a number with a unit is a look-back from now.
  if (/^\d+(\.\d+)?[a-zµ]/.test(text)) {
    try {
      return now - parseDuration(text);
    } catch {
      throw usageError(`${flag} ${JSON.stringify(value)} is not a time: ${TIME_HELP}`);
    }
  }
  try {
    return parseTimestamp(text);
  } catch {
    throw usageError(`${flag} ${JSON.stringify(value)} is not a time: ${TIME_HELP}`);
  }
}

export function parseDurationFlag(flag: string, value: string, opts: { allowZero?: boolean } = {}): bigint {
  let ns: bigint;
  try {
    ns = parseDuration(value);
  } catch {
    throw usageError(`${flag} ${JSON.stringify(value)} is not a duration: use a number with a unit like 30s, 5m, 1h30m or 7d`);
  }
  if (ns < 0n || (ns === 0n && !opts.allowZero)) throw usageError(`${flag} ${JSON.stringify(value)} must be a positive duration`);
  return ns;
}

/** `--from` wins over `--since`; `--since` counts back from `--to` (or now). `--to` is exclusive. */
export function resolveTimeRange(flags: TimeRangeFlags, now: bigint = nowNs()): TimeRange {
  const end = flags.to !== undefined ? parseTimeFlag('--to', flags.to, now) : now;
  const start = flags.from !== undefined ? parseTimeFlag('--from', flags.from, now) : end - parseDurationFlag('--since', flags.since ?? '1h');
  if (start >= end) throw usageError(`the time range is empty: --from (or --to minus --since) must be before --to`);
  return { start, end };
}

/** Seconds as the API's `step` takes them: a plain decimal, exact to the nanosecond. */
export function nsToSecondsParam(ns: bigint): string {
  const whole = ns / NS_PER_SEC;
  const frac = ns % NS_PER_SEC;
  return frac === 0n ? whole.toString() : `${whole}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
}
