import type { Matcher } from '../../query/ast.js';
import type { RawConfig, Target } from './defaults.js';
import type { OtlpConfig } from './otlp-config.js';
import type { PatternIngesterConfig } from './pattern-ingester.js';

/** The validated, typed server configuration: durations in nanoseconds, sizes in bytes. */
export interface Config {
  target: Target;
  authEnabled: boolean;
  server: {
    address: string;
    port: number;
    logLevel: string;
    gracefulShutdownTimeoutMs: number;
    /** Whole-request read limit (node's requestTimeout); 0 = none. */
    readTimeoutMs: number;
    /** Time to receive a request's headers (node's headersTimeout): what cuts slowloris clients off. */
    readHeaderTimeoutMs: number;
    /** An idle keep-alive connection is closed after this long (node's keepAliveTimeout). */
    idleTimeoutMs: number;
    /** Shared secret for /internal/… and admin actions; empty = loopback peers only. */
    internalSecret: string;
    /** With auth on, keep per-tenant label values on /metrics. */
    metricsTenantLabel: boolean;
  };
  storage: {
    path: string;
    backend: 'filesystem' | 's3';
    s3: {
      endpoint: string;
      region: string;
      bucket: string;
      prefix: string;
      accessKeyId: string;
      secretAccessKey: string;
      forcePathStyle: boolean;
    };
  };
  ingester: {
    maxChunkAge: bigint;
    chunkIdlePeriod: bigint;
    chunkTargetSize: number;
    chunkBlockSize: number;
    flushCheckPeriodMs: number;
    outOfOrderWindow: bigint;
    concurrentFlushes: number;
    /** Unflushed data held in memory above which pushes get 429 until flushing drains it; 0 turns it off. */
    maxUnflushedBytes: number;
    wal: {
      enabled: boolean;
      sync: 'always' | 'interval' | 'never';
      syncIntervalMs: number;
      segmentSize: number;
      /** A checkpoint is written at least this often (0: only after flushes and by size). */
      checkpointDurationMs: number;
      /** A checkpoint is written once this many bytes were appended since the last one (0: off). */
      checkpointSize: number;
    };
  };
  distributor: {
    ingesters: string[];
    /** A compressed push body may not inflate past this. */
    maxDecompressedSize: number;
    /** Entries one push may carry. */
    maxPushEntries: number;
    /** Bytes all pushes together may hold while read, inflated, decoded and written; 0 turns it off. */
    maxInflightPushBytes: number;
  };
  querier: {
    ingesters: string[];
    /** Worker threads that share big queries; 0 means one per available core, 1 means none. */
    workers: number;
    /** Queries over less raw data than this stay on the main thread. */
    workerMinBytes: number;
    /** A tail WebSocket is closed after this long (Loki's tail_max_duration); clients reconnect. */
    tailMaxDurationMs: number;
    /** Queries (query, query_range) that read data at once; more wait in a queue (see QueryGate). */
    maxConcurrent: number;
    /** Queries one tenant may have waiting for a slot; more are refused with 429. */
    maxOutstandingPerTenant: number;
    /** Tail WebSockets open at once across tenants; more are refused with 429. */
    tailMaxConnections: number;
    /** A tail socket whose unsent frames pass this many bytes (a client that does not read) is dropped. */
    tailMaxBufferedBytes: number;
    /** `X-Scope-OrgID: a|b` reads several tenants in one query, each stream labelled `__tenant_id__` (Loki's setting). */
    multiTenantQueriesEnabled: boolean;
  };
  compactor: {
    /** Time between runs; 0: runs only when asked (POST /compactor/run). */
    compactionIntervalMs: number;
    /** Replaced or expired chunk objects are deleted this long after the index stops referring to them. */
    retentionDeleteDelayMs: number;
    /** Chunks below this share of ingester.chunk_target_size (compressed) are merged with small neighbours. */
    smallChunkFraction: number;
    /** A merged chunk spans at most this long (ns). */
    maxMergedChunkSpan: bigint;
    /** Unreferenced chunk objects younger than this are left alone (an ingester may be indexing them). */
    orphanGracePeriodMs: number;
    /** The single-compactor lease expires this long after its last renewal. */
    leaseDurationMs: number;
    /** A delete request can be cancelled this long after it was received; only then may the compactor process it. */
    deleteRequestCancelPeriodMs: number;
  };
  /** Log patterns mined at ingest for GET /loki/api/v1/patterns (see ingester/patterns/). */
  patternIngester: PatternIngesterConfig;
  limits: Limits;
  /** The per-tenant overrides file (limits.per_tenant_override_config, or runtime_config.file); '' = none. */
  runtimeConfig: { file: string; periodMs: number };
  /** The settings as written, after defaults, file, environment and flags: a tenant's overrides overlay its limits. */
  raw: RawConfig;
}

/** One `limits.retention_stream` rule: streams its selector matches keep their entries for `period`. */
export interface RetentionRule {
  selector: string;
  matchers: Matcher[];
  priority: number;
  period: bigint;
}

export interface Limits {
  rejectOldSamples: boolean;
  rejectOldSamplesMaxAge: bigint;
  creationGracePeriod: bigint;
  maxLineSize: number;
  maxLineSizeTruncate: boolean;
  maxLabelNamesPerSeries: number;
  maxLabelNameLength: number;
  maxLabelValueLength: number;
  maxStructuredMetadataSize: number;
  maxStructuredMetadataEntriesCount: number;
  ingestionRateBytes: number;
  ingestionBurstBytes: number;
  maxGlobalStreamsPerUser: number;
  maxEntriesLimitPerQuery: number;
  maxQuerySeries: number;
  /** Bytes of lines a log or metric query may read, estimated before it runs; 0 is no limit. */
  maxQueryBytesRead: number;
  queryTimeoutMs: number;
  /** Characters one line_format/label_format template may build per entry. */
  maxTemplateOutputSize: number;
  maxQueryLength: bigint;
  /** Tail WebSockets one tenant may hold open at once (Loki's max_concurrent_tail_requests). */
  maxConcurrentTailRequests: number;
  /** Entries older than this are expired (limits.retention_period); 0 keeps them for ever. */
  retentionPeriod: bigint;
  /** Per-stream retention (limits.retention_stream); the highest priority matching rule wins. */
  retentionStream: RetentionRule[];
  /** What the delete API and delete requests do for the tenant (see store/delete-requests.ts). */
  deletionMode: DeletionMode;
  /** Labels whose value becomes `service_name` when a pushed stream has none, first present wins; empty: off. */
  discoverServiceName: string[];
  /** Add `detected_level` structured metadata to each pushed entry. */
  discoverLogLevels: boolean;
  /** Label, metadata and json/logfmt field names that carry an entry's level, in order of preference. */
  logLevelFields: string[];
  /** JSON objects nested deeper than this are not searched for a level field; 0 or less: no limit. */
  logLevelFromJsonMaxDepth: number;
  /** How OTLP resource, scope and log attributes map to labels and structured metadata (limits.otlp_config). */
  otlpConfig: OtlpConfig;
}

export const DELETION_MODES = ['disabled', 'filter-only', 'filter-and-delete'] as const;
export type DeletionMode = (typeof DELETION_MODES)[number];
