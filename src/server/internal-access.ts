import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The header that carries `server.internal_secret` on internal calls and admin actions. */
export const INTERNAL_SECRET_HEADER = 'x-narvi-internal-secret';

function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Who may call the internal API (`/internal/…`) and admin actions (`POST /flush` with auth on): with a
 * secret configured, a request that carries it; without one, only peers on loopback — a process on the
 * same host, as in tests and single-host setups — since anyone else could otherwise read every tenant.
 * Answers 403 itself and returns false when the request may not pass.
 */
export function internalAllowed(req: FastifyRequest, reply: FastifyReply, secret: string, what: string): boolean {
  if (secret !== '') {
    const raw = req.headers[INTERNAL_SECRET_HEADER];
    const got = Array.isArray(raw) ? raw[0] : raw;
    // Compare digests so neither the length nor the content leaks through timing.
    if (got !== undefined && timingSafeEqual(digest(got), digest(secret))) return true;
    void reply.code(403).type('text/plain').send(`${what} needs the shared secret: send it in the X-Narvi-Internal-Secret header (server.internal_secret)\n`);
    return false;
  }
  if (isLoopback(req.socket.remoteAddress)) return true;
  void reply.code(403).type('text/plain').send(`${what} is served only to loopback peers while server.internal_secret is empty; set the same secret on every process and send it in X-Narvi-Internal-Secret\n`);
  return false;
}
