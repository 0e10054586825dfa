import YAML from 'yaml';
import { compileRegex } from '../../query/regex.js';
import { ConfigError } from './merge.js';

/** What becomes of an OTLP attribute: a stream label, structured metadata of each entry, or nothing. */
export type OtlpAction = 'index_label' | 'structured_metadata' | 'drop';

/** One `attributes_config` rule: an action for the attributes it names or its (fully anchored) regex matches. */
export interface OtlpAttributeRule {
  action: OtlpAction;
  attributes: ReadonlySet<string> | null;
  regex: RegExp | null;
}

/** `limits.otlp_config`, checked: rules are tried in order and the first that matches decides. */
export interface OtlpConfig {
  resource: OtlpAttributeRule[];
  scope: OtlpAttributeRule[];
  log: OtlpAttributeRule[];
}

/** The resource attributes Loki 3 makes stream labels unless `resource_attributes.ignore_defaults` is set. */
export const DEFAULT_INDEX_RESOURCE_ATTRIBUTES = [
  'service.name',
  'service.namespace',
  'service.instance.id',
  'deployment.environment',
  'deployment.environment.name',
  'cloud.region',
  'cloud.availability_zone',
  'k8s.cluster.name',
  'k8s.namespace.name',
  'k8s.pod.name',
  'k8s.container.name',
  'container.name',
  'k8s.replicaset.name',
  'k8s.deployment.name',
  'k8s.statefulset.name',
  'k8s.daemonset.name',
  'k8s.cronjob.name',
  'k8s.job.name',
] as const;

const DEFAULT_RULE: OtlpAttributeRule = { action: 'index_label', attributes: new Set(DEFAULT_INDEX_RESOURCE_ATTRIBUTES), regex: null };

export const DEFAULT_OTLP_CONFIG: OtlpConfig = { resource: [DEFAULT_RULE], scope: [], log: [] };

const ACTIONS: readonly OtlpAction[] = ['index_label', 'structured_metadata', 'drop'];

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function keysOf(at: string, v: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw new ConfigError(`${at}: unknown key ${JSON.stringify(k)}; allowed: ${allowed.join(', ')}`);
  }
}

function rules(at: string, v: unknown, allowed: readonly OtlpAction[]): OtlpAttributeRule[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new ConfigError(`${at} must be a list of {action, attributes | regex}, got ${JSON.stringify(v)}`);
  return v.map((raw: unknown, i): OtlpAttributeRule => {
    const here = `${at}[${i}]`;
    if (!isMapping(raw)) throw new ConfigError(`${here} must be a mapping {action, attributes | regex}, got ${JSON.stringify(raw)}`);
    keysOf(here, raw, ['action', 'attributes', 'regex']);
    // An omitted action is structured_metadata, as in Loki.
    const action = raw.action ?? 'structured_metadata';
    if (!allowed.includes(action as OtlpAction)) {
      const only = allowed.length < ACTIONS.length ? ` (index_label is only supported for resource_attributes)` : '';
      throw new ConfigError(`${here}.action must be one of ${allowed.join(', ')}${only}, got ${JSON.stringify(raw.action)}`);
    }
    const hasAttrs = raw.attributes !== undefined && raw.attributes !== null && !(Array.isArray(raw.attributes) && raw.attributes.length === 0);
    const hasRegex = raw.regex !== undefined && raw.regex !== null && raw.regex !== '';
    if (!hasAttrs && !hasRegex) throw new ConfigError(`${here}: attributes or regex must be set`);
    if (hasAttrs && hasRegex) throw new ConfigError(`${here}: only one of attributes or regex must be set`);
    if (hasAttrs) {
      if (!Array.isArray(raw.attributes) || raw.attributes.some((a) => typeof a !== 'string')) {
        throw new ConfigError(`${here}.attributes must be a list of attribute names, got ${JSON.stringify(raw.attributes)}`);
      }
      return { action: action as OtlpAction, attributes: new Set(raw.attributes as string[]), regex: null };
    }
    if (typeof raw.regex !== 'string') throw new ConfigError(`${here}.regex must be a string, got ${JSON.stringify(raw.regex)}`);
    let regex: RegExp;
    try {
      regex = compileRegex(raw.regex, { anchored: true, captures: false });
    } catch (err) {
      if (err instanceof Error) throw new ConfigError(`${here}.regex ${JSON.stringify(raw.regex)} is not a valid regex: ${err.message}`);
      throw err;
    }
    return { action: action as OtlpAction, attributes: null, regex };
  });
}

/**
 * Checks `limits.otlp_config` (Loki's shape). A string (from a flag or the environment) is read as YAML.
 * Unless `resource_attributes.ignore_defaults` is true, the default rule (the well-known resource attributes
 * as stream labels) comes first, so it wins over later rules for those attributes, as in Loki.
 */
export function parseOtlpConfig(at: string, v: unknown): OtlpConfig {
  if (typeof v === 'string') {
    try {
      v = v.trim() === '' ? {} : YAML.parse(v);
    } catch (err) {
      throw new ConfigError(`${at} is not valid YAML: ${(err as Error).message}`);
    }
  }
  if (v === null || v === undefined) return DEFAULT_OTLP_CONFIG;
  if (!isMapping(v)) throw new ConfigError(`${at} must be a mapping with resource_attributes, scope_attributes and log_attributes, got ${JSON.stringify(v)}`);
  keysOf(at, v, ['resource_attributes', 'scope_attributes', 'log_attributes']);
  const ra = v.resource_attributes ?? {};
  if (!isMapping(ra)) throw new ConfigError(`${at}.resource_attributes must be a mapping {ignore_defaults, attributes_config}, got ${JSON.stringify(ra)}`);
  keysOf(`${at}.resource_attributes`, ra, ['ignore_defaults', 'attributes_config']);
  const ignore = ra.ignore_defaults ?? false;
  if (typeof ignore !== 'boolean') throw new ConfigError(`${at}.resource_attributes.ignore_defaults must be true or false, got ${JSON.stringify(ignore)}`);
  const resource = rules(`${at}.resource_attributes.attributes_config`, ra.attributes_config, ACTIONS);
  const logOnly: OtlpAction[] = ['structured_metadata', 'drop'];
  return {
    resource: ignore ? resource : [DEFAULT_RULE, ...resource],
    scope: rules(`${at}.scope_attributes`, v.scope_attributes, logOnly),
    log: rules(`${at}.log_attributes`, v.log_attributes, logOnly),
  };
}

/** The action for an attribute: the first rule naming or matching it, else structured_metadata. */
export function otlpActionFor(rulesList: OtlpAttributeRule[], name: string): OtlpAction {
  for (const r of rulesList) {
    if (r.attributes ? r.attributes.has(name) : r.regex!.test(name)) return r.action;
  }
  return 'structured_metadata';
}
