import { describe, expect, it } from 'vitest';
import { buildPipeline } from '../../../query/pipeline.js';
import { parseLogSelector } from '../../../query/parser.js';
import { batchFromEntries } from '../../../src/model/batch.js';
import type { Labels } from '../../../src/model/labels.js';

/**
 * The json and logfmt parsers as Loki 3.7 runs them: the first occurrence of a repeated key wins, logfmt skips
 * empty values unless --keep-empty, json gives no label for null and an empty one for a missing extraction path.
 * Each case runs twice: with every label wanted (the full parsers) and with only the asserted labels wanted
 * (the byte scanners that metric queries use), which must agree.
 */

const STREAM: Labels = { app: 'api' };

function labelsOf(query: string, line: string, required: ReadonlySet<string> | null = null, metadata?: Record<string, string>): Labels {
  const stages = parseLogSelector(query).pipeline;
  let out: Labels | undefined;
  buildPipeline(stages, required).run(batchFromEntries([{ ts: 1n, line, metadata }]), STREAM, (_i, _l, labels) => {
    out = { ...labels };
  });
  return out!;
}

/** Checks `want` (undefined: the label must be absent) on the full path and on the hinted path. */
function expectLabels(query: string, line: string, want: Record<string, string | undefined>): void {
  const names = new Set(Object.keys(want));
  for (const required of [null, names]) {
    const got = labelsOf(query, line, required);
    for (const [k, v] of Object.entries(want)) expect(got[k], `${query} on ${line} (${required ? 'hinted' : 'full'}): ${k}`).toBe(v);
  }
}

describe('logfmt as Loki 3.7', () => {
  it('the first occurrence of a repeated key wins', () => {
    expectLabels('{a="b"} | logfmt', 'a=1 b=x a=2', { a: '1', b: 'x' });
    expectLabels('{a="b"} | logfmt', 'a="q 1" a=2 a=3', { a: 'q 1' });
  });

  it('keys that sanitise to one name: the first wins', () => {
    expectLabels('{a="b"} | logfmt', 'a.b=1 a_b=2', { a_b: '1' });
    expectLabels('{a="b"} | logfmt', 'a_b=2 a.b=1', { a_b: '2' });
  });

  it('a key clashing with a stream label: the first value goes to name_extracted', () => {
    expectLabels('{a="b"} | logfmt', 'app=x app=y', { app: 'api', app_extracted: 'x' });
  });

  it('drops empty values (key=, key="", standalone key) so a later non-empty one wins', () => {
    expectLabels('{a="b"} | logfmt', 'a= b="" c d=1', { a: undefined, b: undefined, c: undefined, d: '1' });
    expectLabels('{a="b"} | logfmt', 'a= a=2', { a: '2' });
    expectLabels('{a="b"} | logfmt', 'a a=2', { a: '2' });
  });

  it('--keep-empty keeps empty values, and then an empty first occurrence wins', () => {
    expectLabels('{a="b"} | logfmt --keep-empty', 'a= b="" c d=1', { a: '', b: '', c: '', d: '1' });
    expectLabels('{a="b"} | logfmt --keep-empty', 'a= a=2', { a: '' });
    expectLabels('{a="b"} | logfmt --strict --keep-empty', 'c a=1', { c: '', a: '1' });
  });

  it('with parameters: first wins, empty values kept, a missing key gives an empty label', () => {
    expectLabels('{a="b"} | logfmt x="a"', 'a=1 a=2', { x: '1' });
    expectLabels('{a="b"} | logfmt x="a"', 'a= a=2', { x: '' });
    expectLabels('{a="b"} | logfmt x="a", y="nope"', 'a=1', { x: '1', y: '' });
  });

  it('with parameters: a missing key named like a stream label leaves the stream label alone', () => {
    expectLabels('{a="b"} | logfmt app', 'b=1', { app: 'api', app_extracted: undefined });
    expectLabels('{a="b"} | logfmt app', 'app=web', { app: 'api', app_extracted: 'web' });
  });
});

describe('json as Loki 3.7', () => {
  it('the first occurrence of a repeated key wins, at any depth', () => {
    expectLabels('{a="b"} | json', '{"a":1,"b":"x","a":2}', { a: '1', b: 'x' });
    expectLabels('{a="b"} | json', '{"r":{"s":1,"s":2},"t":true}', { r_s: '1', t: 'true' });
  });

  it('a repeated key whose values differ in kind: each contributes the names it gives first', () => {
    expectLabels('{a="b"} | json', '{"a":1,"a":{"b":2}}', { a: '1', a_b: '2' });
    expectLabels('{a="b"} | json', '{"a":null,"a":"x"}', { a: 'x' });
  });

  it('keys that sanitise to one name: the first in the line wins, integer-like keys included', () => {
    expectLabels('{a="b"} | json', '{"a":{"b":1},"a_b":2}', { a_b: '1' });
    expectLabels('{a="b"} | json', '{"a_b":2,"a":{"b":1}}', { a_b: '2' });
    expectLabels('{a="b"} | json', '{"_1":"u","1":"d"}', { _1: 'u' });
  });

  it('escaped quotes and colons inside strings do not count as keys', () => {
    expectLabels('{a="b"} | json', '{"m":"a\\":b","m":"z","n":"p: q"}', { m: 'a":b', n: 'p: q' });
    expectLabels('{a="b"} | json', '{"m":"x\\\\","k":"v"}', { m: 'x\\', k: 'v' });
  });

  it('repeated keys inside arrays do not disturb the fields around them', () => {
    expectLabels('{a="b"} | json', '{"x":[{"k":1,"k":2}],"k":3}', { k: '3', x: undefined });
  });

  it('null gives no label', () => {
    expectLabels('{a="b"} | json', '{"a":null,"b":{"c":null},"d":1}', { a: undefined, b_c: undefined, d: '1' });
  });

  it('with parameters: null and a missing path give an empty label; repeated keys keep the first', () => {
    expectLabels('{a="b"} | json x="a"', '{"a":null}', { x: '' });
    expectLabels('{a="b"} | json age="user.age"', '{"user":{"name":"n"}}', { age: '' });
    expectLabels('{a="b"} | json age="user.age"', 'not json', { age: undefined, __error__: 'JSONParserErr' });
    expectLabels('{a="b"} | json x="a"', '{"a":1,"a":2}', { x: '1' });
    expectLabels('{a="b"} | json x="a.b"', '{"a":{"b":1},"a":{"b":2}}', { x: '1' });
  });

  it('with parameters: a missing path named like a stream label leaves it alone', () => {
    expectLabels('{a="b"} | json app="nope"', '{"x":1}', { app: 'api', app_extracted: undefined });
  });
});

describe('the empty default of a missing extraction leaves names that are already taken', () => {
  it('structured metadata keeps its value when the line lacks the path (json)', () => {
    expect(labelsOf('{a="b"} | json trace="t"', '{"x":1}', null, { trace: 'm1' }).trace).toBe('m1');
    expect(labelsOf('{a="b"} | json other="t"', '{"x":1}', null, { trace: 'm1' })).toMatchObject({ trace: 'm1', other: '' });
  });
});
