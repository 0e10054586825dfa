import type { Matcher } from '../../query/ast.js';
import { internalHeaders } from '../distributor/remote-ingester.js';
import { PatternAccumulator, type PatternSeries, type PatternStore } from '../ingester/patterns/pattern-store.js';
import { selectorPredicate } from './resolve-streams.js';

/** Where a querier finds log patterns: its own ingester in `--target all`, the ingesters' internal API otherwise. */
export interface PatternSource {
  /** Series with timestamps in ms, already summed per step; see PatternStore.query. */
  query(tenant: string, matchers: Matcher[], startMs: number, endMs: number, stepMs: number, signal?: AbortSignal): Promise<PatternSeries[]>;
}

export class LocalPatternSource implements PatternSource {
  constructor(private store: PatternStore | null) {}

  async query(tenant: string, matchers: Matcher[], startMs: number, endMs: number, stepMs: number): Promise<PatternSeries[]> {
    return this.store ? this.store.query(tenant, selectorPredicate(matchers), startMs, endMs, stepMs) : [];
  }
}

/** Asks every ingester (`querier.ingesters`) and sums what they hold: a stream's lines may be spread over several. */
export class RemotePatternSource implements PatternSource {
  constructor(
    private urls: string[],
    private secret = '',
  ) {}

  async query(tenant: string, matchers: Matcher[], startMs: number, endMs: number, stepMs: number, signal?: AbortSignal): Promise<PatternSeries[]> {
    const answers = await Promise.all(
      this.urls.map(async (u) => {
        const res = await fetch(`${u.replace(/\/$/, '')}/internal/ingester/patterns`, {
          method: 'POST',
          headers: internalHeaders(tenant, this.secret, 'application/json'),
          body: JSON.stringify({ tenant, matchers, start: startMs, end: endMs, step: stepMs }),
          signal,
        });
        // An ingester with patterns off has none to give.
        if (res.status === 404) return [] as PatternSeries[];
        if (!res.ok) throw new Error(`ingester ${u} answered ${res.status}: ${await res.text()}`);
        return ((await res.json()) as { series: PatternSeries[] }).series;
      }),
    );
    if (answers.length === 1) return answers[0]!;
    const acc = new PatternAccumulator();
    for (const list of answers) for (const s of list) acc.add(s);
    return acc.result();
  }
}
