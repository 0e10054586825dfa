import type { Matcher } from '../ast.js';
import type { Labels } from '../../src/model/labels.js';

/**
 * The labels of absent_over_time's result, as Prometheus' absent(): every equality matcher of the
 * selector becomes a label, unless the same name also appears in another matcher, which makes its
 * value ambiguous.
 */
export function absentLabels(matchers: Matcher[]): Labels {
  const out: Labels = {};
  const ambiguous = new Set<string>();
  for (const m of matchers) {
    if (m.name === '__name__') continue;
    if (m.op === '=' && !(m.name in out)) {
      // An empty value means "label absent", so it names nothing.
      if (m.value !== '') out[m.name] = m.value;
    } else ambiguous.add(m.name);
  }
  for (const n of ambiguous) delete out[n];
  return out;
}
