import type { FastifyInstance } from 'fastify';
import type { LogSelectorExpr } from '../../../query/ast.js';
import type { Logger } from '../../model/logger.js';
import { formatRFC3339Nano } from '../../model/time.js';
import { canonicalLabels } from '../../model/labels.js';
import { toLokiStats } from '../../../query/result-json.js';
import type { QueryGate } from '../../querier/query-gate.js';
import { BadQueryError, type Querier } from '../../querier/querier.js';
import { queryRangeParams, rangeParams, requireQuery } from '../query-params.js';
import { queryRoute } from './query-route.js';
import { withRegexp } from '../legacy-regexp.js';

export interface LegacyRouteDeps {
  querier: Querier;
  gate?: QueryGate;
  authEnabled: boolean;
  /** querier.multi_tenant_queries_enabled: `X-Scope-OrgID: a|b` reads several tenants at once. */
  multiTenant: boolean;
  isReady: () => boolean;
  log: Logger;
  stopping?: AbortSignal;
}


/**
 * Loki's pre-v1 read API under `/api/prom/…`, for old clients: log queries answer
 * `{"streams":[{"labels":"{…}","entries":[{"ts":"<RFC3339Nano>","line":"…"}]}],"stats":{…}}`, label
 * endpoints `{"values":[…]}`, series the v1 shape (Loki serves both paths from one handler).
 */
export function legacyRoutes(app: FastifyInstance, deps: LegacyRouteDeps): void {
  const { querier } = deps;
  const gated = <T>(tenant: string, fn: () => Promise<T>): Promise<T> => (deps.gate ? deps.gate.run(tenant, fn) : fn());
  const route = queryRoute(app, deps, 'query failed');

  route('/api/prom/query', async (p, tenant, signal) => {
    const expr = querier.parse(withRegexp(requireQuery(p), p.get('regexp')));
    if (expr.kind !== 'log') throw new BadQueryError('legacy endpoints only support streams result type');
    const params = queryRangeParams(p);
    const result = await gated(tenant, () => querier.query(tenant, expr as LogSelectorExpr, params, signal));
    if (result.type !== 'streams') throw new BadQueryError('legacy endpoints only support streams result type');
    return {
      streams: result.streams.map((s) => ({ labels: canonicalLabels(s.labels), entries: s.entries.map((e) => ({ ts: formatRFC3339Nano(e.ts), line: e.line })) })),
      stats: toLokiStats(result.stats),
    };
  });

  route('/api/prom/label', async (p, tenant, signal) => {
    const { start, end } = rangeParams(p);
    return { values: await querier.labelNames(tenant, start, end, p.get('query'), signal) };
  });

  route('/api/prom/label/:name/values', async (p, tenant, signal, req) => {
    const { start, end } = rangeParams(p);
    const name = (req.params as { name: string }).name;
    return { values: await querier.labelValues(tenant, name, start, end, p.get('query'), signal) };
  });

  route('/api/prom/series', async (p, tenant, signal) => {
    const { start, end } = rangeParams(p);
    const matches = p.all('match[]').concat(p.all('match'));
    if (matches.length === 0) throw new BadQueryError('missing parameter "match[]": at least one stream selector such as {app="x"} is required');
    return { status: 'success', data: await querier.series(tenant, matches, start, end, signal) };
  });
}
