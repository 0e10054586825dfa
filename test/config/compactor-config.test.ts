import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

describe('compactor settings', () => {
  it('defaults to a 10m interval, a 2h delete delay and merging below a quarter of the target size', () => {
    const c = loadConfig([], {}).compactor;
    expect(c).toEqual({ compactionIntervalMs: 600_000, retentionDeleteDelayMs: 7_200_000, smallChunkFraction: 0.25, maxMergedChunkSpan: 86_400_000_000_000n, orphanGracePeriodMs: 3_600_000, leaseDurationMs: 60_000, deleteRequestCancelPeriodMs: 86_400_000 });
  });

  it('takes flags and environment, 0s meaning runs only on request', () => {
    const c = loadConfig(['--compactor.compaction-interval', '0s', '--compactor.small-chunk-fraction', '0.5'], { NARVI_COMPACTOR_RETENTION_DELETE_DELAY: '5m' }).compactor;
    expect(c.compactionIntervalMs).toBe(0);
    expect(c.smallChunkFraction).toBe(0.5);
    expect(c.retentionDeleteDelayMs).toBe(300_000);
  });

  it('refuses bad values with a message naming the key, its value and what is allowed', () => {
    expect(() => loadConfig(['--compactor.small-chunk-fraction', '2'], {})).toThrow(/compactor\.small_chunk_fraction must be between 0 and 1 .*got 2/);
    expect(() => loadConfig(['--compactor.small-chunk-fraction', '-0.1'], {})).toThrow(/compactor\.small_chunk_fraction must be a number ≥ 0, got -0\.1/);
    expect(() => loadConfig(['--compactor.lease-duration', '100ms'], {})).toThrow(/compactor\.lease_duration must be at least 1s .*got 100ms/);
    expect(() => loadConfig(['--compactor.compaction-interval', 'soon'], {})).toThrow(/compactor\.compaction_interval/);
    expect(() => loadConfig(['--compactor.max-merged-chunk-span', '0s'], {})).toThrow(/compactor\.max_merged_chunk_span must be more than 0, got 0s/);
    expect(() => loadConfig(['--compactor.working-directory', '/tmp'], {})).toThrow(/compactor\.working_directory/);
  });
});
