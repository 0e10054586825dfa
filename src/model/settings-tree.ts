/**
 * A tree of settings with defaults, shared by the server's and the agent's configuration: it knows every
 * dotted path, finds a path's default, overlays a YAML document onto the defaults (refusing unknown keys so
 * typos fail loudly), and sets single paths from flags or the environment.
 */
import { closestName } from './closest-name.js';

export type Tree = Record<string, unknown>;

export function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class SettingsTree {
  /**
   * @param opaque paths whose value is a free-form mapping or list (not checked against the defaults)
   * @param fail builds the error each configuration module throws
   */
  constructor(
    readonly defaults: Tree,
    private fail: (message: string) => Error,
    private opaque: ReadonlySet<string> = new Set(),
  ) {}

  isOpaque(path: string): boolean {
    return this.opaque.has(path);
  }

  /** Every leaf path (`server.http_listen_port`); opaque paths count as leaves. */
  knownPaths(tree: Tree = this.defaults, prefix = ''): string[] {
    const out: string[] = [];
    for (const [k, v] of Object.entries(tree)) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (isTree(v) && !this.opaque.has(p)) out.push(...this.knownPaths(v, p));
      else out.push(p);
    }
    return out;
  }

  defaultAt(path: string): unknown {
    let cur: unknown = this.defaults;
    for (const part of path.split('.')) {
      if (!isTree(cur) || !(part in cur)) return undefined;
      cur = cur[part];
    }
    return cur;
  }

  unknown(source: string, path: string): Error {
    return this.fail(`${source}: ${this.unknownMessage(path)}`);
  }

  /**
   * `unknown setting "a.b"` with the nearest known name at the level where the path leaves the tree
   * ("did you mean …"), or else the names that level has — never the whole list of settings.
   */
  unknownMessage(path: string, extra: readonly string[] = []): string {
    const parts = path.split('.');
    let cur: Tree = this.defaults;
    let i = 0;
    for (; i < parts.length - 1; i++) {
      const next = cur[parts[i]!];
      if (!isTree(next) || this.opaque.has(parts.slice(0, i + 1).join('.'))) break;
      cur = next;
    }
    const prefix = parts.slice(0, i).join('.');
    const names = [...Object.keys(cur), ...extra];
    const guess = closestName(parts[i]!, names);
    const head = `unknown setting ${JSON.stringify(path)}`;
    if (guess !== undefined) {
      const rest = isTree(cur[guess]) ? parts.slice(i + 1) : [];
      return `${head}; did you mean ${JSON.stringify([prefix, guess, ...rest].filter(Boolean).join('.'))}?`;
    }
    return `${head}; ${prefix ? `"${prefix}" has` : 'the top level has'}: ${[...new Set(names)].sort().join(', ')}`;
  }

  /** Overlays `over` onto `base`. */
  merge(base: Tree, over: Tree, source: string, prefix = ''): Tree {
    const out: Tree = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const p = prefix ? `${prefix}.${k}` : k;
      const def = this.defaultAt(p);
      if (def === undefined) throw this.unknown(source, p);
      if (isTree(def) && !this.opaque.has(p)) {
        if (!isTree(v)) throw this.fail(`${source}: ${p} must be a mapping, got ${JSON.stringify(v)}`);
        out[k] = this.merge(isTree(base[k]) ? (base[k] as Tree) : {}, v, source, p);
      } else {
        out[k] = v;
      }
    }
    return out;
  }
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
