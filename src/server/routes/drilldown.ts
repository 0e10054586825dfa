import type { FastifyInstance } from 'fastify';
import type { LogSelectorExpr } from '../../../query/ast.js';
import type { Limits } from '../../config/config.js';
import { VERSION } from '../../model/version.js';
import { detectedFieldValues, detectFields } from '../../querier/detected-fields.js';
import { detectLabels } from '../../querier/detected-labels.js';
import { sampleFields } from '../../querier/field-sample.js';
import { QueryLifetime } from '../../querier/query-lifetime.js';
import { BadQueryError, type Querier } from '../../querier/querier.js';
import { publishedLimits } from '../drilldown-limits.js';
import { rangeParams, requireQuery } from '../query-params.js';
import { RequestParams } from '../request-params.js';
import { tenantOf } from '../tenant.js';
import { queryRoute } from './query-route.js';
import type { QueryRouteDeps } from './query.js';

export interface DrilldownRouteDeps extends QueryRouteDeps {
  /** The tenant's effective limits. */
  limits: (tenant: string) => Limits;
  /** The `limits` section as written (defaults, file, flags), for settings published as they are. */
  rawLimits: Record<string, unknown>;
  /** Whether `/loki/api/v1/patterns` answers (Drilldown hides its Patterns tab otherwise). */
  patternIngesterEnabled: () => boolean;
}

/**
 * Loki's defaults (pkg/loghttp): the field endpoints sample the newest 100 lines (`line_limit`, the same
 * default as a query's `limit`) and list at most 1000 fields or values (`limit`).
 */
const DEFAULT_LINE_LIMIT = 100;
const DEFAULT_LIMIT = 1000;

/** A positive integer parameter (Loki parses these as uint32), or its default when absent. */
function positiveParam(p: RequestParams, name: string, dflt: number): number {
  const v = p.get(name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) === 0 || Number(v) > 0xffffffff) {
    throw new BadQueryError(`invalid parameter "${name}": ${JSON.stringify(v)} must be a positive integer`);
  }
  return Number(v);
}

/** The `query` of the field endpoints: a log query (a selector and its pipeline), not a metric query. */
function logQueryParam(querier: Querier, p: RequestParams): LogSelectorExpr {
  const expr = querier.parse(requireQuery(p));
  if (expr.kind !== 'log') {
    throw new BadQueryError('invalid parameter "query": expected a log query (a stream selector with an optional pipeline such as {app="x"} | json), got a metric query');
  }
  return expr;
}

/**
 * Grafana Logs Drilldown's endpoints (Loki 3.7 shapes, answered without the `{status, data}` envelope as
 * Loki does): detected_labels, detected_fields, detected_field/<name>/values and drilldown-limits.
 * Patterns live with the pattern miner. The field endpoints sample at most `line_limit` newest lines with
 * an ordinary log query, so the tenant's query timeout, entry and byte limits bound them.
 */
export function drilldownRoutes(app: FastifyInstance, deps: DrilldownRouteDeps): void {
  const { querier } = deps;
  const gated = <T>(tenant: string, fn: () => Promise<T>): Promise<T> => (deps.gate ? deps.gate.run(tenant, fn) : fn());
  const route = queryRoute(app, deps, 'drilldown request failed');

  route('/loki/api/v1/detected_labels', async (p, tenant, signal) => {
    const { start, end } = rangeParams(p);
    const q = p.get('query');
    const matchers = q === undefined ? null : querier.parseMatchers(q);
    const streams = await gated(tenant, () => querier.streamsInRange(tenant, matchers, start, end, signal));
    const detected = detectLabels(streams.map((s) => s.labels));
    // Loki leaves an empty list out of its JSON.
    return detected.length > 0 ? { detectedLabels: detected } : {};
  });

  /**
   * Samples and reads the lines under one lifetime: the tenant's query timeout covers the query and the
   * parsing after it, and the client leaving stops both.
   */
  const withLifetime = async <T>(tenant: string, signal: AbortSignal, fn: (life: QueryLifetime) => Promise<T>): Promise<T> => {
    const life = new QueryLifetime(deps.limits(tenant).queryTimeoutMs, signal);
    try {
      return await gated(tenant, () => fn(life));
    } catch (err) {
      throw life.outcome(err);
    } finally {
      life.end();
    }
  };

  route('/loki/api/v1/detected_fields', async (p, tenant, signal) => {
    const expr = logQueryParam(querier, p);
    const { start, end } = rangeParams(p);
    const lineLimit = positiveParam(p, 'line_limit', DEFAULT_LINE_LIMIT);
    // `field_limit` is the name Loki 3.0–3.2 used; `limit` wins when both are given.
    const limit = p.get('limit') !== undefined ? positiveParam(p, 'limit', DEFAULT_LIMIT) : positiveParam(p, 'field_limit', DEFAULT_LIMIT);
    const fields = await withLifetime(tenant, signal, async (life) => detectFields(await sampleFields(querier, tenant, expr, start, end, lineLimit, life.signal), limit, life));
    // As Loki, the limit is reported only beside something it limited.
    return fields.length > 0 ? { fields, limit } : {};
  });

  route('/loki/api/v1/detected_field/:name/values', async (p, tenant, signal, req) => {
    const name = (req.params as { name: string }).name;
    const expr = logQueryParam(querier, p);
    const { start, end } = rangeParams(p);
    const lineLimit = positiveParam(p, 'line_limit', DEFAULT_LINE_LIMIT);
    const limit = positiveParam(p, 'limit', DEFAULT_LIMIT);
    const values = await withLifetime(tenant, signal, async (life) => detectedFieldValues(await sampleFields(querier, tenant, expr, start, end, lineLimit, life.signal), name, limit, life));
    return values.length > 0 ? { values, limit } : {};
  });

  app.get('/loki/api/v1/drilldown-limits', async (req, reply) => {
    const tenant = tenantOf(req, reply, deps.authEnabled);
    if (tenant === null) return reply;
    return {
      limits: publishedLimits(deps.limits(tenant), deps.rawLimits),
      pattern_ingester_enabled: deps.patternIngesterEnabled(),
      version: VERSION,
    };
  });
}
