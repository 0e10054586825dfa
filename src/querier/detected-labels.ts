import { GoParseError, goParseFloat } from '../../query/go-values.js';
import type { Labels } from '../model/labels.js';

export interface DetectedLabel {
  label: string;
  cardinality: number;
}

/** Labels Loki always reports when they have values, whatever those look like. */
const STATIC_LABELS = new Set(['cluster', 'namespace', 'instance', 'pod']);

const UUID_HEX = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** What Go's uuid.Parse accepts: the 36-character form, bare, in braces or after `urn:uuid:`, or 32 hex digits. */
export function isUuid(v: string): boolean {
  if (v.length === 32) return /^[0-9a-fA-F]{32}$/.test(v);
  if (v.length === 36) return UUID_HEX.test(v);
  if (v.length === 38) return v[0] === '{' && v[37] === '}' && UUID_HEX.test(v.slice(1, 37));
  if (v.length === 45) return v.slice(0, 9).toLowerCase() === 'urn:uuid:' && UUID_HEX.test(v.slice(9));
  return false;
}

/** A value that identifies rather than groups: a number or a UUID. */
function isIdLike(v: string): boolean {
  return !(goParseFloat(v) instanceof GoParseError) || isUuid(v);
}

/**
 * Whether Loki leaves a label out of detected_labels: one with no values, or whose values are all numbers
 * or UUIDs (identifiers are useless to group by) — except a label holding only `0` and `1`, a flag.
 */
export function rejectLabel(values: string[]): boolean {
  if (values.length === 0) return true;
  if (values.length <= 2 && values.every((v) => v === '0' || v === '1')) return false;
  return values.every(isIdLike);
}

/**
 * The labels of the given streams with their number of distinct values, as Loki's detected_labels reports
 * them (its HyperLogLog estimate is exact at these sizes): identifier-like labels left out, the static ones
 * kept. Sorted by name.
 */
export function detectLabels(streams: Labels[]): DetectedLabel[] {
  const values = new Map<string, Set<string>>();
  for (const labels of streams) {
    for (const [k, v] of Object.entries(labels)) {
      let set = values.get(k);
      if (!set) values.set(k, (set = new Set()));
      set.add(v);
    }
  }
  const out: DetectedLabel[] = [];
  for (const [label, set] of values) {
    if (!STATIC_LABELS.has(label) && rejectLabel([...set])) continue;
    out.push({ label, cardinality: set.size });
  }
  return out.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}
