import { describe, expect, it } from 'vitest';
import { closedPort, runCli } from './run-cli.js';

describe('CLI errors without a server', () => {
  it('says in one line, without a stack trace, that the server cannot be reached', async () => {
    const port = await closedPort();
    for (const args of [['query', '{app="x"}'], ['instant-query', 'count_over_time({app="x"}[1m])'], ['labels'], ['labels', 'app'], ['series', '{app="x"}'], ['stats', '{app="x"}'], ['volume', '{app="x"}']]) {
      const r = await runCli([...args, '--addr', `http://127.0.0.1:${port}`]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`narvi ${args[0]}: cannot reach narvi at http://127.0.0.1:${port}: connection refused\n`);
    }
  });

  it('tail says so too when the very first connection fails', async () => {
    const port = await closedPort();
    const r = await runCli(['tail', '{app="x"}', '--addr', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`narvi tail: cannot reach narvi at http://127.0.0.1:${port}: connection refused\n`);
  });

  it('reads the address from NARVI_ADDR, then LOKI_ADDR', async () => {
    const [a, b] = [await closedPort(), await closedPort()];
    const r1 = await runCli(['labels'], { env: { NARVI_ADDR: `http://127.0.0.1:${a}`, LOKI_ADDR: `http://127.0.0.1:${b}` } });
    expect(r1.stderr).toContain(`http://127.0.0.1:${a}`);
    const r2 = await runCli(['labels'], { env: { LOKI_ADDR: `http://127.0.0.1:${b}` } });
    expect(r2.stderr).toContain(`http://127.0.0.1:${b}`);
  });

  it('names the bad flag, what was wrong and what is allowed; exit code 2', async () => {
    const cases: [string[], string][] = [
      [['query', '{a="b"}', '--limit', 'ten'], 'narvi query: --limit "ten" is not a whole number 0 or more\n'],
      [['query', '{a="b"}', '--batch', '0'], 'narvi query: --batch "0" is not a whole number 1 or more\n'],
      [['query', '{a="b"}', '--output', 'json'], 'narvi query: --output "json" is not an output mode: use default, raw or jsonl\n'],
      [['query', '{a="b"}', '--since', 'ages'], 'narvi query: --since "ages" is not a duration: use a number with a unit like 30s, 5m, 1h30m or 7d\n'],
      [['query', '{a="b"}', '--from', 'monday'], 'narvi query: --from "monday" is not a time: use RFC3339 (2024-01-02T15:04:05Z), Unix seconds or nanoseconds, now, or a duration back from now like 2h\n'],
      [['query', '{a="b"}', '--timezone', 'Nowhere/City'], 'narvi query: --timezone "Nowhere/City" is not a known time zone: use Local, UTC or an IANA name like Europe/Paris\n'],
      [['query', '{a="b"}', '--addr', 'ftp://x'], 'narvi query: --addr "ftp://x" has scheme ftp: only http and https are allowed\n'],
      [['tail', '{a="b"}', '--delay-for', '9'], 'narvi tail: --delay-for "9" is not a whole number between 0 and 5\n'],
      [['labels', 'bad-name'], 'narvi labels: label name "bad-name" is not valid: names match [a-zA-Z_][a-zA-Z0-9_]*\n'],
      [['volume', '{a="b"}', '--aggregate-by', 'pods'], 'narvi volume: --aggregate-by "pods" is not allowed: use series or labels\n'],
      [['labels', '--timezone', 'UTC'], "narvi labels: unknown option '--timezone'\n"],
      [['query'], "narvi query: missing required argument 'logql'\n"],
      [['query', '{a="b"}', '--password', 'p'], 'narvi query: --password needs --username\n'],
    ];
    for (const [args, stderr] of cases) {
      const r = await runCli(args);
      expect({ args, code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ args, code: 2, stderr, stdout: '' });
    }
  });
});
