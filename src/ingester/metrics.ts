import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface IngesterMetrics {
  streams: Gauge<'tenant'>;
  duplicates: Counter<'tenant'>;
  chunksFlushed: Counter<'reason'>;
  chunkBytesFlushed: Counter;
  chunkEntriesFlushed: Counter;
  flushDuration: Histogram;
  flushFailures: Counter;
  walBytes: Gauge;
  unflushedBytes: Gauge;
  walAppended: Counter;
  walWriteFailures: Counter<'code'>;
  walCheckpointFailures: Counter;
  walCheckpoints: Counter;
  walReplayRecords: Counter;
  walCorruptRecords: Counter;
}

export function ingesterMetrics(registry: Registry): IngesterMetrics {
  const r = [registry];
  return {
    streams: new Gauge({ name: 'narvi_ingester_memory_streams', help: 'Streams held in memory, per tenant.', labelNames: ['tenant'], registers: r }),
    duplicates: new Counter({ name: 'narvi_ingester_duplicate_entries_total', help: 'Entries dropped as exact duplicates (same stream, timestamp, line and structured metadata).', labelNames: ['tenant'], registers: r }),
    chunksFlushed: new Counter({ name: 'narvi_ingester_chunks_flushed_total', help: 'Chunks written to the object store, by why they were cut.', labelNames: ['reason'], registers: r }),
    chunkBytesFlushed: new Counter({ name: 'narvi_ingester_chunk_bytes_flushed_total', help: 'Compressed bytes of flushed chunks.', registers: r }),
    chunkEntriesFlushed: new Counter({ name: 'narvi_ingester_chunk_entries_flushed_total', help: 'Entries in flushed chunks.', registers: r }),
    flushDuration: new Histogram({ name: 'narvi_ingester_flush_duration_seconds', help: 'Time to write one chunk and its index row.', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: r }),
    flushFailures: new Counter({ name: 'narvi_ingester_flush_failures_total', help: 'Chunk flushes that failed and will be retried.', registers: r }),
    walBytes: new Gauge({ name: 'narvi_ingester_wal_disk_bytes', help: 'Bytes of WAL segments and checkpoints on disk.', registers: r }),
    unflushedBytes: new Gauge({ name: 'narvi_ingester_unflushed_bytes', help: 'Bytes of stream data held in memory: unflushed chunks and the last flushed ones kept for duplicate checks (bounded by ingester.max_unflushed_bytes).', registers: r }),
    walAppended: new Counter({ name: 'narvi_ingester_wal_bytes_appended_total', help: 'Bytes appended to the WAL.', registers: r }),
    walWriteFailures: new Counter({ name: 'narvi_ingester_wal_write_failures_total', help: 'Pushes refused because their WAL write failed (507 for a full disk, 503 for other I/O errors), by error code.', labelNames: ['code'], registers: r }),
    walCheckpointFailures: new Counter({ name: 'narvi_ingester_wal_checkpoint_failures_total', help: 'WAL checkpoints that could not be written; the segments stay and the checkpoint is retried.', registers: r }),
    walCheckpoints: new Counter({ name: 'narvi_ingester_wal_checkpoints_total', help: 'WAL checkpoints written.', registers: r }),
    walReplayRecords: new Counter({ name: 'narvi_ingester_wal_replay_records_total', help: 'WAL records replayed at start.', registers: r }),
    walCorruptRecords: new Counter({ name: 'narvi_ingester_wal_corrupt_records_total', help: 'Torn or corrupt WAL records skipped during replay.', registers: r }),
  };
}
