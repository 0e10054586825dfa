import { describe, expect, it } from 'vitest';
import type { PatternStage } from '../../../query/ast.js';
import { labelsOf, run } from './run.js';

const pattern = (p: string): PatternStage => ({ kind: 'pattern', pattern: p });
const NGINX = '<ip> - - <_> "<method> <uri> <_>" <status> <size>';

describe('pattern parser', () => {
  it('captures named fields between literals and skips <_>', () => {
    expect(labelsOf([pattern(NGINX)], '10.1.2.3 - - [01/Jan/2024:10:00:00 +0000] "GET /api/v1?x=1 HTTP/1.1" 404 153')).toEqual({
      app: 'api',
      ip: '10.1.2.3',
      method: 'GET',
      uri: '/api/v1?x=1',
      status: '404',
      size: '153',
    });
  });

  it('needs a leading literal at the start of the line, else extracts nothing', () => {
    expect(labelsOf([pattern('level=<level> <_>')], 'level=warn rest')).toEqual({ app: 'api', level: 'warn' });
    expect(labelsOf([pattern('level=<level> <_>')], 'x level=warn rest')).toEqual({ app: 'api' });
  });

  it('gives a capture the rest of the line when its closing literal is missing, and stops', () => {
    expect(labelsOf([pattern('<a> <b>|<c>')], 'one two three')).toEqual({ app: 'api', a: 'one', b: 'two three' });
  });

  it('ignores text after the last literal', () => {
    expect(labelsOf([pattern('[<lvl>]')], '[info] trailing')).toEqual({ app: 'api', lvl: 'info' });
  });

  it('leaves empty lines alone', () => {
    expect(run([pattern('<a> <b>')], [''])[0]!.labels).toEqual({ app: 'api' });
  });

  it('rejects bad patterns at build time', () => {
    expect(() => run([pattern('<a><b>')], ['x'])).toThrow(/consecutive/);
    expect(() => run([pattern('<_> x')], ['x'])).toThrow(/no named capture/);
    expect(() => run([pattern('<a> <a>')], ['x'])).toThrow(/duplicate capture <a>/);
  });
});
