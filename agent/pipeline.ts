import type { Labels } from '../src/model/labels.js';
import { logfmtField } from './logfmt.js';

/**
 * The agent's small processing pipeline, applied to every entry in order:
 *  - `drop`: discard lines matching a regex (counted, never silent);
 *  - `json` / `logfmt`: promote fields of the line to labels;
 *  - `static_labels`: add fixed labels.
 * Deliberately small: heavy parsing belongs in LogQL at query time, where it costs nothing at ingest.
 */
export type Stage =
  | { type: 'drop'; expression: RegExp }
  | { type: 'json'; labels: [label: string, path: string[]][] }
  | { type: 'logfmt'; labels: [label: string, key: string][] }
  | { type: 'static_labels'; labels: Labels };

const NONE: Labels = Object.freeze({}) as Labels;

export class Pipeline {
  readonly empty: boolean;

  constructor(private readonly stages: Stage[]) {
    this.empty = stages.length === 0;
  }

  /** null: the line is dropped. Otherwise the labels to add (a shared empty object when none). */
  run(line: string): Labels | null {
    if (this.empty) return NONE;
    let out: Labels | undefined;
    for (const st of this.stages) {
      switch (st.type) {
        case 'drop':
          if (st.expression.test(line)) return null;
          break;
        case 'static_labels':
          out = { ...(out ?? {}), ...st.labels };
          break;
        case 'json': {
          const doc = parseJsonObject(line);
          if (!doc) break;
          for (const [label, path] of st.labels) {
            const v = pick(doc, path);
            if (v !== undefined) (out ??= {})[label] = v;
          }
          break;
        }
        case 'logfmt':
          for (const [label, key] of st.labels) {
            const v = logfmtField(line, key);
            if (v !== undefined && v !== '') (out ??= {})[label] = v;
          }
          break;
      }
    }
    return out ?? NONE;
  }
}

function parseJsonObject(line: string): Record<string, unknown> | undefined {
  if (line.charCodeAt(0) !== 123) return undefined;
  try {
    const v = JSON.parse(line) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function pick(doc: Record<string, unknown>, path: string[]): string | undefined {
  let cur: unknown = doc;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return undefined;
  if (typeof cur === 'string') return cur === '' ? undefined : cur;
  if (typeof cur === 'number' || typeof cur === 'boolean') return String(cur);
  return JSON.stringify(cur);
}
