import { describe, expect, it } from 'vitest';
import { ByteInterner, MAX_INTERNED, utf8Text } from '../../../query/stages/byte-intern.js';
import { prng } from '../../../bench/generate.js';

describe('ByteInterner', () => {
  it('returns the decoded text of every range, whether remembered, evicted or too long to keep', () => {
    const rand = prng(7);
    // A few hundred values, many sharing lengths (and so competing for slots with equal-length bytes),
    // some multi-byte UTF-8, some over the length it remembers; read back in random order many times.
    const values: string[] = [];
    for (let k = 0; k < 400; k++) {
      const len = k % 5 === 0 ? MAX_INTERNED + 1 + Math.floor(rand() * 20) : 1 + Math.floor(rand() * 12);
      let v = '';
      for (let c = 0; c < len; c++) v += rand() < 0.1 ? 'é✓'[Math.floor(rand() * 2)] : String.fromCharCode(0x61 + Math.floor(rand() * 3));
      values.push(v);
    }
    const buf = Buffer.from(values.join(''));
    const ranges: [number, number][] = [];
    let at = 0;
    for (const v of values) {
      const n = Buffer.byteLength(v);
      ranges.push([at, at + n]);
      at += n;
    }
    let decodes = 0;
    const interner = new ByteInterner((b, s, e) => {
      decodes++;
      return utf8Text(b, s, e);
    });
    for (let r = 0; r < 20_000; r++) {
      const k = Math.floor(rand() * values.length);
      expect(interner.get(buf, ranges[k]![0], ranges[k]![1])).toBe(values[k]);
    }
    // Not vacuous: most reads were answered from memory.
    expect(decodes).toBeLessThan(15_000);
    expect(interner.get(buf, 0, 0)).toBe('');
  });
});
