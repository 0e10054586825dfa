import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatDuration, parseDuration, parseTimestamp } from '../../model/time.js';
import { DeleteQueryError, parseDeleteQuery } from '../../store/delete-matcher.js';
import type { DeleteRequests } from '../../store/delete-requests.js';
import type { Logger } from '../../model/logger.js';
import { RequestParams } from '../request-params.js';
import { tenantOf } from '../tenant.js';

export interface DeleteRouteDeps {
  requests: DeleteRequests;
  authEnabled: boolean;
  /** compactor.delete_request_cancel_period, for messages. */
  cancelPeriodMs: number;
  log: Logger;
}

/** Loki's answer when limits.deletion_mode is disabled for the tenant. */
const NOT_AVAILABLE = 'deletion is not available for this tenant (limits.deletion_mode is disabled; filter-only or filter-and-delete enable the delete API)\n';

const NS_PER_MS = 1_000_000n;
const SECOND_MS = 1000;

class BadDeleteRequest extends Error {}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A time parameter in milliseconds (Loki keeps delete bounds in ms), or `dflt` when absent. */
function timeMs(p: RequestParams, name: 'start' | 'end', dflt?: number): number {
  const v = p.get(name);
  if (v === undefined) {
    if (dflt !== undefined) return dflt;
    throw new BadDeleteRequest(`${name} time not set: give ${name}= as unix seconds or RFC3339 (e.g. 2024-05-01T00:00:00Z)`);
  }
  try {
    const ns = parseTimestamp(v);
    // Floor towards older times, as for negative instants too.
    const q = ns / NS_PER_MS;
    return Number(ns < 0n && q * NS_PER_MS !== ns ? q - 1n : q);
  } catch (err) {
    throw new BadDeleteRequest(`invalid ${name} time ${JSON.stringify(v)}: require unix seconds or RFC3339 format (${(err as Error).message})`);
  }
}

/**
 * Checks a create request as Loki does: a log query, start required, end defaulting to now, not in the
 * future, start ≤ end; max_interval, when given, between 1s and the range. Loki splits a request with
 * line filters into max_interval pieces so its compactor can work through it; here one request covers
 * its whole range, so max_interval is only checked.
 */
function createParams(p: RequestParams): { query: string; startMs: number; endMs: number } {
  const query = p.get('query');
  if (query === undefined) throw new BadDeleteRequest('query not set: give query= a LogQL log query, e.g. {app="web"} |= "password"');
  let stages;
  try {
    stages = parseDeleteQuery(query).stages;
  } catch (err) {
    if (err instanceof DeleteQueryError) throw new BadDeleteRequest(err.message);
    throw err;
  }
  const now = Date.now();
  const startMs = timeMs(p, 'start');
  const endMs = timeMs(p, 'end', now);
  if (endMs > now) throw new BadDeleteRequest(`deletes in the future are not allowed: end ${iso(endMs)} is after now (${iso(now)})`);
  if (startMs > endMs) throw new BadDeleteRequest(`start time can't be greater than end time (start ${iso(startMs)}, end ${iso(endMs)})`);
  const raw = p.get('max_interval');
  if (raw !== undefined) {
    let ns: bigint | null = null;
    try {
      ns = parseDuration(raw);
    } catch {
      ns = null;
    }
    if (ns === null || ns < 1_000_000_000n) throw new BadDeleteRequest(`invalid max_interval ${JSON.stringify(raw)}: give a duration of at least 1s, e.g. 30m or 24h (valid time units are 's', 'm', 'h')`);
    if (ns > BigInt(endMs - startMs) * NS_PER_MS) throw new BadDeleteRequest(`max_interval can't be greater than the interval to be deleted (max_interval ${formatDuration(ns)}, interval ${formatDuration(BigInt(endMs - startMs) * NS_PER_MS)})`);
  } else if (stages.length > 0 && endMs - startMs < SECOND_MS) {
    throw new BadDeleteRequest(`difference between start time and end time must be at least one second for a query with filters (start ${iso(startMs)}, end ${iso(endMs)})`);
  }
  return { query, startMs, endMs };
}

/**
 * Loki's log entry deletion API: `POST|PUT /loki/api/v1/delete` files a request (204), `GET` lists the
 * tenant's requests, `DELETE ?request_id=` cancels one that was not processed yet (204).
 */
export function deleteRoutes(app: FastifyInstance, deps: DeleteRouteDeps): void {
  const { requests } = deps;
  /** The tenant, or null once a 4xx was sent (no or bad tenant, deletion disabled). */
  const tenantFor = (req: FastifyRequest, reply: FastifyReply): string | null => {
    const tenant = tenantOf(req, reply, deps.authEnabled);
    if (tenant === null) return null;
    if (requests.modeOf(tenant) === 'disabled') {
      void reply.code(403).type('text/plain').send(NOT_AVAILABLE);
      return null;
    }
    return tenant;
  };

  const create = async (req: FastifyRequest, reply: FastifyReply) => {
    const tenant = tenantFor(req, reply);
    if (tenant === null) return reply;
    let params;
    try {
      params = createParams(new RequestParams(req));
    } catch (err) {
      if (err instanceof BadDeleteRequest) return reply.code(400).type('text/plain').send(err.message + '\n');
      throw err;
    }
    const r = requests.add(tenant, params.query, params.startMs, params.endMs);
    deps.log.info('delete request received', { tenant, request_id: r.id, query: r.query, start: iso(r.startMs), end: iso(r.endMs) });
    return reply.code(204).send();
  };
  app.post('/loki/api/v1/delete', create);
  app.put('/loki/api/v1/delete', create);

  app.get('/loki/api/v1/delete', async (req, reply) => {
    const tenant = tenantFor(req, reply);
    if (tenant === null) return reply;
    // Loki's shape: times as (fractional) unix seconds, oldest request first.
    return requests.list(tenant).map((r) => ({
      request_id: r.id,
      start_time: r.startMs / SECOND_MS,
      end_time: r.endMs / SECOND_MS,
      query: r.query,
      status: r.status,
      created_at: r.createdAtMs / SECOND_MS,
    }));
  });

  app.delete('/loki/api/v1/delete', async (req, reply) => {
    const tenant = tenantFor(req, reply);
    if (tenant === null) return reply;
    const p = new RequestParams(req);
    const id = p.get('request_id');
    if (id === undefined) return reply.code(400).type('text/plain').send('request_id not set: give request_id= the id GET /loki/api/v1/delete lists\n');
    const force = p.get('force');
    if (force !== undefined && force !== 'true' && force !== 'false') return reply.code(400).type('text/plain').send(`invalid force ${JSON.stringify(force)}: use true or false\n`);
    const outcome = requests.cancel(tenant, id, force === 'true');
    switch (outcome) {
      case 'cancelled':
        deps.log.info('delete request cancelled', { tenant, request_id: id });
        return reply.code(204).send();
      case 'not-found':
        return reply.code(404).type('text/plain').send(`could not find delete request with given id ${JSON.stringify(id)}\n`);
      case 'processed':
        return reply.code(400).type('text/plain').send(`deletion of request which is in process or already processed is not allowed (request ${JSON.stringify(id)} is processed)\n`);
      case 'past-cancel-period':
        return reply
          .code(400)
          .type('text/plain')
          .send(`delete request ${JSON.stringify(id)} is past its cancel period (compactor.delete_request_cancel_period: ${formatDuration(BigInt(deps.cancelPeriodMs) * NS_PER_MS)}) and the compactor may be deleting its lines; to cancel it anyway, add force=true\n`);
    }
  });
}
