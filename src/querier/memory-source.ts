import type { Matcher } from '../../query/ast.js';
import type { Ingester, StreamSnapshot } from '../ingester/ingester.js';
import { selectorPredicate } from './resolve-streams.js';

/** Entries still in ingester memory: local in `--target all`, over HTTP when the querier runs alone. */
export interface MemorySource {
  select(tenant: string, matchers: Matcher[], start: bigint, end: bigint): Promise<StreamSnapshot[]>;
}

export class LocalMemorySource implements MemorySource {
  constructor(private ingester: Ingester) {}

  async select(tenant: string, matchers: Matcher[], start: bigint, end: bigint): Promise<StreamSnapshot[]> {
    return this.ingester.select(tenant, selectorPredicate(matchers), start, end);
  }
}

/** No ingester to ask: a querier over flushed chunks only. */
export class NoMemorySource implements MemorySource {
  async select(): Promise<StreamSnapshot[]> {
    return [];
  }
}
