import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../model/logger.js';
import { TooManyOutstandingError } from '../../querier/query-gate.js';
import { BadQueryError } from '../../querier/querier.js';
import { clientGone, QueryCancelledError, QueryTimeoutError } from '../../querier/query-lifetime.js';
import { queryTenant } from '../query-tenants.js';
import { RequestParams } from '../request-params.js';

export const NOT_READY = 'not ready: the server is still replaying its WAL; retry shortly\n';

/**
 * A signal for one request's query: aborted when its client goes away before the answer was sent (nobody
 * would read it) or when the server stops. Call `done` once the request is answered.
 */
export function requestSignal(reply: FastifyReply, stopping?: AbortSignal): { signal: AbortSignal; done: () => void } {
  const ctl = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) ctl.abort(clientGone());
  };
  const onStop = () => ctl.abort(stopping?.reason);
  reply.raw.on('close', onClose);
  if (stopping?.aborted) onStop();
  else stopping?.addEventListener('abort', onStop, { once: true });
  return {
    signal: ctl.signal,
    done: () => {
      reply.raw.off('close', onClose);
      stopping?.removeEventListener('abort', onStop);
    },
  };
}

/** The HTTP answer for a query that failed: 400 for what the user can fix, Loki's 504 past the timeout. */
export function queryErrorReply(reply: FastifyReply, err: unknown): FastifyReply | null {
  if (err instanceof BadQueryError) return reply.code(400).type('text/plain').send(err.message + '\n');
  if (err instanceof QueryTimeoutError) return reply.code(504).type('text/plain').send(err.message + '\n');
  if (err instanceof QueryCancelledError) {
    // The server is stopping (or the client left): this connection has no next request to wait for, and
    // a kept-alive socket would hold the server's close up.
    return reply.code(err.status).header('connection', 'close').type('text/plain').send(err.message + '\n');
  }
  return null;
}

export type QueryHandler = (p: RequestParams, tenant: string, signal: AbortSignal, req: FastifyRequest) => Promise<unknown>;

export interface QueryRouteOptions {
  authEnabled: boolean;
  /** querier.multi_tenant_queries_enabled: `X-Scope-OrgID: a|b` reaches the handler as "a|b". */
  multiTenant?: boolean;
  isReady: () => boolean;
  log: Logger;
  stopping?: AbortSignal;
}

/**
 * Registers GET and POST of a read endpoint the way every query route answers: the tenant (or tenants), 503
 * until ready, the request's abort signal, and failures as 400/504/499/429 with their text or a logged 500
 * (`failure` names the request kind in the log and the answer).
 */
export function queryRoute(app: FastifyInstance, deps: QueryRouteOptions, failure: string): (path: string, handler: QueryHandler) => void {
  return (path, handler) => {
    const h = async (req: FastifyRequest, reply: FastifyReply) => {
      const tenant = queryTenant(req, reply, deps.authEnabled, deps.multiTenant === true);
      if (tenant === null) return reply;
      if (!deps.isReady()) return reply.code(503).type('text/plain').send(NOT_READY);
      const { signal, done } = requestSignal(reply, deps.stopping);
      try {
        return await handler(new RequestParams(req), tenant, signal, req);
      } catch (err) {
        const answered = queryErrorReply(reply, err);
        if (answered) return answered;
        if (err instanceof TooManyOutstandingError) return reply.code(429).type('text/plain').send(err.message + '\n');
        deps.log.error(failure, { path, err: (err as Error).message });
        return reply.code(500).type('text/plain').send(`query failed: ${(err as Error).message}\n`);
      } finally {
        done();
      }
    };
    app.get(path, h);
    app.post(path, h);
  };
}
