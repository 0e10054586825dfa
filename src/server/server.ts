import Fastify, { type FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from '../config/config.js';
import { Distributor } from '../distributor/distributor.js';
import type { IngesterClient } from '../distributor/ingester-client.js';
import { distributorMetrics } from '../distributor/metrics.js';
import { RemoteIngester } from '../distributor/remote-ingester.js';
import { Ingester } from '../ingester/ingester.js';
import { ingesterMetrics } from '../ingester/metrics.js';
import type { Logger } from '../model/logger.js';
import { FsObjectStore } from '../store/fs-object-store.js';
import type { LabelIndex } from '../store/label-index.js';
import { openCheckedIndex, rebuildAndReport } from '../store/index-recovery.js';
import type { ObjectStore } from '../store/object-store.js';
import { S3ObjectStore } from '../store/s3-object-store.js';
import { internalRoutes } from './routes/internal.js';
import { opsRoutes } from './routes/ops.js';
import { readBody } from './read-body.js';
import { pushRoutes } from './routes/push.js';
import { QueryGate } from '../querier/query-gate.js';
import { queryRoutes } from './routes/query.js';
import { tailRoutes } from './routes/tail.js';
import websocket from '@fastify/websocket';
import { LocalMemorySource, NoMemorySource } from '../querier/memory-source.js';
import { Querier } from '../querier/querier.js';
import { damagedChunkCounter } from '../querier/metrics.js';
import { serverStopping } from '../querier/query-lifetime.js';
import { QueryWorkerPool } from '../querier/workers/pool.js';
import { availableParallelism } from 'node:os';
import { RemoteMemorySource } from '../querier/remote-memory-source.js';

/** What a target runs. `all` is every component in one process on the embedded store. */
const COMPONENTS = {
  all: { distributor: true, ingester: true, querier: true },
  distributor: { distributor: true, ingester: false, querier: false },
  ingester: { distributor: false, ingester: true, querier: false },
  querier: { distributor: false, ingester: false, querier: true },
} as const;

// Loki accepts pushes up to 100 MB by default; bodies are buffered whole, so bound them.
const BODY_LIMIT = 100 * 1024 * 1024;

/**
 * Requests node refuses before any route sees them: a plain-text answer that names the rule instead of
 * fastify's generic JSON "Client Error".
 */
function clientError(err: Error & { code?: string }, socket: import('node:stream').Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = '400 Bad Request';
  let text = `malformed HTTP request (${err.code ?? err.message}): header names are tokens and header values may not hold control characters other than tab`;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = '408 Request Timeout';
    text = 'request headers or body not received within server.http_server_read_header_timeout / server.http_server_read_timeout';
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = '431 Request Header Fields Too Large';
    text = 'request headers larger than 16 KiB';
  }
  const body = text + '\n';
  // Destroy once written: a slowloris client never closes its side, and a half-open socket still holds a descriptor.
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => socket.destroy());
}

export interface RunningNarvi {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

function openObjectStore(cfg: Config): ObjectStore {
  if (cfg.storage.backend === 's3') return new S3ObjectStore(cfg.storage.s3);
  return new FsObjectStore(join(cfg.storage.path, 'chunks'));
}

/**
 * Worker threads for big queries and for every query with regexes (which must not run on this thread);
 * each opens the index read-only and the same object store. With one thread, queries are not split.
 */
function queryPool(cfg: Config, index: LabelIndex): QueryWorkerPool {
  const size = Math.max(1, cfg.querier.workers === 0 ? availableParallelism() : cfg.querier.workers);
  const store = cfg.storage.backend === 's3' ? { kind: 's3' as const, config: cfg.storage.s3 } : { kind: 'fs' as const, root: join(cfg.storage.path, 'chunks') };
  return new QueryWorkerPool({ indexPath: index.db.name, store }, size, cfg.querier.workerMinBytes);
}

/**
 * Starts the components `cfg.target` names. The HTTP listener comes up first so `/ready` can answer 503
 * while the WAL replays; it answers 200 once every component has started.
 */
export async function startNarvi(cfg: Config, log: Logger): Promise<RunningNarvi> {
  if (cfg.target === 'query-frontend' || cfg.target === 'compactor') {
    throw new Error(`target ${cfg.target} is not available yet; use all, distributor, ingester or querier`);
  }
  const want = COMPONENTS[cfg.target];
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'narvi_' });
  let ready = false;
  const isReady = () => ready;

  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: false,
    forceCloseConnections: false,
    // A client that sends its headers a byte at a time (slowloris) or never finishes its body is cut off;
    // node checks these every connectionsCheckingInterval, so keep that well under the timeouts.
    requestTimeout: cfg.server.readTimeoutMs,
    keepAliveTimeout: cfg.server.idleTimeoutMs,
    http: { headersTimeout: cfg.server.readHeaderTimeoutMs, connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(cfg.server.readHeaderTimeoutMs / 4))) },
    clientErrorHandler: clientError,
  });
  // Every body arrives as raw bytes: push decodes by Content-Type/Encoding itself, other routes parse forms.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (req, payload, done) => {
    readBody(payload, req.headers['content-length'], BODY_LIMIT).then((body) => done(null, body), (err: Error) => done(err, undefined));
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) log.error('request failed', { err: err.message });
    void reply.code(status).type('text/plain').send(err.message + '\n');
  });

  // Requests being answered: at stop, connections are ended once none is left (see stop()).
  let inFlight = 0;
  app.addHook('onRequest', async (req, reply) => {
    // A WebSocket (tail) is not a request being answered; @fastify/websocket closes those on close.
    if (req.headers.upgrade) return;
    inFlight++;
    reply.raw.once('close', () => inFlight--);
  });

  const closers: (() => Promise<void>)[] = [];
  // Aborted first thing in stop(): queries in flight end at once instead of holding app.close() up.
  const stopping = new AbortController();
  let index: LabelIndex | null = null;
  let ingester: Ingester | null = null;
  let indexRebuild: string | null = null;
  if (want.ingester || want.querier) {
    const checked = openCheckedIndex(join(cfg.storage.path, 'index', 'index.sqlite'), log.child('index'));
    index = checked.index;
    indexRebuild = checked.rebuild;
  }
  const store = want.ingester || want.querier ? openObjectStore(cfg) : null;

  if (want.ingester) {
    ingester = new Ingester(cfg, store!, index!, ingesterMetrics(registry), log.child('ingester'));
    if (!want.distributor || !want.querier) internalRoutes(app, { ingester, limits: cfg.limits, internalSecret: cfg.server.internalSecret, isReady, stopping: stopping.signal });
  }
  if (want.distributor) {
    let clients: IngesterClient[];
    if (ingester) clients = [ingester];
    else {
      if (cfg.distributor.ingesters.length === 0) throw new Error('target distributor needs distributor.ingesters: the base URLs of the ingester processes (--distributor.ingesters http://host:3100,…)');
      clients = cfg.distributor.ingesters.map((u) => new RemoteIngester(u, cfg.server.internalSecret));
    }
    const distributor = new Distributor(cfg.limits, clients, distributorMetrics(registry), log.child('distributor'), cfg.distributor);
    pushRoutes(app, { distributor, authEnabled: cfg.authEnabled, isReady, log: log.child('push') });
  }
  if (want.querier) {
    const memory = ingester ? new LocalMemorySource(ingester) : cfg.querier.ingesters.length > 0 ? new RemoteMemorySource(cfg.querier.ingesters, cfg.server.internalSecret) : new NoMemorySource();
    const querier = new Querier(index!, store!, memory, cfg.limits, queryPool(cfg, index!), damagedChunkCounter(registry));
    closers.push(() => querier.close());
    await app.register(websocket);
    const gate = new QueryGate(cfg.querier.maxConcurrent, cfg.querier.maxOutstandingPerTenant);
    queryRoutes(app, { querier, gate, authEnabled: cfg.authEnabled, isReady, log: log.child('querier'), stopping: stopping.signal });
    tailRoutes(app, {
      querier,
      authEnabled: cfg.authEnabled,
      isReady,
      maxDurationMs: cfg.querier.tailMaxDurationMs,
      maxConnections: cfg.querier.tailMaxConnections,
      maxPerTenant: cfg.limits.maxConcurrentTailRequests,
      maxBufferedBytes: cfg.querier.tailMaxBufferedBytes,
      log: log.child('tail'),
      stopping: stopping.signal,
    });
  }
  const ing = ingester;
  opsRoutes(app, {
    registry,
    isReady,
    flush: ing ? () => ing.flushAll() : undefined,
    hideTenants: cfg.authEnabled && !cfg.server.metricsTenantLabel,
    flushIsAdmin: cfg.authEnabled,
    internalSecret: cfg.server.internalSecret,
  });

  const address = await app.listen({ host: cfg.server.address, port: cfg.server.port });
  const port = (app.server.address() as { port: number }).port;
  const host = cfg.server.address === '0.0.0.0' || cfg.server.address === '::' ? '127.0.0.1' : cfg.server.address;
  const url = `http://${host}:${port}`;
  log.info('listening', { address: url, bound: address, target: cfg.target, data: cfg.storage.path });

  // Before the WAL replays (which registers streams) and before anything is served: a lost index must
  // not hide flushed data.
  if (indexRebuild && index && store) await rebuildAndReport(index, store, log.child('index'), indexRebuild);
  if (ingester) await ingester.start();
  ready = true;
  log.info('ready', { target: cfg.target });

  return {
    app,
    url,
    async stop() {
      ready = false;
      stopping.abort(serverStopping());
      const closing = app.close();
      // A connection kept alive by a client that has left (or never sends again) would hold close() up
      // for good: once no request is being answered, every remaining connection is ended.
      const patience = Date.now() + 10_000;
      while (inFlight > 0 && Date.now() < patience) await new Promise((r) => setTimeout(r, 20));
      app.server.closeAllConnections();
      await closing;
      if (ingester) await ingester.stop();
      for (const close of closers) await close();
      index?.close();
    },
  };
}
