/** One log line as the printers see it, and the flattening of a `streams` result into time order. */
import { canonicalLabels, type Labels } from '../../model/labels.js';
import { CliError } from './errors.js';
import type { StreamResult } from './loki-types.js';

export type Direction = 'forward' | 'backward';

export interface LogEntry {
  labels: Labels;
  /** The stream's canonical label string: its identity for colours and de-duplication. */
  key: string;
  ts: bigint;
  line: string;
}

/**
 * Every entry of a result, in the query's direction across all streams (Loki groups values by stream).
 * Ties on the timestamp are ordered by stream so the output is stable from run to run.
 */
export function entriesOf(streams: readonly StreamResult[], direction: Direction): LogEntry[] {
  const out: LogEntry[] = [];
  for (const s of streams) {
    const labels = s.stream ?? {};
    const key = canonicalLabels(labels);
    for (const v of s.values ?? []) out.push({ labels, key, ts: parseNs(v[0]), line: v[1] });
  }
  const sign = direction === 'forward' ? 1 : -1;
  out.sort((a, b) => (a.ts === b.ts ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.ts < b.ts ? -sign : sign));
  return out;
}

function parseNs(text: string): bigint {
  if (typeof text !== 'string' || !/^-?\d+$/.test(text)) {
    throw new CliError(`the server sent an entry timestamp ${JSON.stringify(text)}; expected nanoseconds as a string of digits`);
  }
  return BigInt(text);
}
