import { describe, expect, it } from 'vitest';
import { logfmtField } from '../../agent/logfmt.js';
import { Pipeline } from '../../agent/pipeline.js';

describe('agent pipeline', () => {
  it('drops lines matching a regex', () => {
    const p = new Pipeline([{ type: 'drop', expression: /healthz/ }]);
    expect(p.run('GET /healthz 200')).toBeNull();
    expect(p.run('GET /api 200')).toEqual({});
  });

  it('promotes json fields, nested by dotted path', () => {
    const p = new Pipeline([{ type: 'json', labels: [['level', ['level']], ['svc', ['meta', 'service']]] }]);
    expect(p.run('{"level":"error","meta":{"service":"api"}}')).toEqual({ level: 'error', svc: 'api' });
    expect(p.run('not json')).toEqual({});
    expect(p.run('{"level":""}')).toEqual({});
  });

  it('promotes logfmt fields, quoted or bare', () => {
    const p = new Pipeline([{ type: 'logfmt', labels: [['level', 'level'], ['who', 'user']] }]);
    expect(p.run('ts=1 level=warn user="a b" msg=x')).toEqual({ level: 'warn', who: 'a b' });
  });

  it('adds static labels, and stages apply in order', () => {
    const p = new Pipeline([{ type: 'static_labels', labels: { env: 'prod' } }, { type: 'drop', expression: /debug/ }]);
    expect(p.run('info line')).toEqual({ env: 'prod' });
    expect(p.run('debug line')).toBeNull();
  });

  it('reads logfmt values with escapes and finds keys anywhere', () => {
    expect(logfmtField('a=1 msg="say \\"hi\\"" b=2', 'msg')).toBe('say "hi"');
    expect(logfmtField('a=1 b=2', 'b')).toBe('2');
    expect(logfmtField('a=1 flag b=2', 'flag')).toBe('');
    expect(logfmtField('a=1', 'zzz')).toBeUndefined();
  });
});
