import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { RuntimeOverrides } from '../../src/config/overrides.js';
import { retentionPeriodFor } from '../../src/store/retention.js';
import { removeDir, tempDir } from '../helpers/server.js';

const H = 3600n * 1_000_000_000n;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

/** A config whose overrides file is `text`, and a writer that replaces it in one step. */
function setup(globalYaml: string, text: string) {
  const dir = tempDir('narvi-overrides-unit-');
  dirs.push(dir);
  const file = join(dir, 'o.yaml');
  writeFileSync(file, text);
  writeFileSync(join(dir, 'c.yaml'), globalYaml);
  const cfg = loadConfig(['--config.file', join(dir, 'c.yaml'), '--limits.per-tenant-override-config', file]);
  const write = (t: string) => {
    writeFileSync(file + '.tmp', t);
    renameSync(file + '.tmp', file);
  };
  return { cfg, file, write };
}

const GLOBAL = `
limits:
  retention_period: 744h
  max_line_size: 1KB
  retention_stream:
    - selector: '{namespace="dev"}'
      priority: 1
      period: 24h
`;

describe('RuntimeOverrides', () => {
  it('overlays a tenant\'s keys on the global limits; its retention_stream replaces the global list', () => {
    const { cfg } = setup(
      GLOBAL,
      `overrides:
  a:
    retention_period: 168h
  b:
    retention_stream:
      - selector: '{app="x"}'
        priority: 1
        period: 48h
  c: null
`,
    );
    const o = new RuntimeOverrides(cfg);
    expect(o.tenants().sort()).toEqual(['a', 'b']);
    // a: own period, the global dev rule still applies (a did not set retention_stream), other keys global.
    expect(retentionPeriodFor(o.forTenant('a'), { app: 'y' })).toBe(168n * H);
    expect(retentionPeriodFor(o.forTenant('a'), { namespace: 'dev' })).toBe(24n * H);
    expect(o.forTenant('a').maxLineSize).toBe(1000);
    // b: its list replaces the global one, so dev falls back to the global period.
    expect(retentionPeriodFor(o.forTenant('b'), { namespace: 'dev' })).toBe(744n * H);
    expect(retentionPeriodFor(o.forTenant('b'), { app: 'x', namespace: 'dev' })).toBe(48n * H);
    // Unknown tenants and `c: null` get the global limits themselves.
    expect(o.forTenant('zzz')).toBe(cfg.limits);
    expect(o.forTenant('c')).toBe(cfg.limits);
  });

  it('treats an empty file and `overrides:` with nothing under it as no overrides', () => {
    for (const text of ['', '# nothing yet\n', 'overrides:\n', 'overrides: {}\n']) {
      const { cfg } = setup(GLOBAL, text);
      expect(new RuntimeOverrides(cfg).tenants()).toEqual([]);
    }
  });

  it('keeps the overrides in force when a reload finds the file wrong or gone, and takes the next good one', () => {
    const { cfg, file, write } = setup(GLOBAL, 'overrides:\n  a:\n    retention_period: 168h\n');
    const o = new RuntimeOverrides(cfg);
    const period = () => retentionPeriodFor(o.forTenant('a'), { app: 'y' });
    expect(period()).toBe(168n * H);
    for (const bad of ['overrides: [a]\n', 'overrides:\n  a:\n    retention_period: 1h\n', 'overrides:\n  a:\n    max_line_size: lots\n', 'overrides:\n  a: 5\n', 'other: 1\n', '{{{']) {
      write(bad);
      expect(o.reload(), bad).toBe(false);
      expect(period()).toBe(168n * H);
    }
    rmSync(file);
    expect(o.reload()).toBe(false);
    expect(period()).toBe(168n * H);
    write('overrides:\n  a:\n    retention_period: 0s\n');
    expect(o.reload()).toBe(true);
    expect(period()).toBe(0n);
  });
});
