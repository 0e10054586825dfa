import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { VERSION } from '../../model/version.js';

export interface OpsRouteDeps {
  registry: Registry;
  isReady: () => boolean;
  /** Present when this process runs an ingester. */
  flush?: () => Promise<void>;
  beforeMetrics?: () => Promise<void>;
}

/** `/ready`, `/metrics`, build info and `POST /flush`. */
export function opsRoutes(app: FastifyInstance, deps: OpsRouteDeps): void {
  app.get('/ready', async (_req, reply) => {
    if (deps.isReady()) return reply.type('text/plain').send('ready\n');
    return reply.code(503).type('text/plain').send('not ready: starting up (replaying the WAL)\n');
  });

  app.get('/metrics', async (_req, reply) => {
    if (deps.beforeMetrics) await deps.beforeMetrics();
    return reply.type(deps.registry.contentType).send(await deps.registry.metrics());
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
    app.post('/flush', async (_req, reply) => {
      await flush();
      return reply.code(204).send();
    });
  }
}
