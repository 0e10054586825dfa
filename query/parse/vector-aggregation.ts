/** Vector aggregations (`sum by (a) (…)`, `topk(5, …)`) and the functions `vector(…)` and `label_replace(…)`. */
import type { Expr, Grouping, SampleExpr, VectorAggregationExpr, VectorOp } from '../ast.js';
import type { Token } from '../lexer.js';
import { ParseError } from '../parse-error.js';
import { isValidLabelName } from '../../src/model/labels.js';
import { isScalar, LOG_NEEDS_RANGE } from './binary.js';
import type { Cursor } from './cursor.js';
import { parseExpression } from './expression.js';
import { atGrouping, parseGrouping } from './grouping.js';
import { checkRegexAt } from './selector.js';
import { isNaNOrInf, parseSignedNumber } from './signed-number.js';

export const VECTOR_OPS: ReadonlySet<string> = new Set<VectorOp>([
  'sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'approx_topk', 'sort', 'sort_desc',
]);

/** The aggregations that take the number of series k as their first argument. */
const K_OPS: ReadonlySet<string> = new Set<VectorOp>(['topk', 'bottomk', 'approx_topk']);

/** Go's strconv.Atoi, with which Loki reads k: decimal digits with an optional sign, within int64. */
function goAtoi(text: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const n = BigInt(text);
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) return undefined;
  return Number(n);
}

/** A vector-valued operand: not a log query, not a plain number. */
function requireVector(c: Cursor, e: Expr, what: string): SampleExpr {
  // Loki's grammar takes a log query there only as the left operand of an operator, so it stumbles on what follows.
  if (e.kind === 'log') c.fail(c.startOf(e), `syntax error: unexpected ${c.nameOf(c.peek())}: ${what} ${LOG_NEEDS_RANGE}`);
  if (isScalar(e)) c.fail(c.startOf(e), `${what} needs a vector, such as rate({…} [5m]) or vector(1), not a number`);
  return e;
}

export function parseVectorAggregation(c: Cursor): VectorAggregationExpr {
  const opTok = c.next();
  const op = opTok.text as VectorOp;
  let grouping: Grouping | undefined;
  let groupingPos = 0;
  if (atGrouping(c)) {
    groupingPos = c.peek().pos;
    grouping = parseGrouping(c);
  }
  c.expectOp('(');
  let param: number | undefined;
  if (K_OPS.has(op)) {
    param = parseK(c, op);
    c.expectOp(',');
  } else if ((c.peek().type === 'number' || c.atOp('-')) && (c.atOp(',', 1) || c.atOp(',', 2))) {
    const p = c.peek();
    const text = c.text.slice(p.pos, c.peek(c.atOp(',', 1) ? 0 : 1).end).replace(/\s+/g, '');
    c.fail(p.pos, `unsupported parameter for operation ${op}(${text},: ${op} does not take a parameter; only topk, bottomk and approx_topk do`);
  }
  const inner = parseExpression(c);
  const expr = requireVector(c, inner, op);
  c.expectOp(')', ') or a binary operator');
  if (atGrouping(c)) {
    const pos = c.peek().pos;
    if (grouping) c.unexpectedWith(c.peek(), `${op}: give by/without either before or after the parentheses, not both`);
    groupingPos = pos;
    grouping = parseGrouping(c);
  }
  if (grouping && (op === 'sort' || op === 'sort_desc')) {
    // As in Loki, an empty `by ()`/`without ()` is harmless and dropped.
    if (grouping.labels.length > 0) {
      c.fail(groupingPos, `sort and sort_desc doesn't allow grouping by: grouping not allowed for ${op}: sort and sort_desc order the whole result`);
    }
    grouping = undefined;
  }
  if (grouping && op === 'approx_topk') {
    c.fail(groupingPos, 'grouping not allowed for approx_topk aggregation: approx_topk ranks the whole vector; group in an inner aggregation instead, like approx_topk(5, sum by (app) (rate({…} [5m])))');
  }
  const e: VectorAggregationExpr = { kind: 'vector_agg', op, expr };
  if (param !== undefined) e.param = param;
  if (grouping) e.grouping = grouping;
  return c.mark(e, opTok.pos);
}

/** k of topk/bottomk/approx_topk, checked as Loki checks it, with Loki's wording in the messages. */
function parseK(c: Cursor, op: VectorOp): number {
  const t = c.peek();
  const numberLike = t.type === 'number' || c.atOp('-') || c.atOp('+') || (t.type === 'ident' && isNaNOrInf(t.text) && c.atOp(',', 1));
  if (!numberLike) {
    c.fail(t.pos, `parameter required for operation ${op}: ${op} needs the number of series as its first argument, like ${op}(5, sum by (app) (rate({…} [5m])))`);
  }
  const k = parseSignedNumber(c, 'NUMBER');
  const text = k.text.replace(/\s+/g, '');
  const n = goAtoi(text);
  if (n === undefined) c.fail(k.pos, `invalid parameter ${op}(${text},: the number of series must be a whole number, like ${op}(5, …)`);
  if (n <= 0) c.fail(k.pos, `invalid parameter (must be greater than 0) ${op}(${text}: the number of series must be at least 1`);
  return n;
}

export function parseVectorCall(c: Cursor): Expr {
  const t = c.next();
  c.next();
  const { value } = parseSignedNumber(c, 'NUMBER, like vector(1)');
  c.expectOp(')');
  return c.mark({ kind: 'vector', value }, t.pos);
}

export function parseLabelReplace(c: Cursor): Expr {
  const t = c.next();
  c.next();
  const expr = requireVector(c, parseExpression(c), 'label_replace');
  const args: string[] = [];
  const argNames = ['destination label', 'replacement', 'source label', 'regex'];
  let regexTok: Token | undefined;
  let dstTok: Token | undefined;
  for (const name of argNames) {
    c.expectOp(',', `, (label_replace takes the arguments expr, "dst", "replacement", "src", "regex")`);
    const s = c.expectString(`STRING (the ${name})`);
    if (name === 'regex') regexTok = s;
    if (name === 'destination label') dstTok = s;
    args.push(s.value);
  }
  c.expectOp(')');
  const [dst, replacement, src, regex] = args as [string, string, string, string];
  if (!isValidLabelName(dst)) c.fail(dstTok!.pos, `invalid destination label name ${JSON.stringify(dst)} in label_replace: names match [a-zA-Z_][a-zA-Z0-9_]*`);
  try {
    checkRegexAt(c, regexTok!, regex, true);
  } catch (e) {
    if (e instanceof ParseError) c.fail(regexTok!.pos, `invalid regex in label_replace: ${e.detail.replace(/^invalid regex /, '')}`);
    throw e;
  }
  return c.mark({ kind: 'label_replace', expr, dst, replacement, src, regex }, t.pos);
}
