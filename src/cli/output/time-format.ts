/**
 * Timestamps as the CLI prints them: RFC3339 in the zone --timezone names (Local, UTC or an IANA zone), with
 * milliseconds for people and all nine digits (trailing zeros trimmed, like Go's RFC3339Nano) for jsonl.
 */
import { usageError } from '../client/errors.js';

export interface TimeZone {
  name: string;
  /** Minutes east of UTC at the given instant (zones change offset with daylight saving). */
  offsetMinutes(ms: number): number;
}

export function resolveTimeZone(name: string): TimeZone {
  const n = name.trim();
  if (/^local$/i.test(n)) return { name: 'Local', offsetMinutes: (ms) => -new Date(ms).getTimezoneOffset() };
  if (/^(utc|z|gmt)$/i.test(n)) return { name: 'UTC', offsetMinutes: () => 0 };
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: n, timeZoneName: 'longOffset' });
  } catch {
    throw usageError(`--timezone ${JSON.stringify(name)} is not a known time zone: use Local, UTC or an IANA name like Europe/Paris`);
  }
  return {
    name: n,
    offsetMinutes(ms) {
      const part = fmt.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
      const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(part);
      if (!m) return 0;
      const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
      return m[1] === '-' ? -minutes : minutes;
    },
  };
}

const NS_PER_MS = 1_000_000n;

export function formatTime(ns: bigint, tz: TimeZone, precision: 'ms' | 'ns' = 'ms'): string {
  const msFloor = ns / NS_PER_MS - (ns < 0n && ns % NS_PER_MS !== 0n ? 1n : 0n);
  const ms = Number(msFloor);
  const offset = tz.offsetMinutes(ms);
  const local = new Date(ms + offset * 60_000);
  if (Number.isNaN(local.getTime())) return ns.toString();
  const base = local.toISOString().slice(0, 19);
  const nanosOfSecond = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const frac =
    precision === 'ms'
      ? '.' + (nanosOfSecond / NS_PER_MS).toString().padStart(3, '0')
      : nanosOfSecond === 0n
        ? ''
        : '.' + nanosOfSecond.toString().padStart(9, '0').replace(/0+$/, '');
  return base + frac + formatOffset(offset);
}

function formatOffset(minutes: number): string {
  if (minutes === 0) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
