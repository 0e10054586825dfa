/**
 * Label filters: `level="error"`, `status >= 400`, `latency > 250ms`, `size > 20MB`, `addr = ip("10.0.0.0/8")`,
 * combined with `and`/`or`. Loki 3.x's rules, which decide whether a query fails:
 * - String matchers see a missing label as "" and are the only filters that can drop an entry for its
 *   `__error__` (`| __error__=""`).
 * - Number, duration and bytes filters drop an entry that lacks the label. A value that does not convert keeps
 *   the entry and marks it `__error__="LabelFilterErr"` with Go's message in `__error_details__` — unless it
 *   already carries an error, which stays (the first failure owns the details). Entries with an earlier error
 *   are still compared when their value converts.
 * - `ip()` keeps every entry that already carries an error, drops one without the label, and otherwise looks
 *   for an address anywhere in the value.
 * - `and`/`or` evaluate left to right and stop as soon as the outcome is known, so a comparison that an earlier
 *   one made irrelevant never marks the entry.
 */
import type { CompareOp, LabelFilterExpr } from '../ast.js';
import { GoParseError, goParseBytes, goParseDuration, goParseFloat } from '../go-values.js';
import { compileMatcher } from '../regex.js';
import { compileIPSearch } from './ip-search.js';
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

function valueFilter<T extends number | bigint>(name: string, convert: (s: string) => T | GoParseError, op: CompareOp, want: T): LabelPredicate {
  return (lbs) => {
    const raw = lbs.get(name);
    if (raw === undefined) return false;
    const v = convert(raw);
    if (v instanceof GoParseError) {
      if (!lbs.hasError()) lbs.setError(LABEL_FILTER_ERR, v.message);
      return true;
    }
    return compare(op, v, want);
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
    case 'number':
      return valueFilter(expr.name, goParseFloat, expr.op, expr.value);
    case 'duration':
      return valueFilter(expr.name, goParseDuration, expr.op, expr.value);
    case 'bytes':
      return valueFilter(expr.name, goParseBytes, expr.op, expr.value);
    case 'ip': {
      const name = expr.name;
      const found = compileIPSearch(expr.pattern);
      const want = expr.op === '=';
      return (lbs) => {
        if (lbs.hasError()) return true;
        const v = lbs.get(name);
        return v !== undefined && found(v) === want;
      };
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
