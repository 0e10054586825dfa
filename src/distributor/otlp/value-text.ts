import { OtlpKvList, type OtlpValue } from './model.js';

/**
 * AnyValue as text, the way Loki's OTLP ingest (Go pdata's Value.AsString) writes it: strings as they are,
 * booleans and integers in decimal, doubles as a JSON number would be, bytes as base64, arrays and key/value
 * lists as JSON with the keys of every list sorted and <, >, & escaped (Go's encoding/json), nothing as ''.
 */
export function valueText(v: OtlpValue): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return doubleText(v);
  if (v instanceof Uint8Array) return base64(v);
  return valueJson(v);
}

function base64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** A double as ECMAScript prints numbers (what Go's JSON encoder matches), -0 kept, and NaN and ±Inf spelled out. */
function doubleText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  if (Object.is(n, -0)) return '-0';
  return String(n);
}

const GO_HTML_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

function jsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => GO_HTML_ESCAPES[c]!);
}

function valueJson(v: OtlpValue): string {
  if (v === undefined) return 'null';
  if (typeof v === 'string') return jsonString(v);
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  // JSON has no NaN or infinities: null stands for them rather than an invalid document.
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (v instanceof Uint8Array) return jsonString(base64(v));
  if (v instanceof OtlpKvList) {
    // Duplicate keys: the last one wins, as when the list becomes a Go map.
    const byKey = new Map<string, OtlpValue>();
    for (const kv of v.values) byKey.set(kv.key, kv.value);
    const keys = [...byKey.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return '{' + keys.map((k) => `${jsonString(k)}:${valueJson(byKey.get(k))}`).join(',') + '}';
  }
  return '[' + v.map(valueJson).join(',') + ']';
}
