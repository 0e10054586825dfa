import type { Labels } from '../src/model/labels.js';
import type { QueryResult, QueryStats } from './result.js';

/**
 * Loki's JSON `data` object for each result type. Timestamps of samples are seconds as a number with
 * millisecond precision (1700000000.5); entry timestamps are nanoseconds as strings; sample values are
 * strings formatted like Go's strconv.FormatFloat(v, 'f', -1, 64).
 */
export type LokiData =
  | { resultType: 'streams'; result: { stream: Labels; values: [string, string][] }[]; stats: LokiStats }
  | { resultType: 'matrix'; result: { metric: Labels; values: [number, string][] }[]; stats: LokiStats }
  | { resultType: 'vector'; result: { metric: Labels; value: [number, string] }[]; stats: LokiStats }
  | { resultType: 'scalar'; result: [number, string]; stats: LokiStats };

export interface LokiStats {
  summary: {
    bytesProcessedPerSecond: number;
    linesProcessedPerSecond: number;
    totalBytesProcessed: number;
    totalLinesProcessed: number;
    execTime: number;
    queueTime: number;
    subqueries: number;
    totalEntriesReturned: number;
    splits: number;
    shards: number;
    totalPostFilterLines: number;
    totalStructuredMetadataBytesProcessed: number;
  };
}

export function toLokiData(result: QueryResult): LokiData {
  const stats = toLokiStats(result.stats);
  switch (result.type) {
    case 'streams':
      return {
        resultType: 'streams',
        result: result.streams.map((s) => ({ stream: s.labels, values: s.entries.map((e): [string, string] => [e.ts.toString(), e.line]) })),
        stats,
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: result.series.map((s) => ({ metric: s.metric, values: s.points.map((p): [number, string] => [msToSeconds(p.t), formatSampleValue(p.v)]) })),
        stats,
      };
    case 'vector':
      return {
        resultType: 'vector',
        result: result.samples.map((s) => ({ metric: s.metric, value: [msToSeconds(s.t), formatSampleValue(s.v)] })),
        stats,
      };
    case 'scalar':
      return { resultType: 'scalar', result: [msToSeconds(result.t), formatSampleValue(result.v)], stats };
  }
}

export function toLokiStats(s: QueryStats): LokiStats {
  const perSecond = (n: number) => (s.execTime > 0 ? Math.trunc(n / s.execTime) : 0);
  return {
    summary: {
      bytesProcessedPerSecond: perSecond(s.totalBytesProcessed),
      linesProcessedPerSecond: perSecond(s.totalLinesProcessed),
      totalBytesProcessed: s.totalBytesProcessed,
      totalLinesProcessed: s.totalLinesProcessed,
      execTime: s.execTime,
      queueTime: 0,
      subqueries: 0,
      totalEntriesReturned: s.totalEntriesReturned,
      splits: 0,
      shards: 0,
      totalPostFilterLines: s.totalPostFilterLines,
      totalStructuredMetadataBytesProcessed: 0,
    },
  };
}

/** Millisecond timestamps as Prometheus prints them: seconds, the fraction only as long as needed. */
export function msToSeconds(ms: number): number {
  return ms / 1000;
}

/**
 * Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits that round-trip (JS finds the same ones),
 * but never in exponent form; "NaN", "+Inf", "-Inf"; negative zero keeps its sign.
 */
export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const s = String(v);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, lead, frac = '', expText] = m;
  const digits = lead! + frac;
  const point = 1 + Number(expText);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
