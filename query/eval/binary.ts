import type { BinaryExpr, VectorMatching } from '../ast.js';
import { canonicalLabels, type Labels } from '../../src/model/labels.js';
import { arithmetic, compare, isComparison, isSetOp } from './binary-ops.js';
import { QueryEvalError } from './errors.js';
import { labelsKey } from './label-set.js';
import { SeriesSet, isScalar, type EvalValue, type Series } from './series-set.js';

/**
 * A binary operation over two evaluated operands, with Prometheus semantics where Loki keeps them: scalar–scalar gives a
 * scalar; vector–scalar applies to every sample; vector–vector matches samples per step by their labels
 * (all of them, or `on(…)`/`ignoring(…)`), one-to-one unless `group_left`/`group_right` makes one side
 * the "one" side of a many-to-one match. Comparisons filter unless `bool` turns them into 0/1; between two
 * scalars they always give 0/1. Division and modulo by zero give NaN, as in Loki.
 */
export function evalBinary(expr: BinaryExpr, lhs: EvalValue, rhs: EvalValue): EvalValue {
  const { op } = expr;
  if (isScalar(lhs) && isScalar(rhs)) {
    if (isSetOp(op)) throw new QueryEvalError(`set operator "${op}" not allowed in binary scalar expression`);
    // Loki folds two literals into one at parse time, comparisons included: 1 or 0, with or without bool.
    if (isComparison(op)) return { kind: 'scalar', value: compare(op, lhs.value, rhs.value) ? 1 : 0 };
    return { kind: 'scalar', value: arithmetic(op, lhs.value, rhs.value) };
  }
  if (isScalar(lhs) || isScalar(rhs)) {
    if (isSetOp(op)) throw new QueryEvalError(`set operator "${op}" not allowed between a vector and a scalar`);
    return isScalar(rhs) ? vectorScalar(expr, lhs as SeriesSet, rhs.value, false) : vectorScalar(expr, rhs, (lhs as { value: number }).value, true);
  }
  if (isSetOp(op)) return setOperation(op, expr.matching, lhs, rhs);
  return vectorVector(expr, lhs, rhs);
}

/** Computes `l op r`; for comparisons without bool, `keep` says whether the sample survives. */
function elementOp(expr: BinaryExpr, l: number, r: number): { value: number; keep: boolean } {
  const op = expr.op;
  if (isComparison(op)) {
    const ok = compare(op, l, r);
    if (expr.bool) return { value: ok ? 1 : 0, keep: true };
    return { value: l, keep: ok };
  }
  if (isSetOp(op)) throw new QueryEvalError(`set operator "${op}" in an arithmetic context`);
  return { value: arithmetic(op, l, r), keep: true };
}

function vectorScalar(expr: BinaryExpr, vec: SeriesSet, scalar: number, scalarLeft: boolean): SeriesSet {
  const out = new SeriesSet(vec.steps);
  const dropName = !isComparison(expr.op) || expr.bool;
  for (const s of vec) {
    let target: Series | undefined;
    for (let i = 0; i < vec.steps; i++) {
      if (!s.present[i]) continue;
      const v = s.values[i]!;
      const r = scalarLeft ? elementOp(expr, scalar, v) : elementOp(expr, v, scalar);
      if (!r.keep) continue;
      // A filtering comparison keeps the vector's value even when the scalar is on the left.
      const value = isComparison(expr.op) && !expr.bool ? v : r.value;
      if (!target) {
        const labels = dropName ? dropMetricName(s.labels) : s.labels;
        target = out.series(labels, labels === s.labels ? s.key : labelsKey(labels));
      }
      target.present[i] = 1;
      target.values[i] = value;
    }
  }
  return out;
}

function dropMetricName(l: Labels): Labels {
  if (!('__name__' in l)) return l;
  const { __name__: _, ...rest } = l;
  return rest;
}

/** The label subset two samples must agree on to match. */
function signature(labels: Labels, matching: VectorMatching | undefined): string {
  if (matching?.on) {
    const picked: Labels = {};
    for (const n of matching.labels) if (labels[n] !== undefined) picked[n] = labels[n]!;
    return labelsKey(picked);
  }
  const ignored = new Set(matching?.labels ?? []);
  ignored.add('__name__');
  const kept: Labels = {};
  for (const n of Object.keys(labels)) if (!ignored.has(n)) kept[n] = labels[n]!;
  return labelsKey(kept);
}

function matchGroupLabels(labels: Labels, matching: VectorMatching | undefined): string {
  const out: Labels = {};
  if (matching?.on) {
    for (const n of matching.labels) if (labels[n] !== undefined) out[n] = labels[n]!;
  } else {
    const ignored = new Set([...(matching?.labels ?? []), '__name__']);
    for (const n of Object.keys(labels)) if (!ignored.has(n)) out[n] = labels[n]!;
  }
  return canonicalLabels(out);
}

function setOperation(op: 'and' | 'or' | 'unless', matching: VectorMatching | undefined, lhs: SeriesSet, rhs: SeriesSet): SeriesSet {
  const steps = lhs.steps;
  const out = new SeriesSet(steps);
  const left = [...lhs];
  const right = [...rhs];
  const lsig = left.map((s) => signature(s.labels, matching));
  const rsig = right.map((s) => signature(s.labels, matching));
  for (let i = 0; i < steps; i++) {
    if (op === 'or') {
      const leftSigs = new Set<string>();
      left.forEach((s, j) => {
        if (!s.present[i]) return;
        leftSigs.add(lsig[j]!);
        out.put(s.labels, s.key, i, s.values[i]!);
      });
      right.forEach((s, j) => {
        if (s.present[i] && !leftSigs.has(rsig[j]!)) out.put(s.labels, s.key, i, s.values[i]!);
      });
      continue;
    }
    const rightSigs = new Set<string>();
    right.forEach((s, j) => {
      if (s.present[i]) rightSigs.add(rsig[j]!);
    });
    left.forEach((s, j) => {
      if (!s.present[i]) return;
      if (rightSigs.has(lsig[j]!) === (op === 'and')) out.put(s.labels, s.key, i, s.values[i]!);
    });
  }
  out.prune();
  return out;
}

function vectorVector(expr: BinaryExpr, lhs: SeriesSet, rhs: SeriesSet): SeriesSet {
  const matching = expr.matching;
  const group = matching?.group;
  const oneToOne = !group;
  // Prometheus turns group_right around so that the "one" side is always the right-hand one.
  const swapped = group?.side === 'right';
  const many = [...(swapped ? rhs : lhs)];
  const one = [...(swapped ? lhs : rhs)];
  const manySig = many.map((s) => signature(s.labels, matching));
  const oneSig = one.map((s) => signature(s.labels, matching));
  const dropName = !isComparison(expr.op) || expr.bool;
  const resultLabelsCache = new Map<string, { labels: Labels; key: string }>();
  const resultLabels = (m: Series, o: Series) => {
    const cacheKey = m.key + '\u0002' + o.key;
    let r = resultLabelsCache.get(cacheKey);
    if (!r) {
      const labels = resultMetric(m.labels, o.labels, matching, dropName);
      r = { labels, key: labelsKey(labels) };
      resultLabelsCache.set(cacheKey, r);
    }
    return r;
  };
  const steps = lhs.steps;
  const out = new SeriesSet(steps);
  for (let i = 0; i < steps; i++) {
    const oneBySig = new Map<string, Series>();
    one.forEach((s, j) => {
      if (!s.present[i]) return;
      const sig = oneSig[j]!;
      const dup = oneBySig.get(sig);
      if (dup) {
        const side = swapped ? 'left' : 'right';
        // Loki's own words first (its text runs ";many" together), then which series collided.
        throw new QueryEvalError(
          `found duplicate series on the ${side} hand-side;many-to-many matching not allowed: matching labels must be unique on one side. ` +
            `The match group ${matchGroupLabels(s.labels, matching)} has two series on the ${side} hand-side of the operation: ` +
            `[${canonicalLabels(dup.labels)}, ${canonicalLabels(s.labels)}]; match on labels that tell them apart, or aggregate that side first`,
        );
      }
      oneBySig.set(sig, s);
    });
    const matched = new Map<string, Set<string> | null>();
    many.forEach((s, j) => {
      if (!s.present[i]) return;
      const sig = manySig[j]!;
      const o = oneBySig.get(sig);
      if (!o) return;
      const l = swapped ? o.values[i]! : s.values[i]!;
      const r = swapped ? s.values[i]! : o.values[i]!;
      const res = elementOp(expr, l, r);
      if (!res.keep) return;
      const rl = resultLabels(s, o);
      if (oneToOne) {
        if (matched.has(sig)) throw new QueryEvalError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        matched.set(sig, null);
      } else {
        let seen = matched.get(sig);
        if (!seen) matched.set(sig, (seen = new Set()));
        if (seen.has(rl.key)) throw new QueryEvalError('multiple matches for labels: grouping labels must ensure unique matches');
        seen.add(rl.key);
      }
      out.put(rl.labels, rl.key, i, res.value);
    });
  }
  out.prune();
  return out;
}

/**
 * The labels of a vector–vector result: the "many" side's labels; one-to-one matching keeps only the
 * `on` labels or drops the `ignoring` ones; group_x(include…) copies the listed labels from the "one" side.
 */
function resultMetric(many: Labels, one: Labels, matching: VectorMatching | undefined, dropName: boolean): Labels {
  let out: Labels = { ...many };
  if (dropName) delete out['__name__'];
  if (matching && !matching.group) {
    if (matching.on) {
      const kept: Labels = {};
      for (const n of matching.labels) if (out[n] !== undefined) kept[n] = out[n]!;
      out = kept;
    } else {
      for (const n of matching.labels) delete out[n];
    }
  }
  for (const n of matching?.group?.include ?? []) {
    const v = one[n];
    if (v !== undefined && v !== '') out[n] = v;
    else delete out[n];
  }
  return out;
}
