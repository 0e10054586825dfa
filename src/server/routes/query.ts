import type { FastifyInstance } from 'fastify';
import { isLogExpr } from '../../../query/ast.js';
import { ParseError } from '../../../query/parse-error.js';
import { parseExpr } from '../../../query/parser.js';
import { printExpr } from '../../../query/printer.js';
import { toLokiData } from '../../../query/result-json.js';
import type { Labels } from '../../model/labels.js';
import type { Logger } from '../../model/logger.js';
import type { QueryGate } from '../../querier/query-gate.js';
import { BadQueryError, type Querier } from '../../querier/querier.js';
import { alignToStep, instantParams, limitParam, queryRangeParams, rangeParams, requireQuery } from '../query-params.js';
import { RequestParams } from '../request-params.js';
import { queryRoute } from './query-route.js';

export interface QueryRouteDeps {
  querier: Querier;
  /** Bounds the queries that read data at once (querier.max_concurrent); none: unbounded. */
  gate?: QueryGate;
  authEnabled: boolean;
  /** Until the WAL has been replayed, answers would silently miss data: refuse with 503 instead. */
  isReady: () => boolean;
  log: Logger;
  /** Aborted when the server begins to stop: queries still running end at once (503). */
  stopping?: AbortSignal;
  /** querier.multi_tenant_queries_enabled: `X-Scope-OrgID: a|b` queries several tenants at once. */
  multiTenant?: boolean;
}

/**
 * Loki 3 answers a query that succeeded with part of its data missing with a top-level `warnings` list
 * (Grafana shows it beside the result); none is sent when there is nothing to say.
 */
function withWarnings<T extends object>(body: T, warnings: string[], log: Logger): T & { warnings?: string[] } {
  if (warnings.length === 0) return body;
  log.warn('query skipped damaged chunks', { chunks: warnings.length, first: warnings[0] });
  return { ...body, warnings };
}

/** Volumes group by `targetLabels` when given, else by the label names the selector mentions (as Loki). */
function volumeBy(p: RequestParams, matchers: { name: string }[]): string[] {
  const target = p.get('targetLabels')?.split(',').map((s) => s.trim()).filter(Boolean);
  return target && target.length > 0 ? target : [...new Set(matchers.map((m) => m.name))];
}

/** `aggregateBy` of the volume endpoints: `series` (the default) or `labels`, as Loki. */
function aggregateByParam(p: RequestParams): 'series' | 'labels' {
  const v = p.get('aggregateBy');
  if (v === undefined || v === 'series' || v === 'labels') return v ?? 'series';
  throw new BadQueryError(`invalid aggregation option ${JSON.stringify(v)}: parameter "aggregateBy" must be "series" or "labels"`);
}

/** The names a volume groups by: in `labels` mode only `targetLabels` narrows them (none given: every label). */
function targetLabels(p: RequestParams): string[] {
  return p.get('targetLabels')?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
}

/** Loki's order for volumes: biggest first, equal ones by name. */
function byVolume<T>(bytes: (g: T) => number, name: (g: T) => string): (a: T, b: T) => number {
  return (a, b) => bytes(b) - bytes(a) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);
}

/** The Loki read API: each route answers JSON on success, 400 plain text for what the user can fix. */
export { NOT_READY, queryErrorReply, requestSignal } from './query-route.js';

export function queryRoutes(app: FastifyInstance, deps: QueryRouteDeps): void {
  const { querier } = deps;
  const gated = <T>(tenant: string, fn: () => Promise<T>): Promise<T> => (deps.gate ? deps.gate.run(tenant, fn) : fn());
  const route = queryRoute(app, deps, 'query failed');

  route('/loki/api/v1/query_range', async (p, tenant, signal) => {
    const expr = querier.parse(requireQuery(p));
    const params = queryRangeParams(p);
    if (!isLogExpr(expr)) Object.assign(params, alignToStep(params.start, params.end, params.step));
    const result = await gated(tenant, () => querier.query(tenant, expr, params, signal));
    return withWarnings({ status: 'success', data: toLokiData(result) }, result.warnings, deps.log);
  });

  route('/loki/api/v1/query', async (p, tenant, signal) => {
    const expr = querier.parse(requireQuery(p));
    // A log query here is refused by the engine (InstantLogQueryError → 400).
    const params = instantParams(p);
    const result = await gated(tenant, () => querier.query(tenant, expr, params, signal));
    return withWarnings({ status: 'success', data: toLokiData(result) }, result.warnings, deps.log);
  });

  route('/loki/api/v1/labels', async (p, tenant, signal) => {
    const { start, end } = rangeParams(p);
    return { status: 'success', data: await querier.labelNames(tenant, start, end, p.get('query'), signal) };
  });

  route('/loki/api/v1/label/:name/values', async (p, tenant, signal, req) => {
    const { start, end } = rangeParams(p);
    const name = (req.params as { name: string }).name;
    return { status: 'success', data: await querier.labelValues(tenant, name, start, end, p.get('query'), signal) };
  });

  route('/loki/api/v1/series', async (p, tenant, signal) => {
    const { start, end } = rangeParams(p);
    const matches = p.all('match[]').concat(p.all('match'));
    if (matches.length === 0) throw new BadQueryError('missing parameter "match[]": at least one stream selector such as {app="x"} is required');
    return { status: 'success', data: await querier.series(tenant, matches, start, end, signal) };
  });

  route('/loki/api/v1/index/stats', async (p, tenant, signal) => {
    const { start, end } = rangeParams(p);
    const streams = await querier.streamsInRange(tenant, querier.parseMatchers(requireQuery(p)), start, end, signal);
    let chunks = 0;
    let bytes = 0;
    let entries = 0;
    for (const s of streams) {
      chunks += s.chunks;
      bytes += s.bytes;
      entries += s.entries;
    }
    return { streams: streams.length, chunks, bytes, entries };
  });

  const volume = async (p: RequestParams, tenant: string, signal: AbortSignal) => {
    const { start, end } = rangeParams(p);
    const matchers = querier.parseMatchers(requireQuery(p));
    const aggregateBy = aggregateByParam(p);
    const by = aggregateBy === 'labels' ? targetLabels(p) : volumeBy(p, matchers);
    const groups = new Map<string, { metric: Labels; bytes: number }>();
    const add = (metric: Labels, bytes: number) => {
      const key = JSON.stringify(metric);
      const g = groups.get(key);
      if (g) g.bytes += bytes;
      else groups.set(key, { metric, bytes });
    };
    for (const s of await querier.streamsInRange(tenant, matchers, start, end, signal)) {
      if (aggregateBy === 'labels') {
        // Each stream counts once under every label name it carries.
        for (const n of by.length > 0 ? by : Object.keys(s.labels)) if (s.labels[n] !== undefined) add({ [n]: '' }, s.bytes);
        continue;
      }
      const metric: Labels = {};
      for (const n of by) if (s.labels[n] !== undefined) metric[n] = s.labels[n]!;
      add(metric, s.bytes);
    }
    const limit = limitParam(p, 100);
    const sorted = [...groups.entries()].sort(byVolume(([, g]) => g.bytes, ([k]) => k));
    return sorted.map(([, g]) => g).slice(0, limit || undefined);
  };

  route('/loki/api/v1/index/volume', async (p, tenant, signal) => {
    const { end } = rangeParams(p);
    const t = Number(end / 1_000_000n) / 1000;
    const result = (await volume(p, tenant, signal)).map((g) => ({ metric: g.metric, value: [t, String(g.bytes)] }));
    return { status: 'success', data: { resultType: 'vector', result } };
  });

  route('/loki/api/v1/index/volume_range', async (p, tenant, signal) => {
    const { start, end, step } = queryRangeParams(p);
    const matchers = querier.parseMatchers(requireQuery(p));
    const aggregateBy = aggregateByParam(p);
    const by = aggregateBy === 'labels' ? targetLabels(p) : volumeBy(p, matchers);
    const series = await querier.volumeRange(tenant, matchers, by, start, end, step, signal, aggregateBy);
    const limit = limitParam(p, 100);
    const total = (v: number[]) => v.reduce((a, b) => a + b, 0);
    const result = series
      .sort((a, b) => total(b.values) - total(a.values))
      .slice(0, limit || undefined)
      .map((g) => ({
        metric: g.metric,
        values: g.values.flatMap((v, i) => (v > 0 ? [[Number((start + BigInt(i) * step) / 1_000_000n) / 1000, String(v)] as [number, string]] : [])),
      }));
    return { status: 'success', data: { resultType: 'matrix', result } };
  });

  route('/loki/api/v1/format_query', async (p) => {
    const q = requireQuery(p);
    try {
      return { status: 'success', data: printExpr(parseExpr(q)) };
    } catch (err) {
      if (err instanceof ParseError) throw new BadQueryError(err.message);
      throw err;
    }
  });
}
