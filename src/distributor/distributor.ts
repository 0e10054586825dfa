import type { Config, Limits } from '../config/config.js';
import { tenantLimits, type TenantLimits } from '../config/overrides.js';
import type { IngestStreamIn, PushOutcome } from '../ingester/ingester.js';
import type { IngestStream } from '../model/entry.js';
import type { Logger } from '../model/logger.js';
import { nowNs } from '../model/time.js';
import { decodePushBody, PushBodyError, PushTooLargeError, RateLimitedWhileInflatingError, type DecodeLimits, type PushDialect } from './decode-body.js';
import type { DecodedPush } from './entry-columns.js';
import type { InflightReservation } from './inflight-budget.js';
import type { IngesterClient } from './ingester-client.js';
import type { DistributorMetrics } from './metrics.js';
import { RateLimiter } from './rate-limiter.js';
import { RejectionSummary } from './rejection-summary.js';
import { routeByFingerprint } from './remote-ingester.js';
import { validatePush, type ValidationResult } from './validate.js';

export interface PushResponse {
  status: 204 | 400 | 413 | 429;
  message?: string;
  /** For a 429 the client should retry after this many seconds (the `Retry-After` header). */
  retryAfterSeconds?: number;
  /** Entries set aside by validation or the ingesters (a 400 or 429 after decoding), and entries in the push. */
  rejected?: { entries: number; total: number };
}

/** Turns a body into streams: Loki's push formats by default, OTLP for /otlp/v1/logs. */
export type PushDecoder = (body: Buffer, contentType: string | undefined, contentEncoding: string | undefined, limits: DecodeLimits, tenant: Limits) => Promise<DecodedPush>;

/** Loki's v1 push body (JSON or protobuf): the decoder a push uses unless its route names another. */
const decodeV1: PushDecoder = (body, contentType, contentEncoding, limits) => decodePushBody(body, contentType, contentEncoding, limits);

/** Loki's push body in `dialect` (the legacy /api/prom/push JSON shape, or v1). */
export function pushDecoder(dialect: PushDialect): PushDecoder {
  return dialect === 'v1' ? decodeV1 : (body, contentType, contentEncoding, limits) => decodePushBody(body, contentType, contentEncoding, limits, dialect);
}

// Entries become objects this many at a time; a push of millions of tiny entries is validated and
// handed to the ingesters slice by slice, so its cost in memory stays proportional to its body.
const SLICE_ENTRIES = 8192;

/** The push's streams cut into slices of at most SLICE_ENTRIES entries, each as objects. */
function* slices(push: DecodedPush): Generator<IngestStream[]> {
  let out: IngestStream[] = [];
  let n = 0;
  for (const s of push.streams) {
    for (let from = s.from; from < s.to; ) {
      const to = Math.min(s.to, from + (SLICE_ENTRIES - n));
      out.push({ labels: s.labels, entries: push.columns.entries(from, to) });
      n += to - from;
      from = to;
      if (n >= SLICE_ENTRIES) {
        yield out;
        out = [];
        n = 0;
      }
    }
  }
  if (out.length > 0) yield out;
}

/** Decodes, validates and rate-limits a push, then hands each stream to its ingester. */
export class Distributor {
  private limiter: RateLimiter;
  /** Each tenant's effective limits (the overrides file applied). */
  private limits: TenantLimits;

  constructor(
    limits: Limits | TenantLimits,
    private ingesters: IngesterClient[],
    private metrics: DistributorMetrics,
    private log: Logger,
    private decodeLimits: Pick<Config['distributor'], 'maxDecompressedSize' | 'maxPushEntries'> = { maxDecompressedSize: 256 * 1024 * 1024, maxPushEntries: 5_000_000 },
  ) {
    this.limits = tenantLimits(limits);
    this.limiter = new RateLimiter(0, 0);
  }

  private rateLimitMessage(tenant: string, entries: string, bytes: string): string {
    return `Ingestion rate limit exceeded for user ${tenant} (limit: ${this.limits.forTenant(tenant).ingestionRateBytes} bytes/sec) while attempting to ingest ${entries} lines totaling ${bytes} bytes, reduce log volume or contact your administrator to see if the limit can be increased`;
  }

  /**
   * `held` is what the push holds of `distributor.max_inflight_push_bytes`: decoding charges it what it
   * inflates and decodes, and an InflightBudgetError (429) is thrown past the budget. The caller releases it.
   */
  async push(tenant: string, body: Buffer, contentType: string | undefined, contentEncoding: string | undefined, held?: InflightReservation, decode: PushDecoder = decodeV1): Promise<PushResponse> {
    const limits = this.limits.forTenant(tenant);
    let decoded: DecodedPush;
    try {
      decoded = await decode(body, contentType, contentEncoding, {
        maxDecompressedSize: this.decodeLimits.maxDecompressedSize,
        maxEntries: this.decodeLimits.maxPushEntries,
        rate: limits.ingestionRateBytes > 0 ? { burst: limits.ingestionBurstBytes, chargedWholeAbove: SLICE_ENTRIES } : undefined,
        charge: held ? (n) => held.charge(n) : undefined,
      }, limits);
    } catch (err) {
      if (err instanceof PushBodyError) return { status: 400, message: err.message };
      if (err instanceof PushTooLargeError) return { status: 413, message: err.message };
      if (err instanceof RateLimitedWhileInflatingError) {
        const message = this.rateLimitMessage(tenant, 'an unknown number of', `more than '${err.countedBytes}'`) + ' (refused while decompressing the body)';
        this.metrics.bytesRejected.inc({ tenant, reason: 'rate_limited' }, err.countedBytes);
        return { status: 429, message };
      }
      throw err;
    }
    const total = decoded.columns.count;
    const now = nowNs();
    const summary = new RejectionSummary();
    // The rate limit refuses a push all or nothing, so it is checked before anything is sent. A push of
    // one slice is validated first and charged its accepted bytes, as Loki does; a bigger one is charged
    // what it carries before validation (more only by what validation will refuse) so that it is
    // validated once, a slice at a time, instead of being held as objects in between.
    let only: ValidationResult | null = null;
    let charge: { entries: number; bytes: number };
    if (total <= SLICE_ENTRIES) {
      only = validatePush(decoded.streams.map((s) => ({ labels: s.labels, entries: decoded.columns.entries(s.from, s.to) })), limits, now);
      summary.add(only.rejections);
      if (only.truncatedLines > 0) this.metrics.linesTruncated.inc({ tenant }, only.truncatedLines);
      charge = { entries: only.acceptedEntries, bytes: only.acceptedBytes };
    } else charge = { entries: total, bytes: decoded.columns.bytes };

    if (charge.entries > 0 && !this.limiter.allow(tenant, charge.bytes, limits.ingestionRateBytes, limits.ingestionBurstBytes)) {
      summary.add([{ reason: 'rate_limited', entries: charge.entries, bytes: charge.bytes, message: '' }]);
      this.countRejections(tenant, summary);
      return { status: 429, message: this.rateLimitMessage(tenant, `'${charge.entries}'`, `'${charge.bytes}'`) };
    }

    let retryAfterSeconds: number | undefined;
    if (charge.entries > 0) {
      let accepted = 0;
      let bytes = 0;
      const take = (outcomes: PushOutcome[]) => {
        for (const o of outcomes) {
          accepted += o.accepted;
          bytes += o.acceptedBytes;
          summary.add(o.rejections);
          if (o.retryAfterSeconds !== undefined) retryAfterSeconds = Math.max(retryAfterSeconds ?? 0, o.retryAfterSeconds);
        }
      };
      if (only) {
        if (only.streams.length > 0) take(await this.send(tenant, only.streams));
      } else {
        let truncated = 0;
        for (const slice of slices(decoded)) {
          const v = validatePush(slice, limits, now);
          summary.add(v.rejections);
          truncated += v.truncatedLines;
          if (v.streams.length > 0) take(await this.send(tenant, v.streams));
        }
        if (truncated > 0) this.metrics.linesTruncated.inc({ tenant }, truncated);
      }
      this.metrics.entriesReceived.inc({ tenant }, accepted);
      this.metrics.bytesReceived.inc({ tenant }, bytes);
    }
    if (summary.empty) return { status: 204 };
    this.countRejections(tenant, summary);
    const limited = summary.has('stream_limit') || summary.has('rate_limited') || summary.has('memory_limit');
    const res: PushResponse = { status: limited ? 429 : 400, message: summary.message(total), rejected: { entries: summary.ignored, total } };
    if (summary.has('memory_limit') && retryAfterSeconds !== undefined) res.retryAfterSeconds = retryAfterSeconds;
    return res;
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

  private countRejections(tenant: string, summary: RejectionSummary): void {
    for (const [reason, t] of summary.byReason) {
      this.metrics.entriesRejected.inc({ tenant, reason }, t.entries);
      this.metrics.bytesRejected.inc({ tenant, reason }, t.bytes);
    }
    this.log.debug('push rejected entries', { tenant, ignored: summary.ignored });
  }
}
