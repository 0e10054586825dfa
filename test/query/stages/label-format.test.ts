import { describe, expect, it } from 'vitest';
import type { LabelFormatItem, PipelineStage } from '../../../query/ast.js';
import { run } from './run.js';

const logfmt: PipelineStage = { kind: 'logfmt', strict: false, keepEmpty: false, params: [] };
const lfmt = (...items: LabelFormatItem[]): PipelineStage => ({ kind: 'label_format', items });

describe('label_format', () => {
  it('renames: the value moves and the source label goes', () => {
    const out = run([logfmt, lfmt({ dst: 'severity', rename: 'level' })], ['level=warn']);
    expect(out[0]!.labels).toEqual({ app: 'api', severity: 'warn' });
  });

  it('sets a label from a template', () => {
    const out = run([logfmt, lfmt({ dst: 'summary', template: '{{.method}} {{.status}}' }, { dst: 'app', template: '{{ .app | ToUpper }}' })], ['method=GET status=200']);
    expect(out[0]!.labels).toEqual({ app: 'API', method: 'GET', status: '200', summary: 'GET 200' });
  });

  it('evaluates templates against the labels as the stage found them', () => {
    const out = run([logfmt, lfmt({ dst: 'a', template: 'new' }, { dst: 'b', template: '{{.a}}' })], ['a=old']);
    expect(out[0]!.labels).toMatchObject({ a: 'new', b: 'old' });
  });

  it('renaming a missing label removes the destination', () => {
    const out = run([logfmt, lfmt({ dst: 'x', rename: 'absent' })], ['x=1']);
    expect(out[0]!.labels).toEqual({ app: 'api' });
  });

  it('marks template failures with TemplateFormatErr and leaves that label alone', () => {
    const out = run([logfmt, lfmt({ dst: 'n', template: '{{ div 1 0 }}' })], ['n=5']);
    expect(out[0]!.labels).toMatchObject({ n: '5', __error__: 'TemplateFormatErr' });
    expect(out[0]!.labels.__error_details__).toMatch(/integer divide by zero/);
  });

  it('rejects writing one label twice and bad templates at build time', () => {
    expect(() => run([lfmt({ dst: 'a', rename: 'b' }, { dst: 'a', template: 'x' })], ['x'])).toThrow(/sets "a" more than once/);
    expect(() => run([lfmt({ dst: 'a', template: '{{ .b ' })], ['x'])).toThrow(/unclosed action/);
  });
});
