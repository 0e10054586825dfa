/**
 * Which labels a line shows. Labels every stream shares are announced once on stderr ("Common labels: …") and
 * left off each line, so the line shows only what tells streams apart; --include-label, --exclude-label and
 * --no-labels narrow that further.
 */
import type { Labels } from '../../model/labels.js';

export interface LabelFilter {
  show: boolean;
  include: ReadonlySet<string>;
  exclude: ReadonlySet<string>;
}

/** Labels with the same value in every set; empty for no sets. */
export function commonLabels(sets: readonly Labels[]): Labels {
  if (sets.length === 0) return {};
  const out: Labels = { ...sets[0] };
  for (let i = 1; i < sets.length; i++) {
    const s = sets[i]!;
    for (const k of Object.keys(out)) if (s[k] !== out[k]) delete out[k];
  }
  return out;
}

/**
 * The labels shown beside one line. A common label is hidden only where the stream has the announced value,
 * so a stream that turns up later with a different value (a later page, a live tail) still shows it.
 */
export function visibleLabels(labels: Labels, common: Labels, f: LabelFilter): Labels {
  if (!f.show) return {};
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels)) {
    if (f.include.size > 0) {
      if (f.include.has(k)) out[k] = v;
      continue;
    }
    if (f.exclude.has(k) || common[k] === v) continue;
    out[k] = v;
  }
  return out;
}

/** What the "Common labels" notice shows: nothing when the user picked labels with --include-label. */
export function announcedLabels(common: Labels, f: LabelFilter): Labels {
  if (!f.show || f.include.size > 0) return {};
  const out: Labels = {};
  for (const [k, v] of Object.entries(common)) if (!f.exclude.has(k)) out[k] = v;
  return out;
}

/** The labels machine output (jsonl) carries: the filters apply, the common-label shortening does not. */
export function filteredLabels(labels: Labels, f: LabelFilter): Labels {
  return visibleLabels(labels, {}, f);
}
