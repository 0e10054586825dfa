import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The agent's Prometheus metrics, on a registry of its own (served at /metrics). */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly readBytes = new Counter({ name: 'narvi_agent_read_bytes_total', help: 'Bytes read from log files and stdin.', registers: [this.registry] });
  readonly readLines = new Counter({ name: 'narvi_agent_read_lines_total', help: 'Raw lines read from log files and stdin.', registers: [this.registry] });
  readonly truncatedLines = new Counter({ name: 'narvi_agent_truncated_lines_total', help: 'Lines cut to limits.max_line_size.', registers: [this.registry] });
  readonly sentEntries = new Counter({ name: 'narvi_agent_sent_entries_total', help: 'Entries the server acknowledged.', registers: [this.registry] });
  readonly sentBytes = new Counter({ name: 'narvi_agent_sent_bytes_total', help: 'Line bytes the server acknowledged.', registers: [this.registry] });
  readonly droppedEntries = new Counter({
    name: 'narvi_agent_dropped_entries_total',
    help: 'Entries not delivered, by reason (http_<status> for rejected batches, max_retries, drop_stage, shutdown).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly requests = new Counter({ name: 'narvi_agent_requests_total', help: 'Push requests by outcome (HTTP status code, or "error" for network failures).', labelNames: ['status_code'], registers: [this.registry] });
  readonly requestDuration = new Histogram({
    name: 'narvi_agent_request_duration_seconds',
    help: 'Push request latency.',
    labelNames: ['status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly retries = new Counter({ name: 'narvi_agent_batch_retries_total', help: 'Push attempts that will be retried.', registers: [this.registry] });
  readonly bufferedBytes = new Gauge({ name: 'narvi_agent_buffered_bytes', help: 'Bytes read but not yet acknowledged (bounded by client.max_buffered_bytes).', registers: [this.registry] });
  readonly filesActive = new Gauge({ name: 'narvi_agent_files_active', help: 'Files being tailed.', registers: [this.registry] });
  readonly rotations = new Counter({ name: 'narvi_agent_file_rotations_total', help: 'Rotations (rename then create) and truncations noticed.', labelNames: ['kind'], registers: [this.registry] });
  readonly lostFiles = new Counter({
    name: 'narvi_agent_unfinished_files_lost_total',
    help: 'Files with unread data that were deleted (or damaged) before the agent could read them to their end.',
    registers: [this.registry],
  });
  readonly lostBytes = new Counter({
    name: 'narvi_agent_lost_bytes_total',
    help: 'Bytes known to be unread in files deleted before the agent could read them (a lower bound: growth after the last look is unknown).',
    registers: [this.registry],
  });

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'narvi_agent_' });
  }
}
