/**
 * `--stats`: the query statistics the server returns beside the result, summed over every page of a read
 * and printed on stderr once the read is done.
 */
import type { QueryStatsJson } from '../client/loki-types.js';
import { humanBytes } from './table.js';

const RATES = new Set(['bytesProcessedPerSecond', 'linesProcessedPerSecond']);

export class StatsTotals {
  private readonly sums = new Map<string, number>();
  requests = 0;

  add(stats: QueryStatsJson): void {
    this.requests++;
    for (const [k, v] of Object.entries(stats.summary ?? {})) {
      if (typeof v === 'number' && !RATES.has(k)) this.sums.set(k, (this.sums.get(k) ?? 0) + v);
    }
  }

  format(): string {
    if (this.requests === 0) return 'Stats: the server returned no statistics\n';
    const get = (k: string) => this.sums.get(k) ?? 0;
    const exec = get('execTime');
    const lines: [string, string][] = [
      ['requests', String(this.requests)],
      ['execution time', `${exec.toFixed(3)} s`],
      ['queue time', `${get('queueTime').toFixed(3)} s`],
      ['bytes processed', humanBytes(get('totalBytesProcessed'))],
      ['lines processed', String(get('totalLinesProcessed'))],
      ['bytes processed per second', exec > 0 ? `${humanBytes(Math.round(get('totalBytesProcessed') / exec))}/s` : '-'],
      ['lines processed per second', exec > 0 ? String(Math.round(get('totalLinesProcessed') / exec)) : '-'],
      ['entries returned', String(get('totalEntriesReturned'))],
      ['lines after filters', String(get('totalPostFilterLines'))],
    ];
    const w = Math.max(...lines.map(([k]) => k.length));
    return 'Stats:\n' + lines.map(([k, v]) => `  ${(k + ':').padEnd(w + 1)} ${v}`).join('\n') + '\n';
  }
}
