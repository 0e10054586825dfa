/**
 * `| json` and `| json a="x.y", b="items[0]"`. Without parameters every scalar field becomes a label, nested
 * objects flattened with `_` (`{"a":{"b":1}}` → `a_b="1"`) and arrays skipped; with parameters only the
 * addressed values are extracted (objects and arrays as their compact JSON). Numbers print as Go prints a float64,
 * null as "". A line that is not a JSON object keeps flowing with `__error__="JSONParserErr"`.
 */
import type { JsonStage } from '../ast.js';
import { formatJsonNumber } from '../units.js';
import { parseJsonPath, lookupJsonPath, type JsonStep } from './json-path.js';
import { JsonFieldScanner, JsonWant, MAX_JSON_DEPTH } from './json-scan.js';
import { type LabelsBuilder, sanitizeLabelName } from './labels-builder.js';
import type { EntryState, Stage } from './stage.js';

export const JSON_PARSER_ERR = 'JSONParserErr';

/** Parses a line that must hold a JSON object; returns the error message instead when it does not. */
export function parseJsonObject(line: string): Record<string, unknown> | string {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (e) {
    return (e as Error).message;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return `expected a JSON object, got ${doc === null ? 'null' : Array.isArray(doc) ? 'an array' : typeof doc}`;
  }
  return doc as Record<string, unknown>;
}

/** A JSON scalar as label text; undefined for objects and arrays. */
function scalarText(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return formatJsonNumber(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return v === null ? '' : undefined;
  }
}

/**
 * JSON.parse takes any depth, but flattening (and JSON.stringify of an extracted value) recurse once per level: a
 * line nested thousands deep would overflow the stack, so it is refused as a parser error instead.
 */
export const JSON_TOO_DEEP = `JSON nests deeper than ${MAX_JSON_DEPTH} levels`;

class JsonTooDeep extends Error {}

/** Whether `v` nests deeper than `max` objects/arrays, found without recursion. */
export function nestsDeeperThan(v: unknown, max: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length > 0) {
    const [cur, depth] = stack.pop()!;
    if (depth > max) return true;
    for (const k in cur as object) {
      const child = (cur as Record<string, unknown>)[k];
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

function flatten(obj: Record<string, unknown>, prefix: string, lbs: LabelsBuilder, depth = 1): void {
  if (depth > MAX_JSON_DEPTH) throw new JsonTooDeep();
  for (const key in obj) {
    const part = sanitizeLabelName(key);
    if (part === '') continue;
    const name = prefix === '' ? part : `${prefix}_${part}`;
    const v = obj[key];
    const text = scalarText(v);
    if (text !== undefined) lbs.setExtracted(name, text);
    else if (!Array.isArray(v)) flatten(v as Record<string, unknown>, name, lbs, depth + 1);
  }
}

export class JsonParser implements Stage {
  private readonly params: { label: string; steps: JsonStep[] }[];
  /** Set when only some fields are needed (required-labels hint) and the line is still the batch's bytes. */
  readonly scanner: JsonFieldScanner | null;

  /** `required`: the labels later stages and the consumer read (null: all); only used without parameters. */
  constructor(stage: JsonStage, required: ReadonlySet<string> | null = null) {
    this.params = stage.params.map((p) => ({ label: p.label, steps: parseJsonPath(p.expr) }));
    this.scanner = required && this.params.length === 0 ? new JsonFieldScanner(new JsonWant(required)) : null;
  }

  process(e: EntryState): boolean {
    const sc = this.scanner;
    if (sc && e.bytes && sc.scan(e.bytes, e.byteStart!, e.byteEnd!)) {
      const { names, values } = sc;
      for (let k = 0; k < sc.count; k++) e.labels.setExtracted(names[k]!, values[k]!);
      return true;
    }
    const doc = parseJsonObject(e.line);
    if (typeof doc === 'string') {
      e.labels.setError(JSON_PARSER_ERR, doc);
      return true;
    }
    if (this.params.length === 0) {
      try {
        flatten(doc, '', e.labels);
      } catch (err) {
        if (!(err instanceof JsonTooDeep)) throw err;
        e.labels.setError(JSON_PARSER_ERR, JSON_TOO_DEEP);
      }
      return true;
    }
    for (const p of this.params) {
      const v = lookupJsonPath(doc, p.steps);
      if (v === undefined) continue;
      const text = scalarText(v);
      if (text === undefined && nestsDeeperThan(v, MAX_JSON_DEPTH)) {
        e.labels.setError(JSON_PARSER_ERR, JSON_TOO_DEEP);
        continue;
      }
      e.labels.setExtracted(p.label, text ?? JSON.stringify(v));
    }
    return true;
  }
}
