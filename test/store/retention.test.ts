import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { fixedLimits } from '../../src/config/overrides.js';
import { matchingRule, retentionPeriodFor, retentionPolicy } from '../../src/store/retention.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDir } from '../helpers/server.js';

const H = 3600n * 1_000_000_000n;

/** Limits from a YAML limits block, through the same loader the server uses. */
function limitsFrom(yaml: string) {
  const dir = tempDir('narvi-retention-');
  try {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, yaml);
    return loadConfig(['--config.file', file]).limits;
  } finally {
    removeDir(dir);
  }
}

describe('retention rules', () => {
  const limits = limitsFrom(`
limits:
  retention_period: 744h
  retention_stream:
    - selector: '{container="loki"}'
      priority: 1
      period: 72h
    - selector: '{namespace="prod"}'
      priority: 2
      period: 336h
    - selector: '{namespace=~"dev|test"}'
      priority: 1
      period: 48h
    - selector: '{namespace=~"dev|test"}'
      priority: 1
      period: 24h
    - selector: '{namespace="x", team!="core"}'
      priority: 0
      period: 1000h
`);

  it('picks the highest priority among matching rules, whatever their order or period', () => {
    // prod (priority 2, longer) beats container=loki (priority 1, shorter), and vice versa in the list order.
    expect(retentionPeriodFor(limits, { namespace: 'prod', container: 'loki', team: 'core' })).toBe(336n * H);
    expect(retentionPeriodFor(limits, { namespace: 'other', container: 'loki', team: 'core' })).toBe(72n * H);
  });

  it('between equal priorities takes the shortest period, as Loki does', () => {
    expect(matchingRule(limits.retentionStream, { namespace: 'dev', team: 'core' })?.period).toBe(24n * H);
    // The tie is decided by period, not list order: reversed lists agree.
    expect(matchingRule([...limits.retentionStream].reverse(), { namespace: 'test', team: 'core' })?.period).toBe(24n * H);
  });

  it('a matching rule applies even when longer than retention_period; none matching falls back to it', () => {
    expect(retentionPeriodFor(limits, { namespace: 'x' })).toBe(1000n * H); // team missing reads as "" != "core"
    expect(retentionPeriodFor(limits, { namespace: 'x', team: 'core' })).toBe(744n * H);
  });

  it('the policy turns periods into cutoffs; 0 keeps for ever', () => {
    const now = 1_000_000n * H;
    expect(retentionPolicy(fixedLimits(limits)).cutoff('t', { namespace: 'dev', team: 'core' }, now)).toBe(now - 24n * H);
    const forever = limitsFrom('limits: {}\n');
    expect(forever.retentionPeriod).toBe(0n);
    expect(retentionPolicy(fixedLimits(forever)).cutoff('t', { a: 'b' }, now)).toBeNull();
  });
});

describe('retention settings refused with the rule they break', () => {
  const cases: [string, RegExp][] = [
    ['limits: { retention_period: 5h }', /limits\.retention_period must be 0s \(keep for ever\) or at least 24h, got "5h"/],
    ['limits: { retention_period: -24h }', /limits\.retention_period must not be negative/],
    ['limits: { retention_period: soon }', /limits\.retention_period: invalid duration "soon"/],
    [`limits: { retention_stream: [{ selector: '{a="b"}', priority: 1, period: 5h }] }`, /limits\.retention_stream\[0\]\.period: retention period must be >= 24h, got "5h"/],
    [`limits: { retention_stream: [{ selector: '{a=b}', priority: 1, period: 48h }] }`, /limits\.retention_stream\[0\]\.selector "\{a=b\}" is not a valid stream selector/],
    [`limits: { retention_stream: [{ selector: '{a="b"}', priority: 1.5, period: 48h }] }`, /limits\.retention_stream\[0\]\.priority must be an integer, got 1\.5/],
    [`limits: { retention_stream: [{ selector: '{a="b"}', priority: 1 }] }`, /limits\.retention_stream\[0\]\.period is required/],
    [`limits: { retention_stream: [{ selector: '{a="b"}', period: 48h, prio: 1 }] }`, /limits\.retention_stream\[0\]: unknown key "prio"/],
    [`limits: { retention_stream: '{a="b"}' }`, /limits\.retention_stream must be a list of \{selector, priority, period\}/],
    ['limits: { per_tenant_override_config: a.yaml }\nruntime_config: { file: b.yaml }', /name different files/],
    ['limits: { per_tenant_override_config: a.yaml, per_tenant_override_period: 0s }', /limits\.per_tenant_override_period must be more than 0/],
  ];
  for (const [yaml, want] of cases) {
    it(yaml, () => {
      expect(() => limitsFrom(yaml)).toThrow(want);
    });
  }
});
