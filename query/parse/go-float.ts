/**
 * Go's strconv.ParseFloat(s, 64), which Loki applies to every number literal of a query: decimal and
 * hexadecimal floats (a hex mantissa needs a `p` exponent), `_` between digits, `inf`/`infinity`/`nan`
 * in any case. Anything else is "invalid syntax"; a finite literal too large for a float64 is "value out
 * of range" (Go returns ±Inf with that error, and Loki refuses the literal).
 */

export type GoFloat = { ok: true; value: number } | { ok: false; reason: 'invalid syntax' | 'value out of range' };

const SPECIAL_RE = /^([+-]?)(?:(inf|infinity)|(nan))$/i;
const DECIMAL_RE = /^[+-]?(?=\.?[0-9])[0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?$/;
const HEX_RE = /^([+-]?)0[xX]([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?[0-9_]+)$/;

const INVALID: GoFloat = { ok: false, reason: 'invalid syntax' };
const OUT_OF_RANGE: GoFloat = { ok: false, reason: 'value out of range' };

export function goParseFloat(s: string): GoFloat {
  const special = SPECIAL_RE.exec(s);
  if (special) {
    // Go accepts a sign before inf but not before nan.
    if (special[3] !== undefined) return special[1] === '' ? { ok: true, value: NaN } : INVALID;
    return { ok: true, value: special[1] === '-' ? -Infinity : Infinity };
  }
  const underscores = s.includes('_');
  if (underscores && !underscoresOk(s)) return INVALID;
  if (DECIMAL_RE.test(s)) {
    const v = Number(underscores ? s.replace(/_/g, '') : s);
    if (Number.isNaN(v)) return INVALID;
    return Number.isFinite(v) ? { ok: true, value: v } : OUT_OF_RANGE;
  }
  const hex = HEX_RE.exec(s);
  if (hex) return hexFloat(hex[1] === '-', hex[2]!.replace(/_/g, ''), (hex[3] ?? '').replace(/_/g, ''), hex[4]!.replace(/_/g, ''));
  return INVALID;
}

function hexFloat(negative: boolean, intDigits: string, fracDigits: string, exponent: string): GoFloat {
  if (intDigits.length + fracDigits.length === 0) return INVALID;
  const mantissa = BigInt('0x' + (intDigits + fracDigits || '0'));
  let v: number;
  if (mantissa === 0n) v = 0;
  else {
    // Exponents far outside the float range only decide between 0 and infinity.
    const e = Math.max(-5000, Math.min(5000, Number(exponent))) - 4 * fracDigits.length;
    v = scaleByPowerOfTwo(Number(mantissa), e);
    if (!Number.isFinite(v)) return OUT_OF_RANGE;
  }
  return { ok: true, value: negative ? -v : v };
}

/** x · 2^e in steps that stay inside the float range, so that only the final result can overflow or underflow. */
function scaleByPowerOfTwo(x: number, e: number): number {
  let v = x;
  let rest = e;
  while (rest > 1000) {
    v *= 2 ** 1000;
    rest -= 1000;
  }
  while (rest < -1000) {
    v *= 2 ** -1000;
    rest += 1000;
  }
  return v * 2 ** rest;
}

/**
 * Go's rule for digit separators: an `_` must sit between two digits, or between a base prefix (0x, 0o,
 * 0b) and a digit.
 */
export function underscoresOk(text: string): boolean {
  let s = text;
  if (s.startsWith('+') || s.startsWith('-')) s = s.slice(1);
  let i = 0;
  let hex = false;
  // prev: '^' start, '0' a digit or a base prefix, '_' a separator, '!' anything else.
  let prev = '^';
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1]!)) {
    i = 2;
    prev = '0';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      prev = '0';
    } else if (c === '_') {
      if (prev !== '0') return false;
      prev = '_';
    } else {
      if (prev === '_') return false;
      prev = '!';
    }
  }
  return prev !== '_';
}

/** Go's error text for a failed ParseFloat, as Loki quotes it. */
export function goParseFloatError(s: string, reason: 'invalid syntax' | 'value out of range'): string {
  return `strconv.ParseFloat: parsing ${JSON.stringify(s)}: ${reason}`;
}
