import { describe, expect, it } from 'vitest';
import type { PipelineStage } from '../../../query/ast.js';
import { run } from './run.js';

const logfmt: PipelineStage = { kind: 'logfmt', strict: false, keepEmpty: false, params: [] };
const fmt = (template: string): PipelineStage => ({ kind: 'line_format', template });

describe('line_format', () => {
  it('rewrites the line from labels, the line and the timestamp', () => {
    const out = run([logfmt, fmt('{{.level | ToUpper}} [{{.app}}] {{.msg}} ({{ __line__ | len }} bytes at {{ __timestamp__ | unixEpoch }})')], [
      { line: 'level=warn msg="disk low"', ts: 1_700_000_000_123_000_000n },
    ]);
    expect(out[0]!.line).toBe('WARN [api] disk low (25 bytes at 1700000000)');
  });

  it('prints <no value> for a missing label, as Go does', () => {
    expect(run([fmt('{{.nope}}|{{.app}}')], ['x'])[0]!.line).toBe('<no value>|api');
  });

  it('keeps the line and sets TemplateFormatErr when the template fails', () => {
    const out = run([fmt('{{ .nope | ToUpper }}')], ['original']);
    expect(out[0]!.line).toBe('original');
    expect(out[0]!.labels.__error__).toBe('TemplateFormatErr');
    expect(out[0]!.labels.__error_details__).toMatch(/ToUpper: invalid value; expected string/);
  });

  it('is followed by line filters on the new line', () => {
    const out = run([logfmt, fmt('{{.msg}}'), { kind: 'line_filter', op: '|=', values: ['ok'] }], ['msg=ok level=x', 'msg=fail level=ok']);
    expect(out.map((o) => o.line)).toEqual(['ok']);
  });

  it('rejects a bad template at build time with its position', () => {
    expect(() => run([fmt('{{ .a | Nope }}')], ['x'])).toThrow(/template: 1:9: function "Nope" not defined/);
    expect(() => run([fmt('{{ if .a }}x')], ['x'])).toThrow(/without \{\{end\}\}/);
  });
});
