import { describe, expect, it } from 'vitest';
import { run } from './run.js';

describe('decolorize', () => {
  it('strips colour, cursor and title escape sequences', () => {
    const input = ['\x1b[31mred\x1b[0m and \x1b[1;32mbold green\x1b[m', '\x1b]0;title\x07plain', 'no escapes ✓', '\x1b[2K\x1b[1Gprogress'];
    expect(run([{ kind: 'decolorize' }], input).map((o) => o.line)).toEqual(['red and bold green', 'plain', 'no escapes ✓', 'progress']);
  });

  it('runs before later line filters', () => {
    const out = run([{ kind: 'decolorize' }, { kind: 'line_filter', op: '|=', values: ['red and'] }], ['\x1b[31mred\x1b[0m and']);
    expect(out.map((o) => o.line)).toEqual(['red and']);
  });
});
