import { describe, expect, it } from 'vitest';
import { blockNeedles } from '../../../query/eval/block-needles.js';
import { parseLogSelector } from '../../../query/parser.js';

function needles(q: string): string[] | null {
  const e = parseLogSelector(q);
  return blockNeedles(e.pipeline)?.map((b) => b.toString()) ?? null;
}

describe('blockNeedles', () => {
  it('takes the single-valued |= literals before the first other stage', () => {
    expect(needles('{a="b"} |= "x" != "y" |= "z" | json |= "w"')).toEqual(['x', 'z']);
  });
  it('has none for regexes, negations, or alternatives, or empty literals', () => {
    expect(needles('{a="b"} |~ "x" != "y" |= "a" or "b" |= ""')).toBeNull();
    expect(needles('{a="b"} | json |= "x"')).toBeNull();
  });
});
