import { describe, expect, it } from 'vitest';
import type { LabelReplaceExpr, SampleExpr } from '../../../query/ast.js';
import { QueryEvalError } from '../../../query/engine.js';
import { expandTemplate } from '../../../query/eval/go-expand.js';
import { MemorySource, sec } from './memory-source.js';
import { instantQuery, rangeAgg, selector, vectorOf } from './helpers.js';

const src = () =>
  new MemorySource([
    { labels: { app: 'api', pod: 'api-7f9c-x2' }, entries: [{ ts: sec(1), line: 'x' }] },
    { labels: { app: 'web', pod: 'frontend' }, entries: [{ ts: sec(2), line: 'x' }, { ts: sec(3), line: 'x' }] },
  ]);
const counts: SampleExpr = rangeAgg('count_over_time', selector([{ name: 'app', op: '=~', value: '.+' }]), 10);
const lr = (dst: string, replacement: string, srcLabel: string, regex: string, expr: SampleExpr = counts): LabelReplaceExpr => ({
  kind: 'label_replace',
  expr,
  dst,
  replacement,
  src: srcLabel,
  regex,
});

describe('label_replace', () => {
  it('a regex beyond the linear-time engine over a long value does not hang (it runs on the main thread)', async () => {
    const long = new MemorySource([{ labels: { app: 'a'.repeat(2000) }, entries: [{ ts: sec(1), line: 'x' }] }]);
    const t = performance.now();
    expect(vectorOf(await instantQuery(lr('x', '$1', 'app', '(.*a){25}!'), long, 10)).map(([l]) => l)).toEqual([`{app="${'a'.repeat(2000)}"}`]);
    expect(performance.now() - t).toBeLessThan(5000);
  });

  it('sets dst from numbered groups where the anchored regex matches, leaves others unchanged', async () => {
    expect(vectorOf(await instantQuery(lr('deploy', '$1', 'pod', '(.*)-[^-]+-[^-]+'), src(), 10))).toEqual([
      ['{app="api", deploy="api", pod="api-7f9c-x2"}', 1],
      ['{app="web", pod="frontend"}', 2],
    ]);
  });

  it('is anchored: a partial match is no match', async () => {
    expect(vectorOf(await instantQuery(lr('x', 'y', 'app', 'ap'), src(), 10)).map(([l]) => l)).toEqual(['{app="api", pod="api-7f9c-x2"}', '{app="web", pod="frontend"}']);
  });

  it('expands named groups and ${n}, and an empty result removes dst', async () => {
    expect(vectorOf(await instantQuery(lr('short', '${1}_$name', 'pod', '(?P<name>[a-z]+)(.*)'), src(), 10)).map(([l]) => l)).toEqual([
      '{app="api", pod="api-7f9c-x2", short="api_api"}',
      '{app="web", pod="frontend", short="frontend_frontend"}',
    ]);
    expect(vectorOf(await instantQuery(lr('app', '', 'app', 'web'), src(), 10)).map(([l]) => l)).toEqual(['{app="api", pod="api-7f9c-x2"}', '{pod="frontend"}']);
  });

  it('speaks RE2: flags and POSIX classes', async () => {
    expect(vectorOf(await instantQuery(lr('up', '$1', 'app', '(?i)(API)'), src(), 10)).map(([l]) => l)[0]).toBe('{app="api", pod="api-7f9c-x2", up="api"}');
    expect(vectorOf(await instantQuery(lr('w', '$1', 'pod', '([[:alpha:]]+)'), src(), 10)).map(([l]) => l)[1]).toBe('{app="web", pod="frontend", w="frontend"}');
    await expect(instantQuery(lr('x', '$1', 'app', '(a)\\1'), src(), 10)).rejects.toThrow(/invalid regular expression in label_replace/);
  });

  it('matches an absent source label as the empty string', async () => {
    expect(vectorOf(await instantQuery(lr('env', 'none', 'env', ''), src(), 10)).map(([l]) => l)).toEqual([
      '{app="api", env="none", pod="api-7f9c-x2"}',
      '{app="web", env="none", pod="frontend"}',
    ]);
  });

  it('refuses an invalid destination label, and series that collide', async () => {
    await expect(instantQuery(lr('1bad', 'x', 'app', '.*'), src(), 10)).rejects.toThrow(/invalid destination label name/);
    await expect(instantQuery(lr('app', 'same', 'app', '.*', { kind: 'vector_agg', op: 'sum', grouping: { without: false, labels: ['app'] }, expr: counts }), src(), 10)).rejects.toThrow(
      QueryEvalError,
    );
  });
});

describe('Go template expansion', () => {
  const m = /^(?<word>[a-z]+)-(\d+)$/.exec('abc-42')!;
  it.each([
    ['$1', 'abc'],
    ['$2', '42'],
    ['${2}x', '42x'],
    ['$2x', ''],
    ['$word/$2', 'abc/42'],
    ['${word}s', 'abcs'],
    ['$$1', '$1'],
    ['$9', ''],
    ['$01', ''],
    ['a$', 'a$'],
    ['${', '${'],
    ['$-', '$-'],
  ])('%s → %s', (tpl, want) => {
    expect(expandTemplate(tpl, m)).toBe(want);
  });
});
