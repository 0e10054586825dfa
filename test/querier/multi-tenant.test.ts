import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { SelectParams, StreamData } from '../../query/source.js';
import type { Limits } from '../../src/config/config.js';
import { MultiTenantLogSource, queryTenants, strictestLimits, tenantSelections, withTenant } from '../../src/querier/multi-tenant.js';

describe('tenantSelections', () => {
  it('keeps the tenants every __tenant_id__ matcher accepts and strips those matchers', () => {
    const app = { name: 'app', op: '=' as const, value: 'x' };
    expect(tenantSelections(['a', 'b', 'c'], [app])).toEqual(['a', 'b', 'c'].map((tenant) => ({ tenant, matchers: [app] })));
    expect(tenantSelections(['a', 'b', 'c'], [app, { name: '__tenant_id__', op: '=~', value: 'a|c' }, { name: '__tenant_id__', op: '!=', value: 'c' }])).toEqual([{ tenant: 'a', matchers: [app] }]);
    // Regexes are anchored, as for every matcher.
    expect(tenantSelections(['ab', 'b'], [{ name: '__tenant_id__', op: '=~', value: 'b' }]).map((s) => s.tenant)).toEqual(['b']);
  });

  it('queryTenants splits only a joined list', () => {
    expect(queryTenants('a')).toBeNull();
    expect(queryTenants('a|b')).toEqual(['a', 'b']);
  });

  it('withTenant copies the labels and adds the tenant', () => {
    const l = { app: 'x' };
    expect({ ...withTenant(l, 't') }).toEqual({ app: 'x', __tenant_id__: 't' });
    expect(l).toEqual({ app: 'x' });
  });
});

describe('strictestLimits', () => {
  it('takes the smallest of each query limit, with 0 bytes read meaning no limit', () => {
    const base = { maxEntriesLimitPerQuery: 5000, maxQuerySeries: 500, maxQueryBytesRead: 0, queryTimeoutMs: 60_000, maxTemplateOutputSize: 100, maxQueryLength: 100n } as Limits;
    const got = strictestLimits([base, { ...base, maxEntriesLimitPerQuery: 10, maxQueryBytesRead: 1000, maxQueryLength: 50n }, { ...base, queryTimeoutMs: 5, maxQueryBytesRead: 0 }]);
    expect(got).toMatchObject({ maxEntriesLimitPerQuery: 10, maxQuerySeries: 500, maxQueryBytesRead: 1000, queryTimeoutMs: 5, maxQueryLength: 50n });
  });
});

describe('MultiTenantLogSource', () => {
  function fake(tenant: string, seen: SelectParams[]): { select(p: SelectParams): AsyncIterable<StreamData> } {
    return {
      async *select(p: SelectParams) {
        seen.push(p);
        yield { labels: { app: 'x', from: tenant }, batches: (async function* () {})() };
      },
    };
  }

  it('labels each tenant stream and asks each tenant without the tenant matchers', async () => {
    const seen: SelectParams[] = [];
    const src = new MultiTenantLogSource([
      { tenant: 'a', source: fake('a', seen) },
      { tenant: 'b', source: fake('b', seen) },
    ]);
    const out: Record<string, string>[] = [];
    const params: SelectParams = { matchers: [{ name: 'app', op: '=', value: 'x' }, { name: '__tenant_id__', op: '!=', value: 'a' }], start: 0n, end: 1n, direction: 'forward' };
    for await (const s of src.select(params)) out.push({ ...s.labels });
    expect(out).toEqual([{ app: 'x', from: 'b', __tenant_id__: 'b' }]);
    expect(seen.map((p) => p.matchers)).toEqual([[{ name: 'app', op: '=', value: 'x' }]]);
  });
});

describe('querier.multi_tenant_queries_enabled', () => {
  it('defaults to false, is set by flag or environment, and refuses what is not a boolean', () => {
    expect(loadConfig([], {}).querier.multiTenantQueriesEnabled).toBe(false);
    expect(loadConfig(['--querier.multi-tenant-queries-enabled'], {}).querier.multiTenantQueriesEnabled).toBe(true);
    expect(loadConfig([], { NARVI_QUERIER_MULTI_TENANT_QUERIES_ENABLED: 'true' }).querier.multiTenantQueriesEnabled).toBe(true);
    expect(() => loadConfig(['--querier.multi-tenant-queries-enabled', 'maybe'], {})).toThrow(/querier\.multi_tenant_queries_enabled/);
  });
});
