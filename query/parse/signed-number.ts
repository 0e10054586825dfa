/** Numeric arguments written in the query: `topk(5, …)`, `quantile_over_time(0.99, …)`, `vector(-1)`, `x > -1`. */
import type { Cursor } from './cursor.js';

export function isNaNOrInf(word: string): boolean {
  const w = word.toLowerCase();
  return w === 'nan' || w === 'inf';
}

export function nanOrInfValue(word: string): number {
  return word.toLowerCase() === 'nan' ? NaN : Infinity;
}

/** A number with an optional sign; also NaN and Inf. */
export function parseSignedNumber(c: Cursor, expecting: string): { value: number; pos: number; text: string } {
  const pos = c.peek().pos;
  let sign = 1;
  if (c.atOp('-') || c.atOp('+')) {
    if (c.next().text === '-') sign = -1;
  }
  const t = c.peek();
  if (t.type === 'number') {
    c.next();
    return { value: sign * t.num!, pos, text: c.text.slice(pos, t.end) };
  }
  if (t.type === 'ident' && isNaNOrInf(t.text) && !c.atOp('(', 1)) {
    c.next();
    return { value: sign * nanOrInfValue(t.text), pos, text: c.text.slice(pos, t.end) };
  }
  return c.unexpected(t, expecting);
}
