/**
 * The miner's tokeniser: one pass over the line's characters, no regexes. Words split at spaces and tabs;
 * a `key=value` word becomes two tokens, `key=` and the value glued to it, so logfmt lines keep their
 * keys as constants (`duration=<_>`) instead of turning whole pairs into `<_>`.
 */
export interface Tokens {
  words: string[];
  /** glue[i] = 1: token i follows token i-1 with no space between them. */
  glue: number[];
}

/**
 * Tokenises `line` into `out` (reused between lines); false when the line has more than `maxTokens`
 * tokens, which the caller skips as Loki does rather than spending work on it.
 */
export function tokenize(line: string, maxTokens: number, out: Tokens): boolean {
  const words = out.words;
  const glue = out.glue;
  words.length = 0;
  glue.length = 0;
  const n = line.length;
  let i = 0;
  while (i < n) {
    let c = line.charCodeAt(i);
    while (c === 32 || c === 9) {
      if (++i === n) return true;
      c = line.charCodeAt(i);
    }
    const start = i;
    let eq = -1;
    while (i < n) {
      c = line.charCodeAt(i);
      if (c === 32 || c === 9) break;
      if (c === 61 && eq < 0) eq = i; // '='
      i++;
    }
    // `key=value` with a plain key: split after '='; `=x`, `x=` and quoted keys stay one word.
    if (eq > start && eq < i - 1) {
      if (words.length + 2 > maxTokens) return false;
      words.push(line.slice(start, eq + 1), line.slice(eq + 1, i));
      glue.push(0, 1);
    } else {
      if (words.length + 1 > maxTokens) return false;
      words.push(line.slice(start, i));
      glue.push(0);
    }
  }
  return true;
}

/** The pattern text of tokens: spaces between words except where glued. */
export function joinTokens(words: readonly string[], glue: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < words.length; i++) s += i === 0 || glue[i] ? words[i] : ' ' + words[i];
  return s;
}
