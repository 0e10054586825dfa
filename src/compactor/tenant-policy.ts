import type { Labels } from '../model/labels.js';
import { deletePredicateFor } from '../store/delete-matcher.js';
import type { DeleteRequest, DeleteRequests } from '../store/delete-requests.js';
import type { RetentionPolicy } from '../store/retention.js';
import type { CompactionPolicy, StreamPolicy } from './compaction-policy.js';

/**
 * What a server's compactor applies: each tenant's retention (overrides read at every stream, so an edit
 * applies at the next run) and the delete requests whose cancel period has passed. The requests are fixed
 * when a run begins and marked processed only when the run went through every stream: a run that stopped
 * half-way leaves them received, and the next run applies them again (rewriting what is already clean
 * finds nothing to drop and writes nothing).
 */
export class TenantCompactionPolicy implements CompactionPolicy {
  private due = new Map<string, DeleteRequest[]>();

  constructor(
    private readonly retention: RetentionPolicy,
    private readonly deletes: DeleteRequests | null,
  ) {}

  beginRun(nowMs: number): void {
    this.due = new Map();
    if (!this.deletes) return;
    for (const tenant of this.deletes.tenants()) {
      const list = this.deletes.processable(tenant, nowMs);
      if (list.length > 0) this.due.set(tenant, list);
    }
  }

  forStream(tenant: string, labels: Labels, nowNs: bigint): StreamPolicy {
    const policy: StreamPolicy = { cutoff: this.retention.cutoff(tenant, labels, nowNs) };
    const requests = this.due.get(tenant);
    if (!requests) return policy;
    const drop = deletePredicateFor(tenant, labels, requests);
    if (!drop) return policy;
    policy.drop = drop;
    policy.dropsWithin = (minTs, maxTs) => deletePredicateFor(tenant, labels, requests, { minTs, maxTs }) !== undefined;
    return policy;
  }

  endRun(success: boolean): void {
    if (success && this.deletes) {
      const ids = [...this.due.values()].flat().map((r) => r.id);
      if (ids.length > 0) this.deletes.markProcessed(ids);
    }
    this.due = new Map();
  }
}
