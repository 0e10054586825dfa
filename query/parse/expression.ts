/**
 * Expressions: the entry of the parser. Primaries are log queries, aggregations, functions, numbers and
 * parenthesised expressions; binary operators between them are parsed by precedence climbing.
 */
import type { Expr, LogSelectorExpr } from '../ast.js';
import type { Cursor } from './cursor.js';
import { binaryOpOf, buildBinary, COMPARISON_OPS, parseVectorMatching, PRECEDENCE } from './binary.js';
import { atGrouping } from './grouping.js';
import { parsePipelineInto, type LogParts } from './pipeline.js';
import { parseRangeAggregation, RANGE_OPS } from './range-aggregation.js';
import { parseSelectorMatchers } from './selector.js';
import { isNaNOrInf, nanOrInfValue, parseSignedNumber } from './signed-number.js';
import { parseLabelReplace, parseVectorAggregation, parseVectorCall, VECTOR_OPS } from './vector-aggregation.js';

const PRIMARY_EXPECTED = 'a stream selector like {app="x"}, a function like rate(…) or sum(…), a number or (';

export function parseExpression(c: Cursor, minPrec = 1): Expr {
  const start = c.peek().pos;
  c.enter(start);
  let left = withHeight(c, parseUnary(c), start);
  for (;;) {
    const opTok = c.peek();
    const op = binaryOpOf(opTok);
    if (op === undefined) break;
    const prec = PRECEDENCE[op]!;
    if (prec < minPrec) break;
    c.next();
    let bool = false;
    if (c.atIdent('bool')) {
      const b = c.next();
      if (!COMPARISON_OPS.has(op)) c.unexpectedWith(b, `the bool modifier can only be used on comparison operators (== != > >= < <=), not ${op}`);
      bool = true;
    }
    const matching = parseVectorMatching(c, op);
    const right = parseExpression(c, op === '^' ? prec : prec + 1);
    left = c.stack(c.mark(buildBinary(c, opTok, op, bool, matching, left, right), c.startOf(left)), opTok.pos, left, right);
  }
  c.leave();
  return left;
}

/** Aggregations and label_replace sit one level above their argument; a parenthesised expression keeps its height. */
function withHeight(c: Cursor, e: Expr, pos: number): Expr {
  if (e.kind === 'vector_agg' || e.kind === 'label_replace') return c.stack(e, pos, e.expr);
  return e;
}

function parseUnary(c: Cursor): Expr {
  const t = c.peek();
  if (t.type === 'op' && (t.text === '-' || t.text === '+')) {
    const n = c.peek(1);
    if (n.type !== 'number' && !(n.type === 'ident' && isNaNOrInf(n.text))) {
      c.fail(t.pos, `syntax error: unexpected ${c.nameOf(n)}, expecting NUMBER: unary ${t.text} is only allowed before a number; write 0 - … or -1 * … to negate an expression`);
    }
    const { value } = parseSignedNumber(c, 'NUMBER');
    return c.mark({ kind: 'literal', value }, t.pos);
  }
  return parsePrimary(c);
}

function parsePrimary(c: Cursor): Expr {
  const t = c.peek();
  switch (t.type) {
    case 'number':
      c.next();
      return c.mark({ kind: 'literal', value: t.num! }, t.pos);
    case 'op':
      if (t.text === '{') return parseLogQuery(c);
      if (t.text === '(') return parseParenthesized(c);
      break;
    case 'ident': {
      const name = t.text;
      const call = c.atOp('(', 1);
      if (RANGE_OPS.has(name) && call) return parseRangeAggregation(c);
      if (VECTOR_OPS.has(name) && (call || atGrouping(c, 1))) return parseVectorAggregation(c);
      if (name === 'vector' && call) return parseVectorCall(c);
      if (name === 'label_replace' && call) return parseLabelReplace(c);
      if (isNaNOrInf(name) && !call) {
        c.next();
        return c.mark({ kind: 'literal', value: nanOrInfValue(name) }, t.pos);
      }
      if (call) {
        c.unexpectedWith(
          t,
          `unknown function ${JSON.stringify(name)}: LogQL has the range aggregations ${[...RANGE_OPS].join(', ')}, the vector aggregations ${[...VECTOR_OPS].join(', ')}, and vector, label_replace`,
        );
      }
      break;
    }
    case 'duration':
      c.fail(t.pos, `syntax error: unexpected DURATION ${t.text}: a range like [${t.text}] belongs inside a range aggregation, such as count_over_time({…} [${t.text}])`);
  }
  return c.unexpected(t, PRIMARY_EXPECTED);
}

function parseParenthesized(c: Cursor): Expr {
  const open = c.next();
  const inner = parseExpression(c);
  c.expectOp(')', inner.kind === 'log' ? ') or |' : ') or a binary operator');
  if (inner.kind === 'log') {
    // `({app="x"} |= "a") | json` continues the same pipeline.
    const parts: LogParts = { matchers: inner.matchers, stages: [...inner.pipeline] };
    parsePipelineInto(c, parts, false);
    rejectRangeOnLogQuery(c);
    return c.mark({ kind: 'log', matchers: parts.matchers, pipeline: parts.stages }, open.pos);
  }
  return c.mark(inner, open.pos);
}

function rejectRangeOnLogQuery(c: Cursor): void {
  if (c.atOp('[')) {
    c.unexpectedWith(c.peek(), 'a range like [5m] is only allowed inside a range aggregation, such as count_over_time({…} [5m]) or rate({…} [5m])');
  }
}

/** A log query outside any range aggregation: `{…}` and its pipeline, no unwrap. */
function parseLogQuery(c: Cursor): LogSelectorExpr {
  const pos = c.peek().pos;
  const parts: LogParts = { matchers: parseSelectorMatchers(c), stages: [] };
  parsePipelineInto(c, parts, false);
  rejectRangeOnLogQuery(c);
  return c.mark({ kind: 'log', matchers: parts.matchers, pipeline: parts.stages }, pos);
}
