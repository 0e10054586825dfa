import type { FastifyReply, FastifyRequest } from 'fastify';

const TENANT_RE = /^[a-zA-Z0-9!\-_.*'()]{1,150}$/;

/**
 * Why `id` is not a tenant ID, or null when it is one. Loki's rule: 1–150 characters from
 * a-z A-Z 0-9 ! - _ . * ' ( ), and not "." or "..". Headers reach us as latin1, so any byte above 0x7F
 * is a character outside the alphabet and is refused here by name.
 */
export function tenantIdProblem(id: string): string | null {
  if (TENANT_RE.test(id) && id !== '.' && id !== '..') return null;
  return `invalid tenant ID ${JSON.stringify(id.slice(0, 200))} in X-Scope-OrgID: use 1–150 characters from a-z A-Z 0-9 ! - _ . * ' ( ), not "." or ".."`;
}

/** The X-Scope-OrgID header validated, or null after answering 401/400 itself. */
export function requiredTenant(req: FastifyRequest, reply: FastifyReply): string | null {
  const raw = req.headers['x-scope-orgid'];
  const id = Array.isArray(raw) ? raw[0] : raw;
  if (!id) {
    void reply.code(401).type('text/plain').send('no org id: set the X-Scope-OrgID header to your tenant ID\n');
    return null;
  }
  const problem = tenantIdProblem(id);
  if (problem) {
    void reply.code(400).type('text/plain').send(problem + '\n');
    return null;
  }
  return id;
}

/**
 * The request's tenant. With auth off every request is tenant `fake`, as in Loki. With auth on,
 * X-Scope-OrgID is required and must be a valid ID (it becomes part of object keys, see
 * store/tenant-key.ts). Answers the request itself and returns null when the header is missing or invalid.
 */
export function tenantOf(req: FastifyRequest, reply: FastifyReply, authEnabled: boolean): string | null {
  if (!authEnabled) return 'fake';
  return requiredTenant(req, reply);
}
