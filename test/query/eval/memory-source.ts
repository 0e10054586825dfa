import { compileMatcher } from '../../../query/regex.js';
import type { LogSource, SelectParams, StreamData } from '../../../query/source.js';
import { batchFromEntries } from '../../../src/model/batch.js';
import type { Labels } from '../../../src/model/labels.js';

/** A real LogSource over streams held in memory: what the querier does over chunks, minus storage. */
export interface MemStream {
  labels: Labels;
  entries: { ts: bigint; line: string; metadata?: Record<string, string> }[];
}

export class MemorySource implements LogSource {
  /** Every select() call, so tests can check the requested time range. */
  readonly selects: SelectParams[] = [];
  /** Batches handed out, to observe early stopping. */
  batchesRead = 0;

  constructor(private readonly streams: MemStream[], private readonly batchSize = 3) {}

  async *select(params: SelectParams): AsyncIterable<StreamData> {
    this.selects.push(params);
    for (const s of this.streams) {
      const tests = params.matchers.map((m) => ({ name: m.name, test: compileMatcher(m) }));
      if (!tests.every((m) => m.test(s.labels[m.name] ?? ''))) continue;
      const entries = s.entries.filter((e) => e.ts >= params.start && e.ts < params.end).sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
      if (entries.length === 0) continue;
      const size = this.batchSize;
      const self = this;
      yield {
        labels: s.labels,
        batches: (async function* () {
          for (let i = 0; i < entries.length; i += size) {
            self.batchesRead++;
            yield batchFromEntries(entries.slice(i, i + size));
          }
        })(),
      };
    }
  }
}

export const T0 = 1_700_000_000_000_000_000n;
/** T0 plus a number of seconds (fractions allowed down to the nanosecond). */
export function sec(s: number): bigint {
  return T0 + BigInt(Math.round(s * 1e9));
}
/** Milliseconds of T0 + s seconds: how result points are timed. */
export function ms(s: number): number {
  return Number(sec(s) / 1_000_000n);
}
