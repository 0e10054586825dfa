import type { LogSelectorExpr } from '../../query/ast.js';
import { canonicalLabels, type Labels } from '../model/labels.js';
import type { FieldSample } from './detected-fields.js';
import { lineFields } from './line-fields.js';
import type { Querier } from './querier.js';

const PARSERS = new Set(['json', 'logfmt', 'regexp', 'pattern', 'unpack']);
const ERROR_LABELS = new Set(['__error__', '__error_details__']);

/**
 * The newest `lineLimit` entries a log query returns in [start, end), the sample Drilldown's field
 * endpoints read (Loki runs the same backward query with the same limit), each result stream split back
 * into its stream's own labels and the structured metadata the rest of its label set came from. The query
 * runs under the tenant's query timeout, entry limit and byte limit like any other.
 */
export async function sampleFields(querier: Querier, tenant: string, expr: LogSelectorExpr, start: bigint, end: bigint, lineLimit: number, signal?: AbortSignal): Promise<FieldSample[]> {
  const result = await querier.query(tenant, expr, { start, end, step: 1_000_000_000n, direction: 'backward', limit: lineLimit, instant: false }, signal);
  if (result.type !== 'streams' || result.streams.length === 0) return [];
  const streams = (await querier.streamsInRange(tenant, expr.matchers, start, end, signal)).map((s) => s.labels);
  const split = streamSplitter(streams);
  const queryParses = expr.pipeline.some((st) => PARSERS.has(st.kind));
  const samples: (FieldSample & { key: string })[] = [];
  for (const r of result.streams) {
    const streamLabels = split(r.labels);
    const lines = r.entries.map((e) => e.line);
    // What a parser in the query added is found again by parsing the lines, so only the rest is metadata.
    const parsedNames = new Set<string>();
    if (queryParses) for (const line of lines) for (const f of lineFields(line, streamLabels)?.fields ?? []) parsedNames.add(f.name);
    const metadata: Labels = {};
    for (const [k, v] of Object.entries(r.labels)) {
      if (streamLabels[k] === undefined && !ERROR_LABELS.has(k) && !parsedNames.has(k)) metadata[k] = v;
    }
    samples.push({ streamLabels, metadata, lines, key: canonicalLabels(streamLabels) + canonicalLabels(metadata) });
  }
  return samples.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Finds, for a result label set, the stream it came from: the set restricted to the names streams carry,
 * looked up exactly; failing that (a pipeline rewrote a label), the largest stream label set it contains.
 */
function streamSplitter(streams: Labels[]): (result: Labels) => Labels {
  const names = new Set<string>();
  const byKey = new Map<string, Labels>();
  for (const s of streams) {
    for (const k of Object.keys(s)) names.add(k);
    byKey.set(canonicalLabels(s), s);
  }
  return (result) => {
    const own: Labels = {};
    for (const [k, v] of Object.entries(result)) if (names.has(k)) own[k] = v;
    const exact = byKey.get(canonicalLabels(own));
    if (exact) return exact;
    let best: Labels = {};
    let bestSize = -1;
    for (const s of streams) {
      const entries = Object.entries(s);
      if (entries.length > bestSize && entries.every(([k, v]) => result[k] === v)) {
        best = s;
        bestSize = entries.length;
      }
    }
    return best;
  };
}
