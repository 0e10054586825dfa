import { readFileSync } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';
import YAML from 'yaml';
import type { Logger } from '../model/logger.js';
import type { Config, Limits } from './config.js';
import { DEFAULTS, type RawConfig } from './defaults.js';
import { ConfigError, validate } from './load.js';

/** The limits that apply to one tenant. */
export interface TenantLimits {
  forTenant(tenant: string): Limits;
}

/** The same limits for every tenant (tests, and components built without an overrides file). */
export function fixedLimits(limits: Limits): TenantLimits {
  return { forTenant: () => limits };
}

/** Components take either plain limits or per-tenant ones. */
export function tenantLimits(l: Limits | TenantLimits): TenantLimits {
  return 'forTenant' in l && typeof l.forTenant === 'function' ? l : fixedLimits(l as Limits);
}

// Where the file is found and how often it is read are process settings, not a tenant's.
const NOT_PER_TENANT = new Set(['per_tenant_override_config', 'per_tenant_override_period']);

/**
 * Parses a runtime overrides file, Loki's runtime_config shape: `overrides: { <tenant>: { <limits key>: value } }`.
 * Each tenant's keys overlay the configured limits (`raw.limits`) and the result is checked exactly as
 * the limits block of the main configuration is, so an override can set any limits key.
 */
export function parseOverrides(text: string, source: string, raw: RawConfig): Map<string, Limits> {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`${source} is not valid YAML: ${(err as Error).message}`);
  }
  const out = new Map<string, Limits>();
  if (doc === null || doc === undefined) return out;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${source} must be a YAML mapping with an "overrides" key, got ${JSON.stringify(doc)}`);
  for (const k of Object.keys(doc)) {
    if (k !== 'overrides') throw new ConfigError(`${source}: unknown key ${JSON.stringify(k)}; the file holds "overrides: { <tenant>: { <limits key>: value } }"`);
  }
  const overrides = (doc as Record<string, unknown>).overrides;
  if (overrides === null || overrides === undefined) return out;
  if (typeof overrides !== 'object' || Array.isArray(overrides)) throw new ConfigError(`${source}: overrides must be a mapping of tenant to limits, got ${JSON.stringify(overrides)}`);
  const known = Object.keys(DEFAULTS.limits).filter((k) => !NOT_PER_TENANT.has(k));
  for (const [tenant, over] of Object.entries(overrides as Record<string, unknown>)) {
    if (over === null || over === undefined) continue;
    const at = `${source}: overrides.${JSON.stringify(tenant)}`;
    if (typeof over !== 'object' || Array.isArray(over)) throw new ConfigError(`${at} must be a mapping of limits keys, got ${JSON.stringify(over)}`);
    for (const k of Object.keys(over)) {
      if (NOT_PER_TENANT.has(k)) throw new ConfigError(`${at}.${k} cannot be set per tenant`);
      if (!known.includes(k)) throw new ConfigError(`${at}: unknown limits key ${JSON.stringify(k)}; per-tenant keys are ${known.join(', ')}`);
    }
    try {
      out.set(tenant, validate({ ...raw, limits: { ...raw.limits, ...(over as Partial<RawConfig['limits']>) } }).limits);
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`${at}: ${err.message}`);
      throw err;
    }
  }
  return out;
}

/**
 * The per-tenant overrides file, re-read every `runtimeConfig.periodMs`. A file that cannot be read or is
 * wrong at start stops the start; at a reload it keeps the overrides in force, logs the error and counts
 * it (narvi_runtime_config_last_reload_successful 0), so a typo never resets tenants to the defaults.
 */
export class RuntimeOverrides implements TenantLimits {
  private byTenant = new Map<string, Limits>();
  private lastText: string | null = null;
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly reloads?: Counter<'status'>;
  private readonly lastOk?: Gauge;

  constructor(
    private readonly cfg: Pick<Config, 'limits' | 'runtimeConfig' | 'raw'>,
    private readonly log?: Logger,
    registry?: Registry,
  ) {
    if (registry) {
      this.reloads = new Counter({ name: 'narvi_runtime_config_reloads_total', help: 'Reads of the per-tenant overrides file, by outcome (success, failure).', labelNames: ['status'], registers: [registry] });
      this.lastOk = new Gauge({ name: 'narvi_runtime_config_last_reload_successful', help: '1 when the last read of the per-tenant overrides file succeeded, 0 when it failed (the previous overrides stay in force).', registers: [registry] });
    }
    if (cfg.runtimeConfig.file) this.load();
  }

  /** Reads the file now; throws a ConfigError (and keeps what was in force) when it is unreadable or wrong. */
  load(): void {
    const file = this.cfg.runtimeConfig.file;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read per-tenant overrides file ${file} (limits.per_tenant_override_config): ${(err as Error).message}`);
    }
    if (text === this.lastText) return;
    this.byTenant = parseOverrides(text, `per-tenant overrides file ${file}`, this.cfg.raw);
    this.lastText = text;
  }

  /** Re-reads the file every period until stop(). */
  start(): void {
    if (!this.cfg.runtimeConfig.file || this.timer) return;
    this.lastOk?.set(1);
    this.timer = setInterval(() => this.reload(), this.cfg.runtimeConfig.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One periodic read: true when the file is in force (changed or not), false when it was refused. */
  reload(): boolean {
    const before = this.lastText;
    try {
      this.load();
    } catch (err) {
      this.reloads?.inc({ status: 'failure' });
      this.lastOk?.set(0);
      // Logged once per distinct error, not every period while the file stays wrong.
      const message = (err as Error).message;
      if (message !== this.lastError) this.log?.error('per-tenant overrides file refused; the previous overrides stay in force', { file: this.cfg.runtimeConfig.file, err: message });
      this.lastError = message;
      return false;
    }
    this.lastError = null;
    this.reloads?.inc({ status: 'success' });
    this.lastOk?.set(1);
    if (this.lastText !== before) this.log?.info('per-tenant overrides reloaded', { file: this.cfg.runtimeConfig.file, tenants: this.byTenant.size });
    return true;
  }

  forTenant(tenant: string): Limits {
    return this.byTenant.get(tenant) ?? this.cfg.limits;
  }

  /** Tenants the file names. */
  tenants(): string[] {
    return [...this.byTenant.keys()];
  }
}
