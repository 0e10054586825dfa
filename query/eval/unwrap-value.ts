/**
 * Turning an unwrapped label value into a sample value, with the parsing rules Loki inherits from Go:
 * strconv.ParseFloat for plain numbers, time.ParseDuration for duration()/duration_seconds(), and
 * go-humanize's ParseBytes for bytes(). A failure is reported as a message, never thrown: it becomes the
 * series' `__error_details__`, in Go's own words (see query/go-values.ts, shared with label filters).
 */
import { GoParseError, goParseBytes, goParseDuration, goParseFloat } from '../go-values.js';

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

function converted(v: number | GoParseError): Converted {
  return v instanceof GoParseError ? { ok: false, error: v.message } : { ok: true, value: v };
}

/** strconv.ParseFloat(s, 64): decimal, exponent, hex with a p exponent, inf/infinity/nan; nothing else. */
export function parseGoFloat(s: string): Converted {
  return converted(goParseFloat(s));
}

/** time.ParseDuration(s).Seconds(): units ns us µs ms s m h, combinable, a sign, "0" alone. */
export function parseGoDurationSeconds(s: string): Converted {
  const d = goParseDuration(s);
  if (d instanceof GoParseError) return { ok: false, error: d.message };
  // Duration.Seconds(): whole seconds plus the remainder, so large values keep their nanoseconds.
  const sec = d / 1_000_000_000n;
  const nsec = d % 1_000_000_000n;
  return { ok: true, value: Number(sec) + Number(nsec) / 1e9 };
}

/** go-humanize ParseBytes: a number (commas allowed), optional space, a unit like KB, KiB, M; truncated to bytes. */
export function parseHumanBytes(s: string): Converted {
  return converted(goParseBytes(s));
}
