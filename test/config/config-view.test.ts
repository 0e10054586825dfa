import { describe, expect, it } from 'vitest';
import { diffFrom, isSecretKey, maskSecrets, MASK } from '../../src/config/config-view.js';

describe('maskSecrets', () => {
  it('masks non-empty secrets at any depth, keeps empty ones empty and leaves other settings alone', () => {
    const tree = { server: { internal_secret: 's', port: 1 }, storage: { s3: { secret_access_key: 'x', access_key_id: 'id', session_token: '' } }, list: [{ password: 'p', name: 'n' }] };
    expect(maskSecrets(tree)).toEqual({ server: { internal_secret: MASK, port: 1 }, storage: { s3: { secret_access_key: MASK, access_key_id: 'id', session_token: '' } }, list: [{ password: MASK, name: 'n' }] });
    // The input is not changed.
    expect(tree.server.internal_secret).toBe('s');
  });

  it('masks the password of a URL and leaves other URLs whole', () => {
    expect(maskSecrets({ ingesters: ['http://u:p4ss@h:3100/x', 'http://h:3100', 'https://u@h/'] })).toEqual({ ingesters: [`http://u:${MASK}@h:3100/x`, 'http://h:3100', 'https://u@h/'] });
  });

  it('knows secrets by the key name', () => {
    for (const k of ['secret_access_key', 'internal_secret', 'password', 'basic_auth_password', 'bearer_token', 'api_key']) expect(isSecretKey(k), k).toBe(true);
    for (const k of ['access_key_id', 'bucket', 'max_query_series', 'log_level']) expect(isSecretKey(k), k).toBe(false);
  });
});

describe('diffFrom', () => {
  it('keeps only the settings that differ, nested, comparing lists whole', () => {
    const base = { a: { b: 1, c: 'x', d: [] as string[] }, e: true };
    expect(diffFrom({ a: { b: 1, c: 'y', d: [] }, e: true }, base)).toEqual({ a: { c: 'y' } });
    expect(diffFrom({ a: { b: 1, c: 'x', d: ['q'] }, e: false }, base)).toEqual({ a: { d: ['q'] }, e: false });
    expect(diffFrom({ a: { b: 1, c: 'x', d: [] }, e: true }, base)).toEqual({});
  });
});
