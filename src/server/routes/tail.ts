import type {} from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { LogSelectorExpr } from '../../../query/ast.js';
import type { Labels } from '../../model/labels.js';
import type { Logger } from '../../model/logger.js';
import { canonicalLabels } from '../../model/labels.js';
import { nowNs, parseTimestamp } from '../../model/time.js';
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
  streams: { stream: Labels; values: [string, string][] }[];
  dropped_entries: null;
}

export interface TailRouteDeps {
  querier: Querier;
  authEnabled: boolean;
  isReady: () => boolean;
  /** Loki's tail_max_duration: the socket is closed after this long; clients reconnect and resume. */
  maxDurationMs: number;
  log: Logger;
  /** Aborted when the server begins to stop: a poll's query still running ends at once. */
  stopping?: AbortSignal;
}

interface TailRequest {
  expr: LogSelectorExpr;
  limit: number;
  delay: bigint;
  start: bigint;
}

/** The tail's parameters, or a BadQueryError: checked before the upgrade so a bad query is an HTTP 400. */
function tailRequest(querier: Querier, p: RequestParams): TailRequest {
  const parsed = querier.parse(requireQuery(p));
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
  const preValidation = async (req: FastifyRequest, reply: FastifyReply) => {
    if (tenantOf(req, reply, deps.authEnabled) === null) return reply;
    if (!deps.isReady()) return reply.code(503).type('text/plain').send(NOT_READY);
    try {
      tailRequest(deps.querier, new RequestParams(req));
    } catch (err) {
      if (err instanceof BadQueryError) return reply.code(400).type('text/plain').send(err.message + '\n');
      throw err;
    }
    return undefined;
  };
  app.get('/loki/api/v1/tail', { websocket: true, preValidation }, (socket: WebSocket, req) => {
    const fail = (msg: string) => {
      socket.close(1008, msg.slice(0, 120));
    };
    const t = deps.authEnabled ? String(req.headers['x-scope-orgid']) : 'fake';
    let tr: TailRequest;
    try {
      tr = tailRequest(deps.querier, new RequestParams(req));
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

    const send = (entries: { labels: Labels; ts: bigint; line: string }[]) => {
      if (entries.length === 0) return;
      const byStream = new Map<string, Frame['streams'][number]>();
      for (const e of entries) {
        const key = canonicalLabels(e.labels);
        let s = byStream.get(key);
        if (!s) byStream.set(key, (s = { stream: e.labels, values: [] }));
        s.values.push([e.ts.toString(), e.line]);
      }
      const frame: Frame = { streams: [...byStream.values()], dropped_entries: null };
      socket.send(JSON.stringify(frame));
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
      if (closed) return;
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
          send(backlog);
          advance(backlog);
          if (backlog.length > 0) {
            lastTs = backlog[backlog.length - 1]!.ts;
          } else lastTs = end;
          more = false;
        }
        while (more && !closed) {
          const fresh = await fetchNew(end, BATCH, 'forward');
          send(fresh);
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
  });
}
