import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { parseBytes, parseDuration } from '../model/time.js';
import { ParseError } from '../../query/parse-error.js';
import { parseSelector } from '../../query/parser.js';
import { DELETION_MODES, type Config, type RetentionRule } from './config.js';
import { resolveInflightPushBudget, resolveUnflushedBudget } from './memory-budget.js';
import { patternIngesterSettings } from './pattern-ingester.js';
import { DEFAULTS, TARGETS, type RawConfig, type Target } from './defaults.js';
import { expandEnv } from './expand-env.js';
import { readConfigDoc, type IgnoredSetting } from './loki-compat.js';
import { ConfigError, coerce, deepMerge, knownPaths, schema, setPath } from './merge.js';
import { parseOtlpConfig } from './otlp-config.js';

export { ConfigError } from './merge.js';

/** Env names: NARVI_ plus the dotted path in capitals with dots as underscores (NARVI_SERVER_HTTP_LISTEN_PORT). */
export function envName(path: string): string {
  return 'NARVI_' + path.replace(/\./g, '_').toUpperCase();
}

/**
 * Splits `--a.b-c value`, `--a.b-c=value` and bare boolean `--flag` into dotted keys.
 * `--config.file` is returned apart because it names the file rather than a setting.
 */
export function parseFlagArgs(args: string[]): { configFile?: string; expandEnv: boolean; flags: [string, string | boolean][] } {
  const flags: [string, string | boolean][] = [];
  let configFile: string | undefined;
  let expandEnv = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!isFlag(a)) throw new ConfigError(`unexpected argument ${JSON.stringify(a)}: settings are given as --section.key value`);
    // Loki's own command lines use one dash (-config.file=…, as Go's flag package allows); so may ours.
    let key = a.startsWith('--') ? a.slice(2) : a.slice(1);
    let value: string | boolean;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else if (i + 1 < args.length && !isFlag(args[i + 1]!)) {
      value = args[++i]!;
    } else {
      value = true;
    }
    const path = key.replace(/-/g, '_');
    if (path === 'config.file') {
      if (value === true) throw new ConfigError('--config.file needs a path');
      configFile = String(value);
      continue;
    }
    if (path === 'config.expand_env') {
      expandEnv = coerceFlagBool('--config.expand-env', value);
      continue;
    }
    flags.push([path, value]);
  }
  return { configFile, expandEnv, flags };
}

/** `--name` or Go-style `-name`; a lone `-1` is a value (a negative number), not a flag. */
function isFlag(a: string): boolean {
  return /^--?[A-Za-z]/.test(a);
}

function coerceFlagBool(flag: string, value: string | boolean): boolean {
  if (value === true || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${flag} must be true or false, got ${JSON.stringify(value)}`);
}

/**
 * Defaults, then the YAML file, then environment, then flags: later wins. The file may use Loki's names
 * (loki-compat.ts); the Loki settings it skips are pushed onto `ignored` for the caller to log.
 */
export function loadConfig(args: string[], env: NodeJS.ProcessEnv = process.env, ignored: IgnoredSetting[] = []): Config {
  const { configFile, expandEnv: expand, flags } = parseFlagArgs(args);
  let raw = structuredClone(DEFAULTS) as unknown as Record<string, unknown>;
  // Settings the file wrote under another (Loki) name: a bad value is reported under the name written.
  let writtenAs = new Map<string, string>();
  if (configFile) {
    let text: string;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${configFile}: ${(err as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = YAML.parse(expand ? expandEnv(text, env) : text);
    } catch (err) {
      throw new ConfigError(`config file ${configFile} is not valid YAML: ${(err as Error).message}`);
    }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config file ${configFile} must be a YAML mapping`);
      const reading = readConfigDoc(doc as Record<string, unknown>, schema);
      // Every problem at once, one per line: a Loki file being adapted usually has several.
      if (reading.problems.length > 0) throw new ConfigError(reading.problems.map((p) => `config file ${configFile}: ${p}`).join('\n'));
      ignored.push(...reading.ignored);
      writtenAs = reading.writtenAs;
      raw = deepMerge(raw, reading.doc, `config file ${configFile}`);
    }
  }
  for (const path of knownPaths()) {
    const v = env[envName(path)];
    if (v !== undefined) {
      setPath(raw, path, coerce(path, v, `environment ${envName(path)}`));
      writtenAs.delete(path);
    }
  }
  for (const [path, value] of flags) {
    setPath(raw, path, coerce(path, value, `flag --${path.replace(/_/g, '-')}`));
    writtenAs.delete(path);
  }
  try {
    return validate(raw as unknown as RawConfig);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const [path, key] of writtenAs) {
      if (err.message.startsWith(`${path} `) || err.message.startsWith(`${path}:`)) throw new ConfigError(`${err.message} (written as ${key} in config file ${configFile})`);
    }
    throw err;
  }
}

const DAY_NS = 24n * 3600n * 1_000_000_000n;

/** limits.retention_period: 0 keeps for ever; otherwise at least a day, as Loki requires. */
function retentionPeriod(path: string, v: unknown): bigint {
  const d = dur(path, v);
  if (d !== 0n && d < DAY_NS) throw new ConfigError(`${path} must be 0s (keep for ever) or at least 24h, got ${JSON.stringify(v)}`);
  return d;
}

/** limits.retention_stream: a list of {selector, priority, period}, each period at least 24h (Loki's rule). */
function retentionRules(path: string, v: unknown): RetentionRule[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new ConfigError(`${path} must be a list of {selector, priority, period}, got ${JSON.stringify(v)}`);
  return v.map((rule: unknown, i): RetentionRule => {
    const at = `${path}[${i}]`;
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) throw new ConfigError(`${at} must be a mapping {selector, priority, period}, got ${JSON.stringify(rule)}`);
    const r = rule as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!['selector', 'priority', 'period'].includes(k)) throw new ConfigError(`${at}: unknown key ${JSON.stringify(k)}; a rule has selector, priority and period`);
    if (typeof r.selector !== 'string' || r.selector.trim() === '') throw new ConfigError(`${at}.selector must be a stream selector such as '{namespace="dev"}', got ${JSON.stringify(r.selector)}`);
    let matchers;
    try {
      matchers = parseSelector(r.selector);
    } catch (err) {
      if (err instanceof ParseError) throw new ConfigError(`${at}.selector ${JSON.stringify(r.selector)} is not a valid stream selector: ${err.message}`);
      throw err;
    }
    const priority = r.priority ?? 0;
    if (typeof priority !== 'number' || !Number.isInteger(priority)) throw new ConfigError(`${at}.priority must be an integer, got ${JSON.stringify(r.priority)}`);
    if (r.period === undefined || r.period === null) throw new ConfigError(`${at}.period is required (a duration of at least 24h, e.g. 168h)`);
    const period = dur(`${at}.period`, r.period);
    if (period < DAY_NS) throw new ConfigError(`${at}.period: retention period must be >= 24h, got ${JSON.stringify(r.period)}`);
    return { selector: r.selector, matchers, priority, period };
  });
}

/** The overrides file and how often it is read: Loki's limits.per_tenant_override_* keys, or its runtime_config block. */
function runtimeConfig(r: RawConfig): Config['runtimeConfig'] {
  const own = String(r.limits.per_tenant_override_config ?? '');
  const alias = String(r.runtime_config.file ?? '');
  if (own && alias && own !== alias) {
    throw new ConfigError(`limits.per_tenant_override_config (${JSON.stringify(own)}) and runtime_config.file (${JSON.stringify(alias)}) name different files; set one of them`);
  }
  const [file, periodPath, period] = own ? [own, 'limits.per_tenant_override_period', r.limits.per_tenant_override_period] : [alias, 'runtime_config.period', r.runtime_config.period];
  const periodMs = ms(periodPath, period);
  if (file && periodMs <= 0) throw new ConfigError(`${periodPath} must be more than 0, got ${JSON.stringify(period)}`);
  return { file, periodMs };
}

function field<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${path}: ${(err as Error).message}`);
  }
}

function dur(path: string, v: unknown): bigint {
  return field(path, () => {
    const d = parseDuration(String(v));
    if (d < 0n) throw new ConfigError(`${path} must not be negative, got ${String(v)}`);
    return d;
  });
}

function bytes(path: string, v: unknown): number {
  return field(path, () => parseBytes(v as string | number));
}

function positive(path: string, n: number): number {
  if (n <= 0) throw new ConfigError(`${path} must be greater than 0, got ${n}`);
  return n;
}

function num(path: string, v: unknown, min = 0): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new ConfigError(`${path} must be a number ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function bool(path: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(`${path} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(path: string, v: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new ConfigError(`${path} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function ms(path: string, v: unknown): number {
  return Number(dur(path, v) / 1_000_000n);
}

function strList(path: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ConfigError(`${path} must be a list of URLs`);
  return v as string[];
}

/** A list of label names (limits.discover_service_name); an empty list is allowed and turns the feature off. */
function labelNames(path: string, v: unknown): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new ConfigError(`${path} must be a list of label names, got ${JSON.stringify(v)}`);
  for (const n of v) {
    if (typeof n !== 'string' || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n)) throw new ConfigError(`${path}: ${JSON.stringify(n)} is not a label name; names match [a-zA-Z_][a-zA-Z0-9_]*`);
  }
  return v as string[];
}

/** limits.log_level_fields: field names (a JSON key may hold a dot); empty means the default list, as in Loki. */
function levelFields(path: string, v: unknown): string[] {
  if (v === null || v === undefined) return [...DEFAULTS.limits.log_level_fields];
  if (!Array.isArray(v)) throw new ConfigError(`${path} must be a list of field names, got ${JSON.stringify(v)}`);
  for (const n of v) if (typeof n !== 'string' || n === '') throw new ConfigError(`${path}: ${JSON.stringify(n)} is not a field name; give non-empty strings such as level or severity`);
  return v.length === 0 ? [...DEFAULTS.limits.log_level_fields] : (v as string[]);
}

function integer(path: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(`${path} must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Checks and types a whole raw configuration; a tenant's overrides are checked by this too (see overrides.ts). */
export function validate(r: RawConfig): Config {
  const port = num('server.http_listen_port', r.server.http_listen_port);
  if (!Number.isInteger(port) || port > 65535) throw new ConfigError(`server.http_listen_port must be an integer 0–65535, got ${port}`);
  const s3 = r.storage.s3;
  const backend = oneOf('storage.backend', r.storage.backend, ['filesystem', 's3'] as const);
  if (backend === 's3' && !s3.bucket) throw new ConfigError('storage.s3.bucket is required when storage.backend is s3');
  const l = r.limits;
  const readTimeoutMs = ms('server.http_server_read_timeout', r.server.http_server_read_timeout);
  const readHeaderTimeoutMs = ms('server.http_server_read_header_timeout', r.server.http_server_read_header_timeout);
  if (readHeaderTimeoutMs === 0) throw new ConfigError('server.http_server_read_header_timeout must be more than 0: without it a client that sends its headers a byte at a time holds its connection for ever');
  if (readTimeoutMs > 0 && readHeaderTimeoutMs > readTimeoutMs) {
    throw new ConfigError(`server.http_server_read_header_timeout (${r.server.http_server_read_header_timeout}) must not exceed server.http_server_read_timeout (${r.server.http_server_read_timeout})`);
  }
  return {
    target: oneOf<Target>('target', r.target, TARGETS),
    authEnabled: bool('auth_enabled', r.auth_enabled),
    server: {
      address: String(r.server.http_listen_address),
      port,
      logLevel: oneOf('server.log_level', r.server.log_level, ['debug', 'info', 'warn', 'error'] as const),
      gracefulShutdownTimeoutMs: ms('server.graceful_shutdown_timeout', r.server.graceful_shutdown_timeout),
      readTimeoutMs,
      readHeaderTimeoutMs,
      idleTimeoutMs: ms('server.http_server_idle_timeout', r.server.http_server_idle_timeout),
      internalSecret: String(r.server.internal_secret ?? ''),
      metricsTenantLabel: bool('server.metrics_tenant_label', r.server.metrics_tenant_label),
    },
    storage: {
      path: String(r.storage.path),
      backend,
      s3: {
        endpoint: String(s3.endpoint),
        region: String(s3.region),
        bucket: String(s3.bucket),
        prefix: String(s3.prefix),
        accessKeyId: String(s3.access_key_id),
        secretAccessKey: String(s3.secret_access_key),
        forcePathStyle: bool('storage.s3.force_path_style', s3.force_path_style),
      },
    },
    ingester: {
      maxChunkAge: dur('ingester.max_chunk_age', r.ingester.max_chunk_age),
      chunkIdlePeriod: dur('ingester.chunk_idle_period', r.ingester.chunk_idle_period),
      chunkTargetSize: bytes('ingester.chunk_target_size', r.ingester.chunk_target_size),
      chunkBlockSize: bytes('ingester.chunk_block_size', r.ingester.chunk_block_size),
      flushCheckPeriodMs: ms('ingester.flush_check_period', r.ingester.flush_check_period),
      outOfOrderWindow: dur('ingester.out_of_order_window', r.ingester.out_of_order_window),
      concurrentFlushes: num('ingester.concurrent_flushes', r.ingester.concurrent_flushes, 1),
      maxUnflushedBytes: field('ingester.max_unflushed_bytes', () => resolveUnflushedBudget(r.ingester.max_unflushed_bytes)),
      wal: {
        enabled: bool('ingester.wal.enabled', r.ingester.wal.enabled),
        sync: oneOf('ingester.wal.sync', r.ingester.wal.sync, ['always', 'interval', 'never'] as const),
        syncIntervalMs: ms('ingester.wal.sync_interval', r.ingester.wal.sync_interval),
        segmentSize: bytes('ingester.wal.segment_size', r.ingester.wal.segment_size),
        checkpointDurationMs: ms('ingester.wal.checkpoint_duration', r.ingester.wal.checkpoint_duration),
        checkpointSize: bytes('ingester.wal.checkpoint_size', r.ingester.wal.checkpoint_size),
      },
    },
    distributor: {
      ingesters: strList('distributor.ingesters', r.distributor.ingesters),
      maxDecompressedSize: positive('distributor.max_decompressed_size', bytes('distributor.max_decompressed_size', r.distributor.max_decompressed_size)),
      maxPushEntries: num('distributor.max_push_entries', r.distributor.max_push_entries, 1),
      maxInflightPushBytes: field('distributor.max_inflight_push_bytes', () => resolveInflightPushBudget(r.distributor.max_inflight_push_bytes)),
    },
    querier: {
      ingesters: strList('querier.ingesters', r.querier.ingesters),
      workers: num('querier.workers', r.querier.workers),
      workerMinBytes: bytes('querier.worker_min_bytes', r.querier.worker_min_bytes),
      tailMaxDurationMs: ms('querier.tail_max_duration', r.querier.tail_max_duration),
      tailMaxConnections: num('querier.tail_max_connections', r.querier.tail_max_connections, 1),
      tailMaxBufferedBytes: bytes('querier.tail_max_buffered_bytes', r.querier.tail_max_buffered_bytes),
      maxConcurrent: num('querier.max_concurrent', r.querier.max_concurrent, 1),
      multiTenantQueriesEnabled: bool('querier.multi_tenant_queries_enabled', r.querier.multi_tenant_queries_enabled),
      maxOutstandingPerTenant: num('query_scheduler.max_outstanding_requests_per_tenant', r.query_scheduler.max_outstanding_requests_per_tenant),
    },
    compactor: compactorSettings(r.compactor),
    patternIngester: patternIngesterSettings(r.pattern_ingester),
    limits: {
      rejectOldSamples: bool('limits.reject_old_samples', l.reject_old_samples),
      rejectOldSamplesMaxAge: dur('limits.reject_old_samples_max_age', l.reject_old_samples_max_age),
      creationGracePeriod: dur('limits.creation_grace_period', l.creation_grace_period),
      maxLineSize: bytes('limits.max_line_size', l.max_line_size),
      maxLineSizeTruncate: bool('limits.max_line_size_truncate', l.max_line_size_truncate),
      maxLabelNamesPerSeries: num('limits.max_label_names_per_series', l.max_label_names_per_series, 1),
      maxLabelNameLength: num('limits.max_label_name_length', l.max_label_name_length, 1),
      maxLabelValueLength: num('limits.max_label_value_length', l.max_label_value_length, 1),
      maxStructuredMetadataSize: bytes('limits.max_structured_metadata_size', l.max_structured_metadata_size),
      maxStructuredMetadataEntriesCount: num('limits.max_structured_metadata_entries_count', l.max_structured_metadata_entries_count),
      ingestionRateBytes: Math.round(num('limits.ingestion_rate_mb', l.ingestion_rate_mb) * 1024 * 1024),
      ingestionBurstBytes: Math.round(num('limits.ingestion_burst_size_mb', l.ingestion_burst_size_mb) * 1024 * 1024),
      maxGlobalStreamsPerUser: num('limits.max_global_streams_per_user', l.max_global_streams_per_user),
      maxEntriesLimitPerQuery: num('limits.max_entries_limit_per_query', l.max_entries_limit_per_query),
      maxQuerySeries: num('limits.max_query_series', l.max_query_series),
      maxQueryBytesRead: bytes('limits.max_query_bytes_read', l.max_query_bytes_read),
      queryTimeoutMs: ms('limits.query_timeout', l.query_timeout),
      maxTemplateOutputSize: bytes('limits.max_template_output_size', l.max_template_output_size),
      maxQueryLength: dur('limits.max_query_length', l.max_query_length),
      maxConcurrentTailRequests: num('limits.max_concurrent_tail_requests', l.max_concurrent_tail_requests),
      retentionPeriod: retentionPeriod('limits.retention_period', l.retention_period),
      retentionStream: retentionRules('limits.retention_stream', l.retention_stream),
      deletionMode: oneOf('limits.deletion_mode', l.deletion_mode, DELETION_MODES),
      discoverServiceName: labelNames('limits.discover_service_name', l.discover_service_name),
      discoverLogLevels: bool('limits.discover_log_levels', l.discover_log_levels),
      logLevelFields: levelFields('limits.log_level_fields', l.log_level_fields),
      logLevelFromJsonMaxDepth: integer('limits.log_level_from_json_max_depth', l.log_level_from_json_max_depth),
      otlpConfig: parseOtlpConfig('limits.otlp_config', l.otlp_config),
    },
    runtimeConfig: runtimeConfig(r),
    raw: r,
  };
}

function positiveDur(path: string, v: unknown): bigint {
  const d = dur(path, v);
  if (d === 0n) throw new ConfigError(`${path} must be more than 0, got ${String(v)}`);
  return d;
}

function compactorSettings(c: RawConfig['compactor']): Config['compactor'] {
  const fraction = num('compactor.small_chunk_fraction', c.small_chunk_fraction);
  if (fraction > 1) throw new ConfigError(`compactor.small_chunk_fraction must be between 0 and 1 (a share of ingester.chunk_target_size; 0 turns merging off), got ${fraction}`);
  const leaseDurationMs = ms('compactor.lease_duration', c.lease_duration);
  if (leaseDurationMs < 1000) throw new ConfigError(`compactor.lease_duration must be at least 1s (the lease is renewed every third of it), got ${c.lease_duration}`);
  return {
    compactionIntervalMs: ms('compactor.compaction_interval', c.compaction_interval),
    retentionDeleteDelayMs: ms('compactor.retention_delete_delay', c.retention_delete_delay),
    smallChunkFraction: fraction,
    maxMergedChunkSpan: positiveDur('compactor.max_merged_chunk_span', c.max_merged_chunk_span),
    orphanGracePeriodMs: ms('compactor.orphan_grace_period', c.orphan_grace_period),
    leaseDurationMs,
    deleteRequestCancelPeriodMs: ms('compactor.delete_request_cancel_period', c.delete_request_cancel_period),
  };
}
