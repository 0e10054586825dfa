import { wellFormed } from '../model/labels.js';
import { parseRFC3339, TimeParseError } from '../model/time.js';
import { EntryColumns, type DecodedPush, type DecodedStream } from './entry-columns.js';
import { JsonPushError } from './decode-json.js';

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `[{"name":…,"value":…}]`, the legacy form of an entry's structured metadata. */
function legacyMetadata(v: unknown, at: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new JsonPushError(`${at} must be an array of {"name": "…", "value": "…"}, got ${kind(v)}`);
  let md: Record<string, string> | undefined;
  v.forEach((pair, i) => {
    if (!isObject(pair) || typeof pair.name !== 'string' || typeof pair.value !== 'string') {
      throw new JsonPushError(`${at}[${i}] must be {"name": "<string>", "value": "<string>"}, got ${JSON.stringify(pair)?.slice(0, 100)}`);
    }
    md ??= Object.create(null) as Record<string, string>;
    md[wellFormed(pair.name)] = wellFormed(pair.value);
  });
  return md;
}

/**
 * Loki's legacy JSON push body (`POST /api/prom/push`, Loki 1.x clients):
 * `{"streams":[{"labels":"{a=\"b\"}","entries":[{"ts":"<RFC3339Nano>","line":"…"}]}]}`. This dialect is
 * rare and bodies small, so it is parsed whole; the lines are copied into the columns. Every type error
 * names the field's path, as the v1 decoder's do.
 */
export function decodeLegacyPushJson(body: Buffer, maxEntries: number): DecodedPush {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new JsonPushError(`invalid JSON body: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new JsonPushError(`body must be a JSON object with a "streams" array, got ${kind(doc)}`);
  const list = doc.streams;
  if (!Array.isArray(list)) throw new JsonPushError(`"streams" must be an array, got ${kind(list)}`);
  const columns = new EntryColumns(body, maxEntries);
  const streams: DecodedStream[] = list.map((s, si) => {
    const at = `streams[${si}]`;
    if (!isObject(s)) throw new JsonPushError(`${at} must be an object with "labels" and "entries", got ${kind(s)}`);
    if (typeof s.labels !== 'string') throw new JsonPushError(`${at}.labels must be a string such as "{app=\\"x\\"}", got ${kind(s.labels)}`);
    const entries = s.entries ?? [];
    if (!Array.isArray(entries)) throw new JsonPushError(`${at}.entries must be an array of {"ts": "<RFC3339>", "line": "…"}, got ${kind(entries)}`);
    const from = columns.count;
    entries.forEach((e, ei) => {
      const eat = `${at}.entries[${ei}]`;
      if (!isObject(e)) throw new JsonPushError(`${eat} must be an object {"ts": "<RFC3339>", "line": "…"}, got ${kind(e)}`);
      if (typeof e.ts !== 'string') throw new JsonPushError(`${eat}.ts must be an RFC3339 timestamp string like "2024-01-02T15:04:05.123456789Z", got ${JSON.stringify(e.ts) ?? 'undefined'}`);
      let ts: bigint;
      try {
        ts = parseRFC3339(e.ts);
      } catch (err) {
        if (err instanceof TimeParseError) throw new JsonPushError(`${eat}.ts must be an RFC3339 timestamp like "2024-01-02T15:04:05.123456789Z", got ${JSON.stringify(e.ts)}`);
        throw err;
      }
      if (typeof e.line !== 'string') throw new JsonPushError(`${eat}.line must be a string, got ${kind(e.line)}`);
      const idx = columns.addOwned(ts, Buffer.from(wellFormed(e.line), 'utf8'));
      const md = legacyMetadata(e.structuredMetadata, `${eat}.structuredMetadata`);
      if (md) columns.setMetadata(idx, md);
    });
    return { labels: s.labels, from, to: columns.count };
  });
  return { streams, columns };
}
