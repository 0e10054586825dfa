/**
 * A number literal read the way Loki reads one: Go's text/scanner decides where the number ends and
 * which mistakes it reports (`0x1.8` without a `p` exponent, `019`, `1__0`…), then strconv.ParseFloat
 * gives its value. The scanner accepts integer literals with a base prefix (`0x1A`, `0b1010`, `0o17`)
 * that ParseFloat then refuses, which is why Loki fails them with "unable to parse literal as a float".
 */
import { goParseFloat, goParseFloatError, underscoresOk } from './go-float.js';

export type NumberLiteral = { ok: true; value: number } | { ok: false; error: string };

/**
 * `text` is a whole run of number-like characters. Returns undefined when Go's scanner would stop
 * before the end of the run without an error: the run is then a duration, a size, or garbage.
 */
export function readNumberLiteral(text: string): NumberLiteral | undefined {
  const scan = scanGoNumber(text);
  if (scan.end !== text.length) return undefined;
  if (scan.error !== undefined) return { ok: false, error: scan.error };
  const f = goParseFloat(text);
  if (f.ok) return f;
  return { ok: false, error: `unable to parse literal as a float: ${goParseFloatError(text, f.reason)}` };
}

/**
 * Where Go's scanner ends a number starting at `text[0]` (a digit, or a `.` before a digit), and the first
 * error it reports on the way, worded as Go words it.
 */
export function scanGoNumber(text: string): { end: number; error?: string } {
  let i = 0;
  let base = 10;
  /** '' decimal, '0' legacy octal, or the letter of the base prefix. */
  let prefix = '';
  let sawDigit = false;
  let sawSeparator = false;
  let invalidDigit = '';
  let isFloat = false;
  let error: string | undefined;
  const report = (msg: string) => {
    error ??= msg;
  };

  const digits = (b: number): void => {
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (c === '_') sawSeparator = true;
      else if (isDecimal(c)) {
        sawDigit = true;
        if (b < 10 && c.charCodeAt(0) - 48 >= b && invalidDigit === '') invalidDigit = c;
      } else if (b === 16 && isHexLetter(c)) sawDigit = true;
      else break;
    }
  };

  if (text[0] === '.') {
    i = 1;
    isFloat = true;
  } else {
    if (text[0] === '0') {
      i = 1;
      const p = (text[1] ?? '').toLowerCase();
      if (p === 'x' || p === 'o' || p === 'b') {
        i = 2;
        prefix = p;
        base = p === 'x' ? 16 : p === 'o' ? 8 : 2;
      } else {
        prefix = '0';
        base = 8;
        sawDigit = true;
      }
    }
    digits(base);
    if (text[i] === '.') {
      i++;
      isFloat = true;
    }
  }
  if (isFloat) {
    if (prefix === 'o' || prefix === 'b') report(`invalid radix point in ${literalName(prefix)}`);
    digits(base);
  }
  if (!sawDigit) report(`${literalName(prefix)} has no digits`);

  const e = text[i];
  if (e === 'e' || e === 'E' || e === 'p' || e === 'P') {
    if ((e === 'e' || e === 'E') && prefix !== '' && prefix !== '0') report(`'${e}' exponent requires decimal mantissa`);
    if ((e === 'p' || e === 'P') && prefix !== 'x') report(`'${e}' exponent requires hexadecimal mantissa`);
    i++;
    isFloat = true;
    if (text[i] === '+' || text[i] === '-') i++;
    const before = sawDigit;
    sawDigit = false;
    digits(10);
    if (!sawDigit) report('exponent has no digits');
    sawDigit = before || sawDigit;
  } else if (prefix === 'x' && isFloat) {
    report("hexadecimal mantissa requires a 'p' exponent");
  }
  if (!isFloat && invalidDigit !== '') report(`invalid digit '${invalidDigit}' in ${literalName(prefix)}`);
  if (sawSeparator && !underscoresOk(text.slice(0, i))) report("'_' must separate successive digits");
  return error === undefined ? { end: i } : { end: i, error };
}

function literalName(prefix: string): string {
  switch (prefix) {
    case 'x':
      return 'hexadecimal literal';
    case 'o':
    case '0':
      return 'octal literal';
    case 'b':
      return 'binary literal';
    default:
      return 'decimal literal';
  }
}

function isDecimal(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isHexLetter(c: string): boolean {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
