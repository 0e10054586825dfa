import { compressSync } from 'snappy';
import { describe, expect, it } from 'vitest';
import { decodePushBody, PushBodyError, PushTooLargeError, RateLimitedWhileInflatingError } from '../../src/distributor/decode-body.js';
import { InflightBudget, InflightBudgetError } from '../../src/distributor/inflight-budget.js';
import { encodePushRequest } from '../../src/model/push-proto.js';

const MiB = 1024 * 1024;
const PB = 'application/x-protobuf';

function plainProto(entries: number, lineBytes: number): Buffer {
  const line = 'b'.repeat(lineBytes);
  return compressSync(Buffer.from(encodePushRequest([{ labels: '{app="x"}', entries: Array.from({ length: entries }, (_, i) => ({ ts: BigInt(i + 1), line })) }])));
}

const limits = { maxDecompressedSize: 256 * MiB, maxEntries: 5_000_000, rate: { burst: MiB, chargedWholeAbove: 8192 } };

describe('a plain (snappy only) protobuf body', () => {
  it('that can never pass the rate limit is refused from its first part, before it is uncompressed', async () => {
    const body = plainProto(20_000, 1000);
    // Cut after its first half: decoding it would fail, so a 429 proves the refusal came before decoding.
    const half = body.subarray(0, Math.floor(body.length / 2));
    const err = await decodePushBody(half, PB, undefined, limits).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedWhileInflatingError);
    expect((err as RateLimitedWhileInflatingError).countedBytes).toBeGreaterThan(8192 * 1000);
    // Without a rate limit the same cut body is what it is: malformed.
    const bad = await decodePushBody(half, PB, undefined, { ...limits, rate: undefined }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(PushBodyError);
  });

  it('past distributor.max_push_entries is refused before it is uncompressed too', async () => {
    const half = plainProto(20_000, 10).subarray(0, 60_000);
    const err = await decodePushBody(half, PB, undefined, { ...limits, rate: undefined, maxEntries: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PushTooLargeError);
    expect((err as Error).message).toContain('over distributor.max_push_entries (1000)');
  });

  it('that the rate limit may let through is decoded whole: few entries, or no more line bytes than the burst', async () => {
    const few = await decodePushBody(plainProto(100, 20_000), PB, undefined, limits);
    expect(few.columns.count).toBe(100);
    const small = await decodePushBody(plainProto(20_000, 40), PB, undefined, limits);
    expect(small.columns.count).toBe(20_000);
  });
});

describe('decoding charges the in-flight budget', () => {
  it('with what a body inflates to and the columns it decodes into', async () => {
    const budget = new InflightBudget(64 * MiB);
    const held = budget.reserve();
    const body = plainProto(1000, 1000);
    await decodePushBody(body, PB, undefined, { ...limits, charge: (n) => held.charge(n) });
    // The snappy block's declared ~1 MB plus 16 bytes an entry.
    expect(held.bytes).toBeGreaterThan(1000 * 1000 + 1000 * 16);
    expect(budget.held).toBe(held.bytes);
    held.release();
    held.release();
    expect(budget.held).toBe(0);
  });

  it('refuses a push past the budget while others hold part of it, and lets one push alone past it', () => {
    const budget = new InflightBudget(10);
    const a = budget.reserve();
    a.charge(25); // alone: admitted whatever its size
    const b = budget.reserve();
    expect(() => b.charge(1)).toThrow(InflightBudgetError);
    expect(() => b.charge(1)).toThrow('this push needs 1 bytes while other pushes hold 25 bytes being read, decoded or written, over distributor.max_inflight_push_bytes (10 bytes); retry after 1s');
    a.release();
    b.charge(6);
    const c = budget.reserve();
    c.charge(4);
    expect(() => c.charge(1)).toThrow(InflightBudgetError);
    expect(budget.held).toBe(10);
    b.release();
    c.release();
    expect(budget.held).toBe(0);
    expect(() => new InflightBudget(0).reserve().charge(1e12)).not.toThrow();
  });
});
