/**
 * RFC3339Nano parsing on the hot path. CRI and docker lines of one file share the same date-time prefix for a
 * whole second, so the seconds part is cached and only the fraction is parsed per line.
 * Returns null when the text is not a timestamp, so callers can fall back to the read time.
 */
const NS = 1_000_000_000n;

// The date-time part (first 19 characters) and zone of the last parsed timestamp, and its whole seconds.
let cachedHead = '';
let cachedZone = '';
let cachedSecsNs = 0n;

function digitsAt(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i + k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

export function parseRFC3339Fast(s: string): bigint | null {
  if (s.length < 20 || s.charCodeAt(4) !== 45 /* - */ || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 /* : */) return null;
  const t = s.charCodeAt(10);
  if (t !== 84 /* T */ && t !== 116 && t !== 32) return null;
  let i = 19;
  let frac = 0;
  let fracDigits = 0;
  if (s.charCodeAt(i) === 46 /* . */) {
    i++;
    while (i < s.length) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (fracDigits < 9) {
        frac = frac * 10 + c;
        fracDigits++;
      }
      i++;
    }
    if (fracDigits === 0) return null;
  }
  for (let k = fracDigits; k < 9; k++) frac *= 10;
  let secsNs: bigint;
  // Compared in place: no per-line string is built on the common path.
  if (s.length - i === cachedZone.length && s.startsWith(cachedHead) && s.endsWith(cachedZone) && cachedHead !== '') {
    secsNs = cachedSecsNs;
  } else {
    const zone = s.slice(i);
    const Y = digitsAt(s, 0, 4), M = digitsAt(s, 5, 2), D = digitsAt(s, 8, 2);
    const h = digitsAt(s, 11, 2), mi = digitsAt(s, 14, 2), sec = digitsAt(s, 17, 2);
    if (Y < 0 || M < 1 || M > 12 || D < 1 || D > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) return null;
    let ms = Date.UTC(Y, M - 1, D, h, mi, sec);
    if (zone !== 'Z' && zone !== 'z') {
      const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
      if (!m) return null;
      const off = (Number(m[2]) * 60 + Number(m[3])) * 60_000;
      ms -= m[1] === '-' ? -off : off;
    }
    secsNs = BigInt(ms / 1000) * NS;
    cachedHead = s.slice(0, 19);
    cachedZone = zone;
    cachedSecsNs = secsNs;
  }
  return secsNs + BigInt(frac);
}
