import { isTree, setPath, type SettingsTree, type Tree } from '../model/settings-tree.js';
import { closestName } from '../model/closest-name.js';
import { finishLoki, hasRulesBelow, LOKI_RULES, ruleNamesBelow, type LokiOut } from './loki-names.js';

/** A Loki setting skipped because it has no meaning here. */
export interface IgnoredSetting {
  key: string;
  reason: string;
}

export interface ConfigFileReading {
  /** The file's settings under narvi's names, ready to overlay onto the defaults. */
  doc: Tree;
  ignored: IgnoredSetting[];
  /** One line each: unknown keys (with a suggestion) and values a rule refused. */
  problems: string[];
  /** narvi setting → the key the file wrote it under, where the two differ (limits.x ← limits_config.x). */
  writtenAs: Map<string, string>;
}

/**
 * Reads a config file written with narvi's names, Loki's names, or both (see loki-names.ts). Every key is
 * either a narvi setting, a Loki setting mapped onto one, a Loki setting ignored with a reason, or a problem;
 * the whole file is read so all problems are reported at once.
 */
export function readConfigDoc(file: Tree, schema: SettingsTree): ConfigFileReading {
  const doc: Tree = {};
  const setBy = new Map<string, { key: string; value: unknown }>();
  const ignored: IgnoredSetting[] = [];
  const problems: string[] = [];
  const notes = new Map<string, unknown>();

  const outFor = (key: string): LokiOut => ({
    key,
    notes,
    get: (path) => setBy.get(path)?.value,
    set: (path, value) => {
      const prev = setBy.get(path);
      if (prev && prev.key !== key && JSON.stringify(prev.value) !== JSON.stringify(value)) {
        problems.push(`${prev.key} and ${key} both set ${path}, to different values (${JSON.stringify(prev.value)}, ${JSON.stringify(value)}); keep one`);
        return;
      }
      setBy.set(path, { key, value });
      setPath(doc, path, value);
    },
    problem: (m) => problems.push(m),
    warn: (reason) => ignored.push({ key, reason }),
  });

  const walk = (node: Tree, lokiPrefix: string, narviPrefix: string | null): void => {
    for (const [k, v] of Object.entries(node)) {
      const key = lokiPrefix ? `${lokiPrefix}.${k}` : k;
      const rule = LOKI_RULES[key];
      if (typeof rule === 'function') {
        rule(v, outFor(key));
        continue;
      }
      const target = typeof rule === 'string' ? rule : narviPrefix === null ? null : narviPrefix ? `${narviPrefix}.${k}` : k;
      const def = target === null ? undefined : schema.defaultAt(target);
      if (target !== null && def !== undefined) {
        if (isTree(def) && !schema.isOpaque(target)) {
          // An empty Loki section (`limits_config:`) is YAML null: nothing to set.
          if (v === null) continue;
          if (!isTree(v)) {
            problems.push(`${key} must be a mapping, got ${JSON.stringify(v)}`);
            continue;
          }
          walk(v, key, target);
        } else {
          outFor(key).set(target, v);
        }
        continue;
      }
      if (typeof rule === 'object') {
        ignored.push({ key, reason: rule.ignore });
        continue;
      }
      if (isTree(v) && hasRulesBelow(key)) {
        walk(v, key, target);
        continue;
      }
      problems.push(unknownKey(key, lokiPrefix, narviPrefix, schema));
    }
  };
  walk(file, '', '');
  const writtenAs = new Map<string, string>();
  for (const [path, { key }] of setBy) if (key !== path) writtenAs.set(path, key);
  finishLoki(outFor(String(notes.get('s3_endpoint_key') ?? '')));
  return { doc, ignored, problems, writtenAs };
}

/** `unknown setting "x"; did you mean "y"?` over narvi's names and Loki's at the same level. */
function unknownKey(key: string, lokiPrefix: string, narviPrefix: string | null, schema: SettingsTree): string {
  const name = key.slice(lokiPrefix ? lokiPrefix.length + 1 : 0);
  const level = narviPrefix === null ? undefined : narviPrefix === '' ? schema.defaults : schema.defaultAt(narviPrefix);
  const names = new Set([...(isTree(level) ? Object.keys(level) : []), ...ruleNamesBelow(lokiPrefix)]);
  // A Loki section name is a fine suggestion at the top (limits_config for limit_config).
  const guess = closestName(name, names);
  const head = `unknown setting ${JSON.stringify(key)}`;
  if (guess !== undefined) return `${head}; did you mean ${JSON.stringify(lokiPrefix ? `${lokiPrefix}.${guess}` : guess)}?`;
  return `${head}; ${lokiPrefix ? `"${lokiPrefix}" has` : 'the top level has'}: ${[...names].sort().join(', ')}`;
}
