import type { FastifyInstance } from 'fastify';
import type { Ingester } from '../../ingester/ingester.js';
import { fingerprint, parseLabels } from '../../model/labels.js';
import { decodeRecord, RECORD_PUSH } from '../../ingester/wal-record.js';
import { encodeChunk } from '../../chunk/chunk.js';
import type { Matcher } from '../../../query/ast.js';
import { selectorPredicate } from '../../querier/resolve-streams.js';

/** `POST /internal/ingester/push`: a distributor in another process hands over validated streams. */
export function internalRoutes(app: FastifyInstance, ingester: Ingester, isReady: () => boolean): void {
  app.post('/internal/ingester/push', async (req, reply) => {
    if (!isReady()) return reply.code(503).type('text/plain').send('ingester not ready\n');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let rec;
    try {
      rec = decodeRecord(body);
    } catch (err) {
      return reply.code(400).type('text/plain').send(`malformed internal push: ${(err as Error).message}\n`);
    }
    if (rec.type !== RECORD_PUSH) return reply.code(400).type('text/plain').send('internal push must be a push record\n');
    const streams = rec.streams.map((s) => ({ labels: parseLabels(s.canonical), canonical: s.canonical, fingerprint: fingerprint(s.canonical), entries: s.entries }));
    return ingester.push(rec.tenant, streams);
  });

  // A querier in another process reads what is still in memory; see querier/remote-memory-source.ts.
  app.post('/internal/ingester/select', async (req, reply) => {
    if (!isReady()) return reply.code(503).type('text/plain').send('ingester not ready\n');
    const q = JSON.parse((req.body as Buffer).toString('utf8')) as { tenant: string; matchers: Matcher[]; start: string; end: string };
    const parts: Buffer[] = [];
    for (const s of ingester.select(q.tenant, selectorPredicate(q.matchers), BigInt(q.start), BigInt(q.end))) {
      const labels = Buffer.from(JSON.stringify(s.labels));
      const chunk = encodeChunk(s.batches, 1);
      const head = Buffer.allocUnsafe(4);
      head.writeUInt32LE(labels.length);
      const mid = Buffer.allocUnsafe(4);
      mid.writeUInt32LE(chunk.length);
      parts.push(head, labels, mid, chunk);
    }
    return reply.type('application/octet-stream').send(Buffer.concat(parts));
  });
}
