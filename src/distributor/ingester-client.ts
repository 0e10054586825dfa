import type { IngestStreamIn, PushOutcome } from '../ingester/ingester.js';

/** How the distributor reaches an ingester: in the same process, or over HTTP (`--target distributor`). */
export interface IngesterClient {
  push(tenant: string, streams: IngestStreamIn[]): Promise<PushOutcome>;
}
