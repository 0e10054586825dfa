import { parseDuration } from '../model/time.js';
import type { Config } from './config.js';
import type { RawConfig } from './defaults.js';
import { ConfigError } from './merge.js';

/** `pattern_ingester.*`: the Drain miner that feeds GET /loki/api/v1/patterns. */
export interface PatternIngesterConfig {
  enabled: boolean;
  /** Clusters (patterns) per stream; the least recently seen is evicted past it. */
  maxClusters: number;
  /** Streams followed at once per ingester; the least recently pushed is dropped past it. */
  maxStreams: number;
  /** How long counts are kept (Loki's pattern_ingester.retain_for), ms. */
  retainForMs: number;
}

/** Whether this server mines and answers log patterns (Drilldown's `pattern_ingester_enabled`). */
export function patternsEnabled(cfg: Pick<Config, 'patternIngester'>): boolean {
  return cfg.patternIngester.enabled;
}

function count(path: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new ConfigError(`${path} must be an integer from 1 to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

export function patternIngesterSettings(r: RawConfig['pattern_ingester']): PatternIngesterConfig {
  if (typeof r.enabled !== 'boolean') throw new ConfigError(`pattern_ingester.enabled must be true or false, got ${JSON.stringify(r.enabled)}`);
  let retainNs: bigint;
  try {
    retainNs = parseDuration(String(r.retain_for));
  } catch (err) {
    throw new ConfigError(`pattern_ingester.retain_for: ${(err as Error).message}`);
  }
  const retainForMs = Number(retainNs / 1_000_000n);
  // Counts are kept per 10 s: less than one bucket keeps nothing; past a day, memory per pattern grows for little use.
  if (retainForMs < 10_000 || retainForMs > 24 * 3_600_000) throw new ConfigError(`pattern_ingester.retain_for must be between 10s and 24h, got ${JSON.stringify(r.retain_for)}`);
  return {
    enabled: r.enabled,
    maxClusters: count('pattern_ingester.max_clusters', r.max_clusters, 100_000),
    maxStreams: count('pattern_ingester.max_streams', r.max_streams, 10_000_000),
    retainForMs,
  };
}
