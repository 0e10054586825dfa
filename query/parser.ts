/**
 * LogQL parser: text → AST (query/ast.ts). A hand-written recursive-descent parser with precedence climbing for
 * binary operators. Every failure is a ParseError with the line and column of the offending token. Besides
 * syntax it enforces what Loki checks before running a query (non-empty selectors, unwrap/aggregation pairing,
 * grouping rules, valid regexes, topk's k), so the engine only ever sees well-formed trees.
 */
import type { Expr, LogSelectorExpr, Matcher } from './ast.js';
import { tokenize } from './lexer.js';
import { parseErrorAt } from './parse-error.js';
import { Cursor } from './parse/cursor.js';
import { parseExpression } from './parse/expression.js';
import { parseSelectorMatchers } from './parse/selector.js';

export { ParseError } from './parse-error.js';

/** Parses a whole LogQL query: a log query or a metric query. */
export function parseExpr(text: string): Expr {
  const c = new Cursor(text, tokenize(text));
  const e = parseExpression(c);
  if (!c.atEnd()) {
    const t = c.peek();
    if (t.type === 'ident' && t.text === 'offset') {
      c.unexpectedWith(t, 'offset belongs inside the range aggregation, right after the range, like rate({…} [5m] offset 1h)');
    }
    c.unexpected(t, e.kind === 'log' ? '| or a line filter (|= != |~ !~) or end of input' : 'a binary operator or end of input');
  }
  return e;
}

const METRIC_KIND: Record<Exclude<Expr['kind'], 'log'>, string> = {
  range_agg: 'a range aggregation',
  vector_agg: 'a vector aggregation',
  binary: 'a binary operation',
  literal: 'a number',
  vector: 'vector()',
  label_replace: 'label_replace()',
};

/** Parses a log query (`{…}` with an optional pipeline), as the tail endpoint needs; metric queries are refused. */
export function parseLogSelector(text: string): LogSelectorExpr {
  const e = parseExpr(text);
  if (e.kind !== 'log') {
    const first = tokenize(text)[0]!;
    throw parseErrorAt(text, first.pos, `only log selector is supported: expecting a log query like {app="x"} |= "error", but this is a metric query (${METRIC_KIND[e.kind]})`);
  }
  return e;
}

/**
 * Parses a bare stream selector `{a="b", c=~"x.*"}`, as the series API's `match[]` takes; no pipeline.
 * With `anyStreams`, the selector may select every stream (`{}`), as the series API allows.
 */
export function parseSelector(text: string, anyStreams = false): Matcher[] {
  const c = new Cursor(text, tokenize(text));
  const matchers = parseSelectorMatchers(c, anyStreams);
  if (!c.atEnd()) {
    const t = c.peek();
    if (t.type === 'op' && (t.text === '|' || t.text === '|=' || t.text === '!=' || t.text === '|~' || t.text === '!~' || t.text === '|>' || t.text === '!>')) {
      c.fail(t.pos, 'only label matchers are supported: a series selector is a bare {…} without a pipeline');
    }
    c.unexpected(t, 'end of input');
  }
  return matchers;
}
