/**
 * LogQL tokenizer. Keywords (`by`, `json`, `offset`, `or`…) come out as plain identifiers and the parser gives
 * them meaning by position, so a label that happens to be called `json` or `offset` still works in a selector.
 * Scans by character code, no regex per character; a query becomes a token array up front because queries
 * are short and the parser wants cheap lookahead.
 */
import { parseErrorAt } from './parse-error.js';
import { decodeGoEscapes, StringEscapeError } from './parse/go-string.js';
import { tokenLabel } from './parse/token-name.js';
import { classifyNumeric } from './parse/units.js';
import { readNumberLiteral } from './parse/number-literal.js';
import { TimeParseError } from '../src/model/time.js';

export type TokenType = 'ident' | 'string' | 'number' | 'duration' | 'bytes' | 'flag' | 'op' | 'eof';

export interface Token {
  type: TokenType;
  /** Source text; for `op` the operator itself, for `string` the decoded value is in `value`. */
  text: string;
  /** UTF-16 offsets into the query. */
  pos: number;
  end: number;
  /** Decoded string value. */
  value?: string;
  /** Value of a number or bytes literal. */
  num?: number;
  /** Value of a duration literal, in nanoseconds. */
  dur?: bigint;
}

const enum C {
  Tab = 9, LF = 10, VT = 11, FF = 12, CR = 13, Space = 32, Bang = 33, Quote = 34, Hash = 35, Percent = 37,
  LParen = 40, RParen = 41, Star = 42, Plus = 43, Comma = 44, Minus = 45, Dot = 46, Slash = 47,
  D0 = 48, D9 = 57, Colon = 58, Lt = 60, Eq = 61, Gt = 62, UpperA = 65, UpperZ = 90, LBracket = 91,
  Backslash = 92, RBracket = 93, Caret = 94, Underscore = 95, Backtick = 96, LowerA = 97, LowerZ = 122,
  LBrace = 123, Pipe = 124, RBrace = 125, Tilde = 126, Micro = 0xb5, GreekMu = 0x3bc,
}

function isLetter(c: number): boolean {
  return (c >= C.LowerA && c <= C.LowerZ) || (c >= C.UpperA && c <= C.UpperZ) || c === C.Underscore;
}

function isDigit(c: number): boolean {
  return c >= C.D0 && c <= C.D9;
}

/** Characters that may continue a number, duration or size literal (`1.5e3`, `1h30m`, `10KiB`, `5µs`). */
function isNumericPart(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === C.Dot || c === C.Micro || c === C.GreekMu;
}

/** Two-character operators keyed by their first character. */
const TWO_CHAR: Record<number, Record<number, string>> = {
  [C.Pipe]: { [C.Eq]: '|=', [C.Tilde]: '|~', [C.Gt]: '|>' },
  [C.Bang]: { [C.Eq]: '!=', [C.Tilde]: '!~', [C.Gt]: '!>' },
  [C.Eq]: { [C.Eq]: '==', [C.Tilde]: '=~' },
  [C.Gt]: { [C.Eq]: '>=' },
  [C.Lt]: { [C.Eq]: '<=' },
};

const ONE_CHAR: Record<number, string> = {
  [C.LBrace]: '{', [C.RBrace]: '}', [C.LParen]: '(', [C.RParen]: ')', [C.LBracket]: '[', [C.RBracket]: ']',
  [C.Comma]: ',', [C.Colon]: ':', [C.Plus]: '+', [C.Minus]: '-', [C.Star]: '*', [C.Slash]: '/',
  [C.Percent]: '%', [C.Caret]: '^', [C.Pipe]: '|', [C.Eq]: '=', [C.Gt]: '>', [C.Lt]: '<',
};

/** Go's float syntax, which Loki's literals follow: hexadecimal only as a float with a p exponent. */
const NUMBER_FORMS = 'numbers look like 42, 0.5, 1e3, 1_000 or 0x1p3 (a hexadecimal number needs a p exponent; 0x1A, 0b1010, 0o17 are not numbers)';

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  const fail = (offset: number, detail: string): never => {
    throw parseErrorAt(text, offset, detail);
  };
  /** A run like `42`, `0x1p3`, `1h30m` or `20MB`: a number by Go's rules first, else a duration or a size. */
  const pushNumeric = (raw: string, start: number, end: number): void => {
    const num = readNumberLiteral(raw);
    if (num?.ok) {
      tokens.push({ type: 'number', text: raw, pos: start, end, num: num.value });
      return;
    }
    let lit: ReturnType<typeof classifyNumeric>;
    try {
      lit = classifyNumeric(raw);
    } catch (e) {
      // A duration past the int64 nanoseconds every time is held in (like offset 100000000h).
      if (e instanceof TimeParseError) fail(start, e.message);
      throw e;
    }
    if (lit === undefined) {
      if (num) fail(start, `invalid number ${JSON.stringify(raw)}: ${num.error}; ${NUMBER_FORMS}`);
      fail(start, `invalid number, duration or size ${JSON.stringify(raw)}: ${NUMBER_FORMS}; durations use the units ns, us, ms, s, m, h, d, w, y (like 5m or 1h30m); sizes use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB (like 20MB)`);
    } else if (lit.type === 'duration') {
      tokens.push({ type: 'duration', text: raw, pos: start, end, dur: lit.value });
    } else {
      tokens.push({ type: lit.type, text: raw, pos: start, end, num: lit.value });
    }
  };

  while (i < n) {
    const c = text.charCodeAt(i);

    if (c === C.Space || c === C.Tab || c === C.LF || c === C.CR || c === C.FF || c === C.VT) {
      i++;
      continue;
    }
    if (c === C.Hash) {
      while (i < n && text.charCodeAt(i) !== C.LF) i++;
      continue;
    }

    const start = i;

    if (isLetter(c)) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (!isLetter(d) && !isDigit(d)) break;
        i++;
      }
      tokens.push({ type: 'ident', text: text.slice(start, i), pos: start, end: i });
      continue;
    }

    if (isDigit(c) || (c === C.Dot && isDigit(text.charCodeAt(i + 1)))) {
      // The sign of an exponent is part of the number: after e/E in a decimal run (`1e-3`), after p/P in a
      // hexadecimal one (`0x1p-3`), where e is a digit.
      const hex = c === C.D0 && (text.charCodeAt(i + 1) | 0x20) === 120;
      let plainSoFar = true;
      while (i < n) {
        const d = text.charCodeAt(i);
        const exp = hex ? d === 112 || d === 80 : (d === 101 || d === 69) && plainSoFar;
        if (exp) {
          const s = text.charCodeAt(i + 1);
          if ((s === C.Plus || s === C.Minus) && isDigit(text.charCodeAt(i + 2))) {
            i += 3;
            continue;
          }
        }
        if (!isNumericPart(d)) break;
        if (!isDigit(d) && d !== C.Dot && d !== C.Underscore) plainSoFar = false;
        i++;
      }
      const raw = text.slice(start, i);
      pushNumeric(raw, start, i);
      continue;
    }

    if (c === C.Quote) {
      i++;
      let closed = false;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === C.Quote) {
          closed = true;
          break;
        }
        if (d === C.LF) break;
        i += d === C.Backslash && i + 1 < n && text.charCodeAt(i + 1) !== C.LF ? 2 : 1;
      }
      if (!closed) fail(start, 'literal not terminated: unterminated string: a double-quoted string must close with " on the same line (use backticks for multi-line strings)');
      let value = '';
      try {
        value = decodeGoEscapes(text.slice(start + 1, i));
      } catch (e) {
        if (e instanceof StringEscapeError) fail(start + 1 + e.offset, `invalid char escape: ${e.message}`);
        throw e;
      }
      i++;
      tokens.push({ type: 'string', text: text.slice(start, i), pos: start, end: i, value });
      continue;
    }

    if (c === C.Backtick) {
      const close = text.indexOf('`', i + 1);
      if (close === -1) fail(start, 'literal not terminated: unterminated raw string: a string opened with ` must close with `');
      const body = text.slice(i + 1, close);
      // Go drops carriage returns from raw strings, so CRLF queries mean the same as LF ones.
      const value = body.indexOf('\r') === -1 ? body : body.replace(/\r/g, '');
      i = close + 1;
      tokens.push({ type: 'string', text: text.slice(start, i), pos: start, end: i, value });
      continue;
    }

    // `--strict`, `--keep-empty`: parser flags.
    if (c === C.Minus && text.charCodeAt(i + 1) === C.Minus && isLetter(text.charCodeAt(i + 2))) {
      i += 2;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (!isLetter(d) && !isDigit(d) && d !== C.Minus) break;
        i++;
      }
      tokens.push({ type: 'flag', text: text.slice(start, i), pos: start, end: i });
      continue;
    }

    const two = TWO_CHAR[c]?.[text.charCodeAt(i + 1)];
    if (two !== undefined) {
      i += 2;
      tokens.push({ type: 'op', text: two, pos: start, end: i });
      continue;
    }
    const one = ONE_CHAR[c];
    if (one !== undefined) {
      i++;
      tokens.push({ type: 'op', text: one, pos: start, end: i });
      continue;
    }

    const ch = String.fromCodePoint(text.codePointAt(i)!);
    // Loki's lexer hands a stray character to its parser as an IDENTIFIER (a lone `.` as DOT).
    const loki = `syntax error: unexpected ${ch === '.' ? '.' : 'IDENTIFIER'}`;
    if (c === C.Bang) fail(start, `${loki}: unexpected character "!": did you mean != or !~?`);
    fail(start, `${loki}: unexpected character ${JSON.stringify(ch)}`);
  }

  tokens.push({ type: 'eof', text: '', pos: n, end: n });
  return tokens;
}

/** How a token is named in "unexpected X, expecting Y" messages: Loki's name for it (see parse/token-name.ts). */
export function describeToken(t: Token): string {
  return tokenLabel([t], 0);
}
