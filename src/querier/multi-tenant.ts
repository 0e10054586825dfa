import type { Matcher } from '../../query/ast.js';
import { compileMatcher } from '../../query/regex.js';
import type { LogSource, SelectParams, StreamData } from '../../query/source.js';
import type { ParallelRunner } from '../../query/parallel.js';
import type { Limits } from '../config/config.js';
import type { Labels } from '../model/labels.js';

/** The label a multi-tenant query gives every stream: the tenant it came from (Loki's name). */
export const TENANT_LABEL = '__tenant_id__';

/**
 * The tenants a query names: one, or several joined by `|` (see server/query-tenants.ts, the only place
 * that builds such a string, after validating each ID; `|` cannot occur in a tenant ID).
 */
export function queryTenants(tenant: string): string[] | null {
  return tenant.includes('|') ? tenant.split('|') : null;
}

/**
 * Which of `tenants` a selector reads, and the selector without its `__tenant_id__` matchers (which no
 * stored stream carries): a tenant is read when its ID passes every such matcher.
 */
export function tenantSelections(tenants: string[], matchers: Matcher[]): { tenant: string; matchers: Matcher[] }[] {
  const onTenant = matchers.filter((m) => m.name === TENANT_LABEL).map(compileMatcher);
  const rest = matchers.filter((m) => m.name !== TENANT_LABEL);
  return tenants.filter((t) => onTenant.every((test) => test(t))).map((tenant) => ({ tenant, matchers: rest }));
}

/** `labels` with the tenant label added (a null-prototype copy, as every label set here). */
export function withTenant(labels: Labels, tenant: string): Labels {
  return Object.assign(Object.create(null) as Labels, labels, { [TENANT_LABEL]: tenant });
}

/**
 * The limits a query over several tenants runs under: the strictest of theirs, so naming a second
 * tenant never buys a query more than either tenant alone may have.
 */
export function strictestLimits(all: Limits[]): Limits {
  const min = (pick: (l: Limits) => number) => Math.min(...all.map(pick));
  const minBig = (pick: (l: Limits) => bigint) => all.map(pick).reduce((a, b) => (b < a ? b : a));
  // 0 means no limit for max_query_bytes_read: the smallest non-zero one wins.
  const bytesRead = all.map((l) => l.maxQueryBytesRead).filter((n) => n > 0);
  return {
    ...all[0]!,
    maxEntriesLimitPerQuery: min((l) => l.maxEntriesLimitPerQuery),
    maxQuerySeries: min((l) => l.maxQuerySeries),
    maxQueryBytesRead: bytesRead.length > 0 ? Math.min(...bytesRead) : 0,
    queryTimeoutMs: min((l) => l.queryTimeoutMs),
    maxTemplateOutputSize: min((l) => l.maxTemplateOutputSize),
    maxQueryLength: minBig((l) => l.maxQueryLength),
  };
}

/**
 * One engine source over several tenants' sources: each tenant's streams, labelled with its ID, for the
 * tenants the selector's `__tenant_id__` matchers let through. Tenants are read one after another; the
 * engine merges streams by time as it does within one tenant.
 */
export class MultiTenantLogSource implements LogSource {
  /** `parallel`: the worker pool over every part's streams (see MultiTenantParallelRunner). */
  constructor(
    private readonly parts: { tenant: string; source: LogSource }[],
    readonly parallel?: ParallelRunner,
  ) {}

  select(params: SelectParams): AsyncIterable<StreamData> {
    return this.streams(params, false);
  }

  selectBackward(params: SelectParams): AsyncIterable<StreamData> {
    return this.streams(params, true);
  }

  private async *streams(params: SelectParams, backward: boolean): AsyncIterable<StreamData> {
    const byTenant = new Map(this.parts.map((p) => [p.tenant, p.source]));
    for (const { tenant, matchers } of tenantSelections([...byTenant.keys()], params.matchers)) {
      const source = byTenant.get(tenant)!;
      const sub = { ...params, matchers };
      const streams = backward && source.selectBackward ? source.selectBackward(sub) : source.select(sub);
      for await (const s of streams) yield { labels: withTenant(s.labels, tenant), batches: s.batches };
    }
  }
}
