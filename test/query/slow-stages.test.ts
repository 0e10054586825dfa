import { describe, expect, it } from 'vitest';
import type { LogSelectorExpr, RangeAggregationExpr } from '../../query/ast.js';
import { parseExpr } from '../../query/parser.js';
import { hasSlowStage, rangeHasSlowStage } from '../../query/slow-stages.js';

const slow = (q: string) => hasSlowStage((parseExpr(q) as LogSelectorExpr).pipeline);

describe('which pipelines run a user regex per line', () => {
  it('regex line filters, the regexp parser, regex label matchers, drop/keep matchers and regexReplaceAll', () => {
    for (const q of [
      '{a="b"} |~ "(a|aa)+$"',
      '{a="b"} !~ "x.*y"',
      '{a="b"} |= "x" |~ "y+z" or "w"',
      '{a="b"} | regexp "(?P<x>.)"',
      '{a="b"} | json | x=~"a.*"',
      '{a="b"} | logfmt | x="1" or y!~"b+"',
      '{a="b"} | json | drop x=~"a.+"',
      '{a="b"} | line_format "{{ regexReplaceAll \\"a+\\" .x \\"b\\" }}"',
      '{a="b"} | label_format y="{{ regexReplaceAllLiteral \\"a+\\" .x \\"b\\" }}"',
    ]) expect(slow(q), q).toBe(true);
  });

  it('literal filters, regexes that are plain substrings, and linear stages are not', () => {
    for (const q of [
      '{a=~"x.*"}',
      '{a="b"} |= "x" != "y"',
      '{a="b"} |~ "error"',
      '{a="b"} |~ "(?i)error|warn"',
      '{a="b"} | json | x="1" | line_format "{{ .x | upper }}"',
      '{a="b"} | logfmt | label_format y="{{ repeat 3 .x }}" | drop z',
      '{a="b"} | pattern "<x> <_>" | decolorize',
    ]) expect(slow(q), q).toBe(false);
  });

  it('range aggregations look at their unwrap filters too', () => {
    const r = (q: string) => rangeHasSlowStage(parseExpr(q) as RangeAggregationExpr);
    expect(r('sum_over_time({a="b"} | json | unwrap x | y=~"a+" [1m])')).toBe(true);
    expect(r('sum_over_time({a="b"} | json | unwrap x | y="a" [1m])')).toBe(false);
  });
});
