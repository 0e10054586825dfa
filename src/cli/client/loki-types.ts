/** The JSON shapes of Loki's query API as the CLI reads them (DESIGN.md §5). */
import type { Labels } from '../../model/labels.js';

export interface StreamResult {
  stream: Labels;
  values: ([string, string] | [string, string, Record<string, unknown>])[];
}
export interface MatrixSeries {
  metric: Labels;
  values: [number, string][];
}
export interface VectorSample {
  metric: Labels;
  value: [number, string];
}

/** Only the summary is read; everything else in stats is passed through untouched. */
export interface QueryStatsJson {
  summary?: Record<string, number>;
  [section: string]: unknown;
}

export type QueryData =
  | { resultType: 'streams'; result: StreamResult[]; stats?: QueryStatsJson }
  | { resultType: 'matrix'; result: MatrixSeries[]; stats?: QueryStatsJson }
  | { resultType: 'vector'; result: VectorSample[]; stats?: QueryStatsJson }
  | { resultType: 'scalar'; result: [number, string]; stats?: QueryStatsJson };

export interface QueryResponse {
  status: string;
  data: QueryData;
}

export interface LabelsResponse {
  status: string;
  data?: string[];
}

export interface SeriesResponse {
  status: string;
  data?: Labels[];
}

export interface IndexStats {
  streams: number;
  chunks: number;
  bytes: number;
  entries: number;
}

/** A tail WebSocket frame. */
export interface TailFrame {
  streams?: StreamResult[] | null;
  dropped_entries?: { labels: Labels | string; timestamp: string }[] | null;
}

export const RESULT_TYPES = ['streams', 'matrix', 'vector', 'scalar'] as const;
