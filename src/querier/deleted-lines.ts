import type { EntryBatch } from '../model/batch.js';
import { withoutCovered, type CompiledDelete, type StreamDeletes } from '../store/delete-matcher.js';

/** Where queries find a tenant's delete requests (store/delete-requests.ts); cached, cheap to ask per query. */
export interface DeleteLookup {
  active(tenant: string): readonly CompiledDelete[];
}

/** A stream's batches without the entries its delete requests cover; batches left empty are skipped. */
export async function* withoutDeleted(batches: AsyncIterable<EntryBatch>, sd: StreamDeletes): AsyncIterable<EntryBatch> {
  for await (const b of batches) {
    const kept = withoutCovered(b, sd);
    if (kept) yield kept;
  }
}
