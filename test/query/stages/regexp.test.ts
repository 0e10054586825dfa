import { describe, expect, it } from 'vitest';
import type { RegexpStage } from '../../../query/ast.js';
import { labelsOf, run } from './run.js';

const regexp = (pattern: string): RegexpStage => ({ kind: 'regexp', pattern });

describe('regexp parser', () => {
  it('turns named groups into labels; unnamed groups are ignored', () => {
    expect(labelsOf([regexp('(?P<ip>\\S+) (\\S+) "(?P<method>\\w+) (?P<path>[^ ]+)')], '10.0.0.1 - "GET /x HTTP/1.1"')).toEqual({
      app: 'api',
      ip: '10.0.0.1',
      method: 'GET',
      path: '/x',
    });
  });

  it('extracts nothing from a line that does not match, without error', () => {
    expect(labelsOf([regexp('(?P<n>\\d+)')], 'no digits')).toEqual({ app: 'api' });
  });

  it('gives "" for a named group that did not take part', () => {
    expect(labelsOf([regexp('(?P<a>x)|(?P<b>y)')], 'y')).toEqual({ app: 'api', a: '', b: 'y' });
  });

  it('suffixes names clashing with stream labels', () => {
    expect(labelsOf([regexp('(?P<app>\\w+)')], 'web')).toEqual({ app: 'api', app_extracted: 'web' });
  });

  it('requires a named group and RE2 syntax at build time', () => {
    expect(() => run([regexp('(\\d+)')], ['1'])).toThrow(/no named capture group/);
    expect(() => run([regexp('(?P<a>x)(?=y)')], ['1'])).toThrow(/lookarounds/);
  });
});
