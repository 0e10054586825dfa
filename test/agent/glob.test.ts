import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandGlob, globMatches } from '../../agent/glob.js';
import { removeDir, tempDir } from '../helpers/server.js';

const dir = tempDir('narvi-agent-glob-');
afterAll(() => removeDir(dir));
for (const f of ['a.log', 'b.log', 'c.txt', 'sub/d.log', 'sub/deep/e.log', 'x1.log', 'x2.log']) {
  mkdirSync(join(dir, f, '..'), { recursive: true });
  writeFileSync(join(dir, f), '');
}

describe('file globs', () => {
  it('expands * ? [] {} and **', async () => {
    expect(await expandGlob(join(dir, '*.log'))).toEqual(['a.log', 'b.log', 'x1.log', 'x2.log'].map((f) => join(dir, f)));
    expect(await expandGlob(join(dir, 'x?.log'))).toEqual([join(dir, 'x1.log'), join(dir, 'x2.log')]);
    expect(await expandGlob(join(dir, '[ab].log'))).toEqual([join(dir, 'a.log'), join(dir, 'b.log')]);
    expect(await expandGlob(join(dir, '{a,c}.*'))).toEqual([join(dir, 'a.log'), join(dir, 'c.txt')]);
    expect(await expandGlob(join(dir, '**', '*.log'))).toHaveLength(6);
    expect(await expandGlob(join(dir, 'nope', '*.log'))).toEqual([]);
    expect(await expandGlob(join(dir, 'a.log'))).toEqual([join(dir, 'a.log')]);
  });

  it('matches paths against globs', () => {
    expect(globMatches('/var/log/*.log', '/var/log/app.log')).toBe(true);
    expect(globMatches('/var/log/*.log', '/var/log/app.log.1')).toBe(false);
    expect(globMatches('/var/log/**/*.log', '/var/log/a/b/c.log')).toBe(true);
    expect(globMatches('/var/log/*.log', '/var/log/a/c.log')).toBe(false);
  });
});
