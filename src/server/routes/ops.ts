import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { VERSION } from '../../model/version.js';
import { FlushError } from '../../ingester/ingester.js';
import { internalAllowed } from '../internal-access.js';
import { metricsWithoutTenants } from '../metrics-tenants.js';

export interface OpsRouteDeps {
  registry: Registry;
  isReady: () => boolean;
  /** Present when this process runs an ingester. */
  flush?: () => Promise<void>;
  beforeMetrics?: () => Promise<void>;
  /** With auth on and `server.metrics_tenant_label` off, /metrics sums the tenant label away. */
  hideTenants: boolean;
  /** With auth on, POST /flush is an admin action (see internal-access.ts); off, it is open as in Loki. */
  flushIsAdmin: boolean;
  internalSecret: string;
}

/** `/ready`, `/metrics`, build info and `POST /flush`. */
export function opsRoutes(app: FastifyInstance, deps: OpsRouteDeps): void {
  app.get('/ready', async (_req, reply) => {
    if (deps.isReady()) return reply.type('text/plain').send('ready\n');
    return reply.code(503).type('text/plain').send('not ready: starting up (replaying the WAL)\n');
  });

  app.get('/metrics', async (_req, reply) => {
    if (deps.beforeMetrics) await deps.beforeMetrics();
    const text = deps.hideTenants ? await metricsWithoutTenants(deps.registry) : await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(text);
  });

  const buildinfo = {
    version: VERSION,
    revision: '',
    branch: '',
    buildUser: '',
    buildDate: '',
    goVersion: '',
    nodeVersion: process.version,
  };
  app.get('/loki/api/v1/status/buildinfo', async () => buildinfo);

  if (deps.flush) {
    const flush = deps.flush;
    app.post('/flush', async (req, reply) => {
      if (deps.flushIsAdmin && !internalAllowed(req, reply, deps.internalSecret, 'POST /flush (an admin action while auth_enabled is true)')) return reply;
      try {
        await flush();
      } catch (err) {
        // Never 204 for chunks that were not written: the operator relies on it before a shutdown.
        if (err instanceof FlushError) return reply.code(500).type('text/plain').send(err.message + '\n');
        throw err;
      }
      return reply.code(204).send();
    });
  }
}
