import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../src/model/closest-name.js';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and swapped neighbours as one edit each', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('perod', 'period')).toBe(1);
    expect(editDistance('sise', 'size')).toBe(1);
    expect(editDistance('lisen', 'listen')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('closestName', () => {
  const known = ['http_listen_port', 'http_listen_address', 'grpc_listen_port', 'log_level'];
  it('offers the nearest known name for a typo', () => {
    expect(closestName('http_lisen_port', known)).toBe('http_listen_port');
    expect(closestName('log_levle', known)).toBe('log_level');
    expect(closestName('http_listen_adress', known)).toBe('http_listen_address');
  });
  it('offers nothing when no name is plausibly meant', () => {
    expect(closestName('zzzzzzzz', known)).toBeUndefined();
    expect(closestName('x', [])).toBeUndefined();
  });
  it('breaks ties alphabetically so the message is stable', () => {
    expect(closestName('ab', ['ac', 'aa'])).toBe('aa');
  });
});
