import type { Matcher } from './ast.js';
import type { EntryBatch } from '../src/model/batch.js';
import type { Labels } from '../src/model/labels.js';
import type { ParallelRunner } from './parallel.js';

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
  /** Optional: lets the source skip stored blocks that cannot hold a wanted line without decoding them. */
  prefilter?: BlockPrefilter;
}

/**
 * Byte strings that every line the query wants contains (its leading `|=` literals). A source may drop a
 * whole block whose line bytes lack one of them, before decoding its timestamps and lengths; it then
 * reports the block through `skipped`, which answers whether the stream's later batches (older ones when
 * read newest first) can be left unread, as the engine would decide had the block arrived empty.
 */
export interface BlockPrefilter {
  needles: Uint8Array[];
  skipped(count: number, bytes: number, minTs: bigint, maxTs: bigint): boolean;
}

export interface StreamData {
  labels: Labels;
  /**
   * The stream's position among all streams the selector picks, when the source serves only some of
   * them (a worker's share): log queries order equal-time entries of equal labels by it.
   */
  index?: number;
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
  /**
   * Optional: the same streams, but each stream's batches come newest first. Entries inside a batch still
   * ascend, and batches do not overlap: every entry of a batch is older than every entry of the batch
   * before it. A backward query with a limit reads this way and stops a stream as soon as its batches
   * are older than the entries already kept, so most chunks are never fetched or decompressed.
   */
  selectBackward?(params: SelectParams): AsyncIterable<StreamData>;
  /** Optional: runs the per-stream part of a query on other threads (see parallel.ts). */
  readonly parallel?: ParallelRunner;
}
