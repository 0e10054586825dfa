/**
 * Splits a Go text/template source into text and `{{ actions }}` (honouring `{{-`/`-}}` whitespace trimming and
 * `{{/* comments *\/}}`) and tokenizes each action.
 */

export class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export type Token =
  | { type: 'field'; path: string[]; pos: number }
  | { type: 'dot'; pos: number }
  | { type: 'ident'; name: string; pos: number }
  | { type: 'string'; value: string; pos: number }
  | { type: 'number'; value: number; int: boolean; pos: number }
  | { type: 'op'; op: '(' | ')' | '|'; pos: number };

export type Segment = { kind: 'text'; text: string; pos: number } | { kind: 'action'; tokens: Token[]; pos: number };

/** Where a 1-based line:column is, for messages. */
export function position(src: string, offset: number): string {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < src.length; i++) {
    if (src[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return `${line}:${col}`;
}

const SPACE = /[ \t\r\n]/;

export function segment(src: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) out.push({ kind: 'text', text, pos: i });
      break;
    }
    let p = open + 2;
    if (src[p] === '-' && SPACE.test(src[p + 1] ?? '')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      p += 2;
    }
    if (text) out.push({ kind: 'text', text, pos: i });
    // Comments.
    let q = p;
    while (SPACE.test(src[q] ?? '')) q++;
    if (src.startsWith('/*', q)) {
      const endC = src.indexOf('*/', q + 2);
      if (endC < 0) throw new TemplateSyntaxError('unclosed comment', open);
      let r = endC + 2;
      while (SPACE.test(src[r] ?? '')) r++;
      if (src.startsWith('-}}', r) && SPACE.test(src[r - 1] ?? '')) {
        trimNext = true;
        r += 3;
      } else if (src.startsWith('}}', r)) r += 2;
      else throw new TemplateSyntaxError('comment ends before closing delimiter', endC);
      i = r;
      continue;
    }
    const { tokens, end, trim } = tokenize(src, p, open);
    out.push({ kind: 'action', tokens, pos: open });
    trimNext = trim;
    i = end;
  }
  return out;
}

const IDENT = /[A-Za-z0-9_]/;

/** Tokens of one action starting at `p`; returns the offset after its closing `}}`. */
function tokenize(src: string, p: number, open: number): { tokens: Token[]; end: number; trim: boolean } {
  const tokens: Token[] = [];
  let i = p;
  for (;;) {
    if (i >= src.length) throw new TemplateSyntaxError('unclosed action', open);
    const c = src[i]!;
    if (SPACE.test(c)) {
      if (src[i + 1] === '-' && src.startsWith('}}', i + 2)) return { tokens, end: i + 4, trim: true };
      i++;
      continue;
    }
    if (src.startsWith('}}', i)) return { tokens, end: i + 2, trim: false };
    if (c === '(' || c === ')' || c === '|') {
      tokens.push({ type: 'op', op: c, pos: i });
      i++;
      continue;
    }
    if (c === '.') {
      if (!IDENT.test(src[i + 1] ?? '') || /[0-9]/.test(src[i + 1]!)) {
        if (/[0-9]/.test(src[i + 1] ?? '')) {
          i = number(src, i, tokens);
          continue;
        }
        tokens.push({ type: 'dot', pos: i });
        i++;
        continue;
      }
      const start = i;
      const path: string[] = [];
      while (src[i] === '.' && IDENT.test(src[i + 1] ?? '')) {
        let j = i + 1;
        while (IDENT.test(src[j] ?? '')) j++;
        path.push(src.slice(i + 1, j));
        i = j;
      }
      tokens.push({ type: 'field', path, pos: start });
      continue;
    }
    if (c === '"') {
      const start = i;
      i++;
      let value = '';
      for (;;) {
        const ch = src[i];
        if (ch === undefined || ch === '\n') throw new TemplateSyntaxError('unterminated quoted string', start);
        if (ch === '"') {
          i++;
          break;
        }
        if (ch === '\\') {
          const r = goEscape(src, i);
          value += r.text;
          i = r.end;
          continue;
        }
        value += ch;
        i++;
      }
      tokens.push({ type: 'string', value, pos: start });
      continue;
    }
    if (c === '`') {
      const close = src.indexOf('`', i + 1);
      if (close < 0) throw new TemplateSyntaxError('unterminated raw quoted string', i);
      tokens.push({ type: 'string', value: src.slice(i + 1, close), pos: i });
      i = close + 1;
      continue;
    }
    if (c === "'") {
      const start = i;
      let ch: string;
      let end: number;
      if (src[i + 1] === '\\') {
        const r = goEscape(src, i + 1);
        ch = r.text;
        end = r.end;
      } else {
        const cp = src.codePointAt(i + 1);
        if (cp === undefined) throw new TemplateSyntaxError('unterminated character constant', start);
        ch = String.fromCodePoint(cp);
        end = i + 1 + ch.length;
      }
      if (src[end] !== "'") throw new TemplateSyntaxError('unterminated character constant', start);
      tokens.push({ type: 'number', value: ch.codePointAt(0)!, int: true, pos: start });
      i = end + 1;
      continue;
    }
    if (/[0-9+-]/.test(c)) {
      i = number(src, i, tokens);
      continue;
    }
    if (c === '$') throw new TemplateSyntaxError('template variables ($x) are not supported', i);
    if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (IDENT.test(src[j] ?? '')) j++;
      tokens.push({ type: 'ident', name: src.slice(i, j), pos: i });
      i = j;
      continue;
    }
    if (c === ':' || c === '=') throw new TemplateSyntaxError('template variable assignment is not supported', i);
    throw new TemplateSyntaxError(`unexpected ${JSON.stringify(c)} in action`, i);
  }
}

function number(src: string, i: number, tokens: Token[]): number {
  const m = /^[+-]?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*)?(?:\.\d*)?(?:[eE][+-]?\d+)?)/.exec(src.slice(i));
  const text = m ? m[0] : '';
  if (!/\d/.test(text)) throw new TemplateSyntaxError(`bad number syntax: ${JSON.stringify(src.slice(i, i + 10))}`, i);
  if (IDENT.test(src[i + text.length] ?? '') && !/^[+-]?0[xX]/.test(text)) {
    throw new TemplateSyntaxError(`bad number syntax: ${JSON.stringify(src.slice(i, i + text.length + 1))}`, i);
  }
  const clean = text.replace(/_/g, '');
  const isHex = /^[+-]?0[xX]/.test(clean);
  const int = isHex || /^[+-]?\d+$/.test(clean);
  const value = isHex ? (clean.startsWith('-') ? -1 : 1) * Number.parseInt(clean.replace(/^[+-]?0[xX]/, ''), 16) : Number(clean);
  tokens.push({ type: 'number', value, int, pos: i });
  return i + text.length;
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/** A Go escape sequence at `i` (the backslash) inside a quoted string or character constant. */
function goEscape(src: string, i: number): { text: string; end: number } {
  const e = src[i + 1];
  if (e === undefined) throw new TemplateSyntaxError('unterminated quoted string', i);
  const simple = SIMPLE_ESCAPES[e];
  if (simple !== undefined) return { text: simple, end: i + 2 };
  const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
  if (hexLen) {
    const hex = src.slice(i + 2, i + 2 + hexLen);
    if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) throw new TemplateSyntaxError(`invalid escape \\${e}${hex}`, i);
    const v = Number.parseInt(hex, 16);
    return { text: e === 'x' ? String.fromCharCode(v) : String.fromCodePoint(v), end: i + 2 + hexLen };
  }
  if (/[0-7]/.test(e)) {
    const oct = src.slice(i + 1, i + 4);
    if (!/^[0-7]{3}$/.test(oct)) throw new TemplateSyntaxError(`invalid octal escape \\${oct}`, i);
    return { text: String.fromCharCode(Number.parseInt(oct, 8)), end: i + 4 };
  }
  throw new TemplateSyntaxError(`unknown escape sequence \\${e}`, i);
}
