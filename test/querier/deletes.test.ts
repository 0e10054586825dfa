import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, type QueryParams } from '../../query/engine.js';
import { parseExpr } from '../../query/parser.js';
import { StoreLogSource } from '../../src/querier/store-source.js';
import { QueryWorkerPool } from '../../src/querier/workers/pool.js';
import { CompiledDelete } from '../../src/store/delete-matcher.js';
import { removeDir, tempDir } from '../helpers/server.js';
import { openFixture, TENANT, type Fixture } from './store-fixture.js';

/**
 * Delete requests applied by the query source: the same answer whether streams are read on this thread
 * or on worker threads (real threads, real chunk files), from chunks and from ingester memory.
 */

const MS = 1_000_000n;
const S = 1000n * MS;
const T0 = 1_700_000_000n * S;

let fx: Fixture;
let dir: string;
let pool: QueryWorkerPool;

beforeAll(async () => {
  dir = tempDir('narvi-qdel-');
  fx = openFixture(dir);
  for (const app of ['a', 'b', 'c']) {
    const es = Array.from({ length: 300 }, (_, i) => ({ ts: T0 + BigInt(i) * S, line: `app=${app} i=${i} ${i % 4 === 0 ? 'secret' : 'fine'}` }));
    // Chunks of 100 in blocks of 25; the last 60 entries stay in memory, 20 of them also flushed.
    const flushed = es.slice(0, 260);
    for (let c = 0; c < flushed.length; c += 100) {
      const part = flushed.slice(c, c + 100);
      const blocks = [];
      for (let b = 0; b < part.length; b += 25) blocks.push(part.slice(b, b + 25));
      await fx.addChunk({ app }, blocks);
    }
    fx.addMemory({ app }, es.slice(240));
  }
  pool = new QueryWorkerPool({ indexPath: fx.index.db.name, store: { kind: 'fs', root: fx.store.root } }, 2, 0);
});

afterAll(async () => {
  await pool.close();
  fx.index.db.close();
  removeDir(dir);
});

const DELETES = [
  // Secret lines of app a and b from i=50 to i=280 (inclusive), across chunks and memory.
  new CompiledDelete({ id: 'd1', tenant: TENANT, query: '{app=~"a|b"} |= "secret"', startMs: Number((T0 + 50n * S) / MS), endMs: Number((T0 + 280n * S) / MS) }),
  // Every line of app c from i=10 to i=19.
  new CompiledDelete({ id: 'd2', tenant: TENANT, query: '{app="c"}', startMs: Number((T0 + 10n * S) / MS), endMs: Number((T0 + 19n * S) / MS) }),
];

function covered(line: string): boolean {
  const app = /app=(\w)/.exec(line)![1]!;
  const i = Number(/i=(\d+)/.exec(line)![1]);
  if ((app === 'a' || app === 'b') && line.includes('secret') && i >= 50 && i <= 280) return true;
  return app === 'c' && i >= 10 && i <= 19;
}

async function run(q: string, withPool: boolean, p: Partial<QueryParams> = {}) {
  const params: QueryParams = { start: T0, end: T0 + 400n * S, step: 60n * S, direction: 'forward', limit: 5000, instant: false, ...p };
  return evaluate(parseExpr(q), params, new StoreLogSource(TENANT, fx.index, fx.store, fx.memory, withPool ? pool : null, undefined, undefined, DELETES));
}

function lines(r: Awaited<ReturnType<typeof run>>): string[] {
  if (r.type !== 'streams') throw new Error(`expected streams, got ${r.type}`);
  return r.streams.flatMap((s) => s.entries.map((e) => e.line)).sort();
}

describe('delete requests in the query source', () => {
  it('hide covered entries on this thread and on workers alike', async () => {
    const all: string[] = [];
    for (const app of ['a', 'b', 'c']) for (let i = 0; i < 300; i++) all.push(`app=${app} i=${i} ${i % 4 === 0 ? 'secret' : 'fine'}`);
    const want = all.filter((l) => !covered(l)).sort();
    expect(all.length - want.length).toBe(2 * 58 + 10);

    const before = pool.tasksRun;
    const viaWorkers = lines(await run('{app=~".+"}', true));
    expect(pool.tasksRun - before).toBe(2);
    expect(viaWorkers).toEqual(want);
    expect(lines(await run('{app=~".+"}', false))).toEqual(want);
    expect(lines(await run('{app=~".+"}', true, { direction: 'backward', limit: 5000 }))).toEqual(want);
  });

  it('hide covered entries from metric queries on workers', async () => {
    const q = 'sum by (app) (count_over_time({app=~".+"} [401s]))';
    const before = pool.tasksRun;
    const w = await run(q, true, { start: T0 + 400n * S, end: T0 + 400n * S, step: 0n, instant: true });
    expect(pool.tasksRun - before).toBe(2);
    const t = await run(q, false, { start: T0 + 400n * S, end: T0 + 400n * S, step: 0n, instant: true });
    expect(JSON.stringify(w.type === "vector" && w.samples)).toEqual(JSON.stringify(t.type === "vector" && t.samples));
    if (w.type !== 'vector') throw new Error(`expected a vector, got ${w.type}`);
    expect(Object.fromEntries(w.samples.map((s) => [s.metric.app, s.v]))).toEqual({ a: 300 - 58, b: 300 - 58, c: 290 });
  });
});
