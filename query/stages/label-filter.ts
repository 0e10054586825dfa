/**
 * Label filters: `level="error"`, `status >= 400`, `latency > 250ms`, `size > 20MB`, `addr = ip("10.0.0.0/8")`,
 * combined with `and`/`or`. String matchers see a missing label as "". Number, duration and bytes filters drop
 * entries that lack the label, keep entries whose value does not parse (marking them
 * `__error__="LabelFilterErr"` so the user sees why), and let through entries that already carry an error: as in
 * Loki, only a string matcher (`__error__=""`) filters errors out.
 */
import type { CompareOp, LabelFilterExpr } from '../ast.js';
import { compileMatcher } from '../regex.js';
import { parseGoDuration, parseGoFloat, parseHumanBytes } from '../units.js';
import { compileIPPattern } from './ip-match.js';
import type { LabelsBuilder } from './labels-builder.js';
import type { EntryState, Stage } from './stage.js';

export const LABEL_FILTER_ERR = 'LabelFilterErr';

export type LabelPredicate = (lbs: LabelsBuilder) => boolean;

function compare<T extends number | bigint>(op: CompareOp, a: T, b: T): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
}

function valueFilter<T extends number | bigint>(name: string, parse: (s: string) => T, test: (v: T) => boolean): LabelPredicate {
  return (lbs) => {
    if (lbs.hasError()) return true;
    const raw = lbs.get(name);
    if (raw === undefined) return false;
    let v: T;
    try {
      v = parse(raw);
    } catch (e) {
      lbs.setError(LABEL_FILTER_ERR, (e as Error).message);
      return true;
    }
    return test(v);
  };
}

export function compileLabelFilter(expr: LabelFilterExpr): LabelPredicate {
  switch (expr.kind) {
    case 'and': {
      const l = compileLabelFilter(expr.left);
      const r = compileLabelFilter(expr.right);
      return (lbs) => l(lbs) && r(lbs);
    }
    case 'or': {
      const l = compileLabelFilter(expr.left);
      const r = compileLabelFilter(expr.right);
      return (lbs) => l(lbs) || r(lbs);
    }
    case 'string': {
      const name = expr.matcher.name;
      const m = compileMatcher(expr.matcher);
      return (lbs) => m(lbs.get(name) ?? '');
    }
    case 'number': {
      const { op, value } = expr;
      return valueFilter(expr.name, parseGoFloat, (v) => compare(op, v, value));
    }
    case 'duration': {
      const { op, value } = expr;
      return valueFilter(expr.name, parseGoDuration, (v) => compare(op, v, value));
    }
    case 'bytes': {
      const { op, value } = expr;
      return valueFilter(expr.name, parseHumanBytes, (v) => compare(op, v, value));
    }
    case 'ip': {
      const name = expr.name;
      const inRange = compileIPPattern(expr.pattern);
      const want = expr.op === '=';
      return (lbs) => inRange(lbs.get(name) ?? '') === want;
    }
  }
}

export class LabelFilter implements Stage {
  private readonly pred: LabelPredicate;

  constructor(expr: LabelFilterExpr) {
    this.pred = compileLabelFilter(expr);
  }

  process(e: EntryState): boolean {
    return this.pred(e.labels);
  }
}
