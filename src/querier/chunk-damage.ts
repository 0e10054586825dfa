import { ChunkCorruptError } from '../chunk/chunk-error.js';
import { ObjectNotFoundError } from '../store/object-store.js';

/** Past this many damaged chunks a response names no more of them, only how many. */
const MAX_NAMED = 10;

/**
 * What one query could not read: chunk objects that are missing, truncated or fail their checksums.
 * A damaged chunk costs only its own entries (or one block's): the query goes on with the rest of the
 * data and answers with a warning per chunk, as Loki 3 does, instead of failing every query that
 * touches the stream.
 */
export class ChunkDamage {
  private readonly byKey = new Map<string, string>();

  constructor(private readonly counted?: (kind: 'missing' | 'corrupt') => void) {}

  /** True for the errors that mean "this object's bytes cannot be used", as opposed to a store outage. */
  static isDamage(err: unknown): err is ChunkCorruptError | ObjectNotFoundError {
    return err instanceof ChunkCorruptError || err instanceof ObjectNotFoundError;
  }

  report(key: string, err: ChunkCorruptError | ObjectNotFoundError): void {
    if (this.byKey.has(key)) return;
    this.byKey.set(key, err.message);
    this.counted?.(err instanceof ObjectNotFoundError ? 'missing' : 'corrupt');
  }

  /** What a worker thread found in its share; counted here, where the metric lives. */
  merge(messages: { key: string; message: string; missing: boolean }[]): void {
    for (const m of messages) {
      if (this.byKey.has(m.key)) continue;
      this.byKey.set(m.key, m.message);
      this.counted?.(m.missing ? 'missing' : 'corrupt');
    }
  }

  /** For a worker's reply. */
  entries(): { key: string; message: string; missing: boolean }[] {
    return [...this.byKey].map(([key, message]) => ({ key, message, missing: message.startsWith('object not found') }));
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The response's `warnings`: one line per damaged chunk, the first few by name. */
  warnings(): string[] {
    const out: string[] = [];
    for (const [, message] of this.byKey) {
      if (out.length === MAX_NAMED) break;
      out.push(`${message}; its entries are missing from this result`);
    }
    if (this.byKey.size > MAX_NAMED) out.push(`${this.byKey.size - MAX_NAMED} more damaged chunks were skipped; their entries are missing from this result`);
    return out;
  }
}
