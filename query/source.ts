import type { Matcher } from './ast.js';
import type { EntryBatch } from '../src/model/batch.js';
import type { Labels } from '../src/model/labels.js';

/** What the engine asks of storage: the streams matching a selector, with their entries in a time range. */
export interface SelectParams {
  matchers: Matcher[];
  /** [start, end) in nanoseconds. */
  start: bigint;
  end: bigint;
  /**
   * The query's direction, as a hint only: batches always arrive in ascending time. The engine asks for
   * 'forward' for metric queries.
   */
  direction: 'forward' | 'backward';
}

export interface StreamData {
  labels: Labels;
  /** Entries in [start, end), ascending time, deduplicated, in batches. */
  batches: AsyncIterable<EntryBatch>;
}

/**
 * Implemented by the querier over the label index, the chunks and the ingesters' memory.
 * The engine consumes streams one after another and each stream's batches in order; it may stop
 * iterating a stream's batches early (the iterator's `return()` is called), so sources should release
 * resources there.
 */
export interface LogSource {
  select(params: SelectParams): AsyncIterable<StreamData>;
}
