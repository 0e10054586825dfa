/**
 * Loki's configuration names, so a Loki config file loads here. Keyed by Loki's dotted YAML path:
 *
 * - a string: the narvi setting (or section) of the same meaning, where the names differ;
 * - `{ ignore }`: a Loki setting with no meaning here, skipped with one warning giving the reason;
 * - a function: a setting whose value needs work (see `LokiOut`).
 *
 * A Loki path narvi spells the same way (`server.http_listen_port`, `ingester.chunk_idle_period`,
 * `compactor.compaction_interval`, `limits_config.<name>` once mapped to `limits.<name>`) needs no entry: it is
 * found in the defaults. New settings that follow Loki's names therefore load from Loki files without
 * touching this table; an `ignore` entry stops applying the moment narvi gains the setting.
 */
export type LokiRule = string | { ignore: string } | ((value: unknown, out: LokiOut) => void);

/** What a rule may do: set narvi settings, or report one problem or warning for the Loki key at hand. */
export interface LokiOut {
  readonly key: string;
  set(narviPath: string, value: unknown): void;
  get(narviPath: string): unknown;
  problem(message: string): void;
  warn(reason: string): void;
  /** Facts one rule leaves for `finishLoki` (e.g. whether the S3 endpoint is plain http). */
  readonly notes: Map<string, unknown>;
}

const HTTP_ONLY = 'narvi serves everything over HTTP; there is no gRPC server';
const NO_RING = 'narvi finds its peers from distributor.ingesters / querier.ingesters (static list, DNS or Kubernetes), not a gossip ring';
const ONE_SCHEMA = 'narvi has one storage schema (a SQLite label index and its own chunk format) under storage.path';
const UNDER_PATH = 'narvi keeps chunks, index, WAL and compactor state under storage.path (common.path_prefix)';
const OWN_CACHE = "narvi's querier reads chunks and index without a separate cache layer to configure";
const OWN_FRONTEND = "narvi's query frontend needs no tuning of Loki's splitting, sharding or results cache";

/** Loki's S3 block (common.storage.s3, storage_config.aws) onto storage.s3, switching storage.backend to s3. */
function s3Rules(prefix: string): Record<string, LokiRule> {
  return {
    [`${prefix}.bucketnames`]: (v, out) => {
      const names = String(v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      if (names.length !== 1) return out.problem(`${out.key}: narvi stores in exactly one bucket, got ${JSON.stringify(v)}`);
      out.set('storage.s3.bucket', names[0]);
      out.set('storage.backend', 's3');
    },
    [`${prefix}.endpoint`]: (v, out) => {
      out.set('storage.s3.endpoint', String(v ?? ''));
      out.notes.set('s3_endpoint_key', out.key);
    },
    [`${prefix}.insecure`]: (v, out) => {
      if (typeof v !== 'boolean') return out.problem(`${out.key} must be true or false, got ${JSON.stringify(v)}`);
      out.notes.set('s3_insecure', v);
    },
    [`${prefix}.region`]: 'storage.s3.region',
    [`${prefix}.access_key_id`]: 'storage.s3.access_key_id',
    [`${prefix}.secret_access_key`]: 'storage.s3.secret_access_key',
    [`${prefix}.s3forcepathstyle`]: 'storage.s3.force_path_style',
    [`${prefix}.s3`]: (_v, out) =>
      out.problem(`${out.key}: narvi does not read the s3:// URL form; give bucketnames, endpoint, region, access_key_id and secret_access_key instead`),
    [`${prefix}.http_config`]: { ignore: 'the S3 client uses its own connection settings' },
    [`${prefix}.storage_class`]: { ignore: 'objects are written with the bucket default storage class' },
    [`${prefix}.sse`]: { ignore: 'server-side encryption follows the bucket default' },
  };
}

/** Object stores narvi does not speak: refused, since skipping them would quietly store on local disk. */
function unsupportedStores(prefix: string): Record<string, LokiRule> {
  const out: Record<string, LokiRule> = {};
  for (const store of ['gcs', 'azure', 'swift', 'bos', 'cos', 'alibabacloud']) {
    out[`${prefix}.${store}`] = (_v, o) => o.problem(`${o.key}: narvi stores on the filesystem or S3 (an S3-compatible gateway in front of the store works); this store is not supported`);
  }
  return out;
}

export const LOKI_RULES: Record<string, LokiRule> = {
  ...unsupportedStores('common.storage'),
  ...unsupportedStores('storage_config'),
  limits_config: 'limits',
  'common.path_prefix': 'storage.path',
  'common.storage.filesystem': { ignore: UNDER_PATH },
  ...s3Rules('common.storage.s3'),
  ...s3Rules('storage_config.aws'),
  'common.instance_addr': { ignore: NO_RING },
  'common.instance_interface_names': { ignore: NO_RING },
  'common.ring': { ignore: NO_RING },
  'common.replication_factor': { ignore: 'a single-binary narvi keeps one copy; replication comes from the distributor.ingesters list' },
  'common.compactor_address': { ignore: 'the compactor runs inside the server (target all or backend)' },
  'common.compactor_grpc_address': { ignore: HTTP_ONLY },

  'server.grpc_listen_port': { ignore: HTTP_ONLY },
  'server.grpc_listen_address': { ignore: HTTP_ONLY },
  'server.grpc_server_max_concurrent_streams': { ignore: HTTP_ONLY },
  'server.grpc_server_max_recv_msg_size': { ignore: HTTP_ONLY },
  'server.grpc_server_max_send_msg_size': { ignore: HTTP_ONLY },
  'server.log_format': { ignore: 'narvi always logs logfmt' },
  'server.register_instrumentation': { ignore: '/metrics is always served' },
  'server.http_path_prefix': { ignore: 'narvi serves its API at the root path' },

  'ingester.lifecycler': { ignore: NO_RING },
  'ingester.sync_period': { ignore: 'chunks are cut by size, age and idle time only' },
  'ingester.sync_min_utilization': { ignore: 'chunks are cut by size, age and idle time only' },
  'ingester.max_returned_stream_errors': { ignore: 'a refused push names every stream it refused' },
  'ingester.index_shards': { ignore: ONE_SCHEMA },
  'ingester.query_store_max_look_back_period': { ignore: 'the querier always asks the ingesters for what they have not flushed' },
  'distributor.ring': { ignore: NO_RING },
  'distributor.rate_store': { ignore: 'rate limits apply per distributor' },
  'distributor.write_failures_logging': { ignore: 'refused pushes are logged at warn' },
  'ingester.wal.dir': { ignore: UNDER_PATH },
  'ingester.wal.flush_on_shutdown': { ignore: 'narvi replays its WAL on start instead of flushing everything on shutdown' },
  'ingester.wal.replay_memory_ceiling': { ignore: 'replay is bounded by ingester.max_unflushed_bytes' },
  'ingester.chunk_encoding': { ignore: 'narvi compresses chunks with zstd' },
  'ingester.chunk_retain_period': { ignore: 'flushed chunks are read from the store at once' },
  'ingester.max_transfer_retries': { ignore: NO_RING },
  'ingester.autoforget_unhealthy': { ignore: NO_RING },

  'querier.query_ingesters_within': { ignore: 'the querier always asks the ingesters for what they have not flushed' },
  'querier.engine': { ignore: 'the LogQL engine needs no settings' },

  'compactor.working_directory': { ignore: UNDER_PATH },
  'compactor.delete_request_store': { ignore: 'delete requests are kept in the label index under storage.path' },
  'compactor.retention_delete_worker_count': { ignore: 'deletes run in the compactor, one run at a time' },
  'compactor.compactor_ring': { ignore: NO_RING },
  'compactor.retention_enabled': (v, out) => {
    if (typeof v !== 'boolean') return out.problem(`${out.key} must be true or false, got ${JSON.stringify(v)}`);
    if (!v) out.warn('narvi applies limits.retention_period and limits.retention_stream whenever they are set; leave them at 0s to keep data for ever');
  },

  'limits_config.allow_structured_metadata': { ignore: 'structured metadata is always accepted (within max_structured_metadata_size)' },
  'limits_config.metric_aggregation_enabled': { ignore: 'narvi computes metric queries from the logs themselves' },
  'limits_config.enable_multi_variant_queries': { ignore: 'each query runs as one variant' },
  'limits_config.volume_enabled': { ignore: 'index/volume is always enabled' },
  'limits_config.split_queries_by_interval': { ignore: OWN_FRONTEND },
  'limits_config.max_query_parallelism': { ignore: OWN_FRONTEND },
  'limits_config.tsdb_max_query_parallelism': { ignore: OWN_FRONTEND },
  'limits_config.max_cache_freshness_per_query': { ignore: OWN_CACHE },
  'limits_config.query_ready_index_num_days': { ignore: OWN_CACHE },
  'limits_config.unordered_writes': { ignore: 'entries out of order are accepted within ingester.out_of_order_window' },
  'limits_config.ingestion_rate_strategy': { ignore: 'rate limits apply per distributor' },
  'limits_config.max_streams_per_user': { ignore: 'narvi counts streams across the cluster: use max_global_streams_per_user' },
  'limits_config.per_stream_rate_limit': { ignore: 'narvi limits ingestion per tenant (ingestion_rate_mb), not per stream' },
  'limits_config.per_stream_rate_limit_burst': { ignore: 'narvi limits ingestion per tenant (ingestion_burst_size_mb), not per stream' },
  'limits_config.max_chunks_per_query': { ignore: 'queries are bounded by max_query_bytes_read and query_timeout' },
  'limits_config.max_query_lookback': { ignore: 'queries are bounded by max_query_length and retention' },
  'limits_config.cardinality_limit': { ignore: 'series are bounded by max_query_series' },
  'limits_config.shard_streams': { ignore: OWN_FRONTEND },
  'limits_config.increment_duplicate_timestamp': { ignore: 'entries with equal timestamps and different lines are all kept' },

  schema_config: { ignore: ONE_SCHEMA },
  'storage_config.filesystem': { ignore: UNDER_PATH },
  'storage_config.tsdb_shipper': { ignore: ONE_SCHEMA },
  'storage_config.boltdb_shipper': { ignore: ONE_SCHEMA },
  'storage_config.boltdb': { ignore: ONE_SCHEMA },
  'storage_config.index_queries_cache_config': { ignore: OWN_CACHE },
  chunk_store_config: { ignore: OWN_CACHE },
  query_range: { ignore: OWN_FRONTEND },
  frontend: { ignore: OWN_FRONTEND },
  frontend_worker: { ignore: OWN_FRONTEND },
  'query_scheduler.use_scheduler_ring': { ignore: NO_RING },
  'query_scheduler.max_queue_hierarchy_levels': { ignore: OWN_FRONTEND },
  'querier.frontend_worker': { ignore: OWN_FRONTEND },
  'query_scheduler.scheduler_ring': { ignore: NO_RING },
  memberlist: { ignore: NO_RING },
  ingester_rf1: { ignore: 'narvi has one ingester design' },
  ingester_client: { ignore: HTTP_ONLY },
  index_gateway: { ignore: ONE_SCHEMA },
  bloom_build: { ignore: 'narvi chunks carry their own per-block token filters' },
  bloom_gateway: { ignore: 'narvi chunks carry their own per-block token filters' },
  table_manager: { ignore: 'retention is the compactor\'s job (limits.retention_period)' },
  ruler: { ignore: 'narvi has no ruler' },
  'pattern_ingester.lifecycler': { ignore: 'narvi has no ring: the ingester mines the patterns of what it ingests' },
  'pattern_ingester.client_config': { ignore: 'narvi has no separate pattern ingesters to reach' },
  'pattern_ingester.concurrent_flushes': { ignore: 'narvi keeps patterns in memory only' },
  'pattern_ingester.flush_check_period': { ignore: 'narvi keeps patterns in memory only' },
  'pattern_ingester.max_eviction_ratio': { ignore: 'narvi evicts by pattern_ingester.max_clusters per stream' },
  'pattern_ingester.pattern_persistence': { ignore: 'narvi keeps patterns in memory only' },
  'pattern_ingester.connection_timeout': { ignore: 'narvi has no separate pattern ingesters to reach' },
  'pattern_ingester.max_allowed_line_length': { ignore: 'narvi skips lines over 3000 bytes, as Loki does by default' },
  'pattern_ingester.tee_config': { ignore: 'narvi has no separate pattern ingesters to reach' },
  'pattern_ingester.metric_aggregation': { ignore: 'narvi computes metric queries from the logs themselves' },
  analytics: { ignore: 'narvi sends no usage reports' },
  tracing: { ignore: 'narvi does not export traces' },
  operational_config: { ignore: 'no operational settings apply' },
  overrides_exporter: { ignore: 'per-tenant limits are visible through /config' },
};

/** Work a rule can only do once the whole file is read; `out` is for the key that set the S3 endpoint. */
export function finishLoki(out: LokiOut): void {
  const endpoint = out.get('storage.s3.endpoint');
  if (out.notes.get('s3_endpoint_key') === out.key && typeof endpoint === 'string' && endpoint !== '' && !endpoint.includes('://')) {
    // Loki's endpoint is host[:port] and TLS unless insecure; narvi's S3 client wants a URL.
    out.set('storage.s3.endpoint', `${out.notes.get('s3_insecure') === true ? 'http' : 'https'}://${endpoint}`);
  }
}

/** Whether any rule lies below `path`: a Loki section narvi has no name for is walked into for those. */
export function hasRulesBelow(path: string): boolean {
  const p = path + '.';
  for (const k of Object.keys(LOKI_RULES)) if (k.startsWith(p)) return true;
  return false;
}

/** The names Loki rules give directly below `path` ('' for the top level): candidates for "did you mean". */
export function ruleNamesBelow(path: string): string[] {
  const p = path ? path + '.' : '';
  const out = new Set<string>();
  for (const k of Object.keys(LOKI_RULES)) if (k.startsWith(p)) out.add(k.slice(p.length).split('.')[0]!);
  return [...out];
}
