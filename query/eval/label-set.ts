import type { Grouping } from '../ast.js';
import type { Labels } from '../../src/model/labels.js';

/** Whether a label set carries a non-empty `__error__`. */
export function hasErrorLabel(l: Labels): boolean {
  const e = l['__error__'];
  return e !== undefined && e !== '';
}

/**
 * An exact identity string for a label set, cheap to build: sorted names with separators that cannot
 * occur in a label name. Used as a Map key, never shown to users.
 */
export function labelsKey(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length === 0) return '';
  if (names.length > 1) names.sort();
  let out = '';
  for (const n of names) out += n + '\u0000' + labels[n] + '\u0001';
  return out;
}

/**
 * Prometheus' `labels.Compare`: pairwise by name, then value, in name order; a label set that is a
 * prefix of another sorts first. This orders matrix series and instant vectors.
 */
export function compareLabels(a: Labels, b: Labels): number {
  const an = Object.keys(a).sort();
  const bn = Object.keys(b).sort();
  const n = Math.min(an.length, bn.length);
  for (let i = 0; i < n; i++) {
    const x = an[i]!;
    const y = bn[i]!;
    if (x !== y) return x < y ? -1 : 1;
    const xv = a[x]!;
    const yv = b[y]!;
    if (xv !== yv) return xv < yv ? -1 : 1;
  }
  return an.length - bn.length;
}

/** `by (…)` keeps only the listed labels; `without (…)` drops them and `__name__`. */
export function applyGrouping(labels: Labels, grouping: Grouping | undefined): Labels {
  if (!grouping) return labels;
  const out: Labels = Object.create(null) as Labels;
  if (grouping.without) {
    const drop = new Set(grouping.labels);
    drop.add('__name__');
    for (const n of Object.keys(labels)) if (!drop.has(n)) out[n] = labels[n]!;
  } else {
    for (const n of grouping.labels) {
      const v = labels[n];
      if (v !== undefined && v !== '') out[n] = v;
    }
  }
  return out;
}

export function withoutNames(labels: Labels, names: Iterable<string>): Labels {
  const out: Labels = { ...labels };
  for (const n of names) delete out[n];
  return out;
}
