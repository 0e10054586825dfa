import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ParseError } from '../../../query/parse-error.js';
import { parseSelector } from '../../../query/parser.js';
import type { Logger } from '../../model/logger.js';
import type { PatternSource } from '../../querier/pattern-source.js';
import { BadQueryError } from '../../querier/querier.js';
import { durationParam, rangeParams } from '../query-params.js';
import { RequestParams } from '../request-params.js';
import { tenantOf } from '../tenant.js';
import { NOT_READY, queryErrorReply, requestSignal } from './query.js';

export interface PatternRouteDeps {
  /** pattern_ingester.enabled: off, the endpoint answers 404 as Loki's does without a pattern ingester. */
  enabled: boolean;
  source: PatternSource;
  authEnabled: boolean;
  isReady: () => boolean;
  log: Logger;
  stopping?: AbortSignal;
}

/** Counts are kept per 10 s: a finer step could only repeat them. */
const MIN_STEP_MS = 10_000;
const SECOND_NS = 1_000_000_000n;

/** `query`, `start`, `end`, `step` of GET /loki/api/v1/patterns, as ms; step defaults as query_range's does. */
export function patternParams(p: RequestParams): { query: string; startMs: number; endMs: number; stepMs: number } {
  const query = p.get('query');
  if (query === undefined || query.trim() === '') throw new BadQueryError('missing parameter "query": a stream selector such as {service_name="api"} is required');
  const { start, end } = rangeParams(p);
  let step = durationParam(p, 'step');
  if (step === undefined) {
    const secs = (end - start) / SECOND_NS / 250n;
    step = (secs > 1n ? secs : 1n) * SECOND_NS;
  }
  if (step <= 0n) throw new BadQueryError('zero or negative query resolution step widths are not accepted. Try a positive integer');
  const stepMs = Math.max(MIN_STEP_MS, Number(step / 1_000_000n));
  return { query, startMs: Number(start / 1_000_000n), endMs: Number(end / 1_000_000n), stepMs };
}

/**
 * GET /loki/api/v1/patterns: the log patterns of the streams a selector matches, with how many lines each
 * had per step in [start, end) — Loki's shape, `{"status":"success","data":[{"pattern","level"?,"samples":
 * [[unix seconds, count], …]}]}`, most frequent pattern first.
 */
export function patternRoutes(app: FastifyInstance, deps: PatternRouteDeps): void {
  const h = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenantOf(req, reply, deps.authEnabled);
    if (tenant === null) return reply;
    if (!deps.enabled) return reply.code(404).type('text/plain').send('pattern ingester is not enabled: set pattern_ingester.enabled: true (--pattern-ingester.enabled=true)\n');
    if (!deps.isReady()) return reply.code(503).type('text/plain').send(NOT_READY);
    const { signal, done } = requestSignal(reply, deps.stopping);
    try {
      const q = patternParams(new RequestParams(req));
      let matchers;
      try {
        matchers = parseSelector(q.query);
      } catch (err) {
        if (err instanceof ParseError) throw new BadQueryError(err.message);
        throw err;
      }
      const series = await deps.source.query(tenant, matchers, q.startMs, q.endMs, q.stepMs, signal);
      const data = series.map((s) => {
        const samples = s.samples.map(([t, v]) => [Math.floor(t / 1000), v]);
        return s.level ? { pattern: s.pattern, level: s.level, samples } : { pattern: s.pattern, samples };
      });
      return { status: 'success', data };
    } catch (err) {
      const answered = queryErrorReply(reply, err);
      if (answered) return answered;
      deps.log.error('patterns query failed', { err: (err as Error).message });
      return reply.code(500).type('text/plain').send(`patterns query failed: ${(err as Error).message}\n`);
    } finally {
      done();
    }
  };
  app.get('/loki/api/v1/patterns', h);
  app.post('/loki/api/v1/patterns', h);
}
