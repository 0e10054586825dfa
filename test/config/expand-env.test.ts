import { describe, expect, it } from 'vitest';
import { expandEnv } from '../../src/config/expand-env.js';

describe("expandEnv (Loki's -config.expand-env)", () => {
  const env = { DIR: '/var/loki', PORT: '3300', EMPTY: '' };
  it('replaces ${VAR} and $VAR, unset ones by nothing', () => {
    expect(expandEnv('path_prefix: ${DIR}\nport: $PORT\nx: ${NOPE}|$NOPE|', env)).toBe('path_prefix: /var/loki\nport: 3300\nx: ||');
  });
  it('takes the default after the first colon when the variable is unset or empty', () => {
    expect(expandEnv('${NOPE:/tmp/loki} ${EMPTY:d} ${DIR:d} ${NOPE:a:b} ${NOPE:-x}', env)).toBe('/tmp/loki d /var/loki a:b -x');
  });
  it('leaves a $ that names nothing alone', () => {
    expect(expandEnv('regex: "a$" cost: $ 5 ${}', env)).toBe('regex: "a$" cost: $ 5 ${}');
  });
});
