import Fastify, { type FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from '../config/config.js';
import { Distributor } from '../distributor/distributor.js';
import type { IngesterClient } from '../distributor/ingester-client.js';
import { distributorMetrics } from '../distributor/metrics.js';
import { InflightBudget } from '../distributor/inflight-budget.js';
import { RemoteIngester } from '../distributor/remote-ingester.js';
import { Ingester } from '../ingester/ingester.js';
import { ingesterMetrics } from '../ingester/metrics.js';
import type { Logger } from '../model/logger.js';
import { FsObjectStore } from '../store/fs-object-store.js';
import type { LabelIndex } from '../store/label-index.js';
import { openCheckedIndex, rebuildAndReport } from '../store/index-recovery.js';
import type { ObjectStore } from '../store/object-store.js';
import { S3ObjectStore } from '../store/s3-object-store.js';
import { DataDirLock } from './data-dir-lock.js';
import { internalRoutes } from './routes/internal.js';
import { opsRoutes } from './routes/ops.js';
import { adminRoutes, type ServiceState } from './routes/admin.js';
import { readBody } from './read-body.js';
import { pushRoutes } from './routes/push.js';
import { otlpRoutes } from './routes/otlp.js';
import { QueryGate } from '../querier/query-gate.js';
import { queryRoutes } from './routes/query.js';
import { drilldownRoutes } from './routes/drilldown.js';
import { tailRoutes } from './routes/tail.js';
import { legacyRoutes } from './routes/legacy.js';
import { deleteRoutes } from './routes/delete.js';
import { DeleteRequests, deleteRequestMetrics, deleteRequestsPath } from '../store/delete-requests.js';
import websocket from '@fastify/websocket';
import { LocalMemorySource, NoMemorySource } from '../querier/memory-source.js';
import { Querier } from '../querier/querier.js';
import { damagedChunkCounter } from '../querier/metrics.js';
import { serverStopping } from '../querier/query-lifetime.js';
import { QueryWorkerPool } from '../querier/workers/pool.js';
import { availableParallelism } from 'node:os';
import { RemoteMemorySource } from '../querier/remote-memory-source.js';
import { RuntimeOverrides } from '../config/overrides.js';
import { keepEverything, type CompactionPolicy } from '../compactor/compaction-policy.js';
import { TenantCompactionPolicy } from '../compactor/tenant-policy.js';
import { retentionPolicy } from '../store/retention.js';
import { Compactor } from '../compactor/compactor.js';
import { FsLeaseBackend, Lease, LEASE_KEY, S3LeaseBackend } from '../compactor/lease.js';
import { compactorMetrics } from '../compactor/metrics.js';
import { compactorRoutes } from './routes/compactor.js';
import { patternRoutes } from './routes/patterns.js';
import { LocalPatternSource, RemotePatternSource } from '../querier/pattern-source.js';
import { patternsEnabled } from '../config/pattern-ingester.js';
import { patternMetrics } from '../ingester/patterns/metrics.js';

/** What a target runs. `all` is every component in one process on the embedded store. */
const COMPONENTS = {
  all: { distributor: true, ingester: true, querier: true, compactor: true },
  distributor: { distributor: true, ingester: false, querier: false, compactor: false },
  ingester: { distributor: false, ingester: true, querier: false, compactor: false },
  querier: { distributor: false, ingester: false, querier: true, compactor: false },
  compactor: { distributor: false, ingester: false, querier: false, compactor: true },
  // Loki's simple-scalable backend group; here the compactor is all it holds.
  backend: { distributor: false, ingester: false, querier: false, compactor: true },
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
 * The compactor over this process's index and store, under the store's lease: a lock file beside the
 * chunks for the filesystem backend, a conditional-write object in the bucket for S3. Retention and
 * delete requests reach it through its CompactionPolicy (TenantCompactionPolicy in a server).
 */
function openCompactor(cfg: Config, index: LabelIndex, store: ObjectStore, registry: Registry, log: Logger, policy: CompactionPolicy = keepEverything): Compactor {
  const backend = store instanceof S3ObjectStore ? new S3LeaseBackend(store, LEASE_KEY) : new FsLeaseBackend(join(cfg.storage.path, 'chunks', ...LEASE_KEY.split('/')));
  const c = cfg.compactor;
  return new Compactor(
    index,
    store,
    new Lease(backend, c.leaseDurationMs),
    policy,
    {
      intervalMs: c.compactionIntervalMs,
      deleteDelayMs: c.retentionDeleteDelayMs,
      smallChunkFraction: c.smallChunkFraction,
      orphanGraceMs: c.orphanGracePeriodMs,
      maxMergedSpanNs: c.maxMergedChunkSpan,
      blockSize: cfg.ingester.chunkBlockSize,
      targetSize: cfg.ingester.chunkTargetSize,
    },
    compactorMetrics(registry),
    log,
  );
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
 * Starts the components `cfg.target` names on a data directory it holds alone (see DataDirLock): a target
 * that writes the WAL and the index takes the lock first and gives it up when stopped. A querier only
 * reads the index and chunks, so it shares the directory with the ingester that owns it.
 */
export async function startNarvi(cfg: Config, log: Logger): Promise<RunningNarvi> {
  const owns = (COMPONENTS as Record<string, { ingester: boolean } | undefined>)[cfg.target]?.ingester === true;
  const lock = owns ? DataDirLock.acquire(cfg.storage.path, log) : null;
  let running: RunningNarvi;
  try {
    running = await startComponents(cfg, log);
  } catch (err) {
    lock?.release();
    throw err;
  }
  if (!lock) return running;
  const stop = running.stop.bind(running);
  return {
    ...running,
    async stop() {
      try {
        await stop();
      } finally {
        lock.release();
      }
    },
  };
}

/**
 * The HTTP listener comes up first so `/ready` can answer 503 while the WAL replays; it answers 200 once
 * every component has started.
 */
async function startComponents(cfg: Config, log: Logger): Promise<RunningNarvi> {
  if (cfg.target === 'query-frontend') {
    throw new Error(`target ${cfg.target} is not available yet; use all, distributor, ingester, querier, compactor or backend`);
  }
  const want = COMPONENTS[cfg.target];
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'narvi_' });
  // Read before anything starts: a wrong overrides file stops the start with its error.
  const overrides = new RuntimeOverrides(cfg, log.child('overrides'), registry);
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

  // One debug line per request, as Loki logs them: off by default, switched on at runtime by POST /log_level.
  app.addHook('onResponse', async (req, reply) => {
    if (log.level?.current !== 'debug') return;
    log.debug('request', { method: req.method, path: req.url.split('?', 1)[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) });
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
  if (want.ingester || want.querier || want.compactor) {
    const checked = openCheckedIndex(join(cfg.storage.path, 'index', 'index.sqlite'), log.child('index'));
    index = checked.index;
    indexRebuild = checked.rebuild;
  }
  const store = want.ingester || want.querier || want.compactor ? openObjectStore(cfg) : null;
  // Delete requests: the querier hides what they cover, the compactor removes it once they are due.
  let deletes: DeleteRequests | null = null;
  if (want.querier || want.compactor) {
    const requests: DeleteRequests = DeleteRequests.open(deleteRequestsPath(cfg.storage.path), {
      cancelPeriodMs: cfg.compactor.deleteRequestCancelPeriodMs,
      modeOf: (tenant: string) => overrides.forTenant(tenant).deletionMode,
      metrics: deleteRequestMetrics(registry, () => requests.pendingByTenant()),
    });
    deletes = requests;
    closers.push(async () => requests.close());
  }
  let compactor: Compactor | null = null;
  if (want.compactor) {
    compactor = openCompactor(cfg, index!, store!, registry, log.child('compactor'), new TenantCompactionPolicy(retentionPolicy(overrides), deletes));
    compactorRoutes(app, { compactor, isAdmin: cfg.authEnabled, internalSecret: cfg.server.internalSecret });
  }

  if (want.ingester) {
    ingester = new Ingester(cfg, store!, index!, ingesterMetrics(registry), log.child('ingester'), overrides);
    if (ingester.patterns) patternMetrics(registry, ingester.patterns);
    if (!want.distributor || !want.querier) internalRoutes(app, { ingester, limits: overrides, internalSecret: cfg.server.internalSecret, isReady, stopping: stopping.signal });
  }
  if (want.distributor) {
    let clients: IngesterClient[];
    if (ingester) clients = [ingester];
    else {
      if (cfg.distributor.ingesters.length === 0) throw new Error('target distributor needs distributor.ingesters: the base URLs of the ingester processes (--distributor.ingesters http://host:3100,…)');
      clients = cfg.distributor.ingesters.map((u) => new RemoteIngester(u, cfg.server.internalSecret));
    }
    const budget = new InflightBudget(cfg.distributor.maxInflightPushBytes);
    const metrics = distributorMetrics(registry, () => budget.held);
    const distributor = new Distributor(overrides, clients, metrics, log.child('distributor'), cfg.distributor);
    pushRoutes(app, { distributor, authEnabled: cfg.authEnabled, isReady, log: log.child('push'), bodyLimit: BODY_LIMIT, budget, onBudgetRefusal: (tenant) => metrics.inflightRefused.inc({ tenant }) });
    otlpRoutes(app, { distributor, authEnabled: cfg.authEnabled, isReady, log: log.child('otlp'), bodyLimit: BODY_LIMIT, budget, onBudgetRefusal: (tenant) => metrics.inflightRefused.inc({ tenant }) });
  }
  if (want.querier) {
    const memory = ingester ? new LocalMemorySource(ingester) : cfg.querier.ingesters.length > 0 ? new RemoteMemorySource(cfg.querier.ingesters, cfg.server.internalSecret) : new NoMemorySource();
    deleteRoutes(app, { requests: deletes!, authEnabled: cfg.authEnabled, cancelPeriodMs: cfg.compactor.deleteRequestCancelPeriodMs, log: log.child('deletes') });
    const querier = new Querier(index!, store!, memory, overrides, queryPool(cfg, index!), deletes!, damagedChunkCounter(registry));
    closers.push(() => querier.close());
    await app.register(websocket);
    const gate = new QueryGate(cfg.querier.maxConcurrent, cfg.querier.maxOutstandingPerTenant);
    const multiTenant = cfg.querier.multiTenantQueriesEnabled;
    queryRoutes(app, { querier, gate, authEnabled: cfg.authEnabled, isReady, log: log.child('querier'), stopping: stopping.signal, multiTenant });
    legacyRoutes(app, { querier, gate, authEnabled: cfg.authEnabled, isReady, log: log.child('querier'), stopping: stopping.signal, multiTenant });
    drilldownRoutes(app, {
      querier,
      gate,
      authEnabled: cfg.authEnabled,
      isReady,
      log: log.child('drilldown'),
      stopping: stopping.signal,
      limits: (tenant) => overrides.forTenant(tenant),
      rawLimits: cfg.raw.limits as unknown as Record<string, unknown>,
      patternIngesterEnabled: () => patternsEnabled(cfg),
    });
    const patterns = ingester ? new LocalPatternSource(ingester.patterns) : cfg.querier.ingesters.length > 0 ? new RemotePatternSource(cfg.querier.ingesters, cfg.server.internalSecret) : new LocalPatternSource(null);
    patternRoutes(app, { enabled: patternsEnabled(cfg), source: patterns, authEnabled: cfg.authEnabled, isReady, log: log.child('patterns'), stopping: stopping.signal });
    tailRoutes(app, {
      querier,
      authEnabled: cfg.authEnabled,
      isReady,
      maxDurationMs: cfg.querier.tailMaxDurationMs,
      maxConnections: cfg.querier.tailMaxConnections,
      maxPerTenant: (tenant) => overrides.forTenant(tenant).maxConcurrentTailRequests,
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

  let stoppingNow = false;
  adminRoutes(app, {
    raw: cfg.raw,
    services: () => {
      const state: ServiceState = stoppingNow ? 'Stopping' : ready ? 'Running' : 'Starting';
      const out: Record<string, ServiceState> = { server: stoppingNow ? 'Stopping' : 'Running', 'runtime-config': state };
      for (const [name, on] of Object.entries(want)) if (on) out[name] = state;
      return out;
    },
    level: log.level,
    logLevelIsAdmin: cfg.authEnabled,
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
  overrides.start();
  closers.push(async () => overrides.stop());
  compactor?.start();
  ready = true;
  log.info('ready', { target: cfg.target });

  return {
    app,
    url,
    async stop() {
      ready = false;
      stoppingNow = true;
      stopping.abort(serverStopping());
      const closing = app.close();
      // A connection kept alive by a client that has left (or never sends again) would hold close() up
      // for good: once no request is being answered, every remaining connection is ended.
      const patience = Date.now() + 10_000;
      while (inFlight > 0 && Date.now() < patience) await new Promise((r) => setTimeout(r, 20));
      app.server.closeAllConnections();
      await closing;
      if (compactor) await compactor.stop();
      if (ingester) await ingester.stop();
      for (const close of closers) await close();
      index?.close();
    },
  };
}
