/**
 * LogQL strings follow Go's rules: double-quoted with Go escapes, or backticks with no escapes at all. Loki
 * users rely on both (backticks are the usual way to write regexes), so we match Go exactly, including its
 * rejection of escapes like `\d` that a regex author might expect to pass through.
 */

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  '\\': 0x5c,
  '"': 0x22,
};

export class StringEscapeError extends Error {
  /** Offset of the backslash within the text handed to decodeGoEscapes. */
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

const ALLOWED_ESCAPES = 'allowed escapes are \\a \\b \\f \\n \\r \\t \\v \\\\ \\" \\xHH \\ooo \\uHHHH \\UHHHHHHHH';

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Decodes the body of a double-quoted Go string (without the quotes). `\x` and octal escapes are bytes, as in
 * Go, so `"\xc3\xa9"` is `é`; the bytes are decoded as UTF-8 at the end.
 */
export function decodeGoEscapes(body: string): string {
  if (body.indexOf('\\') === -1) return body;
  const bytes: number[] = [];
  const pushCodePoint = (cp: number) => {
    const enc = Buffer.from(String.fromCodePoint(cp), 'utf8');
    for (const b of enc) bytes.push(b);
  };
  let i = 0;
  while (i < body.length) {
    const c = body.charCodeAt(i);
    if (c !== 92) {
      const cp = body.codePointAt(i)!;
      if (cp < 0x80) bytes.push(cp);
      else pushCodePoint(cp);
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const start = i;
    const e = body[i + 1];
    if (e === undefined) throw new StringEscapeError(`invalid escape at end of string; ${ALLOWED_ESCAPES}`, start);
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      bytes.push(simple);
      i += 2;
      continue;
    }
    if (e === 'x' || e === 'u' || e === 'U') {
      const digits = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      let v = 0;
      for (let k = 0; k < digits; k++) {
        const h = hexValue(body.charCodeAt(i + 2 + k));
        if (h < 0) {
          throw new StringEscapeError(`invalid escape "\\${e}${body.slice(i + 2, i + 2 + digits)}": \\${e} needs exactly ${digits} hex digits`, start);
        }
        v = v * 16 + h;
      }
      if (e === 'x') bytes.push(v);
      else {
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
          throw new StringEscapeError(`invalid escape "${body.slice(i, i + 2 + digits)}": not a valid Unicode code point`, start);
        }
        pushCodePoint(v);
      }
      i += 2 + digits;
      continue;
    }
    if (e >= '0' && e <= '7') {
      let v = 0;
      for (let k = 0; k < 3; k++) {
        const d = body.charCodeAt(i + 1 + k) - 48;
        if (!(d >= 0 && d <= 7)) throw new StringEscapeError(`invalid escape "${body.slice(i, i + 4)}": an octal escape needs exactly 3 digits 0-7`, start);
        v = v * 8 + d;
      }
      if (v > 255) throw new StringEscapeError(`invalid escape "${body.slice(i, i + 4)}": octal escape above \\377`, start);
      bytes.push(v);
      i += 4;
      continue;
    }
    const shown = String.fromCodePoint(body.codePointAt(i + 1)!);
    throw new StringEscapeError(
      `invalid escape "\\${shown}" in string; ${ALLOWED_ESCAPES}; write a regex as \`…\` (backticks) or double the backslash`,
      start,
    );
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A double-quoted Go string literal for `s` that decodeGoEscapes turns back into `s`. */
export function quoteGoString(s: string): string {
  let out = '"';
  let plainFrom = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = '\\\\';
    else if (c < 0x20 || c === 0x7f) {
      esc =
        c === 0x0a ? '\\n' : c === 0x09 ? '\\t' : c === 0x0d ? '\\r' : c === 0x07 ? '\\a' : c === 0x08 ? '\\b' : c === 0x0c ? '\\f' : c === 0x0b ? '\\v' : '\\x' + c.toString(16).padStart(2, '0');
    } else if ((c >= 0x80 && c <= 0x9f) || c === 0x2028 || c === 0x2029) {
      esc = '\\u' + c.toString(16).padStart(4, '0');
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate has no UTF-8 form; a valid pair passes through untouched.
      const pair = c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
      if (pair) {
        i++;
        continue;
      }
      esc = '\\ufffd';
    }
    if (esc !== undefined) {
      out += s.slice(plainFrom, i) + esc;
      plainFrom = i + 1;
    }
  }
  return out + s.slice(plainFrom) + '"';
}
