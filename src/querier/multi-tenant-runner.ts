import type { Matcher } from '../../query/ast.js';
import type { LabelIndex } from '../store/label-index.js';
import type { ChunkDamage } from './chunk-damage.js';
import type { MemorySource } from './memory-source.js';
import { tenantSelections, withTenant } from './multi-tenant.js';
import { WorkerParallelRunner, type FoundStream } from './parallel-runner.js';
import type { Pacer } from './query-lifetime.js';
import type { QueryWorkerPool } from './workers/pool.js';

/**
 * The worker pool over several tenants' streams: each tenant's runner finds its streams (under its own
 * retention and delete requests), they are labelled with their tenant, and the whole set is dealt to the
 * workers as one query's. A worker reads streams by index id and never by tenant, so streams of
 * different tenants share it as streams of one tenant do; isolated queries (slow regexes) stay off the
 * thread that serves every other request, as for one tenant.
 */
export class MultiTenantParallelRunner extends WorkerParallelRunner {
  private readonly byTenant: Map<string, WorkerParallelRunner>;

  constructor(parts: { tenant: string; runner: WorkerParallelRunner }[], index: LabelIndex, memory: MemorySource, pool: QueryWorkerPool, life?: Pacer, damage?: ChunkDamage) {
    super(parts[0]!.tenant, index, memory, pool, life, undefined, [], damage);
    this.byTenant = new Map(parts.map((p) => [p.tenant, p.runner]));
  }

  override async collect(matchers: Matcher[], start: bigint, end: bigint): Promise<FoundStream[]> {
    const out: FoundStream[] = [];
    for (const sel of tenantSelections([...this.byTenant.keys()], matchers)) {
      for (const s of await this.byTenant.get(sel.tenant)!.collect(sel.matchers, start, end)) out.push({ ...s, labels: withTenant(s.labels, sel.tenant) });
    }
    return out;
  }
}
