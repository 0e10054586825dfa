import type { FastifyInstance } from 'fastify';
import type { Distributor } from '../../distributor/distributor.js';
import type { Logger } from '../../model/logger.js';
import { storageStatus } from '../../ingester/storage-error.js';
import { releaseAfterBigBody } from '../release-memory.js';
import { tenantOf } from '../tenant.js';

export interface PushRouteDeps {
  distributor: Distributor;
  authEnabled: boolean;
  isReady: () => boolean;
  log: Logger;
}

/** `POST /loki/api/v1/push` (and the legacy `/api/prom/push`): 204 once durable, else a plain-text reason. */
export function pushRoutes(app: FastifyInstance, deps: PushRouteDeps): void {
  const handler = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    const tenant = tenantOf(req, reply, deps.authEnabled);
    if (tenant === null) return reply;
    if (!deps.isReady()) return reply.code(503).type('text/plain').send('not ready: the ingester is still replaying its WAL\n');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    reply.raw.once('finish', () => releaseAfterBigBody(body.length));
    try {
      const res = await deps.distributor.push(tenant, body, req.headers['content-type'], req.headers['content-encoding'] as string | undefined);
      if (res.status === 204) return reply.code(204).send();
      if (res.retryAfterSeconds !== undefined) void reply.header('retry-after', String(res.retryAfterSeconds));
      return reply.code(res.status).type('text/plain').send(res.message + '\n');
    } catch (err) {
      deps.log.error('push failed', { tenant, err: (err as Error).message });
      // The disk refused the write: 507 when full, 503 otherwise; the client retries either.
      const status = storageStatus(err) ?? 500;
      return reply.code(status).type('text/plain').send(`push failed: ${(err as Error).message}\n`);
    }
  };
  app.post('/loki/api/v1/push', handler);
  app.post('/api/prom/push', handler);
}
