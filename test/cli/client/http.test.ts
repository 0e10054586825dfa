import { describe, expect, it } from 'vitest';
import { HttpStatusError, isRetryable, NetworkError } from '../../../src/cli/client/errors.js';
import { describeNetworkError, HttpClient, httpError } from '../../../src/cli/client/http.js';

describe('HttpClient requests', () => {
  it('builds URLs under --addr, including a path prefix and repeated parameters', () => {
    const c = new HttpClient({ addr: 'https://logs.example.com/loki' });
    expect(c.url('/loki/api/v1/series', { 'match[]': ['{a="1"}', '{b="2"}'], start: '1', end: undefined }).toString()).toBe(
      'https://logs.example.com/loki/loki/api/v1/series?match%5B%5D=%7Ba%3D%221%22%7D&match%5B%5D=%7Bb%3D%222%22%7D&start=1',
    );
  });

  it('sends the tenant and basic or bearer auth', () => {
    const basic = new HttpClient({ addr: 'http://x', orgId: 'team-a', username: 'u', password: 'p' }).headers();
    expect(basic['x-scope-orgid']).toBe('team-a');
    expect(basic.authorization).toBe('Basic ' + Buffer.from('u:p').toString('base64'));
    expect(new HttpClient({ addr: 'http://x', bearerToken: 'tok' }).headers().authorization).toBe('Bearer tok');
    expect(new HttpClient({ addr: 'http://x' }).headers()).not.toHaveProperty('authorization');
  });
});

describe('error lines', () => {
  it("carry the server's message, plain or JSON, on one line", () => {
    expect(httpError(400, 'Bad Request', 'parse error at line 1, col 3:\n  unexpected }\n', '/q').message).toBe('server answered 400 Bad Request: parse error at line 1, col 3: unexpected }');
    expect(httpError(500, 'Internal Server Error', '{"message":"boom"}', '/q').message).toBe('server answered 500 Internal Server Error: boom');
    expect(httpError(401, 'Unauthorized', 'no org id', '/q').message).toBe('server answered 401 Unauthorized: no org id (check --org-id, --username/--password or --bearer-token)');
    expect(httpError(502, 'Bad Gateway', '', '/q').message).toBe('server answered 502 Bad Gateway');
  });

  it('name the network failure', () => {
    const err = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
    expect(describeNetworkError(err, 'http://nope:3100')).toBe('cannot reach narvi at http://nope:3100: host not found');
  });

  it('tell what is worth retrying', () => {
    expect(isRetryable(new NetworkError('x'))).toBe(true);
    expect(isRetryable(new HttpStatusError('x', 503))).toBe(true);
    expect(isRetryable(new HttpStatusError('x', 429))).toBe(true);
    expect(isRetryable(new HttpStatusError('x', 400))).toBe(false);
  });
});
