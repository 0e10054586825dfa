import { describe, expect, it } from 'vitest';
import type { JsonStage } from '../../../query/ast.js';
import { labelsOf, run } from './run.js';

const json = (params: [string, string][] = []): JsonStage => ({ kind: 'json', params: params.map(([label, expr]) => ({ label, expr })) });

describe('json parser', () => {
  it('extracts every scalar field, flattening nested objects with _; null gives no label', () => {
    const line = '{"level":"info","status":200,"took":0.25,"ok":true,"err":null,"req":{"method":"GET","headers":{"ua":"curl"}},"tags":["a","b"]}';
    expect(labelsOf([json()], line)).toEqual({
      app: 'api',
      level: 'info',
      status: '200',
      took: '0.25',
      ok: 'true',
      req_method: 'GET',
      req_headers_ua: 'curl',
    });
  });

  it('keeps the line unchanged', () => {
    const line = '{"a":"b"}';
    expect(run([json()], [line])[0]!.line).toBe(line);
  });

  it('prints numbers in shortest form without a trailing .0, integers as plain digits', () => {
    expect(labelsOf([json()], '{"a":1.0,"b":1e21,"c":1e20,"d":0.00001,"e":-3,"f":12345678901234567890}')).toMatchObject({
      a: '1',
      b: '1e+21',
      c: '100000000000000000000',
      d: '1e-05',
      e: '-3',
      f: '12345678901234567000',
    });
  });

  it('sanitizes keys and suffixes names that clash with stream labels', () => {
    expect(labelsOf([json()], '{"app":"other","user-id":7,"1st":"x","a.b":{"c d":1},"  ":"skip"}')).toEqual({
      app: 'api',
      app_extracted: 'other',
      user_id: '7',
      _1st: 'x',
      a_b_c_d: '1',
    });
  });

  it('keeps unicode values intact', () => {
    expect(labelsOf([json()], '{"msg":"héllo ✓ 😀"}')).toMatchObject({ msg: 'héllo ✓ 😀' });
  });

  it('marks invalid JSON with JSONParserErr and keeps the line', () => {
    const out = run([json()], ['{"a":', 'not json', '[1,2]', '"str"', '']);
    expect(out.length).toBe(5);
    for (const o of out) {
      expect(o.labels.__error__).toBe('JSONParserErr');
      expect(o.labels.__error_details__).toBeTruthy();
    }
    expect(out[2]!.labels.__error_details__).toBe('expected a JSON object, got an array');
  });

  it('with parameters extracts only the addressed values; a missing path gives an empty label', () => {
    const line = '{"response":{"status":503,"headers":{"User-Agent":"curl/8"}},"items":[{"id":"i1"},{"id":"i2"}],"a.b":"dotted","obj":{"x":1}}';
    expect(
      labelsOf(
        [json([['status', 'response.status'], ['first', 'items[0].id'], ['second', 'items[1]'], ['ua', 'response.headers["User-Agent"]'], ['dotted', '["a.b"]'], ['missing', 'nope.nothing'], ['o', 'obj']])],
        line,
      ),
    ).toEqual({ app: 'api', status: '503', first: 'i1', second: '{"id":"i2"}', ua: 'curl/8', dotted: 'dotted', missing: '', o: '{"x":1}' });
  });

  it('rejects a malformed expression at build time', () => {
    expect(() => run([json([['a', 'x[']])], ['{}'])).toThrow(/invalid json expression "x\["/);
    expect(() => run([json([['a', 'x..y']])], ['{}'])).toThrow(/expected a field name/);
  });
});

describe('json parser on deeply nested lines', () => {
  const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

  it('flattens up to 512 levels', () => {
    const labels = labelsOf([json()], deepObject(512));
    expect(labels[Array.from({ length: 512 }, () => 'a').join('_')]).toBe('1');
    expect(labels['__error__']).toBeUndefined();
  });

  it('marks deeper lines JSONParserErr instead of overflowing the stack, and keeps them', () => {
    for (const line of [deepObject(513), deepObject(100_000), '{"a":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}']) {
      const out = run([json()], [line]);
      expect(out).toHaveLength(1);
      expect(out[0]!.line).toBe(line);
      if (!line.includes('[')) expect(out[0]!.labels).toMatchObject({ __error__: 'JSONParserErr', __error_details__: 'JSON nests deeper than 512 levels' });
    }
  });

  it('an extracted value too deep to print is JSONParserErr; shallow fields of the same line still extract', () => {
    const line = '{"ok":"yes","deep":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}';
    expect(labelsOf([json([['ok', 'ok']])], line)).toMatchObject({ ok: 'yes' });
    expect(labelsOf([json([['d', 'deep']])], line)).toMatchObject({ __error__: 'JSONParserErr', __error_details__: 'JSON nests deeper than 512 levels' });
    expect(labelsOf([json([['d', 'deep' + '[0]'.repeat(99_990)]])], line)).toMatchObject({ d: '[[[[[[[[[[]]]]]]]]]]' });
  });
});
