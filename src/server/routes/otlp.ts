import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { decodeOtlpBody, otlpEncodingOf, type OtlpEncoding } from '../../distributor/otlp/decode-body.js';
import { contentTypeOf, exportResponse, RPC, statusBody } from '../../distributor/otlp/response.js';
import { InflightBudgetError } from '../../distributor/inflight-budget.js';
import { storageStatus } from '../../ingester/storage-error.js';
import { readBody } from '../read-body.js';
import { releaseAfterBigBody } from '../release-memory.js';
import { tenantOf } from '../tenant.js';
import type { PushRouteDeps } from './push.js';

// A client told to come back is told when: OTLP exporters honour Retry-After on 429 and 503.
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/**
 * `POST /otlp/v1/logs`: OTLP/HTTP logs in protobuf or JSON, through the same path as a Loki push (tenant,
 * readiness, in-flight budget, limits, WAL). Answers as OTLP/HTTP specifies: 200 with an
 * ExportLogsServiceResponse, its `partial_success` counting the records refused (too old, too long, …);
 * 400 with a google.rpc.Status for a body that cannot be decoded; 429 and 503 with Retry-After when the
 * push path is out of room or the disk refuses the write; 415 for another Content-Type.
 */
export function otlpRoutes(app: FastifyInstance, deps: PushRouteDeps): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const stream = req.body as IncomingMessage | undefined;
    const encoding = otlpEncodingOf(req.headers['content-type']);
    const status = (enc: OtlpEncoding, code: number, rpc: number, message: string) => reply.code(code).type(contentTypeOf(enc)).send(statusBody(enc, rpc, message));
    if (!encoding) {
      stream?.resume();
      return status('json', 415, RPC.INVALID_ARGUMENT, `content type: ${req.headers['content-type'] ?? '(none)'} is not supported: OTLP/HTTP takes application/x-protobuf or application/json`);
    }
    const tenant = tenantOf(req, reply, deps.authEnabled);
    if (tenant === null) return reply;
    if (!deps.isReady()) {
      void reply.header('retry-after', String(DEFAULT_RETRY_AFTER_SECONDS));
      return status(encoding, 503, RPC.UNAVAILABLE, 'not ready: the ingester is still replaying its WAL');
    }
    const held = deps.budget.reserve();
    reply.raw.once('close', () => held.release());
    try {
      const body = stream ? await readBody(stream, req.headers['content-length'], deps.bodyLimit, (n) => held.charge(n)) : Buffer.alloc(0);
      reply.raw.once('finish', () => releaseAfterBigBody(body.length));
      const res = await deps.distributor.push(tenant, body, req.headers['content-type'], req.headers['content-encoding'] as string | undefined, held, decodeOtlpBody);
      if (res.status === 204) return reply.code(200).type(contentTypeOf(encoding)).send(exportResponse(encoding));
      // Records refused one by one (too old, too long, invalid labels…): the rest are stored, and a retry would not help.
      if (res.status === 400 && res.rejected) {
        return reply.code(200).type(contentTypeOf(encoding)).send(exportResponse(encoding, { rejectedLogRecords: res.rejected.entries, errorMessage: res.message ?? '' }));
      }
      if (res.status === 429) {
        void reply.header('retry-after', String(res.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS));
        return status(encoding, 429, RPC.RESOURCE_EXHAUSTED, res.message ?? 'too many requests');
      }
      return status(encoding, res.status, RPC.INVALID_ARGUMENT, res.message ?? 'bad request');
    } catch (err) {
      if (err instanceof InflightBudgetError) {
        deps.onBudgetRefusal(tenant);
        void reply.header('retry-after', String(err.retryAfterSeconds));
        return status(encoding, 429, RPC.RESOURCE_EXHAUSTED, err.message);
      }
      if (!(err as { statusCode?: number }).statusCode && (stream?.errored || req.raw.socket?.destroyed)) return status(encoding, 400, RPC.INVALID_ARGUMENT, 'request body aborted by the client');
      const code = (err as { statusCode?: number }).statusCode;
      if (code !== undefined && code >= 400 && code < 500) return status(encoding, code, RPC.INVALID_ARGUMENT, (err as Error).message);
      deps.log.error('OTLP push failed', { tenant, err: (err as Error).message });
      // The disk refused the write (full or failing): 503, because OTLP exporters retry only 429, 502, 503
      // and 504 and would drop the batch on the 507 the Loki push API answers for a full disk.
      if (storageStatus(err) !== null) {
        void reply.header('retry-after', String(DEFAULT_RETRY_AFTER_SECONDS));
        return status(encoding, 503, RPC.UNAVAILABLE, `push failed: ${(err as Error).message}`);
      }
      return status(encoding, 500, RPC.INTERNAL, `push failed: ${(err as Error).message}`);
    } finally {
      held.release();
    }
  };
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    scope.post('/otlp/v1/logs', handler);
  });
}
