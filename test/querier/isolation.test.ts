import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, type QueryParams } from '../../query/engine.js';
import { parseExpr } from '../../query/parser.js';
import { loadConfig } from '../../src/config/load.js';
import type { StreamSnapshot } from '../../src/ingester/ingester.js';
import { Querier } from '../../src/querier/querier.js';
import { QueryCancelledError, QueryTimeoutError } from '../../src/querier/query-lifetime.js';
import { StoreLogSource } from '../../src/querier/store-source.js';
import { QueryWorkerPool } from '../../src/querier/workers/pool.js';
import { removeDir, tempDir, waitFor } from '../helpers/server.js';
import { openFixture, TENANT, type Fixture } from './store-fixture.js';

/**
 * Queries with regexes run on worker threads whatever their size (the thread serving every other request
 * must never run a user's regex), answer what one thread answers, and a worker stuck in one is replaced
 * without failing the other queries it held.
 */

const S = 1_000_000_000n;
const T0 = 1_700_000_000n * S;
const params: QueryParams = { start: T0, end: T0 + 100n * S, step: 10n * S, direction: 'backward', limit: 100, instant: false };

let fx: Fixture;
let dir: string;
/** One worker, and a size threshold no query here reaches: only isolated queries use it. */
let pool: QueryWorkerPool;

beforeAll(async () => {
  dir = tempDir('narvi-iso-');
  fx = openFixture(dir);
  for (const app of ['a', 'b', 'c']) {
    const es = Array.from({ length: 60 }, (_, i) => ({ ts: T0 + BigInt(i) * S, line: `{"level":"${i % 3 ? 'info' : 'error'}","n":${i},"app":"${app}"}` }));
    await fx.addChunk({ app }, [es.slice(0, 30), es.slice(30, 50)]);
    fx.addMemory({ app }, es.slice(50));
  }
  // Three lines `(.*a){25}!` does not get through in time: backtracking never ends, and V8's linear engine
  // (which takes over after excessive backtracking) needs seconds for lines this long.
  fx.addMemory({ app: 'stuck' }, [0, 1, 2].map((i) => ({ ts: T0 + BigInt(i) * S, line: 'a'.repeat(1_000_000) })));
  pool = new QueryWorkerPool({ indexPath: fx.index.db.name, store: { kind: 'fs', root: fx.store.root } }, 1, 1e12);
});

afterAll(async () => {
  await pool.close();
  fx.index.db.close();
  removeDir(dir);
});

const run = (q: string, withPool: boolean, signal?: AbortSignal) => evaluate(parseExpr(q), params, new StoreLogSource(TENANT, fx.index, fx.store, fx.memory, withPool ? pool : null), { signal });

describe('queries with regexes run on a worker', () => {
  for (const q of [
    '{app=~"a|b|c"} |~ "err.r"',
    '{app=~"a|b|c"} | json | level=~"e.*"',
    'sum by (app) (count_over_time({app=~"a|b|c"} |~ "\\"n\\":[0-9]*7" [20s]))',
    'quantile_over_time(0.5, {app=~"a|b|c"} | regexp "\\"n\\":(?P<num>[0-9]+)" | unwrap num [30s])',
    'first_over_time({app=~"a|b|c"} |~ "inf." | json | unwrap n [30s])',
    'stddev_over_time({app=~"a|b|c"} |~ "in.o" | json | unwrap n [30s])',
    'sum(rate({app=~"a|b|c"} | line_format "{{ regexReplaceAll \\"[0-9]\\" __line__ \\"#\\" }}" |= "##" [30s]))',
  ]) {
    it(q, async () => {
      const before = pool.tasksRun;
      const got = await run(q, true);
      const want = await run(q, false);
      expect({ ...got, stats: null }).toEqual({ ...want, stats: null });
      // Small as it is, it went to the worker, in one share.
      expect(pool.tasksRun - before).toBe(1);
    });
  }

  it('queries without regexes (or with regexes that are plain substrings) stay on the calling thread when small', async () => {
    const before = pool.tasksRun;
    await run('sum(count_over_time({app=~"a|b|c"} |= "error" [30s]))', true);
    await run('{app="a"} |~ "error" | json | level="error"', true);
    expect(pool.tasksRun).toBe(before);
  });

  it('a worker stuck in a regex is terminated when its query is cancelled; the other queries it held start over on a new one', async () => {
    const terminated = pool.terminated;
    const ac = new AbortController();
    const before = pool.tasksRun;
    const stuck = run('{app="stuck"} |~ "(.*a){25}!"', true, ac.signal);
    // Queued behind the stuck one on the only worker.
    const other = run('sum by (app) (count_over_time({app=~"a|b|c"} |~ "err.r" [20s]))', true);
    await waitFor(() => pool.tasksRun > before, 'the stuck query to reach the worker');
    ac.abort(new Error('client left'));
    await expect(stuck).rejects.toThrow('client left');
    const want = await run('sum by (app) (count_over_time({app=~"a|b|c"} |~ "err.r" [20s]))', false);
    expect({ ...(await other), stats: null }).toEqual({ ...want, stats: null });
    expect(pool.terminated).toBe(terminated + 1);
  });

  it('a query that stops by itself within the grace period keeps its worker', async () => {
    const terminated = pool.terminated;
    const ac = new AbortController();
    ac.abort(new Error('never mind'));
    await expect(run('{app=~"a|b|c"} |~ "err.r"', true, ac.signal)).rejects.toThrow('never mind');
    expect(pool.terminated).toBe(terminated);
  });
});

describe('every query kind stops at limits.query_timeout and when its caller aborts', () => {
  /** An ingester that answers slowly (a remote one under load). */
  const slowMemory = (ms: number) => ({
    async select(): Promise<StreamSnapshot[]> {
      await new Promise((r) => setTimeout(r, ms));
      return [];
    },
  });
  const querier = (timeout: string, memoryMs: number) => new Querier(fx.index, fx.store, slowMemory(memoryMs), loadConfig(['--limits.query-timeout', timeout], {}).limits, null);
  const kinds: [string, (q: Querier, signal?: AbortSignal) => Promise<unknown>][] = [
    ['query_range', (q, s) => q.query(TENANT, q.parse('count_over_time({app="a"}[10s])'), params, s)],
    ['labels', (q, s) => q.labelNames(TENANT, T0, T0 + 100n * S, undefined, s)],
    ['label values', (q, s) => q.labelValues(TENANT, 'app', T0, T0 + 100n * S, undefined, s)],
    ['series', (q, s) => q.series(TENANT, ['{app=~".+"}'], T0, T0 + 100n * S, s)],
    ['index stats / volume', (q, s) => q.streamsInRange(TENANT, q.parseMatchers('{app=~".+"}'), T0, T0 + 100n * S, s)],
    ['volume_range', (q, s) => q.volumeRange(TENANT, q.parseMatchers('{app=~".+"}'), ['app'], T0, T0 + 100n * S, 10n * S, s)],
  ];
  for (const [name, call] of kinds) {
    it(name, async () => {
      // The ingester takes 300 ms; the timeout is 50 ms.
      const t = Date.now();
      const err = await call(querier('50ms', 300)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueryTimeoutError);
      expect((err as Error).message).toContain('request timed out');
      expect((err as Error).message).toContain('limits.query_timeout: 0.05s');
      expect(Date.now() - t).toBeLessThan(1000);
      // A caller that leaves ends it with its own reason.
      const ac = new AbortController();
      const p = call(querier('1m', 300), ac.signal).catch((e: unknown) => e);
      ac.abort(new QueryCancelledError(499, 'the request was cancelled by the client'));
      const cancelled = await p;
      expect(cancelled).toBeInstanceOf(QueryCancelledError);
      expect((cancelled as QueryCancelledError).status).toBe(499);
      // Without either, it answers.
      await expect(call(querier('1m', 5))).resolves.toBeDefined();
    });
  }
});
