import type { Labels } from '../model/labels.js';
import { fieldTypeOf, listedValue, type FieldType } from './field-type.js';
import { lineFields } from './line-fields.js';
import type { Pacer } from './query-lifetime.js';

/**
 * The sampled lines of one stream, as the Drilldown endpoints read them: the stream's own labels, the
 * structured metadata its entries carry, and the lines (newest first).
 */
export interface FieldSample {
  streamLabels: Labels;
  metadata: Labels;
  lines: string[];
}

/** One element of `detected_fields`' `fields`, in Loki's JSON shape. */
export interface DetectedField {
  label: string;
  type: FieldType;
  cardinality: number;
  /** null for a field found only in structured metadata. */
  parsers: string[] | null;
  jsonPath?: string[];
}

interface FieldAcc {
  type: FieldType;
  values: Set<string>;
  parsers: string[];
  jsonPath?: string[];
}

/**
 * The fields of a sample of lines, as Loki's detected_fields computes them: every structured metadata key
 * (no parser) and every field the line yields to json, or else logfmt (with its parser). A field's type is
 * guessed from its value in each entry, the last entry read deciding (Loki does the same; a field whose
 * values disagree gets the type of the oldest entry of the last stream). Cardinality is the number of
 * distinct values; Loki estimates it with a HyperLogLog sketch, exact at these sample sizes. At most
 * `limit` fields are tracked; later new fields are ignored. Sorted by name.
 */
export async function detectFields(samples: FieldSample[], limit: number, pacer?: Pacer): Promise<DetectedField[]> {
  const fields = new Map<string, FieldAcc>();
  const acc = (name: string): FieldAcc | undefined => {
    let f = fields.get(name);
    if (!f && fields.size < limit) fields.set(name, (f = { type: 'string', values: new Set(), parsers: [] }));
    return f;
  };
  for (const s of samples) {
    const meta = Object.entries(s.metadata);
    for (const line of s.lines) {
      // Parsing a thousand big lines takes a while: the request's timeout and other requests still get their turn.
      if (pacer?.due()) await pacer.pace();
      for (const [k, v] of meta) {
        const f = acc(k);
        if (!f) continue;
        f.type = fieldTypeOf(v);
        f.values.add(v);
      }
      const parsed = lineFields(line, s.streamLabels);
      if (!parsed) continue;
      for (const p of parsed.fields) {
        const f = acc(p.name);
        if (!f) continue;
        if (!f.parsers.includes(parsed.parser)) f.parsers.push(parsed.parser);
        if (p.jsonPath) f.jsonPath = p.jsonPath;
        f.type = fieldTypeOf(p.value);
        f.values.add(p.value);
      }
    }
  }
  return [...fields.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([label, f]) => {
      const out: DetectedField = { label, type: f.type, cardinality: f.values.size, parsers: f.parsers.length > 0 ? f.parsers : null };
      if (f.jsonPath) out.jsonPath = f.jsonPath;
      return out;
    });
}

/**
 * The distinct values of one field in a sample, at most `limit`, sorted: from structured metadata as they
 * are, from parsed lines with byte sizes rewritten in SI form (see listedValue), as Loki lists them.
 */
export async function detectedFieldValues(samples: FieldSample[], name: string, limit: number, pacer?: Pacer): Promise<string[]> {
  const values = new Set<string>();
  outer: for (const s of samples) {
    const meta = s.metadata[name];
    for (const line of s.lines) {
      if (values.size >= limit) break outer;
      if (pacer?.due()) await pacer.pace();
      if (meta !== undefined) values.add(meta);
      const parsed = lineFields(line, s.streamLabels);
      const p = parsed?.fields.find((f) => f.name === name);
      if (p && values.size < limit) values.add(listedValue(p.value));
    }
  }
  return [...values].slice(0, limit).sort();
}
