import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../agent/line-splitter.js';

type Got = [string, number, number];

function feed(chunks: (string | Buffer)[], max = 1000) {
  let truncated = 0;
  const s = new LineSplitter(max, () => truncated++);
  const got: Got[] = [];
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c) : c, (l, a, b) => got.push([l, a, b]));
  return { got, truncated, s };
}

describe('line splitting', () => {
  it('splits on newlines with byte offsets and holds the unterminated tail', () => {
    const { got, s } = feed(['ab\ncd', 'e\nf']);
    expect(got).toEqual([['ab', 0, 3], ['cde', 3, 7]]);
    expect(s.pending).toBe(true);
    expect(s.lineStart).toBe(7);
    expect(s.offset).toBe(8);
  });

  it('counts offsets in bytes for multi-byte characters', () => {
    const { got } = feed(['é€\nx\n']);
    expect(got).toEqual([['é€', 0, 6], ['x', 6, 8]]);
  });

  it('turns invalid UTF-8 into replacement characters without failing', () => {
    const { got } = feed([Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a, 0xc3, 0x0a])]);
    expect(got).toEqual([['a\ufffd\ufffdb', 0, 5], ['\ufffd', 5, 7]]);
  });

  it('truncates over-long lines, skips the rest up to the newline and counts them', () => {
    const { got, truncated } = feed(['0123456789ABC\nok\n', 'abcdefgh', 'ijklmn', 'opq\nend\n'], 5);
    expect(got.map((g) => g[0])).toEqual(['01234', 'ok', 'abcde', 'end']);
    expect(got[2]).toEqual(['abcde', 17, 35]);
    expect(truncated).toBe(2);
  });

  it('does not split a multi-byte character when truncating', () => {
    const { got } = feed(['aé€b\n'], 4);
    expect(got[0]![0]).toBe('aé');
  });

  it('flushes the tail when the file is finished', () => {
    const { s } = feed(['x\ntail']);
    const got: Got[] = [];
    s.flush((l, a, b) => got.push([l, a, b]));
    expect(got).toEqual([['tail', 2, 6]]);
    expect(s.pending).toBe(false);
  });
});
