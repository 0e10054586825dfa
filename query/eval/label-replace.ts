import type { LabelReplaceExpr } from '../ast.js';
import { isValidLabelName, type Labels } from '../../src/model/labels.js';
import { compileMatcher, compileRegexWithGroups } from '../regex.js';
import { QueryEvalError } from './errors.js';
import { expandTemplate } from './go-expand.js';
import { labelsKey } from './label-set.js';
import { SeriesSet } from './series-set.js';

/**
 * label_replace(v, dst, replacement, src, regex), as Prometheus: where the fully anchored regex matches
 * the value of `src` (empty when absent), `dst` becomes the expanded replacement (removed when that is
 * empty); where it does not match, the series is unchanged. Labels are constant per series, so the work
 * is per series, not per step.
 */
export function evalLabelReplace(expr: LabelReplaceExpr, input: SeriesSet): SeriesSet {
  if (!isValidLabelName(expr.dst)) throw new QueryEvalError(`invalid destination label name in label_replace(): ${JSON.stringify(expr.dst)}`);
  let re: RegExp;
  let groupNames: (string | undefined)[];
  let matches: (value: string) => boolean;
  try {
    ({ regex: re, groupNames } = compileRegexWithGroups(expr.regex, { anchored: true }));
    // This runs on the server's main thread: a first test without captures, which V8's linear-time
    // fallback always takes, rules out the values on which the capturing form could backtrack for hours.
    matches = compileMatcher({ name: expr.src, op: '=~', value: expr.regex });
  } catch (err) {
    throw new QueryEvalError(`invalid regular expression in label_replace(): ${JSON.stringify(expr.regex)}: ${(err as Error).message}`);
  }
  const out = new SeriesSet(input.steps);
  for (const s of input) {
    const labels = matches(s.labels[expr.src] ?? '') ? replaceLabels(s.labels, expr, re, groupNames) : s.labels;
    const key = labels === s.labels ? s.key : labelsKey(labels);
    if (!out.get(key)) {
      const o = out.series(labels, key);
      o.values.set(s.values);
      o.present.set(s.present);
      continue;
    }
    for (let i = 0; i < input.steps; i++) if (s.present[i]) out.put(labels, key, i, s.values[i]!);
  }
  return out;
}

function replaceLabels(labels: Labels, expr: LabelReplaceExpr, re: RegExp, groupNames: (string | undefined)[]): Labels {
  re.lastIndex = 0;
  const m = re.exec(labels[expr.src] ?? '');
  if (!m) return labels;
  const value = expandTemplate(expr.replacement, m, groupNames);
  const out: Labels = { ...labels };
  if (value === '') delete out[expr.dst];
  else out[expr.dst] = value;
  return out;
}
