import { describe, expect, it } from 'vitest';
import { compress, decompress } from '../../src/chunk/zstd.js';

describe('zstd codec', () => {
  it('round-trips text and binary, with and without a known size', () => {
    const text = Buffer.from('level=info msg="hello" '.repeat(5000));
    const bin = Buffer.alloc(100_000);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 2654435761) >>> 24;
    for (const src of [text, bin, Buffer.alloc(0), Buffer.from('x')]) {
      const c = compress(src);
      expect(decompress(c).equals(src)).toBe(true);
      expect(decompress(c, src.length).equals(src)).toBe(true);
    }
  });

  it('compresses repetitive text and returns an exact-size buffer', () => {
    const src = Buffer.from('abc'.repeat(100_000));
    const c = compress(src, 1);
    expect(c.length).toBeLessThan(src.length / 50);
    expect(c.buffer.byteLength).toBe(c.length);
  });

  it('higher levels still decode', () => {
    const src = Buffer.from(JSON.stringify({ a: 1, b: 'two', c: [3, 4, 5] }).repeat(1000));
    expect(decompress(compress(src, 19)).equals(src)).toBe(true);
  });

  it('throws Error instances on corrupt or mismatched input', () => {
    const src = Buffer.from('some log line\n'.repeat(1000));
    const c = compress(src);
    const flipped = Buffer.from(c);
    flipped[flipped.length - 5] ^= 0xff;
    const attempts: (() => unknown)[] = [
      () => decompress(Buffer.from('not zstd at all')),
      () => decompress(c.subarray(0, c.length - 3)),
      () => decompress(c, src.length - 1),
      () => decompress(c, src.length + 1),
      () => decompress(c, -1),
      () => decompress(c, 2 ** 40),
    ];
    for (const f of attempts) expect(f).toThrow(Error);
    // A flipped byte in the payload must never come back as the original data.
    let out: Buffer | undefined;
    try {
      out = decompress(flipped, src.length);
    } catch (err) {
      expect(err).toBeInstanceOf(Error);
    }
    if (out) expect(out.equals(src)).toBe(false);
  });
});
