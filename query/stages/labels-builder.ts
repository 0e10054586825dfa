/**
 * The label set of one entry while it moves through the pipeline: the stream's labels plus whatever parsers
 * extract and formatting stages change. Changes are kept beside the untouched stream labels, so an entry that
 * no stage changed hands back the very stream object and callers can key per-stream work on identity.
 */
import type { Labels } from '../../src/model/labels.js';

export const ERROR_LABEL = '__error__';
export const ERROR_DETAILS_LABEL = '__error_details__';

const hasOwn = Object.prototype.hasOwnProperty;

export class LabelsBuilder {
  private base: Labels = {};
  private readonly added = new Map<string, string>();
  private readonly removed = new Set<string>();
  private changed = false;

  /** Starts a new entry of `stream`; structured metadata joins as if extracted. */
  reset(stream: Labels, metadata?: Record<string, string> | null): void {
    this.base = stream;
    if (this.changed) {
      this.added.clear();
      this.removed.clear();
      this.changed = false;
    }
    if (metadata) for (const k in metadata) this.setExtracted(k, metadata[k]!);
  }

  get(name: string): string | undefined {
    const v = this.added.get(name);
    if (v !== undefined) return v;
    if (this.changed && this.removed.has(name)) return undefined;
    return hasOwn.call(this.base, name) ? this.base[name] : undefined;
  }

  /** A stream label (as the entry started), which extracted labels must not overwrite. */
  isStreamLabel(name: string): boolean {
    return hasOwn.call(this.base, name);
  }

  /** A parser's result: a name that clashes with a stream label gets the `_extracted` suffix, as in Loki. */
  setExtracted(name: string, value: string): void {
    this.set(hasOwn.call(this.base, name) ? name + '_extracted' : name, value);
  }

  set(name: string, value: string): void {
    this.added.set(name, value);
    this.changed = true;
  }

  delete(name: string): void {
    if (this.added.delete(name)) this.changed = true;
    if (hasOwn.call(this.base, name)) {
      this.removed.add(name);
      this.changed = true;
    }
  }

  setError(kind: string, details?: string): void {
    this.set(ERROR_LABEL, kind);
    if (details !== undefined) this.set(ERROR_DETAILS_LABEL, details);
  }

  hasError(): boolean {
    const e = this.get(ERROR_LABEL);
    return e !== undefined && e !== '';
  }

  /** Calls `fn` for every current label. */
  forEach(fn: (name: string, value: string) => void): void {
    for (const k in this.base) {
      if (this.changed && (this.removed.has(k) || this.added.has(k))) continue;
      fn(k, this.base[k]!);
    }
    for (const [k, v] of this.added) fn(k, v);
  }

  names(): string[] {
    const out: string[] = [];
    this.forEach((k) => out.push(k));
    return out;
  }

  /** The current labels: the stream object itself when nothing changed, else a fresh object. */
  labels(): Labels {
    if (!this.changed) return this.base;
    const out: Labels = {};
    const base = this.base;
    const removed = this.removed;
    const added = this.added;
    for (const k in base) if (!removed.has(k) && !added.has(k)) out[k] = base[k]!;
    for (const [k, v] of added) out[k] = v;
    return out;
  }
}

/**
 * Turns a key found in a log line into a label name as Loki does: surrounding spaces trimmed, every character
 * outside [a-zA-Z0-9_] replaced by `_`, and a leading digit prefixed with `_`. Empty stays empty (callers skip it).
 */
export function sanitizeLabelName(key: string): string {
  if (VALID_NAME.test(key)) return key;
  const k = key.trim();
  if (k === '') return '';
  let out = '';
  for (const ch of k) out += /[a-zA-Z0-9_]/.test(ch) ? ch : '_';
  const c = out.charCodeAt(0);
  return c >= 0x30 && c <= 0x39 ? '_' + out : out;
}

const VALID_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
