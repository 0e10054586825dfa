/**
 * The miner's tokeniser: one pass over the line's characters, no regexes and no strings made — a token
 * is its start and end offsets in the line, so comparing it with a pattern's word allocates nothing.
 * Words split at spaces and tabs; a `key=value` word becomes two tokens, `key=` and the value glued to
 * it, so logfmt lines keep their keys as constants (`duration=<_>`) instead of whole pairs becoming `<_>`.
 * In a line that starts with `{` (JSON), words also end after each `:` and before each `,`, glued, so
 * `{"ts":"…","level":"info"` keeps its keys and separators as constants and its values as their own tokens.
 */
export class Tokens {
  count = 0;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** glue[i] = 1: token i follows token i-1 with no space between them. */
  readonly glue: Uint8Array;
  line = '';

  constructor(readonly max: number) {
    this.starts = new Int32Array(max);
    this.ends = new Int32Array(max);
    this.glue = new Uint8Array(max);
  }

  word(i: number): string {
    return this.line.slice(this.starts[i], this.ends[i]);
  }

  /** Whether token i is `w`, without making a string of it. */
  is(i: number, w: string): boolean {
    const s = this.starts[i]!;
    return this.ends[i]! - s === w.length && this.line.startsWith(w, s);
  }

  hasDigit(i: number): boolean {
    const line = this.line;
    for (let j = this.starts[i]!, e = this.ends[i]!; j < e; j++) {
      const c = line.charCodeAt(j);
      if (c >= 48 && c <= 57) return true;
    }
    return false;
  }

  words(): string[] {
    const out: string[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.word(i);
    return out;
  }
}

/**
 * Tokenises `line` into `out` (reused between lines); false when the line has more than `out.max`
 * tokens, which the caller skips as Loki does rather than spending work on it.
 */
export function tokenize(line: string, out: Tokens): boolean {
  const { starts, ends, glue, max } = out;
  out.line = line;
  let k = 0;
  const n = line.length;
  if (n > 0 && line.charCodeAt(0) === 123) return tokenizeJson(line, out);
  if (line.indexOf('\t') < 0) return tokenizeSpaces(line, out);
  let i = 0;
  for (;;) {
    let c = 0;
    while (i < n && ((c = line.charCodeAt(i)) === 32 || c === 9)) i++;
    if (i === n) break;
    const start = i;
    let eq = -1;
    while (i < n) {
      c = line.charCodeAt(i);
      if (c === 32 || c === 9) break;
      if (c === 61 && eq < 0) eq = i; // '='
      i++;
    }
    // `key=value` with a plain key: split after '='; `=x`, `x=` stay whole.
    if (eq > start && eq < i - 1) {
      if (k + 2 > max) return false;
      starts[k] = start;
      ends[k] = eq + 1;
      glue[k++] = 0;
      starts[k] = eq + 1;
      ends[k] = i;
      glue[k++] = 1;
    } else {
      if (k + 1 > max) return false;
      starts[k] = start;
      ends[k] = i;
      glue[k++] = 0;
    }
  }
  out.count = k;
  return true;
}

/** Lines without tabs (nearly all): words found with indexOf, which scans natively, not a char at a time. */
function tokenizeSpaces(line: string, out: Tokens): boolean {
  const { starts, ends, glue, max } = out;
  let k = 0;
  const n = line.length;
  let i = 0;
  let nextEq = -1; // the first '=' at or after i, n when none
  while (i < n) {
    if (line.charCodeAt(i) === 32) {
      i++;
      continue;
    }
    const start = i;
    let end = line.indexOf(' ', i);
    if (end < 0) end = n;
    if (nextEq < start) {
      nextEq = line.indexOf('=', start);
      if (nextEq < 0) nextEq = n;
    }
    // `key=value` with a plain key: split after '='; `=x`, `x=` stay whole.
    if (nextEq > start && nextEq < end - 1) {
      if (k + 2 > max) return false;
      starts[k] = start;
      ends[k] = nextEq + 1;
      glue[k++] = 0;
      starts[k] = nextEq + 1;
      ends[k] = end;
      glue[k++] = 1;
    } else {
      if (k + 1 > max) return false;
      starts[k] = start;
      ends[k] = end;
      glue[k++] = 0;
    }
    i = end + 1;
  }
  out.count = k;
  return true;
}

/** JSON lines: as tokenize, with ':' ending a token and ',' starting one (both glued to what precedes). */
function tokenizeJson(line: string, out: Tokens): boolean {
  const { starts, ends, glue, max } = out;
  let k = 0;
  const n = line.length;
  let i = 0;
  let glued = 0;
  while (i < n) {
    let c = line.charCodeAt(i);
    if (c === 32 || c === 9) {
      while (i < n && ((c = line.charCodeAt(i)) === 32 || c === 9)) i++;
      glued = 0;
      continue;
    }
    const start = i;
    i++;
    if (c !== 58) {
      while (i < n) {
        c = line.charCodeAt(i);
        if (c === 32 || c === 9 || c === 44) break; // space, tab, ','
        i++;
        if (c === 58) break; // ':' ends the token, kept in it
      }
    }
    if (k === max) return false;
    starts[k] = start;
    ends[k] = i;
    glue[k++] = glued;
    glued = 1;
  }
  out.count = k;
  return true;
}

/** The pattern text of tokens: spaces between words except where glued; glued `<_>` runs become one. */
export function joinTokens(words: readonly string[], glue: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (i > 0 && glue[i] && w === '<_>' && words[i - 1] === '<_>') continue;
    s += i === 0 || glue[i] ? w : ' ' + w;
  }
  return s;
}
