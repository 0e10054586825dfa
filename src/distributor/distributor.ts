import type { Limits } from '../config/config.js';
import type { IngestStreamIn, PushOutcome } from '../ingester/ingester.js';
import type { Logger } from '../model/logger.js';
import { nowNs } from '../model/time.js';
import { decodePushBody, PushBodyError } from './decode-body.js';
import type { IngesterClient } from './ingester-client.js';
import type { DistributorMetrics } from './metrics.js';
import { RateLimiter } from './rate-limiter.js';
import { routeByFingerprint } from './remote-ingester.js';
import { rejectionMessage, validatePush, type Rejection } from './validate.js';

export interface PushResponse {
  status: 204 | 400 | 429;
  message?: string;
}

/** Decodes, validates and rate-limits a push, then hands each stream to its ingester. */
export class Distributor {
  private limiter: RateLimiter;

  constructor(
    private limits: Limits,
    private ingesters: IngesterClient[],
    private metrics: DistributorMetrics,
    private log: Logger,
  ) {
    this.limiter = new RateLimiter(limits.ingestionRateBytes, limits.ingestionBurstBytes);
  }

  async push(tenant: string, body: Buffer, contentType: string | undefined, contentEncoding: string | undefined): Promise<PushResponse> {
    let decoded;
    try {
      decoded = await decodePushBody(body, contentType, contentEncoding);
    } catch (err) {
      if (err instanceof PushBodyError) return { status: 400, message: err.message };
      throw err;
    }
    const total = decoded.reduce((n, s) => n + s.entries.length, 0);
    const v = validatePush(decoded, this.limits, nowNs());
    if (v.truncatedLines > 0) this.metrics.linesTruncated.inc({ tenant }, v.truncatedLines);
    const rejections: Rejection[] = [...v.rejections];

    if (v.acceptedEntries > 0 && !this.limiter.allow(tenant, v.acceptedBytes)) {
      const message = `Ingestion rate limit exceeded for user ${tenant} (limit: ${this.limits.ingestionRateBytes} bytes/sec) while attempting to ingest '${v.acceptedEntries}' lines totaling '${v.acceptedBytes}' bytes, reduce log volume or contact your administrator to see if the limit can be increased`;
      this.countRejections(tenant, [...rejections, { reason: 'rate_limited', entries: v.acceptedEntries, bytes: v.acceptedBytes, message }]);
      return { status: 429, message };
    }

    if (v.streams.length > 0) {
      const outcomes = await this.send(tenant, v.streams);
      let accepted = 0;
      let acceptedBytes = 0;
      for (const o of outcomes) {
        accepted += o.accepted;
        acceptedBytes += o.acceptedBytes;
        rejections.push(...o.rejections);
      }
      this.metrics.entriesReceived.inc({ tenant }, accepted);
      this.metrics.bytesReceived.inc({ tenant }, acceptedBytes);
    }
    if (rejections.length === 0) return { status: 204 };
    this.countRejections(tenant, rejections);
    const limited = rejections.some((r) => r.reason === 'stream_limit' || r.reason === 'rate_limited');
    return { status: limited ? 429 : 400, message: rejectionMessage(rejections, total) };
  }

  private async send(tenant: string, streams: IngestStreamIn[]): Promise<PushOutcome[]> {
    if (this.ingesters.length === 1) return [await this.ingesters[0]!.push(tenant, streams)];
    const groups = new Map<IngesterClient, IngestStreamIn[]>();
    for (const s of streams) {
      const c = routeByFingerprint(this.ingesters, s.fingerprint);
      const g = groups.get(c);
      if (g) g.push(s);
      else groups.set(c, [s]);
    }
    return Promise.all([...groups].map(([c, g]) => c.push(tenant, g)));
  }

  private countRejections(tenant: string, rejections: Rejection[]): void {
    for (const r of rejections) {
      this.metrics.entriesRejected.inc({ tenant, reason: r.reason }, r.entries);
      this.metrics.bytesRejected.inc({ tenant, reason: r.reason }, r.bytes);
    }
    this.log.debug('push rejected entries', { tenant, errors: rejections.length });
  }
}
