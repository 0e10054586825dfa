import { describe, expect, it } from 'vitest';
import type { LineFilterStage, PipelineStage } from '../../../query/ast.js';
import { run } from './run.js';

const f = (op: LineFilterStage['op'], ...values: string[]): LineFilterStage => ({ kind: 'line_filter', op, values });
const lines = (stages: PipelineStage[], input: string[]) => run(stages, input).map((o) => o.line);

const LOGS = [
  'level=info msg="started" took=3ms',
  'level=error msg="db timeout" took=30s',
  'level=warn msg="slow query" took=900ms',
  '',
  'level=ERROR msg="disk full"',
  'level=debug msg="héllo wörld ✓"',
];

describe('literal line filters', () => {
  it('|= keeps lines containing the needle, in batch order with their indexes', () => {
    const out = run([f('|=', 'error')], LOGS);
    expect(out.map((o) => [o.index, o.line])).toEqual([[1, LOGS[1]]]);
  });

  it('!= drops lines containing the needle (empty lines kept)', () => {
    expect(lines([f('!=', 'level=')], LOGS)).toEqual(['']);
    expect(lines([f('!=', 'took')], LOGS)).toEqual(['', LOGS[4], LOGS[5]]);
  });

  it('chains filters: all must pass', () => {
    expect(lines([f('|=', 'took'), f('!=', 'error'), f('|=', 'ms')], LOGS)).toEqual([LOGS[0], LOGS[2]]);
  });

  it('or alternatives: |= any, != none', () => {
    expect(lines([f('|=', 'disk', 'slow')], LOGS)).toEqual([LOGS[2], LOGS[4]]);
    expect(lines([f('!=', 'disk', 'slow', 'level=')], LOGS)).toEqual(['']);
  });

  it('matches UTF-8 needles by bytes', () => {
    expect(lines([f('|=', 'wörld ✓')], LOGS)).toEqual([LOGS[5]]);
    expect(lines([f('|=', 'world')], LOGS)).toEqual([]);
  });

  it('never matches a needle across the boundary of two adjacent lines', () => {
    // The batch's bytes read "...abcdef..." across entries 0 and 1, but no single line holds "cd".
    const input = ['xxab', 'c', 'def', 'cdx'];
    expect(run([f('|=', 'bcd')], input)).toEqual([]);
    expect(run([f('|=', 'cd')], input).map((o) => o.index)).toEqual([3]);
    expect(run([f('!=', 'cd')], input).map((o) => o.index)).toEqual([0, 1, 2]);
  });

  it('finds every occurrence when the needle repeats within and across lines', () => {
    const input = ['aaa', 'a', 'baab', 'b', 'aa'];
    expect(run([f('|=', 'aa')], input).map((o) => o.index)).toEqual([0, 2, 4]);
  });

  it('treats an empty needle as matching every line', () => {
    expect(lines([f('|=', '')], LOGS)).toEqual(LOGS);
    expect(lines([f('!=', '')], LOGS)).toEqual([]);
  });

  it('is case-sensitive', () => {
    expect(lines([f('|=', 'ERROR')], LOGS)).toEqual([LOGS[4]]);
  });
});

describe('regex line filters', () => {
  it('|~ is unanchored RE2', () => {
    expect(lines([f('|~', 'took=\\d+s$')], LOGS)).toEqual([LOGS[1]]);
    expect(lines([f('|~', 'msg="(db|disk)')], LOGS)).toEqual([LOGS[1], LOGS[4]]);
  });

  it('!~ drops matching lines', () => {
    expect(lines([f('!~', 'took=\\d+m?s')], LOGS)).toEqual(['', LOGS[4], LOGS[5]]);
  });

  it('(?i) literal filters match any case', () => {
    expect(lines([f('|~', '(?i)error')], LOGS)).toEqual([LOGS[1], LOGS[4]]);
    expect(lines([f('!~', '(?i)ERROR')], LOGS)).toEqual([LOGS[0], LOGS[2], '', LOGS[5]]);
    // A needle with k or s also matches the Kelvin sign / long s, which a plain ASCII search would miss.
    expect(lines([f('|~', '(?i)disk')], ['DIS\u212a', 'diſk', 'dis'])).toEqual(['DIS\u212a', 'diſk']);
    // Batches without those characters take the block-wide ASCII search; the answer must be the same.
    expect(lines([f('|~', '(?i)disk')], ['DISK full', 'dis k', 'a Disk', 'dISk'])).toEqual(['DISK full', 'a Disk', 'dISk']);
    expect(lines([f('|~', '(?i)disk')], ['DISK full', 'dis k', 'a Disk', 'dISk', 'KELVIN \u212a'])).toEqual(['DISK full', 'a Disk', 'dISk']);
  });

  it('(?i) needles never match across the boundary of two lines', () => {
    expect(run([f('|~', '(?i)ERROR')], ['xxERR', 'or', 'err', 'OR']).length).toBe(0);
    expect(run([f('|~', '(?i)err(or|no)')], ['xxERR', 'or', 'ERRNO']).map((o) => o.index)).toEqual([2]);
  });

  it('(?i) regexes with a literal part are prefiltered without losing matches', () => {
    expect(lines([f('|~', '(?i)level=(error|warn) msg')], LOGS)).toEqual([LOGS[1], LOGS[2], LOGS[4]]);
    expect(lines([f('|~', '(?i)status=5\\d\\d')], ['STATUS=503', 'status=200', 'Status=5xx', 'ſtatus=500'])).toEqual(['STATUS=503', 'ſtatus=500']);
  });

  it('literal alternations in a regex behave like or-ed literals', () => {
    expect(lines([f('|~', 'slow|disk')], LOGS)).toEqual([LOGS[2], LOGS[4]]);
  });

  it('or alternatives of regexes', () => {
    expect(lines([f('|~', '^level=info', 'full"$')], LOGS)).toEqual([LOGS[0], LOGS[4]]);
  });

  it('a regex never matches across two lines either', () => {
    expect(run([f('|~', 'b.?c')], ['ab', 'cd']).length).toBe(0);
  });

  it('rejects an invalid regex when the pipeline is built', () => {
    expect(() => run([f('|~', '(a)\\1')], LOGS)).toThrow(/backreferences/);
  });
});
