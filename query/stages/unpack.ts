/**
 * `| unpack`: reverses what promtail's `pack` stage did. The line is a JSON object of strings; `_entry` holds the
 * original line, which replaces the current one, and every other string field becomes a label.
 */
import { JSON_PARSER_ERR, parseJsonObject } from './json.js';
import { sanitizeLabelName } from './labels-builder.js';
import type { EntryState, Stage } from './stage.js';

const ENTRY_KEY = '_entry';

export class UnpackParser implements Stage {
  process(e: EntryState): boolean {
    const doc = parseJsonObject(e.line);
    if (typeof doc === 'string') {
      e.labels.setError(JSON_PARSER_ERR, doc);
      return true;
    }
    let entry: string | undefined;
    for (const key in doc) {
      const v = doc[key];
      if (typeof v !== 'string') continue;
      if (key === ENTRY_KEY) {
        entry = v;
        continue;
      }
      const name = sanitizeLabelName(key);
      if (name !== '') e.labels.setExtracted(name, v);
    }
    if (entry !== undefined) e.line = entry;
    return true;
  }
}
