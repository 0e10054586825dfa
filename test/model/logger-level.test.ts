import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/model/logger.js';

describe('logger level switch', () => {
  it('one change reaches the logger and every child, created before or after it', () => {
    const lines: string[] = [];
    const root = createLogger('info', 'root', (l) => lines.push(l));
    const before = root.child('before');
    before.debug('hidden');
    expect(lines).toEqual([]);
    root.level!.current = 'debug';
    before.debug('shown');
    root.child('after').debug('shown too');
    expect(lines.map((l) => /component=(\S+) msg="([^"]+)"/.exec(l)!.slice(1).join(' '))).toEqual(['before shown', 'after shown too']);
    root.level!.current = 'error';
    before.warn('hidden again');
    expect(lines).toHaveLength(2);
  });
});
