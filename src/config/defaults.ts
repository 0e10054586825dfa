/**
 * Every server setting with its default. Keys follow Loki's YAML where Loki has one; README documents each.
 * Durations and sizes stay strings here and are parsed once by `load.ts` into the typed `Config`.
 */
export const DEFAULTS = {
  target: 'all',
  auth_enabled: false,
  server: {
    http_listen_address: '0.0.0.0',
    http_listen_port: 3100,
    log_level: 'info',
    graceful_shutdown_timeout: '30s',
    http_server_read_timeout: '30s',
    http_server_read_header_timeout: '10s',
    http_server_idle_timeout: '120s',
    internal_secret: '',
    metrics_tenant_label: false,
  },
  storage: {
    path: './data',
    backend: 'filesystem',
    s3: {
      endpoint: '',
      region: 'us-east-1',
      bucket: '',
      prefix: '',
      access_key_id: '',
      secret_access_key: '',
      force_path_style: true,
    },
  },
  ingester: {
    max_chunk_age: '2h',
    chunk_idle_period: '30m',
    chunk_target_size: '1.5MB',
    chunk_block_size: '256KB',
    flush_check_period: '30s',
    out_of_order_window: '1h',
    concurrent_flushes: 2,
    max_unflushed_bytes: 'auto',
    wal: {
      enabled: true,
      sync: 'always',
      sync_interval: '100ms',
      segment_size: '64MB',
      checkpoint_duration: '5m',
      checkpoint_size: '256MB',
    },
  },
  distributor: {
    ingesters: [] as string[],
    max_decompressed_size: '256MiB',
    max_push_entries: 5_000_000,
    max_inflight_push_bytes: 'auto',
  },
  querier: {
    ingesters: [] as string[],
    workers: 0,
    worker_min_bytes: '8MiB',
    tail_max_duration: '1h',
    tail_max_connections: 1000,
    tail_max_buffered_bytes: '4MiB',
    max_concurrent: 4,
    multi_tenant_queries_enabled: false,
  },
  compactor: {
    compaction_interval: '10m',
    retention_delete_delay: '2h',
    small_chunk_fraction: 0.25,
    max_merged_chunk_span: '24h',
    orphan_grace_period: '1h',
    lease_duration: '1m',
    delete_request_cancel_period: '24h',
  },
  // Off by default as in Loki: mining costs about a third more server CPU per ingested line (bench/patterns.ts).
  pattern_ingester: {
    enabled: false,
    max_clusters: 300,
    max_streams: 10000,
    retain_for: '3h',
  },
  query_scheduler: {
    max_outstanding_requests_per_tenant: 256,
  },
  limits: {
    reject_old_samples: true,
    reject_old_samples_max_age: '7d',
    creation_grace_period: '10m',
    max_line_size: '256KB',
    max_line_size_truncate: false,
    max_label_names_per_series: 15,
    max_label_name_length: 1024,
    max_label_value_length: 2048,
    max_structured_metadata_size: '64KiB',
    max_structured_metadata_entries_count: 128,
    ingestion_rate_mb: 4,
    ingestion_burst_size_mb: 6,
    max_global_streams_per_user: 5000,
    max_entries_limit_per_query: 5000,
    max_query_series: 500,
    max_query_bytes_read: '0B',
    query_timeout: '1m',
    max_template_output_size: '1MB',
    max_query_length: '30d1h',
    max_concurrent_tail_requests: 10,
    retention_period: '0s',
    retention_stream: [] as { selector: string; priority?: number; period: string }[],
    per_tenant_override_config: '',
    per_tenant_override_period: '10s',
    deletion_mode: 'filter-and-delete',
    discover_service_name: ['service', 'app', 'application', 'app_name', 'name', 'app_kubernetes_io_name', 'container', 'container_name', 'k8s_container_name', 'component', 'workload', 'job', 'k8s_job_name'] as string[],
    discover_log_levels: true,
    log_level_fields: ['level', 'LEVEL', 'Level', 'Severity', 'severity', 'SEVERITY', 'lvl', 'LVL', 'Lvl', 'severity_text', 'Severity_Text', 'SEVERITY_TEXT'] as string[],
    log_level_from_json_max_depth: 2,
    // Loki's OTLP mapping overrides (see config/otlp-config.ts); checked as a whole, not key by key.
    otlp_config: {} as Record<string, unknown>,
  },
  runtime_config: {
    file: '',
    period: '10s',
  },
};

export type RawConfig = typeof DEFAULTS;

export const TARGETS = ['all', 'distributor', 'ingester', 'querier', 'query-frontend', 'compactor', 'backend'] as const;
export type Target = (typeof TARGETS)[number];
