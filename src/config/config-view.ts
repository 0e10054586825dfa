import YAML from 'yaml';
import { DEFAULTS } from './defaults.js';

/** What a secret prints as in `GET /config`, as Loki prints its secret settings. */
export const MASK = '********';

// Settings whose values would let a reader into something: matched by the key's last part, so a
// setting added later under such a name is masked without anyone remembering to list it here.
const SECRET_KEY = /(secret|password|passwd|token|credential|api_key|private_key)/i;

/** Whether the setting named `key` holds a secret. `access_key_id` names an account, not a secret, as in Loki. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A copy of `tree` with every non-empty secret replaced by MASK (an empty one stays empty: there is nothing to hide). */
export function maskSecrets(tree: unknown, key = ''): unknown {
  if (Array.isArray(tree)) return tree.map((v) => maskSecrets(v, key));
  if (isObject(tree)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(tree)) out[k] = maskSecrets(v, k);
    return out;
  }
  if (key !== '' && isSecretKey(key) && tree !== '' && tree !== null && tree !== undefined) return MASK;
  // A URL may carry a password (http://user:pass@host): the user stays, the password goes.
  if (typeof tree === 'string') return tree.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^/@\s]*@/i, `$1:${MASK}@`);
  return tree;
}

/**
 * The settings of `tree` whose values differ from `base`, nested as in the file (Loki's `?mode=diff`).
 * Lists and scalars compare whole; a section with nothing changed is left out.
 */
export function diffFrom(tree: Record<string, unknown>, base: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(tree)) {
    const b = base[k];
    if (isObject(v) && isObject(b)) {
      const sub = diffFrom(v, b);
      if (Object.keys(sub).length > 0) out[k] = sub;
    } else if (JSON.stringify(v) !== JSON.stringify(b)) out[k] = v;
  }
  return out;
}

export type ConfigViewMode = 'full' | 'diff' | 'defaults';

/**
 * `GET /config` as YAML: narvi's own effective settings (defaults, file, environment and flags merged,
 * under narvi's key names), the defaults alone, or what differs from them; secrets masked in all three.
 */
export function configYaml(raw: unknown, mode: ConfigViewMode): string {
  const tree = mode === 'defaults' ? DEFAULTS : mode === 'diff' ? diffFrom(raw as Record<string, unknown>, DEFAULTS as unknown as Record<string, unknown>) : raw;
  return YAML.stringify(maskSecrets(tree), { lineWidth: 0 });
}
