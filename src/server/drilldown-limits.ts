import type { Limits } from '../config/config.js';

const MS = 1_000_000n;
const DAY = 24n * 3600n * 1000n;

/**
 * A duration as Prometheus' model.Duration prints it, which is how Loki's limits reach JSON: `30d1h`, `1m`,
 * `0s`; years and weeks only when they divide the duration exactly.
 */
export function promDuration(ns: bigint): string {
  let ms = ns / MS;
  if (ms === 0n) return '0s';
  let out = '';
  const unit = (u: string, size: bigint, exact: boolean): void => {
    if (exact && ms % size !== 0n) return;
    const v = ms / size;
    if (v > 0n) {
      out += `${v}${u}`;
      ms -= v * size;
    }
  };
  unit('y', 365n * DAY, true);
  unit('w', 7n * DAY, true);
  unit('d', DAY, false);
  unit('h', 3600n * 1000n, false);
  unit('m', 60n * 1000n, false);
  unit('s', 1000n, false);
  unit('ms', 1n, false);
  return out;
}

/**
 * Settings Loki publishes by default (`tenant_limits_allow_publish`) that are taken from the written limits
 * as they are, when narvi has them (others add them to the `limits` section in time).
 */
const FROM_RAW = ['discover_log_levels', 'discover_service_name', 'log_level_fields', 'max_query_bytes_read', 'otlp_config'];

/**
 * The `limits` object of `/loki/api/v1/drilldown-limits`: the tenant's effective values of the limits Loki
 * publishes to Logs Drilldown, in Loki's JSON forms (durations as strings, sizes as written).
 */
export function publishedLimits(limits: Limits, raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of FROM_RAW) if (raw[k] !== undefined) out[k] = raw[k];
  out.max_entries_limit_per_query = limits.maxEntriesLimitPerQuery;
  out.max_line_size_truncate = limits.maxLineSizeTruncate;
  out.max_query_length = promDuration(limits.maxQueryLength);
  out.max_query_series = limits.maxQuerySeries;
  out.query_timeout = promDuration(BigInt(limits.queryTimeoutMs) * MS);
  out.retention_period = promDuration(limits.retentionPeriod);
  // narvi always serves index/volume and index/volume_range.
  out.volume_enabled = true;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}
