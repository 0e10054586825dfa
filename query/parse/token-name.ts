/**
 * How Loki names a token in "syntax error: unexpected X" messages, so narvi's syntax errors carry the same words.
 * Loki's lexer turns its keywords into tokens named by their text (`bool`, `by`, `or`, `json`…) wherever they
 * appear, and a function name followed by `(` (or by `by (`/`without (`) into a token named after the function
 * in capitals (`RATE`, `SUM`); every other word is an IDENTIFIER, and the end of the query is `$end`.
 */
import type { Token } from '../lexer.js';

/** Words Loki always lexes as keywords (case-insensitively), named by their lower-case text. */
const KEYWORDS: ReadonlySet<string> = new Set([
  'by', 'without', 'bool', 'unwrap', 'label_replace', 'offset', 'on', 'ignoring', 'group_left', 'group_right',
  'or', 'and', 'unless', 'json', 'regexp', 'logfmt', 'unpack', 'pattern', 'label_format', 'line_format', 'ip',
  'decolorize', 'drop', 'keep', 'variants', 'of',
]);

/** Function names and the token Loki names them by when they are called; a bare mention is an IDENTIFIER. */
const FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ...[
    'rate', 'rate_counter', 'count_over_time', 'bytes_rate', 'bytes_over_time', 'avg_over_time', 'sum_over_time',
    'min_over_time', 'max_over_time', 'stdvar_over_time', 'stddev_over_time', 'quantile_over_time', 'first_over_time',
    'last_over_time', 'absent_over_time', 'vector', 'sum', 'avg', 'max', 'min', 'count', 'stddev', 'stdvar', 'bottomk',
    'topk', 'sort', 'sort_desc', 'approx_topk',
  ].map((f): [string, string] => [f, f.toUpperCase()]),
  ['bytes', 'BYTES_CONV'],
  ['duration', 'DURATION_CONV'],
  ['duration_seconds', 'DURATION_SECONDS_CONV'],
  ['label_replace', 'label_replace'],
  ['ip', 'ip'],
]);

function isOpen(t: Token | undefined): boolean {
  return t !== undefined && t.type === 'op' && t.text === '(';
}

/** Loki's name for `tokens[i]`; the tokens after it tell a function call from a plain word. */
export function lokiTokenName(tokens: readonly Token[], i: number): string {
  const t = tokens[i]!;
  switch (t.type) {
    case 'ident': {
      const w = t.text.toLowerCase();
      const fn = FUNCTIONS.get(w);
      if (fn !== undefined) {
        const n = tokens[i + 1];
        const called = isOpen(n) || (n?.type === 'ident' && (n.text.toLowerCase() === 'by' || n.text.toLowerCase() === 'without') && isOpen(tokens[i + 2]));
        return called ? fn : 'IDENTIFIER';
      }
      return KEYWORDS.has(w) ? w : 'IDENTIFIER';
    }
    case 'string':
      return 'STRING';
    case 'number':
      return 'NUMBER';
    case 'duration':
      return 'DURATION';
    case 'bytes':
      return 'BYTES';
    case 'flag':
      return 'PARSER_FLAG';
    case 'eof':
      return '$end';
    case 'op':
      // Loki reads `[5m]` as one RANGE token.
      if (t.text === '[') return 'RANGE';
      if (t.text === ':') return 'IDENTIFIER';
      return t.text;
  }
}

/** Loki's name for `tokens[i]` as narvi prints it: the end of the query is also spelled out. */
export function tokenLabel(tokens: readonly Token[], i: number): string {
  const name = lokiTokenName(tokens, i);
  return tokens[i]!.type === 'eof' ? `${name} (end of input)` : name;
}
