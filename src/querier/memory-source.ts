import type { Matcher } from '../../query/ast.js';
import type { Ingester } from '../ingester/ingester.js';
import type { StreamSnapshot } from '../ingester/memory-piece.js';
import type { Pacer } from './query-lifetime.js';
import { selectorPredicate } from './resolve-streams.js';

/** Entries still in ingester memory: local in `--target all`, over HTTP when the querier runs alone. */
export interface MemorySource {
  /**
   * `head: 'stats'`: sizes only (labels, series, stats), the open heads' entries are not copied. `pacer`:
   * the query's lifetime — matching stops and yields with it, and a request to another process is
   * aborted with its signal.
   */
  select(tenant: string, matchers: Matcher[], start: bigint, end: bigint, head?: 'copy' | 'stats', pacer?: Pacer): Promise<StreamSnapshot[]>;
}

export class LocalMemorySource implements MemorySource {
  constructor(private ingester: Ingester) {}

  select(tenant: string, matchers: Matcher[], start: bigint, end: bigint, head: 'copy' | 'stats' = 'copy', pacer?: Pacer): Promise<StreamSnapshot[]> {
    return this.ingester.select(tenant, selectorPredicate(matchers), start, end, head, pacer);
  }
}

/** No ingester to ask: a querier over flushed chunks only. */
export class NoMemorySource implements MemorySource {
  async select(): Promise<StreamSnapshot[]> {
    return [];
  }
}
