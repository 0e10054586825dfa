import type { EntryBatch } from '../src/model/batch.js';
import type { Labels } from '../src/model/labels.js';

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
  /** True when no stage changes labels (no parser, label_format, drop, keep): grouping can use stream labels. */
  readonly preservesLabels: boolean;
}
