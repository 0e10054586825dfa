import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Limits } from '../../config/config.js';
import { tenantLimits, type TenantLimits } from '../../config/overrides.js';
import type { Ingester } from '../../ingester/ingester.js';
import { StorageWriteError } from '../../ingester/storage-error.js';
import { canonicalLabels, parseLabels } from '../../model/labels.js';
import { decodeRecord, RECORD_PUSH } from '../../ingester/wal-record.js';
import { assembleChunk, encodeBlock } from '../../chunk/chunk.js';
import type { Matcher } from '../../../query/ast.js';
import { selectorPredicate } from '../../querier/resolve-streams.js';
import { RejectionSummary } from '../../distributor/rejection-summary.js';
import { validatePush } from '../../distributor/validate.js';
import { nowNs } from '../../model/time.js';
import type { IngestStream } from '../../model/entry.js';
import { internalAllowed } from '../internal-access.js';
import { requiredTenant } from '../tenant.js';
import { QueryLifetime } from '../../querier/query-lifetime.js';
import { queryErrorReply, requestSignal } from './query.js';

export interface InternalRouteDeps {
  ingester: Ingester;
  /** Each tenant's limits: plain limits apply to every tenant. */
  limits: Limits | TenantLimits;
  internalSecret: string;
  isReady: () => boolean;
  /** Aborted when the server stops: a select in progress ends with it. */
  stopping?: AbortSignal;
}

/** Throws unless `matchers` is a list of {name, op, value} as Matcher has them. */
function checkMatchers(matchers: unknown): asserts matchers is Matcher[] {
  if (!Array.isArray(matchers)) throw new Error('"matchers" must be an array');
  for (const m of matchers as unknown[]) {
    const mm = m as Partial<Matcher> | null;
    if (typeof mm !== 'object' || mm === null || typeof mm.name !== 'string' || typeof mm.value !== 'string' || !['=', '!=', '=~', '!~'].includes(mm.op as string)) {
      throw new Error(`each matcher is {"name": string, "op": "=" | "!=" | "=~" | "!~", "value": string}, got ${JSON.stringify(m).slice(0, 200)}`);
    }
  }
}

/**
 * The ingester's door for distributors and queriers in other processes (`--target ingester`; `all` does
 * not serve it). It is as strict as the public API: the shared secret (or a loopback peer), the tenant in
 * X-Scope-OrgID under the public rules, and every stream and line validated again with the same limits,
 * since a caller that reaches this port is not necessarily our distributor.
 */
export function internalRoutes(app: FastifyInstance, deps: InternalRouteDeps): void {
  const { ingester } = deps;
  const gate = (req: FastifyRequest, reply: FastifyReply): string | null => {
    if (!internalAllowed(req, reply, deps.internalSecret, 'the internal API')) return null;
    const tenant = requiredTenant(req, reply);
    if (tenant === null) return null;
    if (!deps.isReady()) {
      void reply.code(503).type('text/plain').send('ingester not ready\n');
      return null;
    }
    return tenant;
  };

  app.post('/internal/ingester/push', async (req, reply) => {
    const tenant = gate(req, reply);
    if (tenant === null) return reply;
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let rec;
    try {
      rec = decodeRecord(body);
    } catch (err) {
      return reply.code(400).type('text/plain').send(`malformed internal push: ${(err as Error).message}\n`);
    }
    if (rec.type !== RECORD_PUSH) return reply.code(400).type('text/plain').send('internal push must be a push record\n');
    if (rec.tenant !== tenant) {
      return reply.code(400).type('text/plain').send(`internal push for tenant ${JSON.stringify(rec.tenant.slice(0, 200))} sent with X-Scope-OrgID ${JSON.stringify(tenant)}: they must be the same\n`);
    }
    const streams: IngestStream[] = [];
    for (const s of rec.streams) {
      let labels;
      try {
        labels = parseLabels(s.canonical);
      } catch (err) {
        return reply.code(400).type('text/plain').send(`internal push: ${(err as Error).message}\n`);
      }
      // The ingester keys streams by this text: only the canonical spelling may name a stream.
      if (canonicalLabels(labels) !== s.canonical) {
        return reply.code(400).type('text/plain').send(`internal push: labels ${JSON.stringify(s.canonical.slice(0, 200))} are not in canonical form (${canonicalLabels(labels).slice(0, 200)})\n`);
      }
      streams.push({ labels, entries: s.entries });
    }
    const v = validatePush(streams, tenantLimits(deps.limits).forTenant(tenant), nowNs());
    if (v.rejections.length > 0) {
      const total = rec.streams.reduce((n, s) => n + s.entries.length, 0);
      const summary = new RejectionSummary();
      summary.add(v.rejections);
      return reply.code(400).type('text/plain').send(summary.message(total) + '\n');
    }
    try {
      return await ingester.push(tenant, v.streams);
    } catch (err) {
      // The distributor passes 507/503 on to its client as they are (see RemoteIngester).
      if (err instanceof StorageWriteError) return reply.code(err.status).type('text/plain').send(err.message + '\n');
      throw err;
    }
  });

  // A querier in another process reads what is still in memory; see querier/remote-memory-source.ts.
  app.post('/internal/ingester/select', async (req, reply) => {
    const tenant = gate(req, reply);
    if (tenant === null) return reply;
    let q: { tenant?: unknown; matchers: Matcher[]; start: string; end: string };
    let start: bigint;
    let end: bigint;
    let match: ReturnType<typeof selectorPredicate>;
    try {
      q = JSON.parse((req.body as Buffer).toString('utf8')) as typeof q;
      checkMatchers(q.matchers);
      start = BigInt(q.start);
      end = BigInt(q.end);
      match = selectorPredicate(q.matchers);
    } catch (err) {
      return reply.code(400).type('text/plain').send(`malformed internal select: ${(err as Error).message}\n`);
    }
    if (q.tenant !== undefined && q.tenant !== tenant) {
      return reply.code(400).type('text/plain').send(`internal select for tenant ${JSON.stringify(String(q.tenant).slice(0, 200))} sent with X-Scope-OrgID ${JSON.stringify(tenant)}: they must be the same\n`);
    }
    // The querier aborts its request when its query ends: the selector's regexes over every stream here
    // stop with it (or at this server's own query timeout) instead of holding this event loop.
    const { signal, done } = requestSignal(reply, deps.stopping);
    const life = new QueryLifetime(tenantLimits(deps.limits).forTenant(tenant).queryTimeoutMs, signal);
    let selected: Awaited<ReturnType<Ingester['select']>>;
    try {
      selected = await ingester.select(tenant, match, start, end, 'copy', life);
    } catch (err) {
      const answered = queryErrorReply(reply, life.outcome(err));
      if (answered) return answered;
      throw err;
    } finally {
      life.end();
      done();
    }
    const parts: Buffer[] = [];
    for (const s of selected) {
      const labels = Buffer.from(JSON.stringify(s.labels));
      // Blocks go out compressed as they are held; only the head copy is compressed here.
      const chunk = assembleChunk(s.pieces.map((p) => (p.kind === 'block' ? p.block : p.kind === 'batch' ? encodeBlock(p.batch, 1) : null)).filter((b) => b !== null));
      const head = Buffer.allocUnsafe(4);
      head.writeUInt32LE(labels.length);
      const mid = Buffer.allocUnsafe(4);
      mid.writeUInt32LE(chunk.length);
      parts.push(head, labels, mid, chunk);
    }
    return reply.type('application/octet-stream').send(Buffer.concat(parts));
  });
  // A querier in another process asks for the log patterns mined here; see querier/pattern-source.ts.
  app.post('/internal/ingester/patterns', async (req, reply) => {
    const tenant = gate(req, reply);
    if (tenant === null) return reply;
    const store = ingester.patterns;
    if (!store) return reply.code(404).type('text/plain').send('pattern ingester is not enabled (pattern_ingester.enabled is false)\n');
    let q: { tenant?: unknown; matchers: Matcher[]; start: number; end: number; step: number };
    let match: ReturnType<typeof selectorPredicate>;
    try {
      q = JSON.parse((req.body as Buffer).toString('utf8')) as typeof q;
      checkMatchers(q.matchers);
      for (const k of ['start', 'end', 'step'] as const) if (!Number.isSafeInteger(q[k])) throw new Error(`"${k}" must be an integer number of milliseconds`);
      if (q.step <= 0) throw new Error('"step" must be more than 0');
      match = selectorPredicate(q.matchers);
    } catch (err) {
      return reply.code(400).type('text/plain').send(`malformed internal patterns query: ${(err as Error).message}\n`);
    }
    if (q.tenant !== undefined && q.tenant !== tenant) {
      return reply.code(400).type('text/plain').send(`internal patterns query for tenant ${JSON.stringify(String(q.tenant).slice(0, 200))} sent with X-Scope-OrgID ${JSON.stringify(tenant)}: they must be the same\n`);
    }
    return { series: store.query(tenant, match, q.start, q.end, q.step) };
  });
}
