/** One log line as it travels from push to chunk. `ts` is nanoseconds since the epoch. */
export interface Entry {
  ts: bigint;
  line: string;
  /** Loki's structured metadata: the optional third element of a pushed value. */
  metadata?: Record<string, string>;
}

/** A stream as pushed: its labels (already canonical) and entries. */
export interface PushStream {
  labels: string;
  entries: Entry[];
}

/** An entry on the ingest path: the line stays as the bytes the client sent, so it is never decoded and re-encoded. */
export interface IngestEntry {
  ts: bigint;
  line: Buffer;
  metadata?: Record<string, string>;
}

/** A pushed stream before validation: `labels` is the client's text (protobuf) or its label object (JSON). */
export interface IngestStream {
  labels: string | Record<string, string>;
  entries: IngestEntry[];
}

/** Bytes of an entry's structured metadata as limits count them: every name and value, in UTF-8. */
// Sizes of frozen metadata objects, which cannot change: entries share a few of them (detected_level, an
// OTLP resource's attributes), and every entry is measured on its way in.
const frozenSizes = new WeakMap<object, number>();

export function metadataBytes(md: Record<string, string> | undefined | null): number {
  if (!md) return 0;
  const frozen = Object.isFrozen(md);
  if (frozen) {
    const known = frozenSizes.get(md);
    if (known !== undefined) return known;
  }
  let n = 0;
  for (const k in md) n += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(md[k]!, 'utf8');
  if (frozen) frozenSizes.set(md, n);
  return n;
}

/**
 * Whether two entries' structured metadata are the same: part of an entry's identity, so two entries
 * with the same timestamp and line but other metadata are two entries. No metadata and an empty set
 * are the same; the order of keys is not significant.
 */
export function sameMetadata(a: Record<string, string> | undefined | null, b: Record<string, string> | undefined | null): boolean {
  if (a === b) return true;
  let n = 0;
  if (a) {
    for (const k in a) {
      if (!b || !Object.prototype.hasOwnProperty.call(b, k) || b[k] !== a[k]) return false;
      n++;
    }
  }
  if (b) for (const _ in b) if (--n < 0) return false;
  return true;
}
