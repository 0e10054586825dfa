/**
 * Metric results (matrix, vector, scalar) as a readable table: one row per sample, a column per label that
 * differs between series (the shared ones are announced once, like log output), the value last.
 */
import { canonicalLabels, type Labels } from '../../model/labels.js';
import type { MatrixSeries, QueryData, VectorSample } from '../client/loki-types.js';
import { commonLabels } from './common-labels.js';
import { formatTable } from './table.js';
import { formatTime, type TimeZone } from './time-format.js';

export interface MetricTable {
  /** The table text, empty when there is nothing to show. */
  table: string;
  common: Labels;
  series: number;
}

export function metricTable(data: Exclude<QueryData, { resultType: 'streams' }>, tz: TimeZone): MetricTable {
  if (data.resultType === 'scalar') {
    return { table: formatTable(['TIME', 'VALUE'], [[secondsTime(data.result[0], tz), data.result[1]]], new Set([1])), common: {}, series: 1 };
  }
  const series: { metric: Labels; points: [number, string][] }[] =
    data.resultType === 'matrix'
      ? (data.result as MatrixSeries[]).map((s) => ({ metric: s.metric ?? {}, points: s.values ?? [] }))
      : (data.result as VectorSample[]).map((s) => ({ metric: s.metric ?? {}, points: [s.value] }));
  if (series.length === 0) return { table: '', common: {}, series: 0 };
  series.sort((a, b) => cmp(canonicalLabels(a.metric), canonicalLabels(b.metric)));
  // One series has nothing to tell apart: keep its labels in the table rather than hiding them all.
  const common = series.length > 1 ? commonLabels(series.map((s) => s.metric)) : {};
  const names = [...new Set(series.flatMap((s) => Object.keys(s.metric)))].filter((n) => !(n in common)).sort();
  const header = ['TIME', ...names, 'VALUE'];
  const rows: string[][] = [];
  for (const s of series) {
    for (const [t, v] of s.points) rows.push([secondsTime(t, tz), ...names.map((n) => s.metric[n] ?? ''), v]);
  }
  return { table: formatTable(header, rows, new Set([header.length - 1])), common, series: series.length };
}

/** Sample times come as float seconds with millisecond precision. */
function secondsTime(sec: number, tz: TimeZone): string {
  return formatTime(BigInt(Math.round(sec * 1000)) * 1_000_000n, tz);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
