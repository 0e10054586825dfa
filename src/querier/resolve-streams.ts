import type { Matcher } from '../../query/ast.js';
import { compileMatcher } from '../../query/regex.js';
import { canonicalLabels, type Labels } from '../model/labels.js';
import type { LabelIndex } from '../store/label-index.js';
import type { Pacer } from './query-lifetime.js';

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
 * the regex runs over the label's distinct values, not over every stream); the other matchers then
 * filter what is left.
 *
 * A regex over long label values can cost milliseconds per value, so with `pacer` the work is checked
 * against the query's deadline and signal per value and per stream, and gives the event loop a turn
 * every slice; without one (internal callers) it runs straight through.
 */
export async function resolveStreams(index: LabelIndex, tenant: string, matchers: Matcher[], pacer?: Pacer): Promise<ResolvedStream[]> {
  const narrowing: Matcher[] = [];
  const rest: Matcher[] = [];
  for (const m of matchers) (compileMatcher(m)('') ? rest : narrowing).push(m);
  let candidates: Set<number> | null = null;
  for (const m of narrowing) {
    const ids = new Set<number>();
    let values: string[];
    if (m.op === '=') values = [m.value];
    else {
      const test = compileMatcher(m);
      values = [];
      for (const v of index.valuesOf(tenant, m.name)) {
        if (pacer?.due()) await pacer.pace();
        if (test(v)) values.push(v);
      }
    }
    for (const v of values) {
      if (pacer?.due()) await pacer.pace();
      for (const id of index.streamIdsWith(tenant, m.name, v)) if (!candidates || candidates.has(id)) ids.add(id);
    }
    candidates = ids;
    if (ids.size === 0) return [];
  }
  // The postings already proved the narrowing matchers: only the others are left to test per stream.
  const others = selectorPredicate(rest);
  const out: ResolvedStream[] = [];
  const keep = (id: number, labels: Labels) => {
    if (others(labels)) out.push({ labels, canonical: canonicalLabels(labels), streamId: id });
  };
  if (candidates) {
    for (const id of candidates) {
      if (pacer?.due()) await pacer.pace();
      const s = index.stream(id);
      if (s) keep(id, s.labels);
    }
  } else {
    // No narrowing matcher (only possible for internal callers: the parser demands one): scan the tenant.
    for (const s of index.streams(tenant)) {
      if (pacer?.due()) await pacer.pace();
      keep(s.id, s.labels);
    }
  }
  return out;
}

