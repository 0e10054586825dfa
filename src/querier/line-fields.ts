import { parseJsonObject, nestsDeeperThan } from '../../query/stages/json.js';
import { MAX_JSON_DEPTH } from '../../query/stages/json-scan.js';
import { sanitizeLabelName } from '../../query/stages/labels-builder.js';
import { scanLogfmt } from '../../query/stages/logfmt.js';
import { formatJsonNumber } from '../../query/units.js';
import type { Labels } from '../model/labels.js';

/** One field a line yields: its label name, its value, and for JSON the keys that lead to it as written. */
export interface LineField {
  name: string;
  value: string;
  jsonPath?: string[];
}

export interface LineFields {
  parser: 'json' | 'logfmt';
  fields: LineField[];
}

/**
 * The fields Loki's Drilldown finds in a line: a JSON object is flattened as `| json` does (nested keys joined
 * with `_`, arrays skipped, first key wins); any other line is read as logfmt, leniently, pairs without a
 * value dropped. A name that is already one of the stream's labels gets the `_extracted` suffix, as a parser
 * in a query would give it. Null when the line yields nothing.
 */
export function lineFields(line: string, streamLabels: Labels): LineFields | null {
  const out: LineField[] = [];
  const seen = new Set<string>();
  const add = (key: string, value: string, path?: string[]): void => {
    let name = key;
    if (streamLabels[name] !== undefined) name += '_extracted';
    if (seen.has(name)) return;
    seen.add(name);
    out.push(path ? { name, value, jsonPath: path } : { name, value });
  };
  const trimmed = line.trimStart();
  if (trimmed.startsWith('{')) {
    const doc = parseJsonObject(line);
    if (typeof doc !== 'string' && !nestsDeeperThan(doc, MAX_JSON_DEPTH)) {
      flatten(doc, '', [], add);
      return out.length > 0 ? { parser: 'json', fields: out } : null;
    }
  }
  scanLogfmt(line, false, (key, value, bare) => {
    if (bare || value === '') return;
    const name = sanitizeLabelName(key);
    if (name !== '') add(name, value);
  });
  return out.length > 0 ? { parser: 'logfmt', fields: out } : null;
}

function flatten(obj: Record<string, unknown>, prefix: string, path: string[], add: (k: string, v: string, p: string[]) => void): void {
  for (const key in obj) {
    const v = obj[key];
    const part = sanitizeLabelName(key);
    if (part === '' || v === null || v === undefined) continue;
    const name = prefix === '' ? part : `${prefix}_${part}`;
    const at = [...path, key];
    if (typeof v === 'string') add(name, v, at);
    else if (typeof v === 'number') add(name, formatJsonNumber(v), at);
    else if (typeof v === 'boolean') add(name, v ? 'true' : 'false', at);
    else if (!Array.isArray(v)) flatten(v as Record<string, unknown>, name, at, add);
  }
}
