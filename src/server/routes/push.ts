import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { pushDecoder, type Distributor } from '../../distributor/distributor.js';
import type { PushDialect } from '../../distributor/decode-body.js';
import { InflightBudgetError, type InflightBudget } from '../../distributor/inflight-budget.js';
import type { Logger } from '../../model/logger.js';
import { readBody } from '../read-body.js';
import { storageStatus } from '../../ingester/storage-error.js';
import { releaseAfterBigBody } from '../release-memory.js';
import { tenantOf } from '../tenant.js';

export interface PushRouteDeps {
  distributor: Distributor;
  authEnabled: boolean;
  isReady: () => boolean;
  log: Logger;
  /** The largest body taken (413 past it). */
  bodyLimit: number;
  /** `distributor.max_inflight_push_bytes`, shared by every push of this server. */
  budget: InflightBudget;
  /** Counts a push refused for the budget. */
  onBudgetRefusal: (tenant: string) => void;
}

/**
 * `POST /loki/api/v1/push` (and the legacy `/api/prom/push`): 204 once durable, else a plain-text reason.
 * The route reads its own body, so that the tenant, readiness and the in-flight byte budget are checked
 * before a byte of it is buffered, and what the push holds of the budget is given back however it ends.
 */
export function pushRoutes(app: FastifyInstance, deps: PushRouteDeps): void {
  const handler = (dialect: PushDialect) => async (req: FastifyRequest, reply: FastifyReply) => {
    const stream = req.body as IncomingMessage | undefined;
    const tenant = tenantOf(req, reply, deps.authEnabled);
    if (tenant === null) return reply;
    if (!deps.isReady()) return reply.code(503).type('text/plain').send('not ready: the ingester is still replaying its WAL\n');
    const held = deps.budget.reserve();
    // Given back when the answer is sent or the client leaves, as well as below: whichever comes first.
    reply.raw.once('close', () => held.release());
    try {
      const body = stream ? await readBody(stream, req.headers['content-length'], deps.bodyLimit, (n) => held.charge(n)) : Buffer.alloc(0);
      reply.raw.once('finish', () => releaseAfterBigBody(body.length));
      const res = await deps.distributor.push(tenant, body, req.headers['content-type'], req.headers['content-encoding'] as string | undefined, held, pushDecoder(dialect));
      if (res.status === 204) return reply.code(204).send();
      if (res.retryAfterSeconds !== undefined) void reply.header('retry-after', String(res.retryAfterSeconds));
      return reply.code(res.status).type('text/plain').send(res.message + '\n');
    } catch (err) {
      if (err instanceof InflightBudgetError) {
        deps.onBudgetRefusal(tenant);
        return reply.code(429).header('retry-after', String(err.retryAfterSeconds)).type('text/plain').send(err.message + '\n');
      }
      // A client that left mid-body (or was cut off by the read timeout): nobody reads the answer, and it is no server fault.
      if (!(err as { statusCode?: number }).statusCode && (stream?.errored || req.raw.socket?.destroyed)) return reply.code(400).type('text/plain').send('request body aborted by the client\n');
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== undefined && status >= 400 && status < 500) return reply.code(status).type('text/plain').send((err as Error).message + '\n');
      deps.log.error('push failed', { tenant, err: (err as Error).message });
      // The disk refused the write: 507 when full, 503 otherwise; the client retries either.
      return reply.code(storageStatus(err) ?? 500).type('text/plain').send(`push failed: ${(err as Error).message}\n`);
    } finally {
      held.release();
    }
  };
  void app.register(async (scope) => {
    // The body stays a stream here: the handler reads it once it knows the push may take the bytes.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    scope.post('/loki/api/v1/push', handler('v1'));
    // Loki 1.x clients: the same protobuf, and the legacy JSON body (labels as a string, entries of ts/line).
    scope.post('/api/prom/push', handler('legacy'));
  });
}
