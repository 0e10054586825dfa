import { SettingsTree, type Tree } from '../model/settings-tree.js';
import { DEFAULTS } from './defaults.js';

export { setPath } from '../model/settings-tree.js';

export class ConfigError extends Error {}

// limits.otlp_config is Loki's nested shape with lists of rules: otlp-config.ts checks it whole.
export const schema = new SettingsTree(DEFAULTS as unknown as Tree, (m) => new ConfigError(m), new Set(['limits.otlp_config']));

/** Every leaf key of the defaults as a dotted path (`server.http_listen_port`). */
export function knownPaths(): string[] {
  return schema.knownPaths();
}

/**
 * Coerces a string from a flag or environment variable to the type of the key's default, so
 * `--server.http-listen-port 3200` becomes the number 3200 and `--auth-enabled` the boolean true.
 */
export function coerce(path: string, value: string | boolean, source: string): unknown {
  const def = schema.defaultAt(path);
  if (def === undefined) throw schema.unknown(source, path);
  if (typeof def === 'boolean') {
    if (value === true || value === 'true' || value === '1') return true;
    if (value === false || value === 'false' || value === '0') return false;
    throw new ConfigError(`${source}: ${path} must be true or false, got ${JSON.stringify(value)}`);
  }
  if (typeof def === 'number') {
    const n = Number(value);
    if (value === true || !Number.isFinite(n)) throw new ConfigError(`${source}: ${path} must be a number, got ${JSON.stringify(value)}`);
    return n;
  }
  if (Array.isArray(def)) {
    if (value === true) throw new ConfigError(`${source}: ${path} needs a value`);
    return String(value).split(',').map((s) => s.trim()).filter(Boolean);
  }
  if (value === true) throw new ConfigError(`${source}: ${path} needs a value`);
  return String(value);
}

/** Overlays a YAML document onto `base`; rejects keys the defaults do not know. */
export function deepMerge(base: Tree, over: Tree, source: string): Tree {
  return schema.merge(base, over, source);
}
