/**
 * Entry timestamps outside int64 nanoseconds (protobuf seconds reach far past them) are refused by name whatever
 * the age settings, before anything formats or stores them.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { validatePush } from '../../src/distributor/validate.js';

const NOW = BigInt(Date.now()) * 1_000_000n;
const SEC = 1_000_000_000n;

describe('push timestamps out of range', () => {
  for (const rejectOld of [true, false]) {
    it(`are rejected as invalid_timestamp with reject_old_samples ${rejectOld ? 'on' : 'off'}`, () => {
      const limits = loadConfig(['--limits.reject-old-samples', String(rejectOld)], {}).limits;
      const far = [-(2n ** 62n) * SEC, -9_300_000_000n * SEC, 2n ** 63n, 2n ** 70n];
      const v = validatePush(
        [{ labels: '{app="x"}', entries: [...far.map((ts) => ({ ts, line: Buffer.from('bad') })), { ts: NOW, line: Buffer.from('good') }] }],
        limits,
        NOW,
      );
      expect(v.rejections.map((r) => r.reason)).toEqual(far.map(() => 'invalid_timestamp'));
      // The stream as stored: Loki's default discover_service_name added service_name from app.
      expect(v.rejections[0]!.message).toContain(`entry for stream '{app="x", service_name="x"}' has timestamp out of range: ${far[0]} ns`);
      expect(v.streams.flatMap((s) => s.entries.map((e) => e.line.toString()))).toEqual(['good']);
    });
  }

  it('the int64 extremes themselves are in range', () => {
    const limits = loadConfig(['--limits.reject-old-samples', 'false', '--limits.creation-grace-period', '1000000h'], {}).limits;
    const v = validatePush([{ labels: '{app="x"}', entries: [{ ts: -(2n ** 63n), line: Buffer.from('min') }] }], limits, NOW);
    expect(v.rejections).toEqual([]);
  });
});
