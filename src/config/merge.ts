import { DEFAULTS } from './defaults.js';

export class ConfigError extends Error {}

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every leaf key of the defaults as a dotted path (`server.http_listen_port`). */
export function knownPaths(tree: Tree = DEFAULTS as unknown as Tree, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(tree)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (isTree(v)) out.push(...knownPaths(v, p));
    else out.push(p);
  }
  return out;
}

function defaultAt(path: string): unknown {
  let cur: unknown = DEFAULTS;
  for (const part of path.split('.')) {
    if (!isTree(cur) || !(part in cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/**
 * Coerces a string from a flag or environment variable to the type of the key's default, so
 * `--server.http-listen-port 3200` becomes the number 3200 and `--auth-enabled` the boolean true.
 */
export function coerce(path: string, value: string | boolean, source: string): unknown {
  const def = defaultAt(path);
  if (def === undefined) {
    throw new ConfigError(`${source}: unknown setting ${JSON.stringify(path)}; known settings: ${knownPaths().join(', ')}`);
  }
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

/** Sets `path` inside `tree`, creating intermediate objects. */
export function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = tree;
  for (const p of parts.slice(0, -1)) {
    if (!isTree(cur[p])) cur[p] = {};
    cur = cur[p] as Tree;
  }
  cur[parts[parts.length - 1]!] = value;
}

/** Overlays `over` onto `base`; rejects keys the defaults do not know so typos fail loudly. */
export function deepMerge(base: Tree, over: Tree, source: string, prefix = ''): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const p = prefix ? `${prefix}.${k}` : k;
    const def = defaultAt(p);
    if (def === undefined) {
      throw new ConfigError(`${source}: unknown setting ${JSON.stringify(p)}; known settings: ${knownPaths().join(', ')}`);
    }
    if (isTree(def)) {
      if (!isTree(v)) throw new ConfigError(`${source}: ${p} must be a mapping`);
      out[k] = deepMerge(isTree(base[k]) ? (base[k] as Tree) : {}, v, source, p);
    } else {
      out[k] = v;
    }
  }
  return out;
}
