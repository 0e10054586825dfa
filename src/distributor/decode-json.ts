import type { IngestEntry, IngestStream } from '../model/entry.js';
import { wellFormed } from '../model/labels.js';

export class JsonPushError extends Error {}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

const NS_RE = /^\d{1,19}$/;

/**
 * Loki's JSON push body: `{"streams":[{"stream":{…},"values":[["<ns>","line",{metadata}?]]}]}`.
 * Every type error names the exact path so a client author can find the bad field.
 */
export function decodePushJson(body: Buffer): IngestStream[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new JsonPushError(`invalid JSON body: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new JsonPushError(`body must be a JSON object with a "streams" array, got ${kind(doc)}`);
  const streams = (doc as { streams?: unknown }).streams;
  if (!Array.isArray(streams)) throw new JsonPushError(`"streams" must be an array, got ${kind(streams)}`);
  const out: IngestStream[] = [];
  for (let si = 0; si < streams.length; si++) {
    const s = streams[si] as { stream?: unknown; values?: unknown } | null;
    const at = `streams[${si}]`;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new JsonPushError(`${at} must be an object with "stream" and "values", got ${kind(s)}`);
    const labels = s.stream ?? {};
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) throw new JsonPushError(`${at}.stream must be an object of label names to string values, got ${kind(labels)}`);
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string') throw new JsonPushError(`${at}.stream.${k} must be a string, got ${kind(v)}`);
    }
    const values = s.values;
    if (!Array.isArray(values)) throw new JsonPushError(`${at}.values must be an array of ["<unix epoch ns>", "<line>"] pairs, got ${kind(values)}`);
    const entries: IngestEntry[] = new Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as unknown[];
      const vat = `${at}.values[${i}]`;
      if (!Array.isArray(v) || v.length < 2 || v.length > 3) throw new JsonPushError(`${vat} must be an array of 2 or 3 elements ["<unix epoch ns>", "<line>", {structured metadata}?], got ${Array.isArray(v) ? `${v.length} elements` : kind(v)}`);
      const [tsRaw, line, meta] = v;
      if (typeof tsRaw !== 'string' || !NS_RE.test(tsRaw)) {
        throw new JsonPushError(`${vat}[0]: timestamp must be a string of Unix epoch nanoseconds like "1700000000000000000", got ${JSON.stringify(tsRaw)}`);
      }
      if (typeof line !== 'string') throw new JsonPushError(`${vat}[1]: line must be a string, got ${kind(line)}`);
      const entry: IngestEntry = { ts: BigInt(tsRaw), line: Buffer.from(line, 'utf8') };
      if (meta !== undefined) {
        if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new JsonPushError(`${vat}[2]: structured metadata must be an object of string values, got ${kind(meta)}`);
        // Null prototype: a key named "__proto__" is ordinary metadata, not a prototype swap that drops it.
        const md: Record<string, string> = Object.create(null) as Record<string, string>;
        for (const [k, mv] of Object.entries(meta)) {
          if (typeof mv !== 'string') throw new JsonPushError(`${vat}[2].${k}: structured metadata values must be strings, got ${kind(mv)}`);
          md[wellFormed(k)] = wellFormed(mv);
        }
        if (Object.keys(md).length > 0) entry.metadata = md;
      }
      entries[i] = entry;
    }
    out.push({ labels: labels as Record<string, string>, entries });
  }
  return out;
}
