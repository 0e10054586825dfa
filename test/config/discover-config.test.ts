/** limits.discover_service_name, discover_log_levels, log_level_fields, log_level_from_json_max_depth: defaults, flags, file, overrides. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { RuntimeOverrides } from '../../src/config/overrides.js';
import { removeDir, tempDir } from '../helpers/server.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

function file(name: string, text: string): string {
  const dir = tempDir('narvi-discover-config-');
  dirs.push(dir);
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('ingest decoration settings', () => {
  it("default to Loki 3's: discovery from its thirteen labels, levels on, its level fields, JSON depth 2", () => {
    const l = loadConfig([], {}).limits;
    expect(l.discoverServiceName).toEqual(['service', 'app', 'application', 'app_name', 'name', 'app_kubernetes_io_name', 'container', 'container_name', 'k8s_container_name', 'component', 'workload', 'job', 'k8s_job_name']);
    expect(l.discoverLogLevels).toBe(true);
    expect(l.logLevelFields).toEqual(['level', 'LEVEL', 'Level', 'Severity', 'severity', 'SEVERITY', 'lvl', 'LVL', 'Lvl', 'severity_text', 'Severity_Text', 'SEVERITY_TEXT']);
    expect(l.logLevelFromJsonMaxDepth).toBe(2);
  });

  it('switch off by flag: an empty --limits.discover-service-name and --limits.discover-log-levels=false', () => {
    const l = loadConfig(['--limits.discover-service-name=', '--limits.discover-log-levels=false'], {}).limits;
    expect(l.discoverServiceName).toEqual([]);
    expect(l.discoverLogLevels).toBe(false);
    expect(loadConfig(['--limits.discover-service-name', 'team, app'], {}).limits.discoverServiceName).toEqual(['team', 'app']);
    expect(loadConfig([], { NARVI_LIMITS_DISCOVER_LOG_LEVELS: 'false' }).limits.discoverLogLevels).toBe(false);
  });

  it('read from the YAML file; an empty log_level_fields means the default list, as in Loki', () => {
    const c = file('c.yaml', 'limits:\n  discover_service_name: []\n  discover_log_levels: false\n  log_level_fields: []\n  log_level_from_json_max_depth: 0\n');
    const l = loadConfig(['--config.file', c], {}).limits;
    expect(l.discoverServiceName).toEqual([]);
    expect(l.discoverLogLevels).toBe(false);
    expect(l.logLevelFields).toContain('severity_text');
    expect(l.logLevelFromJsonMaxDepth).toBe(0);
  });

  it('refuse values that are not what the setting takes, naming the setting', () => {
    expect(() => loadConfig(['--limits.discover-service-name', 'app,bad-name'], {})).toThrow('limits.discover_service_name: "bad-name" is not a label name; names match [a-zA-Z_][a-zA-Z0-9_]*');
    expect(() => loadConfig(['--limits.discover-log-levels', 'maybe'], {})).toThrow(/limits\.discover_log_levels must be true or false, got "maybe"/);
    expect(() => loadConfig(['--limits.log-level-from-json-max-depth', '1.5'], {})).toThrow('limits.log_level_from_json_max_depth must be an integer, got 1.5');
    const c = file('c.yaml', 'limits:\n  discover_service_name: app\n');
    expect(() => loadConfig(['--config.file', c], {})).toThrow('limits.discover_service_name must be a list of label names, got "app"');
    const f = file('f.yaml', 'limits:\n  log_level_fields: [level, ""]\n');
    expect(() => loadConfig(['--config.file', f], {})).toThrow('limits.log_level_fields: "" is not a field name');
  });

  it('are set per tenant by the overrides file', () => {
    const o = file('o.yaml', 'overrides:\n  quiet:\n    discover_log_levels: false\n    discover_service_name: []\n  teams:\n    discover_service_name: [team]\n    log_level_fields: [sev]\n');
    const cfg = loadConfig(['--limits.per-tenant-override-config', o], {});
    const ov = new RuntimeOverrides(cfg);
    expect(ov.forTenant('quiet').discoverLogLevels).toBe(false);
    expect(ov.forTenant('quiet').discoverServiceName).toEqual([]);
    expect(ov.forTenant('teams').discoverServiceName).toEqual(['team']);
    expect(ov.forTenant('teams').logLevelFields).toEqual(['sev']);
    expect(ov.forTenant('teams').discoverLogLevels).toBe(true);
    expect(ov.forTenant('other').discoverServiceName).toContain('app');
  });
});
