import type { FastifyInstance } from 'fastify';
import type { Compactor } from '../../compactor/compactor.js';
import { internalAllowed } from '../internal-access.js';

export interface CompactorRouteDeps {
  compactor: Compactor;
  /** With auth on, a run is an admin action (see internal-access.ts), as POST /flush is. */
  isAdmin: boolean;
  internalSecret: string;
}

/**
 * `POST /compactor/run`: one compaction run now, answered when it ends with its figures as JSON — 200
 * when it completed, 409 when another compactor holds the store's lease, 500 when it stopped on an error.
 */
export function compactorRoutes(app: FastifyInstance, deps: CompactorRouteDeps): void {
  app.post('/compactor/run', async (req, reply) => {
    if (deps.isAdmin && !internalAllowed(req, reply, deps.internalSecret, 'POST /compactor/run (an admin action while auth_enabled is true)')) return reply;
    const report = await deps.compactor.run();
    const status = report.outcome === 'success' ? 200 : report.outcome === 'skipped' ? 409 : 500;
    return reply.code(status).type('application/json').send(JSON.stringify(report));
  });
}
