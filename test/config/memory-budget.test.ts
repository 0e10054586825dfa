import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { memoryLimitBytes, resolveInflightPushBudget, resolveUnflushedBudget } from '../../src/config/memory-budget.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('ingester.max_unflushed_bytes', () => {
  it('auto is 1/16 of the memory limit, between 16 MiB and 256 MiB', () => {
    expect(resolveUnflushedBudget('auto', () => 1 * GiB)).toBe(64 * MiB);
    expect(resolveUnflushedBudget('auto', () => 24 * GiB)).toBe(256 * MiB);
    expect(resolveUnflushedBudget('auto', () => 128 * MiB)).toBe(16 * MiB);
  });

  it('takes sizes as written, and 0 as off', () => {
    expect(resolveUnflushedBudget('0')).toBe(0);
    expect(resolveUnflushedBudget('10MB')).toBe(10_000_000);
    expect(resolveUnflushedBudget('512MiB')).toBe(512 * MiB);
    expect(() => resolveUnflushedBudget('lots')).toThrow(/invalid size "lots"/);
  });

  it('reads a limit no larger than the machine has', () => {
    const limit = memoryLimitBytes();
    expect(limit).toBeGreaterThan(0);
    expect(limit).toBeLessThanOrEqual(totalmem());
  });
});

describe('distributor.max_inflight_push_bytes', () => {
  it('auto is 1/16 of the memory limit, between 32 MiB and 256 MiB', () => {
    expect(resolveInflightPushBudget('auto', () => 1 * GiB)).toBe(64 * MiB);
    expect(resolveInflightPushBudget('auto', () => 24 * GiB)).toBe(256 * MiB);
    expect(resolveInflightPushBudget('auto', () => 256 * MiB)).toBe(32 * MiB);
  });

  it('is auto by default, takes sizes as written and 0 as off, and names itself when the value is bad', () => {
    expect(loadConfig([], {}).distributor.maxInflightPushBytes).toBe(resolveInflightPushBudget('auto'));
    expect(loadConfig(['--distributor.max-inflight-push-bytes', '64MiB'], {}).distributor.maxInflightPushBytes).toBe(64 * MiB);
    expect(loadConfig(['--distributor.max-inflight-push-bytes', '0'], {}).distributor.maxInflightPushBytes).toBe(0);
    expect(() => loadConfig(['--distributor.max-inflight-push-bytes', 'lots'], {})).toThrow(/distributor\.max_inflight_push_bytes: invalid size "lots"/);
  });
});
