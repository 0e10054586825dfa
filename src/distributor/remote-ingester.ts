import type { IngestStreamIn, PushOutcome } from '../ingester/ingester.js';
import { StorageWriteError } from '../ingester/storage-error.js';
import { encodePushRecord } from '../ingester/wal-record.js';
import type { IngesterClient } from './ingester-client.js';

/**
 * An ingester in another process. The body is the ingester's own WAL push record (already validated
 * entries), so the ingester neither re-validates nor re-encodes before appending it.
 */
export class RemoteIngester implements IngesterClient {
  constructor(
    readonly baseUrl: string,
    private secret = '',
  ) {}

  async push(tenant: string, streams: IngestStreamIn[]): Promise<PushOutcome> {
    const body = encodePushRecord(tenant, streams.map((s) => ({ canonical: s.canonical, entries: s.entries })));
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl.replace(/\/$/, '')}/internal/ingester/push`, {
        method: 'POST',
        headers: internalHeaders(tenant, this.secret, 'application/octet-stream'),
        body,
      });
    } catch (err) {
      throw new Error(`ingester ${this.baseUrl} unreachable: ${(err as Error).message}`);
    }
    if (res.status === 507 || res.status === 503) {
      // Its disk refused the write: the client gets the same answer and retries.
      throw new StorageWriteError(`ingester ${this.baseUrl}: ${(await res.text()).trim()}`, res.status, undefined);
    }
    if (!res.ok) throw new Error(`ingester ${this.baseUrl} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as PushOutcome;
  }
}

/** What every internal call carries: the tenant, as on the public API, and the shared secret when set. */
export function internalHeaders(tenant: string, secret: string, contentType: string): Record<string, string> {
  const h: Record<string, string> = { 'content-type': contentType, 'x-scope-orgid': tenant };
  if (secret) h['x-narvi-internal-secret'] = secret;
  return h;
}

/** Picks the ingester for a stream by its fingerprint, so one stream always lands on one ingester. */
export function routeByFingerprint<T>(clients: T[], fingerprint: string): T {
  return clients[parseInt(fingerprint.slice(0, 8), 16) % clients.length]!;
}
