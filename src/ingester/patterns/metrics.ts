import { Counter, Gauge, type Registry } from 'prom-client';
import type { PatternStore } from './pattern-store.js';

/** The miner's size and work on /metrics, read from the store at scrape time. */
export function patternMetrics(registry: Registry, store: PatternStore): void {
  const r = [registry];
  new Gauge({
    name: 'narvi_pattern_ingester_streams',
    help: 'Streams whose log patterns are kept (bounded by pattern_ingester.max_streams).',
    registers: r,
    collect() {
      this.set(store.streamCount);
    },
  });
  new Gauge({
    name: 'narvi_pattern_ingester_patterns',
    help: 'Log patterns kept over all streams (at most pattern_ingester.max_clusters per stream).',
    registers: r,
    collect() {
      this.set(store.clusterCount());
    },
  });
  let minedSeen = 0;
  new Counter({
    name: 'narvi_pattern_ingester_lines_total',
    help: 'Lines put into a log pattern.',
    registers: r,
    collect() {
      this.inc(store.mined - minedSeen);
      minedSeen = store.mined;
    },
  });
  let skippedSeen = 0;
  new Counter({
    name: 'narvi_pattern_ingester_lines_skipped_total',
    help: 'Lines the pattern miner skipped: longer than 3000 bytes, more than 80 tokens, or empty.',
    registers: r,
    collect() {
      this.inc(store.skipped - skippedSeen);
      skippedSeen = store.skipped;
    },
  });
}
