import { describe, expect, it } from 'vitest';
import { parseCount, parseOutputMode, resolveConnection } from '../../../src/cli/client/options.js';

describe('connection flags', () => {
  it('prefers the flag, then NARVI_ADDR, then LOKI_ADDR, then localhost:3100', () => {
    expect(resolveConnection({}, {}).addr).toBe('http://localhost:3100');
    expect(resolveConnection({}, { LOKI_ADDR: 'http://loki:3100' }).addr).toBe('http://loki:3100');
    expect(resolveConnection({}, { LOKI_ADDR: 'http://loki:3100', NARVI_ADDR: 'http://narvi:3100/' }).addr).toBe('http://narvi:3100');
    expect(resolveConnection({ addr: 'https://x.example/loki/' }, { NARVI_ADDR: 'http://narvi:3100' }).addr).toBe('https://x.example/loki');
  });

  it('takes tenant and credentials from flags or the environment', () => {
    const c = resolveConnection({ username: 'u' }, { LOKI_PASSWORD: 'p', NARVI_ORG_ID: 'team-a' });
    expect(c).toMatchObject({ username: 'u', password: 'p', orgId: 'team-a' });
    expect(resolveConnection({ bearerToken: 't' }, {}).bearerToken).toBe('t');
  });

  it('refuses bad addresses and conflicting auth with a clear message', () => {
    expect(() => resolveConnection({ addr: 'localhost:3100' }, {})).toThrow(/--addr "localhost:3100" has scheme localhost: only http and https/);
    expect(() => resolveConnection({ addr: 'not a url' }, {})).toThrow(/--addr "not a url" is not a URL/);
    expect(() => resolveConnection({ bearerToken: 't', username: 'u' }, {})).toThrow(/use one way to authenticate/);
    expect(() => resolveConnection({ password: 'p' }, {})).toThrow(/--password needs --username/);
  });
});

describe('value flags', () => {
  it('accepts whole numbers in range only', () => {
    expect(parseCount('--limit', '0')).toBe(0);
    expect(parseCount('--limit', '30')).toBe(30);
    expect(() => parseCount('--limit', '-1')).toThrow('--limit "-1" is not a whole number 0 or more');
    expect(() => parseCount('--limit', '1e3')).toThrow(/--limit "1e3"/);
    expect(() => parseCount('--batch', '0', { min: 1 })).toThrow('--batch "0" is not a whole number 1 or more');
    expect(() => parseCount('--delay-for', '6', { max: 5 })).toThrow('--delay-for "6" is not a whole number between 0 and 5');
  });

  it('knows the output modes', () => {
    expect(parseOutputMode('jsonl')).toBe('jsonl');
    expect(() => parseOutputMode('json')).toThrow('--output "json" is not an output mode: use default, raw or jsonl');
  });
});
