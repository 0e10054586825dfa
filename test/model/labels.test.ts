import { describe, expect, it } from 'vitest';
import { Prng } from '../helpers/prng.js';
import { canonicalLabels, fingerprint, labelsFromJson, parseLabels, sortedLabels, wellFormed, type Labels } from '../../src/model/labels.js';

/** Seeded so a failure can be replayed: the seed is in the test name. */
const rng = (seed: number): (() => number) => {
  const p = new Prng(seed);
  return () => p.next();
};

// The characters that broke identity before (\r became `\\r` after replay) and their neighbours.
const NASTY = ['\r', '\n', '\t', '\b', '\f', '\v', '\u0000', '\u0001', '\u001f', '\u007f', '"', '\\', "'", '`', '{', '}', ',', '=', ' ', 'é', '日本', '😀', '\u2028', '\ufffd', '\ud800', '\udc00', '\\u0041', '\\x41', '\\101', '\\r'];

export function randomValue(r: () => number): string {
  const n = Math.floor(r() * 12);
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = r();
    if (k < 0.5) s += NASTY[Math.floor(r() * NASTY.length)]!;
    else if (k < 0.8) s += String.fromCharCode(32 + Math.floor(r() * 95));
    else s += String.fromCharCode(Math.floor(r() * 0x10000));
  }
  if (r() < 0.05) s += 'x'.repeat(5000);
  return s;
}

describe('label canonical form round trip', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`parseLabels(canonicalLabels(l)) is l, with the same fingerprint (seed ${seed})`, () => {
      const r = rng(seed);
      for (let k = 0; k < 2000; k++) {
        const raw: Labels = Object.create(null) as Labels;
        const names = ['app', 'v', '__proto__', 'constructor', 'a_b', '_x'];
        for (const n of names) if (r() < 0.6) raw[n] = wellFormed(randomValue(r));
        const labels = sortedLabels(raw);
        const canonical = canonicalLabels(labels);
        const back = parseLabels(canonical);
        expect({ ...back }).toEqual({ ...labels });
        expect(Object.keys(back)).toEqual(Object.keys(labels));
        expect(canonicalLabels(back)).toBe(canonical);
        expect(fingerprint(canonicalLabels(back))).toBe(fingerprint(canonical));
        expect({ ...labelsFromJson(JSON.stringify(labels)) }).toEqual({ ...labels });
      }
    });
  }

  it('reads the escapes canonical form writes and those Go clients write', () => {
    expect(parseLabels('{v="x\\ry"}').v).toBe('x\ry');
    expect(parseLabels('{v="\\b\\f\\n\\t\\u0001\\u0000\\"\\\\"}').v).toBe('\b\f\n\t\u0001\u0000"\\');
    expect(parseLabels('{v="\\a\\v\\x41\\101\\U0001F600\\ud83d\\ude00"}').v).toBe('\u0007\u000bAA😀😀');
    expect(parseLabels('{v="\\xc3\\xa9"}').v).toBe('é');
    // Unknown escapes keep their backslash (as before), so old clients' values do not change identity.
    expect(parseLabels('{v="C:\\logs"}').v).toBe('C:\\logs');
  });

  it('turns what UTF-8 cannot hold into U+FFFD, the same way on every door', () => {
    expect(parseLabels('{v="a\\ud800b"}').v).toBe('a\ufffdb');
    expect(parseLabels('{v="a\ud800b"}').v).toBe('a\ufffdb');
    expect(wellFormed('a\udc00\ud83d\ude00\ud800')).toBe('a\ufffd😀\ufffd');
    expect(parseLabels('{v="\\xff"}').v).toBe('\ufffd');
  });

  it('keeps a label named __proto__ as an ordinary label', () => {
    const l = parseLabels('{__proto__="p", app="x"}');
    expect(Object.keys(l)).toEqual(['__proto__', 'app']);
    expect(canonicalLabels(sortedLabels(l))).toBe('{__proto__="p", app="x"}');
    expect(Object.keys(labelsFromJson('{"__proto__":"p"}'))).toEqual(['__proto__']);
  });
});
