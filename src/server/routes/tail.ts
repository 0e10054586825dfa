import type {} from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { LogSelectorExpr } from '../../../query/ast.js';
import type { Labels } from '../../model/labels.js';
import type { Logger } from '../../model/logger.js';
import { canonicalLabels } from '../../model/labels.js';
import { formatRFC3339Nano, nowNs, parseTimestamp } from '../../model/time.js';
import { withRegexp } from '../legacy-regexp.js';
import { BadQueryError, type Querier } from '../../querier/querier.js';
import { clientGone, QueryCancelledError, serverStopping } from '../../querier/query-lifetime.js';
import { limitParam, requireQuery } from '../query-params.js';
import { NOT_READY } from './query.js';
import { RequestParams } from '../request-params.js';
import { tenantOf } from '../tenant.js';

const SECOND = 1_000_000_000n;
const POLL_MS = 500;
const MAX_DELAY_SECONDS = 5;
const BATCH = 1000;

interface Frame {
  streams: ({ stream: Labels; values: [string, string][] } | LegacyStream)[];
  dropped_entries: null;
}

/** A stream in Loki's legacy tail frames (`/api/prom/tail`): labels as text, entries with RFC3339Nano times. */
interface LegacyStream {
  labels: string;
  entries: { ts: string; line: string }[];
}

export interface TailRouteDeps {
  querier: Querier;
  authEnabled: boolean;
  isReady: () => boolean;
  /** Loki's tail_max_duration: the socket is closed after this long; clients reconnect and resume. */
  maxDurationMs: number;
  /** Tail sockets open at once across tenants (querier.tail_max_connections). */
  maxConnections: number;
  /** Per tenant (limits.max_concurrent_tail_requests, the tenant's own when it has an override); 0 = no limit. */
  maxPerTenant: number | ((tenant: string) => number);
  /** A socket whose unsent bytes pass this is dropped: its client does not read (querier.tail_max_buffered_bytes). */
  maxBufferedBytes: number;
  log: Logger;
  /** Aborted when the server begins to stop: a poll's query still running ends at once. */
  stopping?: AbortSignal;
}

// A backlog or a burst is sent as frames of about this many bytes, so the send buffer check between frames
// bounds what one slow socket can hold to its limit plus one frame.
const FRAME_BYTES = 1024 * 1024;

interface TailRequest {
  expr: LogSelectorExpr;
  limit: number;
  delay: bigint;
  start: bigint;
}

/** The tail's parameters, or a BadQueryError: checked before the upgrade so a bad query is an HTTP 400. */
function tailRequest(querier: Querier, p: RequestParams, legacy: boolean): TailRequest {
  // The legacy route still takes Loki 1.x's `regexp` parameter, a |~ filter added to the query.
  const parsed = querier.parse(legacy ? withRegexp(requireQuery(p), p.get('regexp')) : requireQuery(p));
  if (parsed.kind !== 'log') throw new BadQueryError('tail needs a log query (a stream selector with an optional pipeline), not a metric query');
  const limit = limitParam(p, 100);
  const d = Number(p.get('delay_for') ?? '0');
  if (!Number.isInteger(d) || d < 0 || d > MAX_DELAY_SECONDS) throw new BadQueryError(`invalid parameter "delay_for": must be an integer number of seconds from 0 to ${MAX_DELAY_SECONDS}`);
  const s = p.get('start');
  let start: bigint;
  try {
    start = s ? parseTimestamp(s) : nowNs() - 3600n * SECOND;
  } catch (err) {
    throw new BadQueryError(`invalid parameter "start": ${(err as Error).message}`);
  }
  return { expr: parsed, limit, delay: BigInt(d) * SECOND, start };
}

/**
 * `GET /loki/api/v1/tail` (WebSocket): first the newest `limit` entries since `start`, then every new
 * entry as it becomes queryable, `delay_for` seconds behind now. The cursor is the newest timestamp sent
 * plus the lines already sent at exactly that timestamp, so nothing is sent twice or skipped.
 */
export function tailRoutes(app: FastifyInstance, deps: TailRouteDeps): void {
  let open = 0;
  const perTenant = new Map<string, number>();

  /**
   * Counts the tail from before the upgrade until its TCP socket closes, whatever ends it (a refused
   * handshake, the client, a drop), so concurrent upgrades cannot slip past the caps.
   */
  const reserve = (req: FastifyRequest, tenant: string): string | null => {
    const mine = perTenant.get(tenant) ?? 0;
    const max = typeof deps.maxPerTenant === 'function' ? deps.maxPerTenant(tenant) : deps.maxPerTenant;
    if (max > 0 && mine >= max) {
      return `max concurrent tail requests limit exceeded, count > limit (${mine + 1} > ${max}) (limits.max_concurrent_tail_requests)`;
    }
    if (open >= deps.maxConnections) return `too many tail connections: ${open} open, limit ${deps.maxConnections} (querier.tail_max_connections); retry later`;
    open++;
    perTenant.set(tenant, mine + 1);
    req.raw.socket.once('close', () => {
      open--;
      const n = (perTenant.get(tenant) ?? 1) - 1;
      if (n > 0) perTenant.set(tenant, n);
      else perTenant.delete(tenant);
    });
    return null;
  };

  const preValidation = (legacy: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenantOf(req, reply, deps.authEnabled);
    if (tenant === null) return reply;
    if (!deps.isReady()) return reply.code(503).type('text/plain').send(NOT_READY);
    try {
      tailRequest(deps.querier, new RequestParams(req), legacy);
    } catch (err) {
      if (err instanceof BadQueryError) return reply.code(400).type('text/plain').send(err.message + '\n');
      throw err;
    }
    // Only a WebSocket upgrade holds a tail; a plain GET on a keep-alive socket must not hold a slot.
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') return undefined;
    const refused = reserve(req, tenant);
    if (refused) return reply.code(429).type('text/plain').send(refused + '\n');
    return undefined;
  };
  const tail = (legacy: boolean) => (socket: WebSocket, req: FastifyRequest) => {
    const fail = (msg: string) => {
      socket.close(1008, msg.slice(0, 120));
    };
    const t = deps.authEnabled ? String(req.headers['x-scope-orgid']) : 'fake';
    let tr: TailRequest;
    try {
      tr = tailRequest(deps.querier, new RequestParams(req), legacy);
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
    const { expr, limit, delay, start } = tr;
    const opened = Date.now();
    let lastTs = start - 1n;
    let atLast = new Set<string>();
    let closed = false;
    let timer: NodeJS.Timeout | null = null;
    // A poll's query stops as soon as nobody is left to read its answer.
    const gone = new AbortController();
    const onStop = () => gone.abort(serverStopping());
    if (deps.stopping?.aborted) onStop();
    else deps.stopping?.addEventListener('abort', onStop, { once: true });
    socket.on('close', () => {
      closed = true;
      gone.abort(clientGone());
      deps.stopping?.removeEventListener('abort', onStop);
      if (timer) clearTimeout(timer);
    });

    // A client that does not read leaves every frame in our send buffer; past the limit it is dropped
    // (terminate: a close frame would only queue behind the rest) and its memory goes with it.
    const tooSlow = (): boolean => {
      if (closed) return true;
      if (socket.bufferedAmount <= deps.maxBufferedBytes) return false;
      deps.log.warn('tail dropped: its client is not reading', { tenant: t, buffered_bytes: socket.bufferedAmount, limit: deps.maxBufferedBytes });
      closed = true;
      if (timer) clearTimeout(timer);
      socket.terminate();
      return true;
    };

    /** Sends the entries as frames of about FRAME_BYTES; false once the socket is gone or dropped. */
    const send = (entries: { labels: Labels; ts: bigint; line: string }[]): boolean => {
      let byStream = new Map<string, Frame['streams'][number]>();
      let bytes = 0;
      const flush = (): boolean => {
        if (byStream.size === 0) return true;
        if (tooSlow()) return false;
        const frame: Frame = { streams: [...byStream.values()], dropped_entries: null };
        socket.send(JSON.stringify(frame));
        byStream = new Map();
        bytes = 0;
        return true;
      };
      for (const e of entries) {
        const key = canonicalLabels(e.labels);
        let s = byStream.get(key);
        if (!s) byStream.set(key, (s = legacy ? { labels: key, entries: [] } : { stream: e.labels, values: [] }));
        if ('entries' in s) s.entries.push({ ts: formatRFC3339Nano(e.ts), line: e.line });
        else s.values.push([e.ts.toString(), e.line]);
        bytes += e.line.length + 40;
        if (bytes >= FRAME_BYTES && !flush()) return false;
      }
      return flush();
    };

    // Entries after the cursor, oldest first, at most `max`.
    const fetchNew = async (end: bigint, max: number, direction: 'forward' | 'backward') => {
      const res = await deps.querier.query(t, expr, { start: lastTs < start ? start : lastTs, end: end + 1n, step: 0n, direction, limit: max, instant: false }, gone.signal);
      const out: { labels: Labels; ts: bigint; line: string }[] = [];
      if (res.type !== 'streams') return out;
      for (const s of res.streams) for (const e of s.entries) {
        if (e.ts < lastTs) continue;
        if (e.ts === lastTs && atLast.has(canonicalLabels(s.labels) + '\u0000' + e.line)) continue;
        out.push({ labels: s.labels, ts: e.ts, line: e.line });
      }
      // A backward answer lists equal timestamps newest-pushed first: reverse before the stable sort so
      // entries sharing a timestamp keep their push order.
      if (direction === 'backward') out.reverse();
      out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
      return out;
    };

    const advance = (entries: { labels: Labels; ts: bigint; line: string }[]) => {
      for (const e of entries) {
        const key = canonicalLabels(e.labels) + '\u0000' + e.line;
        if (e.ts > lastTs) {
          lastTs = e.ts;
          atLast = new Set([key]);
        } else if (e.ts === lastTs) atLast.add(key);
      }
    };

    const poll = async (first: boolean) => {
      if (tooSlow()) return;
      if (Date.now() - opened > deps.maxDurationMs) {
        socket.close(1000, 'tail reached its maximum duration; reconnect to continue');
        return;
      }
      try {
        const end = nowNs() - delay;
        let more = true;
        if (first) {
          // The backlog: the newest `limit` entries since start.
          const backlog = await fetchNew(end, limit || BATCH, 'backward');
          if (!send(backlog)) return;
          advance(backlog);
          if (backlog.length > 0) {
            lastTs = backlog[backlog.length - 1]!.ts;
          } else lastTs = end;
          more = false;
        }
        while (more && !closed) {
          const fresh = await fetchNew(end, BATCH, 'forward');
          if (!send(fresh)) return;
          advance(fresh);
          more = fresh.length >= BATCH;
        }
      } catch (err) {
        if (closed || err instanceof QueryCancelledError) return;
        deps.log.warn('tail query failed', { err: (err as Error).message });
        if (err instanceof BadQueryError) return fail(err.message);
      }
      if (!closed) timer = setTimeout(() => void poll(false), POLL_MS);
    };
    void poll(true);
  };
  app.get('/loki/api/v1/tail', { websocket: true, preValidation: preValidation(false) }, tail(false));
  app.get('/api/prom/tail', { websocket: true, preValidation: preValidation(true) }, tail(true));
}
