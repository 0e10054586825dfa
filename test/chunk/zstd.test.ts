import { describe, expect, it } from 'vitest';
import { compress, decompress, decompressInto } from '../../src/chunk/zstd.js';
import { generateLines } from '../../bench/generate.js';

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

  it('a minimum match length override decodes the same and, on log lines under 256 KiB, compresses better', () => {
    // One stream's lines, cut as the ingester cuts a block (256 KB).
    const streams = new Map<number, { lines: string[]; bytes: number }>();
    let src: Buffer | undefined;
    for (const g of generateLines({ seed: 2 })) {
      let s = streams.get(g.stream);
      if (!s) streams.set(g.stream, (s = { lines: [], bytes: 0 }));
      s.lines.push(g.line);
      s.bytes += Buffer.byteLength(g.line);
      if (s.bytes >= 256_000) {
        src = Buffer.from(s.lines.join(''));
        break;
      }
    }
    if (!src) throw new Error('generator ended early');
    expect(src.length).toBeGreaterThan(250_000);
    expect(src.length).toBeLessThan(262_144);
    const plain = compress(src, 3);
    const tuned = compress(src, 3, 6);
    expect(decompress(tuned, src.length).equals(src)).toBe(true);
    expect(tuned.length).toBeLessThan(plain.length * 0.98);
    // The override does not leak into later plain calls or other settings.
    expect(compress(src, 3).equals(plain)).toBe(true);
    expect(decompress(compress(src, 1, 5)).equals(src)).toBe(true);
    expect(compress(src, 3, 6).equals(tuned)).toBe(true);
  });

  it('decompresses into a caller buffer of exactly the content size', () => {
    const src = Buffer.from('abc'.repeat(1000));
    const c = compress(src);
    const out = Buffer.alloc(src.length);
    decompressInto(c, out);
    expect(out.equals(src)).toBe(true);
    expect(() => decompressInto(c, Buffer.alloc(src.length - 1))).toThrow(Error);
    expect(() => decompressInto(c, Buffer.alloc(src.length + 1))).toThrow(/decompressed to 3000 bytes, expected 3001/);
  });
});
