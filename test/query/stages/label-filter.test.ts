import { describe, expect, it } from 'vitest';
import type { LabelFilterExpr, PipelineStage } from '../../../query/ast.js';
import { run } from './run.js';

const lf = (expr: LabelFilterExpr): PipelineStage => ({ kind: 'label_filter', expr });
const logfmt: PipelineStage = { kind: 'logfmt', strict: false, keepEmpty: false, params: [] };
const num = (name: string, op: '==' | '!=' | '>' | '>=' | '<' | '<=', value: number): LabelFilterExpr => ({ kind: 'number', name, op, value });
const str = (name: string, op: '=' | '!=' | '=~' | '!~', value: string): LabelFilterExpr => ({ kind: 'string', matcher: { name, op, value } });

const LINES = [
  'status=200 took=15ms size=1KB level=info addr=10.0.0.5',
  'status=503 took=1m30s size=20MB level=error addr=192.168.1.9',
  'status=abc took=soon size=big level=warn addr=::1',
  'level=debug',
];
const idx = (stages: PipelineStage[]) => run(stages, LINES).map((o) => o.index);

describe('label filters', () => {
  it('compares numbers', () => {
    expect(idx([logfmt, lf(num('status', '>=', 500))])).toEqual([1, 2]);
    expect(idx([logfmt, lf(num('status', '==', 200))])).toEqual([0, 2]);
    expect(idx([logfmt, lf(num('status', '!=', 200))])).toEqual([1, 2]);
    expect(idx([logfmt, lf(num('status', '<', 300))])).toEqual([0, 2]);
  });

  it('keeps an unparseable number with LabelFilterErr, and drops entries missing the label', () => {
    const out = run([logfmt, lf(num('status', '>=', 500))], LINES);
    const bad = out.find((o) => o.index === 2)!;
    expect(bad.labels.__error__).toBe('LabelFilterErr');
    expect(bad.labels.__error_details__).toMatch(/parsing "abc": invalid syntax/);
    expect(out.some((o) => o.index === 3)).toBe(false);
  });

  it('lets __error__="" drop the entries that failed', () => {
    expect(idx([logfmt, lf(num('status', '>=', 500)), lf(str('__error__', '=', ''))])).toEqual([1]);
  });

  it('passes entries that already carry an error through number filters', () => {
    const out = run([{ kind: 'json', params: [] }, lf(num('status', '>', 1000))], ['not json']);
    expect(out[0]!.labels.__error__).toBe('JSONParserErr');
  });

  it('compares Go durations', () => {
    expect(idx([logfmt, lf({ kind: 'duration', name: 'took', op: '>', value: 1_000_000_000n })])).toEqual([1, 2]);
    expect(run([logfmt, lf({ kind: 'duration', name: 'took', op: '<', value: 20_000_000n })], LINES).map((o) => [o.index, o.labels.__error__])).toEqual([
      [0, undefined],
      [2, 'LabelFilterErr'],
    ]);
  });

  it('compares byte sizes', () => {
    expect(idx([logfmt, lf({ kind: 'bytes', name: 'size', op: '>', value: 10_000_000 }), lf(str('__error__', '=', ''))])).toEqual([1]);
    expect(idx([logfmt, lf({ kind: 'bytes', name: 'size', op: '==', value: 1000 })])).toEqual([0, 2]);
  });

  it('matches strings with anchored regexes; a missing label is ""', () => {
    expect(idx([logfmt, lf(str('level', '=~', 'error|warn'))])).toEqual([1, 2]);
    expect(idx([logfmt, lf(str('level', '=~', 'err|warn'))])).toEqual([2]);
    expect(idx([logfmt, lf(str('level', '=~', 'err'))])).toEqual([]);
    expect(idx([logfmt, lf(str('level', '!=', 'info'))])).toEqual([1, 2, 3]);
    expect(idx([logfmt, lf(str('status', '=', ''))])).toEqual([3]);
    expect(idx([logfmt, lf(str('app', '=', 'api'))])).toEqual([0, 1, 2, 3]);
  });

  it('combines with and / or', () => {
    expect(idx([logfmt, lf({ kind: 'or', left: str('level', '=', 'debug'), right: { kind: 'and', left: num('status', '>=', 500), right: str('__error__', '=', '') } })])).toEqual([1, 3]);
    expect(idx([logfmt, lf({ kind: 'and', left: str('level', '=~', '.+'), right: str('level', '!=', 'warn') })])).toEqual([0, 1, 3]);
  });

  it('matches IP addresses against ranges and CIDRs', () => {
    expect(idx([logfmt, lf({ kind: 'ip', name: 'addr', op: '=', pattern: '10.0.0.0/8' })])).toEqual([0]);
    expect(idx([logfmt, lf({ kind: 'ip', name: 'addr', op: '=', pattern: '192.168.1.1-192.168.1.10' })])).toEqual([1]);
    expect(idx([logfmt, lf({ kind: 'ip', name: 'addr', op: '=', pattern: '::/64' })])).toEqual([2]);
    expect(idx([logfmt, lf({ kind: 'ip', name: 'addr', op: '!=', pattern: '10.0.0.5' })])).toEqual([1, 2, 3]);
    expect(() => run([lf({ kind: 'ip', name: 'a', op: '=', pattern: '300.1.1.1' })], [''])).toThrow(/invalid ip pattern/);
  });
});
