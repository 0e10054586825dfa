import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { patternsEnabled } from '../../src/config/pattern-ingester.js';

describe('pattern_ingester settings', () => {
  it('defaults to off (as Loki), 300 patterns per stream, 10000 streams, 3h of counts', () => {
    const cfg = loadConfig([], {});
    expect(cfg.patternIngester).toEqual({ enabled: false, maxClusters: 300, maxStreams: 10_000, retainForMs: 3 * 3_600_000 });
    expect(patternsEnabled(cfg)).toBe(false);
    expect(patternsEnabled(loadConfig(['--pattern-ingester.enabled'], {}))).toBe(true);
  });

  it('takes Loki\'s YAML block, flags and environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'narvi-pattern-cfg-'));
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(file, 'pattern_ingester:\n  enabled: true\n  max_clusters: 50\n');
      const fromFile = loadConfig(['--config.file', file], {});
      expect(patternsEnabled(fromFile)).toBe(true);
      expect(fromFile.patternIngester.maxClusters).toBe(50);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(patternsEnabled(loadConfig(['--pattern-ingester.enabled=true'], {}))).toBe(true);
    expect(patternsEnabled(loadConfig([], { NARVI_PATTERN_INGESTER_ENABLED: 'true' }))).toBe(true);
    expect(loadConfig(['--pattern-ingester.retain-for', '1h'], { NARVI_PATTERN_INGESTER_MAX_STREAMS: '20' }).patternIngester).toMatchObject({ retainForMs: 3_600_000, maxStreams: 20 });
  });

  it('refuses bad values with a message naming the key, its value and what is allowed', () => {
    expect(() => loadConfig(['--pattern-ingester.enabled', 'maybe'], {})).toThrow(/pattern_ingester\.enabled/);
    expect(() => loadConfig(['--pattern-ingester.max-clusters', '0'], {})).toThrow(/pattern_ingester\.max_clusters must be an integer from 1 to 100000, got 0/);
    expect(() => loadConfig(['--pattern-ingester.max-streams', '2.5'], {})).toThrow(/pattern_ingester\.max_streams must be an integer from 1 to 10000000, got 2\.5/);
    expect(() => loadConfig(['--pattern-ingester.retain-for', '5s'], {})).toThrow(/pattern_ingester\.retain_for must be between 10s and 24h, got "5s"/);
    expect(() => loadConfig(['--pattern-ingester.retain-for', 'long'], {})).toThrow(/pattern_ingester\.retain_for/);
    expect(() => loadConfig(['--pattern-ingester.max-cluster', '5'], {})).toThrow(/pattern_ingester\.max_cluster/);
  });
});
