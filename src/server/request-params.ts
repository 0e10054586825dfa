import type { FastifyRequest } from 'fastify';

/**
 * A request's parameters from its query string and, for POST, its urlencoded form body (Loki accepts
 * both), as a multimap so repeated keys such as `match[]` survive.
 */
export class RequestParams {
  private values = new Map<string, string[]>();

  constructor(req: FastifyRequest) {
    const q = req.url.indexOf('?');
    if (q >= 0) this.addAll(new URLSearchParams(req.url.slice(q + 1)));
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (req.method === 'POST' && type.startsWith('application/x-www-form-urlencoded') && Buffer.isBuffer(req.body)) {
      this.addAll(new URLSearchParams(req.body.toString('utf8')));
    }
  }

  private addAll(p: URLSearchParams): void {
    for (const [k, v] of p) {
      const list = this.values.get(k);
      if (list) list.push(v);
      else this.values.set(k, [v]);
    }
  }

  get(name: string): string | undefined {
    const v = this.values.get(name);
    return v && v.length > 0 && v[0] !== '' ? v[0] : undefined;
  }

  all(name: string): string[] {
    return (this.values.get(name) ?? []).filter((v) => v !== '');
  }
}
