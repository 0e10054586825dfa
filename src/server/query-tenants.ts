import type { FastifyReply, FastifyRequest } from 'fastify';
import { tenantIdProblem, tenantOf } from './tenant.js';

/**
 * The tenant a read request queries. With `querier.multi_tenant_queries_enabled`, X-Scope-OrgID may name
 * several tenants separated by `|` (as in Loki): each is validated, duplicates dropped, and they come
 * back sorted and joined by `|` — a string no single tenant ID can be (`|` is outside their alphabet),
 * which the querier reads as "these tenants, each stream labelled __tenant_id__". Answers 400/401 itself
 * and returns null when the header is missing or wrong.
 */
export function queryTenant(req: FastifyRequest, reply: FastifyReply, authEnabled: boolean, multiTenant: boolean): string | null {
  if (!authEnabled) return 'fake';
  const raw = req.headers['x-scope-orgid'];
  const id = Array.isArray(raw) ? raw[0] : raw;
  if (!id || !id.includes('|')) return tenantOf(req, reply, authEnabled);
  const refuse = (text: string) => {
    void reply.code(400).type('text/plain').send(text + '\n');
    return null;
  };
  if (!multiTenant) {
    return refuse(
      `invalid tenant ID ${JSON.stringify(id.slice(0, 200))} in X-Scope-OrgID: | separates several tenants, and multi-tenant queries are disabled; set querier.multi_tenant_queries_enabled: true (--querier.multi-tenant-queries-enabled) to query them together`,
    );
  }
  const ids = new Set<string>();
  for (const part of id.split('|')) {
    if (part === '') return refuse(`X-Scope-OrgID ${JSON.stringify(id.slice(0, 200))} holds an empty tenant ID: separate tenant IDs by a single | with none empty`);
    const problem = tenantIdProblem(part);
    if (problem) return refuse(problem);
    ids.add(part);
  }
  return [...ids].sort().join('|');
}
