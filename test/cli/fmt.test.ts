import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('narvi fmt', () => {
  it('prints a query in canonical form, from the argument or from stdin', async () => {
    const a = await runCli(['fmt', 'sum by(app)(rate({app="api",level=~"err.*"}|="timeout"|json[5m]))']);
    expect(a).toEqual({ code: 0, stdout: 'sum by (app) (rate({app="api", level=~"err.*"} |= "timeout" | json [5m]))\n', stderr: '' });
    const b = await runCli(['fmt'], { input: '{app="api"}\n  |= `x`\n  | logfmt\n' });
    expect(b).toEqual({ code: 0, stdout: '{app="api"} |= "x" | logfmt\n', stderr: '' });
  });

  it('reports a syntax error with its line and column on one line, exit code 1', async () => {
    const r = await runCli(['fmt'], { input: '{app="api"}\n  |= "x" | jsn' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^narvi fmt: parse error at line 2, col \d+: [^\n]+\n$/);
  });

  it('refuses an empty query', async () => {
    const r = await runCli(['fmt'], { input: '  \n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('narvi fmt: the query is empty\n');
  });
});
