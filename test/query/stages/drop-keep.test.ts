import { describe, expect, it } from 'vitest';
import type { PipelineStage } from '../../../query/ast.js';
import { run } from './run.js';

const logfmt: PipelineStage = { kind: 'logfmt', strict: false, keepEmpty: false, params: [] };
const STREAM = { app: 'api', env: 'prod' };

describe('drop', () => {
  it('removes labels by name, stream labels included', () => {
    const out = run([logfmt, { kind: 'drop', items: [{ name: 'level' }, { name: 'env' }, { name: 'nope' }] }], ['level=info msg=hi'], STREAM);
    expect(out[0]!.labels).toEqual({ app: 'api', msg: 'hi' });
  });

  it('removes a label only where its value matches', () => {
    const stage: PipelineStage = { kind: 'drop', items: [{ name: 'level', matcher: { name: 'level', op: '=~', value: 'debug|trace' } }] };
    const out = run([logfmt, stage], ['level=debug', 'level=info'], STREAM);
    expect(out.map((o) => o.labels.level)).toEqual([undefined, 'info']);
  });

  it('removes __error__ so errored entries look clean', () => {
    const out = run([{ kind: 'json', params: [] }, { kind: 'drop', items: [{ name: '__error__' }, { name: '__error_details__' }] }], ['nope'], STREAM);
    expect(out[0]!.labels).toEqual(STREAM);
  });
});

describe('keep', () => {
  it('keeps only the named labels', () => {
    const out = run([logfmt, { kind: 'keep', items: [{ name: 'level' }, { name: 'app' }] }], ['level=info msg=hi'], STREAM);
    expect(out[0]!.labels).toEqual({ app: 'api', level: 'info' });
  });

  it('with a matcher keeps the label only when its value matches', () => {
    const stage: PipelineStage = { kind: 'keep', items: [{ name: 'level', matcher: { name: 'level', op: '=', value: 'error' } }, { name: 'app' }] };
    const out = run([logfmt, stage], ['level=error', 'level=info'], STREAM);
    expect(out.map((o) => o.labels)).toEqual([{ app: 'api', level: 'error' }, { app: 'api' }]);
  });

  it('never removes the error labels', () => {
    const out = run([{ kind: 'json', params: [] }, { kind: 'keep', items: [{ name: 'app' }] }], ['nope'], STREAM);
    expect(Object.keys(out[0]!.labels).sort()).toEqual(['__error__', '__error_details__', 'app']);
  });
});
