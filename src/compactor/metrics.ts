import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface CompactorMetrics {
  runs: Counter<'outcome'>;
  chunksDeleted: Counter;
  chunksRewritten: Counter;
  chunksMerged: Counter;
  chunksWritten: Counter;
  orphansDeleted: Counter;
  bytesReclaimed: Counter;
  runDuration: Histogram;
  lastSuccess: Gauge;
}

export function compactorMetrics(registry: Registry): CompactorMetrics {
  const r = [registry];
  return {
    runs: new Counter({ name: 'narvi_compactor_runs_total', help: 'Compaction runs, by outcome (success, skipped: another compactor holds the lease, lease_lost, failed).', labelNames: ['outcome'], registers: r }),
    chunksDeleted: new Counter({ name: 'narvi_compactor_chunks_deleted_total', help: 'Chunks removed whole because every entry was past retention or deleted.', registers: r }),
    chunksRewritten: new Counter({ name: 'narvi_compactor_chunks_rewritten_total', help: 'Chunks rewritten without their expired or deleted entries.', registers: r }),
    chunksMerged: new Counter({ name: 'narvi_compactor_chunks_merged_total', help: 'Small chunks merged into larger ones (counted per input chunk).', registers: r }),
    chunksWritten: new Counter({ name: 'narvi_compactor_chunks_written_total', help: 'Chunks the compactor wrote (rewrites and merges).', registers: r }),
    orphansDeleted: new Counter({ name: 'narvi_compactor_orphans_deleted_total', help: 'Chunk objects no index row referred to, removed after the grace period.', registers: r }),
    bytesReclaimed: new Counter({ name: 'narvi_compactor_bytes_reclaimed_total', help: 'Store bytes freed: chunks dropped or replaced minus the chunks written in their place, plus orphans.', registers: r }),
    runDuration: new Histogram({ name: 'narvi_compactor_run_duration_seconds', help: 'Duration of compaction runs.', buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600], registers: r }),
    lastSuccess: new Gauge({ name: 'narvi_compactor_last_successful_run_timestamp_seconds', help: 'Unix time of the last run that completed.', registers: r }),
  };
}
