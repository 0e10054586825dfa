import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, type QueryParams } from '../../query/engine.js';
import { parseExpr } from '../../query/parser.js';
import type { QueryResult } from '../../query/result.js';
import { generateLines, generateStreams } from '../../bench/generate.js';
import { StoreLogSource } from '../../src/querier/store-source.js';
import { QueryWorkerPool } from '../../src/querier/workers/pool.js';
import { removeDir, tempDir } from '../helpers/server.js';
import { openFixture, TENANT, type Fixture } from './store-fixture.js';

/**
 * Queries split across worker threads (real threads over the real index and chunk files; the worker
 * script comes from the build) must answer exactly what one thread answers.
 */

const S = 1_000_000_000n;
const T0 = 1_700_000_000n * S;

let fx: Fixture;
let dir: string;
let pool: QueryWorkerPool;

beforeAll(async () => {
  dir = tempDir('narvi-qpar-');
  fx = openFixture(dir);
  const gen = generateStreams(9, 5);
  const perStream = new Map<number, { ts: bigint; line: string }[]>();
  for (const l of generateLines({ seed: 5, streams: 9, maxLines: 6000, startNs: T0, meanStepNs: 50_000_000, needleEvery: 700 })) {
    let es = perStream.get(l.stream);
    if (!es) perStream.set(l.stream, (es = []));
    es.push({ ts: l.ts, line: l.line });
  }
  for (const [i, es] of perStream) {
    const labels = gen[i]!.labels;
    // Chunks of 150 entries in blocks of 50; the last 40 entries also stay "in memory", overlapping the
    // last chunk by 10 (duplicates the merge must drop).
    const flushed = es.slice(0, es.length - 30);
    for (let c = 0; c < flushed.length; c += 150) {
      const part = flushed.slice(c, c + 150);
      const blocks = [];
      for (let b = 0; b < part.length; b += 50) blocks.push(part.slice(b, b + 50));
      await fx.addChunk(labels, blocks);
    }
    fx.addMemory(labels, es.slice(es.length - 40));
  }
  pool = new QueryWorkerPool({ indexPath: fx.index.db.name, store: { kind: 'fs', root: fx.store.root } }, 2, 0);
});

afterAll(async () => {
  await pool.close();
  fx.index.db.close();
  removeDir(dir);
});

async function both(q: string, p: Partial<QueryParams> = {}): Promise<[unknown, unknown]> {
  const params: QueryParams = { start: T0, end: T0 + 400n * S, step: 10n * S, direction: 'backward', limit: 300, instant: false, ...p };
  const run = async (withPool: boolean) => {
    const r = await evaluate(parseExpr(q), params, new StoreLogSource(TENANT, fx.index, fx.store, fx.memory, withPool ? pool : null));
    return { ...r, stats: { lines: r.stats.totalLinesProcessed > 0, streams: r.stats.totalStreamsSelected } };
  };
  return [await run(true), await run(false)];
}

describe('queries split across worker threads', () => {
  const queries: [string, Partial<QueryParams>][] = [
    ['sum by (level) (count_over_time({namespace=~".+"} | json | __error__="" [30s]))', {}],
    ['sum by (level) (count_over_time({namespace=~".+"} | logfmt [30s]))', {}],
    ['sum(rate({namespace=~".+"} |= "error" [1m]))', {}],
    ['count_over_time({app=~"api-gateway|auth"} [20s])', {}],
    ['sum by (app) (bytes_over_time({namespace=~".+"} [45s]))', {}],
    ['max by (app) (max_over_time({app=~"api-gateway|checkout|search"} | json | __error__="" | unwrap status [1m]))', {}],
    ['min_over_time({app=~"api-gateway|checkout"} | json | __error__="" | unwrap duration_ms [1m])', {}],
    ['quantile_over_time(0.9, {app=~"api-gateway|checkout"} | json | __error__="" | unwrap duration_ms [1m])', {}],
    ['absent_over_time({app="nope-not-there"} [1m])', {}],
    ['{namespace=~".+"} |= "error"', {}],
    ['{namespace=~".+"} |= "error"', { direction: 'forward' }],
    ['{namespace=~".+"} | logfmt | level="warn"', { limit: 1000 }],
    ['{namespace=~".+"}', { limit: 5000 }],
    ['{namespace=~".+"} |= "req-7f3e9a1c-needle"', {}],
  ];
  for (const [q, p] of queries) {
    it(`${q} ${JSON.stringify(p)}`, async () => {
      const before = pool.tasksRun;
      const [par, one] = await both(q, p);
      expect(par).toEqual(one);
      // Split into two shares, except the operations whose partials depend on stream order (and a selector with no stream).
      expect(pool.tasksRun - before).toBe(q.startsWith('quantile') || q.startsWith('absent') ? 0 : 2);
      const r = par as QueryResult;
      if (!q.startsWith('absent')) expect(r.type === 'streams' ? r.streams.length : r.type === 'matrix' ? r.series.length : 1).toBeGreaterThan(0);
    });
  }

  it('instant metric queries', async () => {
    const [par, one] = await both('sum by (level) (count_over_time({namespace=~".+"} | logfmt [2m]))', { instant: true, start: T0 + 200n * S, end: T0 + 200n * S });
    expect(par).toEqual(one);
  });

  it('a cancelled query stops its workers and rejects with the reason', async () => {
    const ac = new AbortController();
    const reason = new Error('stop now');
    ac.abort(reason);
    const params: QueryParams = { start: T0, end: T0 + 400n * S, step: 10n * S, direction: 'backward', limit: 100, instant: false };
    await expect(evaluate(parseExpr('sum(count_over_time({namespace=~".+"} | json [1m]))'), params, new StoreLogSource(TENANT, fx.index, fx.store, fx.memory, pool), { signal: ac.signal })).rejects.toThrow('stop now');
    // The pool still serves the next query.
    const [par, one] = await both('sum(count_over_time({namespace=~".+"} [1m]))');
    expect(par).toEqual(one);
  });

  it('a worker that cannot open the index does not fail the query: it runs on the calling thread', async () => {
    const broken = new QueryWorkerPool({ indexPath: `${dir}/no/such/index.sqlite`, store: { kind: 'fs', root: fx.store.root } }, 2, 0);
    try {
      const params: QueryParams = { start: T0, end: T0 + 400n * S, step: 10n * S, direction: 'backward', limit: 100, instant: false };
      const q = parseExpr('sum by (level) (count_over_time({namespace=~".+"} | logfmt [1m]))');
      const got = await evaluate(q, params, new StoreLogSource(TENANT, fx.index, fx.store, fx.memory, broken));
      const want = await evaluate(q, params, new StoreLogSource(TENANT, fx.index, fx.store, fx.memory, null));
      expect({ ...got, stats: null }).toEqual({ ...want, stats: null });
      expect(broken.failures).toBe(1);
    } finally {
      await broken.close();
    }
  });

  it('the default pool follows NARVI_QUERY_WORKERS', () => {
    expect(QueryWorkerPool.auto(fx.index, fx.store, { NARVI_QUERY_WORKERS: '0' })).toBeNull();
    expect(QueryWorkerPool.auto(fx.index, fx.store, { NARVI_QUERY_WORKERS: '3' })?.size).toBe(3);
    expect(() => QueryWorkerPool.auto(fx.index, fx.store, { NARVI_QUERY_WORKERS: 'many' })).toThrow(/NARVI_QUERY_WORKERS must be a whole number/);
  });
});
