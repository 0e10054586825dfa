import type { FastifyReply, FastifyRequest } from 'fastify';

const TENANT_RE = /^[a-zA-Z0-9!\-_.*'()]{1,150}$/;

/**
 * The request's tenant. With auth off every request is tenant `fake`, as in Loki. With auth on,
 * X-Scope-OrgID is required and must be a safe ID (it becomes part of object keys).
 * Answers the request itself and returns null when the header is missing or invalid.
 */
export function tenantOf(req: FastifyRequest, reply: FastifyReply, authEnabled: boolean): string | null {
  if (!authEnabled) return 'fake';
  const raw = req.headers['x-scope-orgid'];
  const id = Array.isArray(raw) ? raw[0] : raw;
  if (!id) {
    void reply.code(401).type('text/plain').send('no org id: set the X-Scope-OrgID header to your tenant ID\n');
    return null;
  }
  if (!TENANT_RE.test(id) || id === '.' || id === '..') {
    void reply.code(400).type('text/plain').send(`invalid tenant ID ${JSON.stringify(id.slice(0, 200))} in X-Scope-OrgID: use 1–150 characters from a-z A-Z 0-9 ! - _ . * ' ( ), not "." or ".."\n`);
    return null;
  }
  return id;
}
