import { describe, expect, it } from 'vitest';
import type { PipelineStage } from '../../../query/ast.js';
import { run } from './run.js';

const unpack: PipelineStage = { kind: 'unpack' };

describe('unpack', () => {
  it('replaces the line with _entry and turns other string fields into labels', () => {
    expect(run([unpack], ['{"_entry":"original line","container":"web","pod":"p-1","n":3}'])).toEqual([
      { index: 0, line: 'original line', labels: { app: 'api', container: 'web', pod: 'p-1' } },
    ]);
  });

  it('keeps the line when there is no _entry', () => {
    expect(run([unpack], ['{"k":"v"}'])[0]!.line).toBe('{"k":"v"}');
  });

  it('marks non-JSON lines with JSONParserErr', () => {
    expect(run([unpack], ['plain text'])[0]!.labels.__error__).toBe('JSONParserErr');
  });

  it('lets later line filters see the unpacked line', () => {
    const out = run([unpack, { kind: 'line_filter', op: '|=', values: ['orig'] }], ['{"_entry":"original","x":"orig"}', '{"_entry":"other","x":"orig"}']);
    expect(out.map((o) => o.line)).toEqual(['original']);
  });
});
