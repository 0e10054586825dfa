import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { otlpActionFor, parseOtlpConfig } from '../../src/config/otlp-config.js';
import { RuntimeOverrides } from '../../src/config/overrides.js';
import { removeDir, tempDir } from '../helpers/server.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function file(name: string, text: string): string {
  const dir = tempDir('narvi-otlp-config-');
  dirs.push(dir);
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('limits.otlp_config', () => {
  it("defaults to Loki 3's list of resource attributes as labels, everything else structured metadata", () => {
    const c = loadConfig([], {}).limits.otlpConfig;
    for (const a of ['service.name', 'deployment.environment.name', 'k8s.cronjob.name', 'container.name', 'cloud.availability_zone']) expect(otlpActionFor(c.resource, a)).toBe('index_label');
    for (const a of ['host.name', 'service.version', 'k8s.node.name', 'SERVICE.NAME']) expect(otlpActionFor(c.resource, a)).toBe('structured_metadata');
    expect(otlpActionFor(c.scope, 'anything')).toBe('structured_metadata');
    expect(otlpActionFor(c.log, 'anything')).toBe('structured_metadata');
  });

  it('puts the default rule first unless ignore_defaults, so it wins over later rules for those attributes', () => {
    const withDefaults = parseOtlpConfig('x', { resource_attributes: { attributes_config: [{ action: 'drop', attributes: ['service.namespace', 'host.name'] }] } });
    expect(otlpActionFor(withDefaults.resource, 'service.namespace')).toBe('index_label');
    expect(otlpActionFor(withDefaults.resource, 'host.name')).toBe('drop');
    const ignoring = parseOtlpConfig('x', { resource_attributes: { ignore_defaults: true, attributes_config: [{ action: 'drop', attributes: ['service.namespace'] }] } });
    expect(otlpActionFor(ignoring.resource, 'service.namespace')).toBe('drop');
    expect(otlpActionFor(ignoring.resource, 'service.name')).toBe('structured_metadata');
  });

  it('matches a regex fully anchored, the first matching rule deciding; an omitted action is structured_metadata', () => {
    const c = parseOtlpConfig('x', {
      resource_attributes: { ignore_defaults: true, attributes_config: [{ regex: 'k8s\\.pod\\..*' }, { action: 'index_label', regex: 'k8s\\..*' }] },
      log_attributes: [{ action: 'drop', regex: 'secret' }],
    });
    expect(otlpActionFor(c.resource, 'k8s.pod.name')).toBe('structured_metadata');
    expect(otlpActionFor(c.resource, 'k8s.node.name')).toBe('index_label');
    expect(otlpActionFor(c.resource, 'x.k8s.node')).toBe('structured_metadata');
    expect(otlpActionFor(c.log, 'secret')).toBe('drop');
    expect(otlpActionFor(c.log, 'secret.token')).toBe('structured_metadata');
  });

  it('refuses what Loki refuses, naming the setting', () => {
    const bad = (v: unknown) => () => parseOtlpConfig('limits.otlp_config', v);
    expect(bad({ resource_attributes: { attributes_config: [{ action: 'label', attributes: ['a'] }] } })).toThrow(
      'limits.otlp_config.resource_attributes.attributes_config[0].action must be one of index_label, structured_metadata, drop, got "label"',
    );
    expect(bad({ log_attributes: [{ action: 'index_label', attributes: ['a'] }] })).toThrow(
      'limits.otlp_config.log_attributes[0].action must be one of structured_metadata, drop (index_label is only supported for resource_attributes), got "index_label"',
    );
    expect(bad({ scope_attributes: [{ action: 'drop' }] })).toThrow('limits.otlp_config.scope_attributes[0]: attributes or regex must be set');
    expect(bad({ scope_attributes: [{ action: 'drop', attributes: ['a'], regex: 'b' }] })).toThrow('limits.otlp_config.scope_attributes[0]: only one of attributes or regex must be set');
    expect(bad({ scope_attributes: [{ action: 'drop', regex: '(' }] })).toThrow(/^limits\.otlp_config\.scope_attributes\[0\]\.regex "\(" is not a valid regex: /);
    expect(bad({ resource_attributes: { ignore_default: true } })).toThrow('limits.otlp_config.resource_attributes: unknown key "ignore_default"; allowed: ignore_defaults, attributes_config');
    expect(bad({ log_attribute: [] })).toThrow('limits.otlp_config: unknown key "log_attribute"; allowed: resource_attributes, scope_attributes, log_attributes');
    expect(bad({ resource_attributes: { ignore_defaults: 'yes' } })).toThrow('limits.otlp_config.resource_attributes.ignore_defaults must be true or false, got "yes"');
    expect(bad({ log_attributes: { action: 'drop' } })).toThrow('limits.otlp_config.log_attributes must be a list of {action, attributes | regex}, got {"action":"drop"}');
    expect(bad({ log_attributes: [{ attributes: 'a' }] })).toThrow('limits.otlp_config.log_attributes[0].attributes must be a list of attribute names, got "a"');
    expect(bad([1])).toThrow('limits.otlp_config must be a mapping with resource_attributes, scope_attributes and log_attributes, got [1]');
  });

  it('loads from the config file, from a flag as YAML, and per tenant from the overrides file', () => {
    const cfgFile = file('c.yaml', 'limits:\n  otlp_config:\n    resource_attributes:\n      attributes_config:\n        - action: index_label\n          attributes: [host.name]\n');
    expect(otlpActionFor(loadConfig(['--config.file', cfgFile], {}).limits.otlpConfig.resource, 'host.name')).toBe('index_label');
    const viaFlag = loadConfig(['--limits.otlp-config', '{log_attributes: [{action: drop, attributes: [pwd]}]}'], {}).limits.otlpConfig;
    expect(otlpActionFor(viaFlag.log, 'pwd')).toBe('drop');
    expect(() => loadConfig(['--limits.otlp-config', '{log_attributes: [{action: index_label, attributes: [pwd]}]}'], {})).toThrow(/limits\.otlp_config\.log_attributes\[0\]\.action must be one of/);

    const overrides = file('o.yaml', 'overrides:\n  a:\n    otlp_config:\n      scope_attributes:\n        - action: drop\n          regex: ".*"\n');
    const cfg = loadConfig(['--limits.per-tenant-override-config', overrides], {});
    const o = new RuntimeOverrides(cfg);
    expect(otlpActionFor(o.forTenant('a').otlpConfig.scope, 'x')).toBe('drop');
    expect(otlpActionFor(o.forTenant('b').otlpConfig.scope, 'x')).toBe('structured_metadata');
    // The tenant's otlp_config replaces the global one whole (defaults still first).
    expect(otlpActionFor(o.forTenant('a').otlpConfig.resource, 'service.name')).toBe('index_label');

    const wrong = file('o.yaml', 'overrides:\n  a:\n    otlp_config:\n      scope_attributes:\n        - action: index_label\n          attributes: [x]\n');
    expect(() => new RuntimeOverrides(loadConfig(['--limits.per-tenant-override-config', wrong], {}))).toThrow(
      /overrides\."a": limits\.otlp_config\.scope_attributes\[0\]\.action must be one of structured_metadata, drop/,
    );
  });
});
