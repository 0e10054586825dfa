import type { Matcher } from '../../query/ast.js';
import { compileMatcher } from '../../query/regex.js';
import { canonicalLabels, type Labels } from '../model/labels.js';
import type { LabelIndex } from '../store/label-index.js';

export interface ResolvedStream {
  labels: Labels;
  canonical: string;
  /** The stream's id in the label index (every stream is registered there on first push). */
  streamId: number;
}

export type LabelPredicate = (labels: Labels) => boolean;

/** One predicate for a whole selector; a missing label reads as "", as in Loki. */
export function selectorPredicate(matchers: Matcher[]): LabelPredicate {
  const tests = matchers.map((m) => ({ name: m.name, test: compileMatcher(m) }));
  return (labels) => tests.every((t) => t.test(labels[t.name] ?? ''));
}

/**
 * The tenant's streams matching `matchers`, found through the postings: each matcher that cannot match
 * an empty value narrows the candidates to the streams carrying a matching value (for regex matchers,
 * the regex runs over the label's distinct values, not over every stream); the full selector then
 * filters what is left.
 */
export function resolveStreams(index: LabelIndex, tenant: string, matchers: Matcher[]): ResolvedStream[] {
  const narrowing = matchers.filter((m) => !compileMatcher(m)(''));
  let candidates: Set<number> | null = null;
  for (const m of narrowing) {
    const test = compileMatcher(m);
    const ids = new Set<number>();
    const values = m.op === '=' ? [m.value] : index.valuesOf(tenant, m.name).filter(test);
    for (const v of values) for (const id of index.streamIdsWith(tenant, m.name, v)) if (!candidates || candidates.has(id)) ids.add(id);
    candidates = ids;
    if (ids.size === 0) return [];
  }
  const all = selectorPredicate(matchers);
  const out: ResolvedStream[] = [];
  if (candidates) {
    for (const id of candidates) {
      const s = index.stream(id);
      if (s && all(s.labels)) out.push({ labels: s.labels, canonical: canonicalLabels(s.labels), streamId: id });
    }
  } else {
    // No narrowing matcher (only possible for internal callers: the parser demands one): scan the tenant.
    for (const s of index.streams(tenant)) if (all(s.labels)) out.push({ labels: s.labels, canonical: canonicalLabels(s.labels), streamId: s.id });
  }
  return out;
}
