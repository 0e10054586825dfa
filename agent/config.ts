import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import YAML from 'yaml';
import { isValidLabelName, type Labels } from '../src/model/labels.js';
import { parseBytes, parseDuration } from '../src/model/time.js';
import { isTree, setPath, SettingsTree, type Tree } from '../src/model/settings-tree.js';
import type { Format } from './parsed-line.js';
import type { MultilineConfig } from './multiline.js';
import type { Stage } from './pipeline.js';
import { BASE_POD_TARGET_LABELS, isPodLabelKey, type PodLabelRules } from './pod-labels.js';

/** A mistake in the agent's configuration: the message names the key, what was wrong and what is allowed. */
export class AgentConfigError extends Error {}

export interface StaticTarget {
  paths: string[];
  labels: Labels;
  format: Format;
  multiline?: MultilineConfig;
}

/** The validated agent configuration: durations in milliseconds, sizes in bytes. */
export interface AgentConfig {
  server: {
    /** Whether /metrics and /ready are served: off with server.disable, and for --stdin unless a port is asked for. */
    enabled: boolean;
    address: string;
    port: number;
    logLevel: 'debug' | 'info' | 'warn' | 'error';
  };
  client: {
    url: string;
    tenantId: string;
    batchSize: number;
    batchWaitMs: number;
    encoding: 'protobuf' | 'json';
    gzip: boolean;
    bearerToken: string;
    basicAuth?: { username: string; password: string };
    backoff: { minMs: number; maxMs: number; maxRetries: number };
    timeoutMs: number;
    maxBufferedBytes: number;
    externalLabels: Labels;
  };
  positions: { path: string; syncPeriodMs: number };
  targetSyncPeriodMs: number;
  tail: { pollIntervalMs: number; watch: boolean; readChunkSize: number };
  kubernetes: {
    enabled: boolean;
    podsRoot: string;
    nodeName: string;
    format: Format;
    multiline?: MultilineConfig;
    apiServer: string;
    tokenFile: string;
    caFile: string;
    resyncPeriodMs: number;
    /** How long a newly found pod's files wait for its labels from the API before being read without them. */
    metadataWaitMs: number;
    /** Which pod labels become stream labels (see pod-labels.ts). */
    podLabels: PodLabelRules;
  };
  staticTargets: StaticTarget[];
  stdin: { enabled: boolean; labels: Labels; format: Format };
  pipeline: Stage[];
  limits: { maxLineSize: number };
  shutdownTimeoutMs: number;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** What each key defaults to; also the list of keys the file and the flags may set. */
export const AGENT_DEFAULTS = {
  server: { disable: 'auto' as string | boolean, http_listen_address: '0.0.0.0', http_listen_port: 9080, log_level: 'info' },
  client: {
    url: '',
    tenant_id: '',
    batch_size: '1MiB',
    batch_wait: '1s',
    encoding: 'protobuf',
    gzip: false,
    bearer_token: '',
    bearer_token_file: '',
    basic_auth: { username: '', password: '', password_file: '' },
    backoff: { min_period: '500ms', max_period: '5m', max_retries: 0 },
    timeout: '10s',
    max_buffered_bytes: '10MiB',
    external_labels: {} as Record<string, string>,
  },
  positions: { path: './positions.yaml', sync_period: '10s' },
  target_config: { sync_period: '5s' },
  tail: { poll_interval: '250ms', watch: true, read_chunk_size: '256KiB' },
  kubernetes: {
    enabled: 'auto' as string | boolean,
    pods_root: '/var/log/pods',
    node_name: '',
    format: 'cri',
    multiline: null as unknown,
    api_server: '',
    token_file: `${SA_DIR}/token`,
    ca_file: `${SA_DIR}/ca.crt`,
    resync_period: '5m',
    metadata_wait: '5s',
    pod_labels: [] as unknown[],
    pod_labels_all: false,
  },
  static_targets: [] as unknown[],
  stdin: { enabled: false, labels: {} as Record<string, string>, format: 'plain' },
  pipeline: [] as unknown[],
  limits: { max_line_size: '256KB' },
  shutdown_timeout: '5s',
};

/** Keys whose value is a free-form mapping or list (not further checked against the defaults). */
const OPAQUE = new Set(['client.external_labels', 'kubernetes.multiline', 'kubernetes.pod_labels', 'static_targets', 'stdin.labels', 'pipeline']);
/** List settings whose flag may be repeated: each occurrence adds to the list (and the flags' list replaces the file's). */
const REPEATABLE = new Set(['kubernetes.pod_labels']);
const schema = new SettingsTree(AGENT_DEFAULTS as unknown as Tree, (m) => new AgentConfigError(m), OPAQUE);

/** What the command line gave, already split by commander (see src/cli/agent.ts). */
export interface AgentFlags {
  configFile?: string;
  /** `--path GLOB`, repeatable: one static target of plain files with the `--label`s. */
  paths?: string[];
  /** `--label name=value`, repeatable. */
  labels?: string[];
  stdin?: boolean;
  /** Any other setting as a dotted key (`client.batch_wait` ← `--client.batch-wait`). */
  settings?: [string, string | boolean][];
}

/** Defaults, then the YAML file, then flags (flags win). Validated once; errors name the key. */
export function loadAgentConfig(flags: AgentFlags, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let raw = structuredClone(AGENT_DEFAULTS) as unknown as Tree;
  // Keys given as flags, and the file's server keys: the listener's default depends on whether a port was given.
  const given = new Set<string>();
  if (flags.configFile) {
    let text: string;
    try {
      text = readFileSync(flags.configFile, 'utf8');
    } catch (err) {
      throw new AgentConfigError(`cannot read config file ${flags.configFile}: ${(err as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = YAML.parse(text);
    } catch (err) {
      throw new AgentConfigError(`config file ${flags.configFile} is not valid YAML: ${(err as Error).message}`);
    }
    if (doc !== null && doc !== undefined) {
      if (!isTree(doc)) throw new AgentConfigError(`config file ${flags.configFile} must be a YAML mapping`);
      raw = schema.merge(raw, doc, `config file ${flags.configFile}`);
      const server = doc.server;
      if (isTree(server)) for (const key of Object.keys(server)) given.add(`server.${key}`);
    }
  }
  const repeated = new Map<string, unknown[]>();
  for (const [key, value] of flags.settings ?? []) {
    const path = key.replace(/-/g, '_');
    const def = schema.defaultAt(path);
    const flag = `--${key.replace(/_/g, '-')}`;
    if (def === undefined || (isTree(def) && !schema.isOpaque(path))) {
      throw new AgentConfigError(`flag ${flag}: unknown setting ${JSON.stringify(path)}; known settings: ${schema.knownPaths().join(', ')}`);
    }
    // A repeatable list flag takes its value as text (`team,tier`) unless it is a YAML list (`[team, tier]`).
    const asText = REPEATABLE.has(path) && typeof value === 'string' && !value.trimStart().startsWith('[');
    let v = asText ? value : coerceFlag(flag, def, value);
    if (REPEATABLE.has(path)) {
      const acc = repeated.get(path) ?? [];
      acc.push(...(Array.isArray(v) ? v : [v]));
      repeated.set(path, acc);
      v = acc;
    }
    setPath(raw, path, v);
    given.add(path);
  }
  const cliLabels = parseLabelFlags(flags.labels ?? []);
  return validate(raw, flags, cliLabels, env, given);
}

function coerceFlag(flag: string, def: unknown, value: string | boolean): unknown {
  // `enabled` and `disable` keys may default to `auto` (a string): their flags still take true/false.
  if (typeof def === 'boolean' || (/(enabled|disable)$/.test(flag) && typeof def === 'string')) {
    if (value === true || value === 'true' || value === '1') return true;
    if (value === false || value === 'false' || value === '0') return false;
    if (typeof def !== 'boolean' && value === 'auto') return 'auto';
    throw new AgentConfigError(`flag ${flag} must be true or false, got ${JSON.stringify(value)}`);
  }
  if (value === true) throw new AgentConfigError(`flag ${flag} needs a value`);
  if (typeof def === 'number') {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new AgentConfigError(`flag ${flag} must be a number, got ${JSON.stringify(value)}`);
    return n;
  }
  if (isTree(def) || Array.isArray(def) || def === null) {
    try {
      return YAML.parse(String(value)) as unknown;
    } catch (err) {
      throw new AgentConfigError(`flag ${flag} must be YAML/JSON: ${(err as Error).message}`);
    }
  }
  return String(value);
}

export function parseLabelFlags(items: string[]): Labels {
  const out: Labels = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new AgentConfigError(`--label ${JSON.stringify(item)}: expected name=value, e.g. --label job=varlogs`);
    const name = item.slice(0, eq);
    if (!isValidLabelName(name)) throw new AgentConfigError(`--label ${JSON.stringify(item)}: label name ${JSON.stringify(name)} must match [a-zA-Z_][a-zA-Z0-9_]*`);
    out[name] = item.slice(eq + 1);
  }
  return out;
}

// --- validation helpers: each names the key it checks -------------------------------------------------------

function str(path: string, v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw new AgentConfigError(`${path} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function bool(path: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new AgentConfigError(`${path} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function int(path: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new AgentConfigError(`${path} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function durMs(path: string, v: unknown, minMs = 0): number {
  let ns: bigint;
  try {
    ns = parseDuration(String(v));
  } catch (err) {
    throw new AgentConfigError(`${path}: ${(err as Error).message}`);
  }
  const ms = Number(ns / 1_000_000n);
  if (ms < minMs) throw new AgentConfigError(`${path} must be at least ${minMs}ms, got ${JSON.stringify(v)}`);
  return ms;
}

function size(path: string, v: unknown, min = 1): number {
  let n: number;
  try {
    n = parseBytes(v as string | number);
  } catch (err) {
    throw new AgentConfigError(`${path}: ${(err as Error).message}`);
  }
  if (n < min) throw new AgentConfigError(`${path} must be at least ${min} bytes, got ${JSON.stringify(v)}`);
  return n;
}

function oneOf<T extends string>(path: string, v: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new AgentConfigError(`${path} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function labels(path: string, v: unknown): Labels {
  if (v === null || v === undefined) return {};
  if (!isTree(v)) throw new AgentConfigError(`${path} must be a mapping of label name to value, got ${JSON.stringify(v)}`);
  const out: Labels = {};
  for (const [k, val] of Object.entries(v)) {
    if (!isValidLabelName(k)) throw new AgentConfigError(`${path}: label name ${JSON.stringify(k)} must match [a-zA-Z_][a-zA-Z0-9_]*`);
    if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') {
      throw new AgentConfigError(`${path}.${k} must be a string, got ${JSON.stringify(val)}`);
    }
    out[k] = String(val);
  }
  return out;
}

function regex(path: string, v: unknown): RegExp {
  const s = str(path, v);
  try {
    return new RegExp(s);
  } catch (err) {
    throw new AgentConfigError(`${path}: invalid regular expression ${JSON.stringify(s)}: ${(err as Error).message}`);
  }
}

function allowedKeys(path: string, v: Tree, keys: string[]): void {
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) throw new AgentConfigError(`${path}: unknown key ${JSON.stringify(k)}; allowed: ${keys.join(', ')}`);
  }
}

function multiline(path: string, v: unknown): MultilineConfig | undefined {
  if (v === null || v === undefined) return undefined;
  if (!isTree(v)) throw new AgentConfigError(`${path} must be a mapping with firstline, max_wait_time, max_lines`);
  allowedKeys(path, v, ['firstline', 'max_wait_time', 'max_lines']);
  if (v.firstline === undefined) throw new AgentConfigError(`${path}.firstline is required: a regex matching the first line of a block`);
  return {
    firstline: regex(`${path}.firstline`, v.firstline),
    maxWaitMs: durMs(`${path}.max_wait_time`, v.max_wait_time ?? '3s', 1),
    maxLines: int(`${path}.max_lines`, v.max_lines ?? 128, 1),
  };
}

const FORMATS = ['cri', 'docker', 'plain'] as const;

function staticTargets(v: unknown): StaticTarget[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new AgentConfigError(`static_targets must be a list of {paths, labels, format, multiline}`);
  return v.map((t, i) => {
    const p = `static_targets[${i}]`;
    if (!isTree(t)) throw new AgentConfigError(`${p} must be a mapping with paths, labels, format, multiline`);
    allowedKeys(p, t, ['paths', 'labels', 'format', 'multiline']);
    const paths = typeof t.paths === 'string' ? [t.paths] : t.paths;
    if (!Array.isArray(paths) || paths.length === 0 || paths.some((x) => typeof x !== 'string' || x === '')) {
      throw new AgentConfigError(`${p}.paths must be a non-empty list of file globs, e.g. [/var/log/*.log]`);
    }
    return {
      paths: paths as string[],
      labels: labels(`${p}.labels`, t.labels),
      format: oneOf(`${p}.format`, t.format ?? 'plain', FORMATS),
      multiline: multiline(`${p}.multiline`, t.multiline),
    };
  });
}

function pipelineStages(v: unknown): Stage[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new AgentConfigError('pipeline must be a list of stages, e.g. [{drop: {expression: "healthz"}}]');
  return v.map((st, i) => {
    const p = `pipeline[${i}]`;
    if (!isTree(st) || Object.keys(st).length !== 1) {
      throw new AgentConfigError(`${p} must be a mapping with exactly one stage name: drop, json, logfmt or static_labels`);
    }
    const [kind, body] = Object.entries(st)[0]!;
    const bp = `${p}.${kind}`;
    switch (kind) {
      case 'drop': {
        if (!isTree(body)) throw new AgentConfigError(`${bp} must be a mapping {expression: REGEX}`);
        allowedKeys(bp, body, ['expression']);
        return { type: 'drop', expression: regex(`${bp}.expression`, body.expression) };
      }
      case 'json':
      case 'logfmt': {
        if (!isTree(body) || !isTree(body.labels)) throw new AgentConfigError(`${bp} must be a mapping {labels: {label_name: field}}`);
        allowedKeys(bp, body, ['labels']);
        const pairs: [string, string][] = [];
        for (const [label, field] of Object.entries(body.labels)) {
          if (!isValidLabelName(label)) throw new AgentConfigError(`${bp}.labels: label name ${JSON.stringify(label)} must match [a-zA-Z_][a-zA-Z0-9_]*`);
          pairs.push([label, field === null || field === undefined || field === '' ? label : str(`${bp}.labels.${label}`, field)]);
        }
        if (kind === 'json') return { type: 'json', labels: pairs.map(([l, f]) => [l, f.split('.')] as [string, string[]]) };
        return { type: 'logfmt', labels: pairs };
      }
      case 'static_labels':
        return { type: 'static_labels', labels: labels(bp, body) };
      default:
        throw new AgentConfigError(`${p}: unknown stage ${JSON.stringify(kind)}; stages are drop, json, logfmt, static_labels`);
    }
  });
}

function validate(r: Tree, flags: AgentFlags, cliLabels: Labels, env: NodeJS.ProcessEnv, given: ReadonlySet<string>): AgentConfig {
  const s = r.server as Tree;
  const c = r.client as Tree;
  const pos = r.positions as Tree;
  const k = r.kubernetes as Tree;
  const t = r.tail as Tree;
  const std = r.stdin as Tree;
  const ba = c.basic_auth as Tree;
  const bo = c.backoff as Tree;

  const url = str('client.url', c.url);
  if (url === '') throw new AgentConfigError('client.url is required: the push URL, e.g. http://loki:3100/loki/api/v1/push (flag --client.url)');
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme must be http or https');
  } catch (err) {
    throw new AgentConfigError(`client.url ${JSON.stringify(url)} is not a valid http(s) URL: ${(err as Error).message}`);
  }

  let bearer = str('client.bearer_token', c.bearer_token);
  const bearerFile = str('client.bearer_token_file', c.bearer_token_file);
  if (bearerFile) {
    if (bearer) throw new AgentConfigError('client.bearer_token and client.bearer_token_file are mutually exclusive');
    bearer = readSecret('client.bearer_token_file', bearerFile);
  }
  let basicAuth: AgentConfig['client']['basicAuth'];
  const user = str('client.basic_auth.username', ba.username);
  let pass = str('client.basic_auth.password', ba.password);
  const passFile = str('client.basic_auth.password_file', ba.password_file);
  if (passFile) pass = readSecret('client.basic_auth.password_file', passFile);
  if (user || pass) {
    if (!user) throw new AgentConfigError('client.basic_auth.username is required when a password is set');
    if (bearer) throw new AgentConfigError('client.basic_auth and client.bearer_token are mutually exclusive');
    basicAuth = { username: user, password: pass };
  }

  const batchSize = size('client.batch_size', c.batch_size);
  const maxBuffered = size('client.max_buffered_bytes', c.max_buffered_bytes);
  if (maxBuffered < batchSize) throw new AgentConfigError(`client.max_buffered_bytes (${maxBuffered}) must be at least client.batch_size (${batchSize})`);
  const minMs = durMs('client.backoff.min_period', bo.min_period, 1);
  const maxMs = durMs('client.backoff.max_period', bo.max_period, 1);
  if (maxMs < minMs) throw new AgentConfigError('client.backoff.max_period must be at least client.backoff.min_period');

  const statics = staticTargets(r.static_targets);
  if (flags.paths && flags.paths.length > 0) statics.push({ paths: flags.paths, labels: cliLabels, format: 'plain' });
  const stdinEnabled = flags.stdin === true || bool('stdin.enabled', std.enabled);

  const kEnabledRaw = k.enabled;
  const podsRootGiven = (flags.settings ?? []).some(([key]) => key.replace(/-/g, '_') === 'kubernetes.pods_root');
  if (stdinEnabled && (kEnabledRaw === true || statics.length > 0 || podsRootGiven)) {
    // stdin mode ends when the input ends, which makes no sense beside long-running file targets.
    throw new AgentConfigError('--stdin cannot be combined with file targets (kubernetes, static_targets or --path)');
  }
  const kEnabled = kEnabledRaw === 'auto' ? podsRootGiven || (statics.length === 0 && !stdinEnabled) : bool('kubernetes.enabled', kEnabledRaw);

  const apiServerRaw = str('kubernetes.api_server', k.api_server);
  const host = env.KUBERNETES_SERVICE_HOST;
  const apiServer = apiServerRaw || (host ? `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}` : '');

  if (!kEnabled && statics.length === 0 && !stdinEnabled) {
    throw new AgentConfigError('no targets: enable kubernetes (kubernetes.enabled), add static_targets or --path GLOB, or use --stdin');
  }

  const disableRaw = s.disable;
  if (disableRaw !== 'auto' && typeof disableRaw !== 'boolean') {
    throw new AgentConfigError(`server.disable must be true, false or auto, got ${JSON.stringify(disableRaw)}`);
  }
  // A --stdin run is a short pipe nobody scrapes or probes, and a second agent on a node where the DaemonSet
  // already holds 9080: it listens only when asked to (a port given, or server.disable: false).
  const listenerOn = disableRaw === 'auto' ? !stdinEnabled || given.has('server.http_listen_port') : !disableRaw;
  if (typeof s.http_listen_port === 'number' && s.http_listen_port < 0) {
    throw new AgentConfigError(`server.http_listen_port must be an integer from 0 to 65535, got ${s.http_listen_port}; to run without /metrics and /ready set server.disable: true (flag --server.disable)`);
  }
  return {
    server: {
      enabled: listenerOn,
      address: str('server.http_listen_address', s.http_listen_address),
      port: int('server.http_listen_port', s.http_listen_port, 0, 65535),
      logLevel: oneOf('server.log_level', s.log_level, ['debug', 'info', 'warn', 'error'] as const),
    },
    client: {
      url,
      tenantId: str('client.tenant_id', c.tenant_id),
      batchSize,
      batchWaitMs: durMs('client.batch_wait', c.batch_wait, 1),
      encoding: oneOf('client.encoding', c.encoding, ['protobuf', 'json'] as const),
      gzip: bool('client.gzip', c.gzip),
      bearerToken: bearer,
      basicAuth,
      backoff: { minMs, maxMs, maxRetries: int('client.backoff.max_retries', bo.max_retries, 0) },
      timeoutMs: durMs('client.timeout', c.timeout, 1),
      maxBufferedBytes: maxBuffered,
      externalLabels: labels('client.external_labels', c.external_labels),
    },
    positions: { path: str('positions.path', pos.path), syncPeriodMs: durMs('positions.sync_period', pos.sync_period, 10) },
    targetSyncPeriodMs: durMs('target_config.sync_period', (r.target_config as Tree).sync_period, 10),
    tail: {
      pollIntervalMs: durMs('tail.poll_interval', t.poll_interval, 10),
      watch: bool('tail.watch', t.watch),
      readChunkSize: size('tail.read_chunk_size', t.read_chunk_size, 4096),
    },
    kubernetes: {
      enabled: kEnabled,
      podsRoot: str('kubernetes.pods_root', k.pods_root),
      nodeName: str('kubernetes.node_name', k.node_name) || env.NODE_NAME || hostname(),
      format: oneOf('kubernetes.format', k.format, FORMATS),
      multiline: multiline('kubernetes.multiline', k.multiline),
      apiServer,
      tokenFile: str('kubernetes.token_file', k.token_file),
      caFile: str('kubernetes.ca_file', k.ca_file),
      resyncPeriodMs: durMs('kubernetes.resync_period', k.resync_period, 1000),
      metadataWaitMs: durMs('kubernetes.metadata_wait', k.metadata_wait),
      podLabels: { promote: podLabelKeys(k.pod_labels), all: bool('kubernetes.pod_labels_all', k.pod_labels_all) },
    },
    staticTargets: statics,
    stdin: {
      enabled: stdinEnabled,
      labels: { ...labels('stdin.labels', std.labels), ...cliLabels },
      format: oneOf('stdin.format', std.format, FORMATS),
    },
    pipeline: pipelineStages(r.pipeline),
    limits: { maxLineSize: size('limits.max_line_size', (r.limits as Tree).max_line_size, 64) },
    shutdownTimeoutMs: durMs('shutdown_timeout', r.shutdown_timeout),
  };
}

/**
 * `kubernetes.pod_labels`: a list of pod label keys; a flag's value may also be comma-separated
 * (`--kubernetes.pod-labels team,tier`, repeatable).
 */
function podLabelKeys(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  const items = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(items)) {
    throw new AgentConfigError(`kubernetes.pod_labels must be a list of pod label keys, e.g. [team, app.kubernetes.io/version], got ${JSON.stringify(v)}`);
  }
  const out: string[] = [];
  items.forEach((item, i) => {
    const p = `kubernetes.pod_labels[${i}]`;
    if (typeof item !== 'string') throw new AgentConfigError(`${p} must be a pod label key such as team or app.kubernetes.io/version, got ${JSON.stringify(item)}`);
    for (const part of item.split(',')) {
      const key = part.trim();
      if (key === '*') throw new AgentConfigError(`${p}: "*" is not a label key; to keep every pod label set kubernetes.pod_labels_all: true`);
      if (!isPodLabelKey(key)) {
        throw new AgentConfigError(`${p}: ${JSON.stringify(key)} is not a Kubernetes label key: expected [prefix/]name, name up to 63 characters of [A-Za-z0-9_.-] starting and ending alphanumeric, e.g. team or app.kubernetes.io/version`);
      }
      if (BASE_POD_TARGET_LABELS.includes(key)) {
        throw new AgentConfigError(`${p}: ${JSON.stringify(key)} is set by the agent itself (${BASE_POD_TARGET_LABELS.join(', ')}); a pod label of that name can never win`);
      }
      out.push(key);
    }
  });
  return out;
}

function readSecret(path: string, file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new AgentConfigError(`${path}: cannot read ${file}: ${(err as Error).message}`);
  }
}
