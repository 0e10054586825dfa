/** Label lists: `by (a, b)`, `without (a)`, and the lists of `on`, `ignoring`, `group_left`, `group_right`. */
import type { Grouping } from '../ast.js';
import type { Cursor } from './cursor.js';

/** `(a, b)`: label names in parentheses; empty and trailing commas are allowed. */
export function parseLabelList(c: Cursor): string[] {
  c.expectOp('(');
  const labels: string[] = [];
  while (!c.atOp(')')) {
    labels.push(c.expectIdent(labels.length === 0 ? 'IDENTIFIER or )' : 'IDENTIFIER').text);
    if (c.atOp(',')) c.next();
    else if (!c.atOp(')')) c.unexpected(c.peek(), ', or )');
  }
  c.next();
  return labels;
}

/** `by (…)` or `without (…)`; the caller has checked atGrouping. */
export function parseGrouping(c: Cursor): Grouping {
  const without = c.next().text === 'without';
  return { without, labels: parseLabelList(c) };
}

/** Whether `by (` or `without (` starts `k` tokens ahead. */
export function atGrouping(c: Cursor, k = 0): boolean {
  return (c.atIdent('by', k) || c.atIdent('without', k)) && c.atOp('(', k + 1);
}
