import { otlpActionFor, type OtlpAttributeRule, type OtlpConfig } from '../../config/otlp-config.js';
import { EntryColumns, type DecodedPush, type DecodedStream } from '../entry-columns.js';
import { OtlpKvList, type OtlpKeyValue, type OtlpResourceLogs, type OtlpValue } from './model.js';
import { valueText } from './value-text.js';

/** The stream label a resource without `service.name` gets, as in Loki. */
export const UNKNOWN_SERVICE = 'unknown_service';

// Per code point, as Go replaces per rune: an emoji is one `_`, not two.
const INVALID = /[^a-zA-Z0-9_]/gu;

/**
 * An attribute name as a label or structured metadata name, as Loki writes it: every character outside
 * [a-zA-Z0-9_] becomes `_`, then a name starting with a digit gets `key_` in front and one starting with a
 * single `_` gets `key` (a double `__` is left alone).
 */
export function otlpLabelName(name: string): string {
  if (name === '') return name;
  const s = name.replace(INVALID, '_');
  const c = s.charCodeAt(0);
  if (c >= 48 && c <= 57) return 'key_' + s;
  if (c === 95 && s.charCodeAt(1) !== 95) return 'key' + s;
  return s;
}

// Attribute names repeat in every record; their label form is worked out once per process, bounded.
const names = new Map<string, string>();
function labelName(key: string): string {
  let n = names.get(key);
  if (n === undefined) {
    n = otlpLabelName(key);
    if (names.size >= 10_000) names.clear();
    names.set(key, n);
  }
  return n;
}

/** An attribute as name/value pairs: a key/value list becomes one pair per leaf, its names joined by `_`. */
function flatten(key: string, value: OtlpValue, out: (name: string, value: string) => void, prefix = ''): void {
  const name = prefix === '' ? labelName(key) : otlpLabelName(`${prefix}_${key}`);
  if (value instanceof OtlpKvList) {
    for (const kv of value.values) flatten(kv.key, kv.value, out, name);
    return;
  }
  out(name, valueText(value));
}

/** The attributes `rules` keep as structured metadata, as flat pairs (index_label is a resource-only action). */
function metadataPairs(attrs: OtlpKeyValue[], rules: OtlpAttributeRule[]): [string, string][] {
  const out: [string, string][] = [];
  for (const kv of attrs) {
    if (otlpActionFor(rules, kv.key) !== 'structured_metadata') continue;
    flatten(kv.key, kv.value, (n, v) => out.push([n, v]));
  }
  return out;
}

/**
 * Maps an export request onto Loki's model, as Loki 3 does: each resource is a stream whose labels are the
 * resource attributes `otlp_config` indexes (`service_name="unknown_service"` when `service.name` is missing);
 * every record is an entry whose line is its body and whose structured metadata holds its attributes, its
 * `observed_timestamp` (when it has a timestamp of its own), `severity_number`, `severity_text`,
 * `dropped_attributes_count`, `flags`, `trace_id`, `span_id`, then the resource's other attributes, the scope's
 * attributes and `scope_name`, `scope_version`, `scope_dropped_attributes_count`, each only when set. An entry's
 * time is the record's, else the time it was observed, else `now`.
 */
export function otlpToStreams(req: OtlpResourceLogs[], cfg: OtlpConfig, nowNs: bigint, maxEntries: number): DecodedPush {
  const columns = new EntryColumns(Buffer.alloc(0), maxEntries);
  const streams: DecodedStream[] = [];
  for (const rl of req) {
    const labels: Record<string, string> = Object.create(null) as Record<string, string>;
    const resourceMd: [string, string][] = [];
    for (const kv of rl.attributes) {
      const action = otlpActionFor(cfg.resource, kv.key);
      if (action === 'drop') continue;
      if (action === 'index_label') flatten(kv.key, kv.value, (n, v) => (labels[n] = v));
      else flatten(kv.key, kv.value, (n, v) => resourceMd.push([n, v]));
    }
    // Also when service.name is dropped or kept as metadata by otlp_config: every stream names a service.
    if (labels.service_name === undefined || labels.service_name === '') labels.service_name = UNKNOWN_SERVICE;
    const from = columns.count;
    for (const sl of rl.scopeLogs) {
      const scopeMd = metadataPairs(sl.scope.attributes, cfg.scope);
      if (sl.scope.name !== '') scopeMd.push(['scope_name', sl.scope.name]);
      if (sl.scope.version !== '') scopeMd.push(['scope_version', sl.scope.version]);
      if (sl.scope.droppedAttributesCount !== 0) scopeMd.push(['scope_dropped_attributes_count', String(sl.scope.droppedAttributesCount)]);
      for (const rec of sl.logRecords) {
        // A plain object built in the same order each time keeps one V8 shape per kind of record (a null-prototype
        // object, or one that keys are deleted from, is a slow dictionary).
        const md: Record<string, string> = {};
        let any = false;
        const put = (k: string, v: string) => {
          // Empty values are no metadata, as for pushed entries.
          if (v === '') return;
          if (k === '__proto__') Object.defineProperty(md, k, { value: v, enumerable: true, writable: true, configurable: true });
          else md[k] = v;
          any = true;
        };
        for (const kv of rec.attributes) {
          if (otlpActionFor(cfg.log, kv.key) === 'structured_metadata') flatten(kv.key, kv.value, put);
        }
        if (rec.timeUnixNano !== 0n && rec.observedTimeUnixNano !== 0n) put('observed_timestamp', String(rec.observedTimeUnixNano));
        if (rec.severityNumber !== 0) put('severity_number', String(rec.severityNumber));
        put('severity_text', rec.severityText);
        if (rec.droppedAttributesCount !== 0) put('dropped_attributes_count', String(rec.droppedAttributesCount));
        if (rec.flags !== 0) put('flags', String(rec.flags));
        put('trace_id', rec.traceId);
        put('span_id', rec.spanId);
        for (let j = 0; j < resourceMd.length; j++) put(resourceMd[j]![0], resourceMd[j]![1]);
        for (let j = 0; j < scopeMd.length; j++) put(scopeMd[j]![0], scopeMd[j]![1]);
        const ts = rec.timeUnixNano !== 0n ? rec.timeUnixNano : rec.observedTimeUnixNano !== 0n ? rec.observedTimeUnixNano : nowNs;
        const i = columns.addOwned(ts, Buffer.from(valueText(rec.body), 'utf8'));
        if (any) columns.setMetadata(i, md);
      }
    }
    if (columns.count > from) streams.push({ labels, from, to: columns.count });
  }
  return { streams, columns };
}
