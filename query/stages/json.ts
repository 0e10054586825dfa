/**
 * `| json` and `| json a="x.y", b="items[0]"`. Without parameters every scalar field becomes a label, nested
 * objects flattened with `_` (`{"a":{"b":1}}` → `a_b="1"`), arrays skipped and null giving no label; with
 * parameters only the addressed values are extracted (objects and arrays as their compact JSON, null as ""), and
 * a path missing from the line still gives its label, empty. Numbers print as Go prints a float64. When a key
 * occurs twice the first occurrence wins, as in Loki. A line that is not a JSON object keeps flowing with
 * `__error__="JSONParserErr"`.
 */
import type { JsonStage } from '../ast.js';
import { formatJsonNumber } from '../units.js';
import { parseJsonPath, lookupJsonPath, type JsonStep } from './json-path.js';
import { flattenInOrder, JsonTooDeep as WalkTooDeep, parsedKeyCount, parseKeepingFirst, textKeyCount } from './json-duplicates.js';
import { FirstSeen } from './first-seen.js';
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

/** What one object walk saw beyond the labels it set. */
interface WalkStats {
  /** Keys in the document, arrays included. */
  keys: number;
  /**
   * Two keys met on one name (`a.b` and `a_b`): JavaScript visits integer-like keys first, so only the line's own
   * order can say which came first.
   */
  collided: boolean;
}

/**
 * Keys that sanitise to one name also follow first-wins, through `seen`. Only names holding `_` can meet: a name
 * without one is a top-level key that needed no sanitising, and JSON.parse has already made those unique.
 */
function flatten(obj: Record<string, unknown>, prefix: string, lbs: LabelsBuilder, seen: FirstSeen, stats: WalkStats, depth = 1): void {
  if (depth > MAX_JSON_DEPTH) throw new JsonTooDeep();
  for (const key in obj) {
    stats.keys++;
    const v = obj[key];
    const part = sanitizeLabelName(key);
    if (part === '' || v === null) {
      if (v !== null && typeof v === 'object') stats.keys += parsedKeyCount(v);
      continue;
    }
    const name = prefix === '' ? part : `${prefix}_${part}`;
    const text = scalarText(v);
    if (text !== undefined) {
      if (name.indexOf('_') < 0 || seen.claim(name)) lbs.setExtracted(name, text);
      else stats.collided = true;
    } else if (Array.isArray(v)) stats.keys += parsedKeyCount(v);
    else flatten(v as Record<string, unknown>, name, lbs, seen, stats, depth + 1);
  }
}

/**
 * Whether the line may repeat a key, given the keys its parsed document holds. Compact JSON writes every key as
 * `"key":`, so counting `":` settles the common case (over the batch's bytes when the line is still there, the
 * cheapest way); only when that count disagrees (spaced colons, `":` inside string values) are the line's keys
 * counted exactly.
 */
function mayRepeatKey(e: EntryState, parsedKeys: number): boolean {
  let quick = 0;
  const b = e.bytes;
  if (b) {
    const last = e.byteEnd! - 1;
    for (let i = e.byteStart!; i < last; i++) if (b[i] === 0x22 && b[i + 1] === 0x3a) quick++;
  } else {
    const line = e.line;
    for (let i = line.indexOf('":'); i >= 0; i = line.indexOf('":', i + 2)) quick++;
  }
  if (quick === parsedKeys) return false;
  return textKeyCount(e.line) > parsedKeys;
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

  private readonly seen = new FirstSeen();
  private readonly stats: WalkStats = { keys: 0, collided: false };
  private lbs: LabelsBuilder | null = null;
  /** Bound once so the in-order walk allocates no closure per line. */
  private readonly emit = (name: string, value: string): void => {
    if (this.seen.claim(name)) this.lbs!.setExtracted(name, value);
  };

  process(e: EntryState): boolean {
    const sc = this.scanner;
    // The scanner gives up on a repeated wanted name, so what it found holds each name once.
    if (sc && e.bytes && sc.scan(e.bytes, e.byteStart!, e.byteEnd!)) {
      const { names, values } = sc;
      for (let k = 0; k < sc.count; k++) e.labels.setExtracted(names[k]!, values[k]!);
      return true;
    }
    const line = e.line;
    let doc = parseJsonObject(line);
    if (typeof doc === 'string') {
      e.labels.setError(JSON_PARSER_ERR, doc);
      return true;
    }
    this.seen.next();
    if (this.params.length === 0) {
      try {
        const stats = this.stats;
        stats.keys = 0;
        stats.collided = false;
        flatten(doc, '', e.labels, this.seen, stats);
        // The in-order walk sets every name the object walk set, so it may run after it and correct it.
        if (stats.collided || mayRepeatKey(e, stats.keys)) {
          this.seen.next();
          this.lbs = e.labels;
          flattenInOrder(line, this.emit);
          this.lbs = null;
        }
      } catch (err) {
        if (!(err instanceof JsonTooDeep) && !(err instanceof WalkTooDeep)) throw err;
        e.labels.setError(JSON_PARSER_ERR, JSON_TOO_DEEP);
      }
      return true;
    }
    if (mayRepeatKey(e, parsedKeyCount(doc))) {
      try {
        doc = parseKeepingFirst(line);
      } catch (err) {
        if (!(err instanceof WalkTooDeep)) throw err;
        e.labels.setError(JSON_PARSER_ERR, JSON_TOO_DEEP);
        return true;
      }
    }
    for (const p of this.params) {
      const v = lookupJsonPath(doc, p.steps);
      if (v === undefined) {
        // As in Loki, a missing path still gives its label, empty, unless the name is taken already.
        if (e.labels.get(p.label) === undefined) e.labels.set(p.label, '');
        continue;
      }
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
