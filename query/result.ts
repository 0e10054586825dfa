import type { Labels } from '../src/model/labels.js';

/** Counters of one evaluation, reported in Loki's `stats.summary`. */
export interface QueryStats {
  /** Entries read from the source, before the pipeline. */
  totalLinesProcessed: number;
  /** Line bytes read from the source, before the pipeline. */
  totalBytesProcessed: number;
  /** Entries that survived the pipeline. */
  totalPostFilterLines: number;
  /** Entries in a streams result (0 for metric queries). */
  totalEntriesReturned: number;
  /** Streams the source yielded, summed over every selector in the query. */
  totalStreamsSelected: number;
  /** Wall time of the evaluation, in seconds. */
  execTime: number;
}

/** Adds the counters of a part of the evaluation (execTime is the caller's own). */
export function addStats(into: QueryStats, part: QueryStats): void {
  into.totalLinesProcessed += part.totalLinesProcessed;
  into.totalBytesProcessed += part.totalBytesProcessed;
  into.totalPostFilterLines += part.totalPostFilterLines;
  into.totalEntriesReturned += part.totalEntriesReturned;
  into.totalStreamsSelected += part.totalStreamsSelected;
}

export function emptyStats(): QueryStats {
  return { totalLinesProcessed: 0, totalBytesProcessed: 0, totalPostFilterLines: 0, totalEntriesReturned: 0, totalStreamsSelected: 0, execTime: 0 };
}

export interface ResultEntry {
  /** Nanoseconds since the epoch. */
  ts: bigint;
  line: string;
}

/** One result stream of a log query: a final label set and its entries in the query's direction. */
export interface ResultStream {
  labels: Labels;
  entries: ResultEntry[];
}

/** A sample point; `t` is milliseconds since the epoch, as Loki reports step times. */
export interface Point {
  t: number;
  v: number;
}

export interface MatrixSeries {
  metric: Labels;
  /** Ascending `t`. */
  points: Point[];
}

export interface VectorSample {
  metric: Labels;
  t: number;
  v: number;
}

export interface StreamsResult {
  type: 'streams';
  streams: ResultStream[];
  stats: QueryStats;
}

export interface MatrixResult {
  type: 'matrix';
  series: MatrixSeries[];
  stats: QueryStats;
}

export interface VectorResult {
  type: 'vector';
  samples: VectorSample[];
  stats: QueryStats;
}

export interface ScalarResult {
  type: 'scalar';
  t: number;
  v: number;
  stats: QueryStats;
}

export type QueryResult = StreamsResult | MatrixResult | VectorResult | ScalarResult;
