import { describe, expect, it } from 'vitest';
import type { SampleExpr } from '../../../query/ast.js';
import { parseExpr } from '../../../query/parser.js';
import { MemorySource, sec } from './memory-source.js';
import { instantQuery, vectorOf } from './helpers.js';

/** bytes_over_time and bytes_rate count the UTF-8 bytes of each line as it leaves the pipeline. */

const src = () =>
  new MemorySource([
    {
      labels: { app: 'a' },
      entries: [
        { ts: sec(10), line: 'level=info msg="hello world"' },
        { ts: sec(20), line: 'level=error msg="é"' },
      ],
    },
  ]);
const at60 = async (text: string) => vectorOf(await instantQuery(parseExpr(text) as SampleExpr, src(), 60));

describe('bytes after line_format', () => {
  it('counts the raw lines without a rewrite', async () => {
    // 28 + 20 bytes (é is two bytes).
    expect(await at60('bytes_over_time({app="a"}[1m])')).toEqual([['{app="a"}', 48]]);
  });

  it('counts the formatted line', async () => {
    // "hello world" (11) + "é" (2).
    expect(await at60('sum by (level) (bytes_over_time({app="a"} | logfmt | line_format "{{.msg}}" [1m]))')).toEqual([['{level="error"}', 2], ['{level="info"}', 11]]);
    expect(await at60('sum(bytes_over_time({app="a"} | logfmt | line_format "{{.msg}}" [1m]))')).toEqual([['{}', 13]]);
    // A longer line than the original: "<info>" (6) + "<error>" (7).
    expect(await at60('sum by (app) (bytes_over_time({app="a"} | logfmt | line_format "<{{.level}}>" [1m]))')).toEqual([['{app="a"}', 13]]);
  });

  it('bytes_rate divides the formatted bytes by the range', async () => {
    expect(await at60('sum(bytes_rate({app="a"} | logfmt | line_format "{{.msg}}" [1m]))')).toEqual([['{}', 13 / 60]]);
  });

  it('counts after a line filter that tests the formatted line', async () => {
    expect(await at60('sum(bytes_over_time({app="a"} | logfmt | line_format "{{.msg}}" |= "hello" [1m]))')).toEqual([['{}', 11]]);
  });

  it('counts the decolorized line', async () => {
    const s = new MemorySource([{ labels: { app: 'a' }, entries: [{ ts: sec(10), line: '\u001b[31mred\u001b[0m' }] }]);
    expect(vectorOf(await instantQuery(parseExpr('bytes_over_time({app="a"} | decolorize [1m])') as SampleExpr, s, 60))).toEqual([['{app="a"}', 3]]);
  });
});
