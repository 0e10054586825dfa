import { compressSync } from 'snappy';
import snappyjs from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { SnappyStream } from '../../src/distributor/snappy-stream.js';
import { Prng } from '../helpers/prng.js';

/** Feeds `block` in random pieces and returns what came out, the declared length and whether it got lost. */
function decodeInPieces(block: Uint8Array, rng: Prng): { out: Buffer; declared: number | null; lost: boolean } {
  const parts: Buffer[] = [];
  const s = new SnappyStream((bytes) => parts.push(Buffer.from(bytes)));
  for (let i = 0; i < block.length; ) {
    const n = 1 + rng.int(rng.chance(0.3) ? 8 : 70_000);
    s.feed(block.subarray(i, i + n));
    i += n;
  }
  return { out: Buffer.concat(parts), declared: s.declared, lost: s.lost };
}

function sample(rng: Prng, size: number): Buffer {
  const b = Buffer.alloc(size);
  const words = ['level=info ', 'msg="request served" ', 'duration=12ms ', 'aaaaaaaaaaaaaaaaaaaa', '\n'];
  let i = 0;
  while (i < size) {
    if (rng.chance(0.1)) b[i++] = rng.int(256);
    else i += b.write(rng.pick(words), i);
  }
  return b;
}

describe('SnappyStream', () => {
  it('decodes what the native and the JS compressors produce, fed in pieces of any size', () => {
    const rng = new Prng(7);
    for (const size of [0, 1, 59, 60, 61, 255, 65_535, 65_536, 65_537, 300_000, 1_500_000]) {
      const input = sample(rng, size);
      for (const block of [compressSync(input), Buffer.from(snappyjs.compress(input))]) {
        const r = decodeInPieces(block, rng);
        expect(r.lost, `size ${size}`).toBe(false);
        expect(r.declared).toBe(size);
        expect(r.out.equals(input), `size ${size}`).toBe(true);
      }
    }
    // Long runs: copies that overlap their own output, and literals longer than the window.
    const runs = Buffer.concat([Buffer.alloc(200_000, 0x61), sample(rng, 10), Buffer.alloc(100_000, 0x20)]);
    expect(decodeInPieces(compressSync(runs), rng).out.equals(runs)).toBe(true);
    const random = Buffer.from(Array.from({ length: 200_000 }, () => rng.int(256)));
    expect(decodeInPieces(compressSync(random), rng).out.equals(random)).toBe(true);
  });

  it('reads the declared length from the first bytes, before any element', () => {
    const s = new SnappyStream(() => {});
    s.feed(Buffer.from([0x80, 0x80]));
    expect(s.declared).toBeNull();
    s.feed(Buffer.from([0x80, 0x80, 0x08])); // 2^31
    expect(s.declared).toBe(2 ** 31);
  });

  it('stops (lost) on a copy from before the start or from beyond its window, and on an overlong preamble', () => {
    // Declares 10 bytes; a 1-byte literal 'a', then a copy-2 of 4 bytes from offset 2 (only 1 byte exists).
    const before = new SnappyStream(() => {});
    before.feed(Buffer.from([10, 0x00, 0x61, (3 << 2) | 2, 2, 0]));
    expect(before.lost).toBe(true);
    const far = new SnappyStream(() => {});
    const lit = Buffer.alloc(70_000, 0x62);
    // Literal of 70 000 bytes (tag 62 << 2: length-1 in three bytes), then a copy-4 from 69 000 back.
    far.feed(Buffer.concat([Buffer.from([0xf0, 0xa2, 0x04]), Buffer.from([62 << 2, 69_999 & 0xff, (69_999 >> 8) & 0xff, 69_999 >> 16]), lit]));
    expect(far.lost).toBe(false);
    far.feed(Buffer.from([(3 << 2) | 3, 0xc8, 0x0d, 0x01, 0x00]));
    expect(far.lost).toBe(true);
    const pre = new SnappyStream(() => {});
    pre.feed(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(pre.lost).toBe(true);
  });
});
