import type { EntryBatch } from '../src/model/batch.js';
import type { Labels } from '../src/model/labels.js';

/**
 * What `Pipeline.runEntries` hands its callback for each surviving entry. It is one reused object, valid
 * only during the call: read what you need, never keep it.
 */
export interface PipelineEntry {
  /** The (possibly rewritten) line; decoded from the batch bytes on first access, so callers that do not read it never pay for it. */
  readonly line: string;
  /** Whether a stage replaced the line (line_format, decolorize, unpack): `rawBytes()` then no longer describes it. */
  readonly rewritten: boolean;
  /** UTF-8 length of the entry's original bytes in the batch. */
  rawLength(): number;
  /** One label of the final set, without building the set. */
  get(name: string): string | undefined;
  /** Whether `__error__` is set and not empty. */
  hasError(): boolean;
  /** The final label set: the very `stream` object passed to runEntries when nothing changed it. */
  labels(): Labels;
  /**
   * The entry's structured metadata object as the batch holds it (null for none). Entries sharing one
   * (decoded runs share a frozen object) have the same labels when no stage changes labels.
   */
  metadata(): Record<string, string> | null;
}

/**
 * A compiled log pipeline (`query/pipeline.ts` builds it from `PipelineStage[]`). It runs over one
 * batch of one stream at a time. Line filters run first over the batch's line bytes, so entries that
 * fail them never become strings.
 */
export interface Pipeline {
  /**
   * Calls `emit` for each entry of `batch` that survives every stage, in batch order, with its index in
   * the batch, the (possibly rewritten) line and the full label set (stream labels plus extracted ones).
   * When no stage can change labels, `labels` is the very `stream` object passed in, so callers may
   * cache per-stream work by identity.
   */
  run(batch: EntryBatch, stream: Labels, emit: (index: number, line: string, labels: Labels) => void): void;
  /**
   * Like `run`, but hands a lazy view of each surviving entry: neither the line nor the label set is
   * materialised unless the callback asks for it (metric queries usually need neither).
   */
  runEntries(batch: EntryBatch, stream: Labels, emit: (index: number, entry: PipelineEntry) => void): void;
  /** True when no stage changes labels (no parser, label_format, drop, keep): grouping can use stream labels. */
  readonly preservesLabels: boolean;
  /**
   * When the whole pipeline is one parser extracting a few named fields from the line's bytes (a `json`
   * or `logfmt` with a required-labels hint), possibly followed by `| __error__=""`, its scanner: a
   * caller that only reads those fields may scan lines itself, applying what it finds as the parser
   * would (extracted names clashing with a stream label get `_extracted`, later values win), and hand
   * every line the scanner declines to `runEntry`. Null for any other pipeline.
   */
  readonly fieldScanner: FieldScanner | null;
  /** `runEntries` for the one entry `index` of `batch`. */
  runEntry(batch: EntryBatch, index: number, stream: Labels, emit: (index: number, entry: PipelineEntry) => void): void;
}

/** A parser's byte scanner for the few fields a query reads (see required-labels.ts). */
export interface FieldScanner {
  /** Scans `b[start, end)`; false when the parser must handle the line itself (errors, ambiguities). */
  scan(b: Buffer, start: number, end: number): boolean;
  /** The fields found by the last successful scan: `names[0..count)`, `values[0..count)`, in line order. */
  readonly names: readonly string[];
  readonly values: readonly string[];
  readonly count: number;
}

/** What the consumer of a pipeline reads from the final label set: named labels only, or all of them (null). */
export type RequiredLabels = ReadonlySet<string> | null;
