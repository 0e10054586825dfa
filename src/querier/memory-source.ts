import type { Matcher } from '../../query/ast.js';
import type { Ingester } from '../ingester/ingester.js';
import type { StreamSnapshot } from '../ingester/memory-piece.js';
import { selectorPredicate } from './resolve-streams.js';

/** Entries still in ingester memory: local in `--target all`, over HTTP when the querier runs alone. */
export interface MemorySource {
  /** `head: 'stats'`: sizes only (labels, series, stats), the open heads' entries are not copied. */
  select(tenant: string, matchers: Matcher[], start: bigint, end: bigint, head?: 'copy' | 'stats'): Promise<StreamSnapshot[]>;
}

export class LocalMemorySource implements MemorySource {
  constructor(private ingester: Ingester) {}

  async select(tenant: string, matchers: Matcher[], start: bigint, end: bigint, head: 'copy' | 'stats' = 'copy'): Promise<StreamSnapshot[]> {
    return this.ingester.select(tenant, selectorPredicate(matchers), start, end, head);
  }
}

/** No ingester to ask: a querier over flushed chunks only. */
export class NoMemorySource implements MemorySource {
  async select(): Promise<StreamSnapshot[]> {
    return [];
  }
}
