import { describe, expect, it } from 'vitest';
import type { LogfmtStage } from '../../../query/ast.js';
import { labelsOf, run } from './run.js';

const logfmt = (opts: Partial<LogfmtStage> = {}): LogfmtStage => ({ kind: 'logfmt', strict: false, keepEmpty: false, params: [], ...opts });

describe('logfmt parser', () => {
  it('extracts bare and quoted values with escapes', () => {
    expect(labelsOf([logfmt()], 'level=info msg="hello \\"world\\"\\n\\u00e9" path=/a/b took=3ms')).toEqual({
      app: 'api',
      level: 'info',
      msg: 'hello "world"\né',
      path: '/a/b',
      took: '3ms',
    });
  });

  it('skips empty values (standalone key, key=, key="") unless --keep-empty', () => {
    expect(labelsOf([logfmt()], 'a=1 flag b= c=""')).toEqual({ app: 'api', a: '1' });
    expect(labelsOf([logfmt({ keepEmpty: true })], 'a=1 flag b= c=""')).toEqual({ app: 'api', a: '1', flag: '', b: '', c: '' });
  });

  it('sanitizes keys, suffixes clashes with stream labels and keeps unicode', () => {
    expect(labelsOf([logfmt()], 'app=x user.id=5 2xx=true msg=héllo')).toEqual({ app: 'api', app_extracted: 'x', user_id: '5', _2xx: 'true', msg: 'héllo' });
  });

  it('skips malformed pairs when not strict', () => {
    expect(labelsOf([logfmt()], 'a=1 =bad b=2 c=x"y d="unterminated')).toEqual({ app: 'api', a: '1', b: '2' });
    expect(labelsOf([logfmt()], 'a=1 b="q"x c=3')).toEqual({ app: 'api', a: '1', c: '3' });
  });

  it('--strict stops at the first malformed pair and sets LogfmtParserErr', () => {
    const out = run([logfmt({ strict: true })], ['a=1 =bad b=2'])[0]!;
    expect(out.labels).toMatchObject({ a: '1', __error__: 'LogfmtParserErr' });
    expect(out.labels.b).toBeUndefined();
    expect(out.labels.__error_details__).toMatch(/unexpected "="/);
    expect(run([logfmt({ strict: true })], ['a="open'])[0]!.labels.__error_details__).toMatch(/unterminated quoted value/);
  });

  it('with parameters extracts only the named keys under their labels, a missing one as empty', () => {
    expect(labelsOf([logfmt({ params: [{ label: 'lvl', expr: 'level' }, { label: 'msg', expr: 'msg' }, { label: 'x', expr: 'absent' }] })], 'level=warn msg=hi other=1')).toEqual({
      app: 'api',
      lvl: 'warn',
      msg: 'hi',
      x: '',
    });
  });

  it('extracts nothing from an empty line and still emits it', () => {
    expect(run([logfmt()], [''])).toEqual([{ index: 0, line: '', labels: { app: 'api' } }]);
  });
});
