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
  // Added or overwritten labels in insertion order, and removed stream labels, as plain arrays: an
  // entry changes only a few, and clearing arrays costs nothing where Map.clear() allocates a new table
  // per entry.
  private addedNames: string[] = [];
  private addedValues: string[] = [];
  private added = 0;
  private removedNames: string[] = [];
  private removed = 0;
  private changed = false;
  // Names (as they landed) currently held by structured metadata: a parsed field must not take them.
  private metaNames: string[] = [];
  private metas = 0;

  /**
   * Starts a new entry of `stream`. Structured metadata joins the labels; a key clashing with a stream
   * label lands on `<key>_extracted`, since the stream label keeps the plain name (Loki 3.7).
   */
  reset(stream: Labels, metadata?: Record<string, string> | null): void {
    this.base = stream;
    this.added = 0;
    this.removed = 0;
    this.changed = false;
    this.metas = 0;
    if (metadata) {
      for (const k in metadata) {
        const name = hasOwn.call(stream, k) ? k + '_extracted' : k;
        this.put(name, metadata[k]!);
        this.metaNames[this.metas++] = name;
      }
    }
  }

  private metaIndex(name: string): number {
    const names = this.metaNames;
    for (let i = 0; i < this.metas; i++) if (names[i] === name) return i;
    return -1;
  }

  /** The name stops being metadata's: it was overwritten or removed. */
  private unmarkMeta(name: string): void {
    const i = this.metaIndex(name);
    if (i < 0) return;
    this.metaNames[i] = this.metaNames[this.metas - 1]!;
    this.metas--;
  }

  private addedIndex(name: string): number {
    const names = this.addedNames;
    for (let i = 0; i < this.added; i++) if (names[i] === name) return i;
    return -1;
  }

  private isRemoved(name: string): boolean {
    const names = this.removedNames;
    for (let i = 0; i < this.removed; i++) if (names[i] === name) return true;
    return false;
  }

  get(name: string): string | undefined {
    if (this.added > 0) {
      const i = this.addedIndex(name);
      if (i >= 0) return this.addedValues[i];
    }
    if (this.removed > 0 && this.isRemoved(name)) return undefined;
    return hasOwn.call(this.base, name) ? this.base[name] : undefined;
  }

  /** A stream label (as the entry started), which extracted labels must not overwrite. */
  isStreamLabel(name: string): boolean {
    return hasOwn.call(this.base, name);
  }

  /**
   * A parser's result. Loki 3.7 ranks the plain name stream label > structured metadata > parsed field,
   * so a name held by either of the first two goes to `<name>_extracted`, where the parsed value wins
   * over metadata that landed there (the reverse order).
   */
  setExtracted(name: string, value: string): void {
    if (hasOwn.call(this.base, name) || (this.metas > 0 && this.metaIndex(name) >= 0)) name += '_extracted';
    this.set(name, value);
  }

  /** Sets a label outright (label_format, errors, parsers through setExtracted). */
  set(name: string, value: string): void {
    if (this.metas > 0) this.unmarkMeta(name);
    this.put(name, value);
  }

  private put(name: string, value: string): void {
    const i = this.addedIndex(name);
    if (i >= 0) this.addedValues[i] = value;
    else {
      const k = this.added++;
      this.addedNames[k] = name;
      this.addedValues[k] = value;
    }
    this.changed = true;
  }

  delete(name: string): void {
    if (this.metas > 0) this.unmarkMeta(name);
    const i = this.addedIndex(name);
    if (i >= 0) {
      const names = this.addedNames;
      const values = this.addedValues;
      for (let k = i + 1; k < this.added; k++) {
        names[k - 1] = names[k]!;
        values[k - 1] = values[k]!;
      }
      this.added--;
      this.changed = true;
    }
    if (hasOwn.call(this.base, name) && !this.isRemoved(name)) {
      this.removedNames[this.removed++] = name;
      this.changed = true;
    }
  }

  setError(kind: string, details?: string): void {
    this.set(ERROR_LABEL, kind);
    if (details !== undefined) this.set(ERROR_DETAILS_LABEL, details);
  }

  hasError(): boolean {
    if (this.added === 0) {
      const e = hasOwn.call(this.base, ERROR_LABEL) && !this.isRemoved(ERROR_LABEL) ? this.base[ERROR_LABEL] : undefined;
      return e !== undefined && e !== '';
    }
    const e = this.get(ERROR_LABEL);
    return e !== undefined && e !== '';
  }

  /** Whether a label is shadowed (overwritten or removed) in the builder. */
  private hidden(name: string): boolean {
    return (this.added > 0 && this.addedIndex(name) >= 0) || (this.removed > 0 && this.isRemoved(name));
  }

  /** Calls `fn` for every current label. */
  forEach(fn: (name: string, value: string) => void): void {
    for (const k in this.base) {
      if (this.changed && this.hidden(k)) continue;
      fn(k, this.base[k]!);
    }
    for (let i = 0; i < this.added; i++) fn(this.addedNames[i]!, this.addedValues[i]!);
  }

  names(): string[] {
    const out: string[] = [];
    this.forEach((k) => out.push(k));
    return out;
  }

  /** The current labels: the stream object itself when nothing changed, else a fresh object. */
  labels(): Labels {
    if (!this.changed) return this.base;
    // Null prototype: a label named "__proto__" (a valid name) must stay an ordinary label.
    const out: Labels = Object.create(null) as Labels;
    const base = this.base;
    for (const k in base) if (!this.hidden(k)) out[k] = base[k]!;
    for (let i = 0; i < this.added; i++) out[this.addedNames[i]!] = this.addedValues[i]!;
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
