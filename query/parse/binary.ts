/**
 * Binary operators: Prometheus' precedence table (`^` right-associative and tightest, then `* / %`, `+ -`,
 * comparisons, `and unless`, and `or` loosest), the `bool`, `on`/`ignoring` and `group_left`/`group_right`
 * modifiers, and the operand rules Loki checks before evaluation.
 */
import type { BinaryExpr, BinaryOp, Expr, SampleExpr, VectorMatching } from '../ast.js';
import { arithmetic, compare, isComparison } from '../eval/binary-ops.js';
import type { Token } from '../lexer.js';
import type { Cursor } from './cursor.js';
import { goFixed } from './go-fixed.js';
import { parseLabelList } from './grouping.js';

export const PRECEDENCE: Record<string, number> = {
  or: 1, and: 2, unless: 2,
  '==': 3, '!=': 3, '>': 3, '>=': 3, '<': 3, '<=': 3,
  '+': 4, '-': 4,
  '*': 5, '/': 5, '%': 5,
  '^': 6,
};

export function binaryPrecedence(op: BinaryOp): number {
  return PRECEDENCE[op]!;
}

export const COMPARISON_OPS: ReadonlySet<string> = new Set(['==', '!=', '>', '>=', '<', '<=']);
export const SET_OPS: ReadonlySet<string> = new Set(['and', 'or', 'unless']);

export const LOG_NEEDS_RANGE =
  'needs a range aggregation around the log query, such as count_over_time({…} [5m]) or rate({…} [5m])';

export function binaryOpOf(t: Token): BinaryOp | undefined {
  if (t.type === 'op' && t.text !== '=' && PRECEDENCE[t.text] !== undefined) return t.text as BinaryOp;
  if (t.type === 'ident' && SET_OPS.has(t.text)) return t.text as BinaryOp;
  return undefined;
}

/** True for expressions that evaluate to a scalar rather than a vector. */
export function isScalar(e: Expr): boolean {
  return e.kind === 'literal' || (e.kind === 'binary' && isScalar(e.left) && isScalar(e.right));
}

/** The value of a scalar expression, folded as Loki folds two literal legs (a comparison gives 1 or 0). */
function scalarValue(e: Expr): number {
  if (e.kind === 'literal') return e.value;
  if (e.kind !== 'binary') return NaN;
  const l = scalarValue(e.left);
  const r = scalarValue(e.right);
  if (isComparison(e.op)) return compare(e.op, l, r) ? 1 : 0;
  if (e.op === 'and' || e.op === 'or' || e.op === 'unless') return NaN;
  return arithmetic(e.op, l, r);
}

export function buildBinary(c: Cursor, opTok: Token, op: BinaryOp, bool: boolean, matching: VectorMatching | undefined, left: Expr, right: Expr): BinaryExpr {
  for (const [leg, side] of [['left', left], ['right', right]] as const) {
    if (side.kind === 'log') {
      // Loki names the Go type of the log query that ended up as an operand.
      const type = side.pipeline.length === 0 ? '*syntax.MatchersExpr' : '*syntax.PipelineExpr';
      c.fail(c.startOf(side), `unexpected type for ${leg} leg of binary operation (${op}): ${type}; a log query cannot be an operand of ${op}: it ${LOG_NEEDS_RANGE}`);
    }
  }
  const l = left as SampleExpr;
  const r = right as SampleExpr;
  if (SET_OPS.has(op) && (isScalar(l) || isScalar(r))) {
    const [leg, scalar] = isScalar(l) ? ['left', l] : ['right', r];
    c.fail(
      opTok.pos,
      `unexpected literal for ${leg} leg of logical/set binary operation (${op}): ${goFixed(scalarValue(scalar))}; set operator ${op} needs a vector on both sides, not a number`,
    );
  }
  if (matching && (isScalar(l) || isScalar(r))) {
    c.fail(opTok.pos, `vector matching (on/ignoring) is only allowed between two vectors, but ${op} has a number operand`);
  }
  const e: BinaryExpr = { kind: 'binary', op, bool, left: l, right: r };
  if (matching) e.matching = matching;
  return e;
}

export function parseVectorMatching(c: Cursor, op: BinaryOp): VectorMatching | undefined {
  let matching: VectorMatching | undefined;
  if ((c.atIdent('on') || c.atIdent('ignoring')) && c.atOp('(', 1)) {
    const on = c.next().text === 'on';
    matching = { on, labels: parseLabelList(c) };
  }
  if (c.atIdent('group_left') || c.atIdent('group_right')) {
    const g = c.next();
    if (!matching) c.unexpectedWith(g, `${g.text} must follow on(…) or ignoring(…), like x / on(job) ${g.text}(env) y`);
    if (SET_OPS.has(op)) c.fail(g.pos, `${g.text} is not allowed with the set operator ${op}`);
    const include = c.atOp('(') ? parseLabelList(c) : [];
    if (matching.on) {
      const both = include.find((l) => matching!.labels.includes(l));
      if (both !== undefined) c.fail(g.pos, `label ${JSON.stringify(both)} must not occur in both on(…) and ${g.text}(…)`);
    }
    matching.group = { side: g.text === 'group_left' ? 'left' : 'right', include };
  }
  return matching;
}
