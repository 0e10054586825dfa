import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluate, type QueryParams } from '../../query/engine.js';
import { parseExpr } from '../../query/parser.js';
import type { QueryResult } from '../../query/result.js';
import type { EntryBatch } from '../../src/model/batch.js';
import { lineAt } from '../../src/model/batch.js';
import { StoreLogSource } from '../../src/querier/store-source.js';
import { removeDir, tempDir } from '../helpers/server.js';
import { openFixture, TENANT, type Fixture } from './store-fixture.js';

const S = 1_000_000_000n;
const T0 = 1_700_000_000n * S;
const at = (s: number) => T0 + BigInt(s) * S;

let fx: Fixture;
let dir: string;

beforeEach(() => {
  dir = tempDir('narvi-qsrc-');
  fx = openFixture(dir);
});

afterEach(() => {
  fx.index.db.close();
  removeDir(dir);
});

const range = (from: number, to: number, fmt: (s: number) => string) => {
  const out: { ts: bigint; line: string }[] = [];
  for (let s = from; s < to; s++) out.push({ ts: at(s), line: fmt(s) });
  return out;
};

async function collect(it: AsyncIterable<{ labels: Record<string, string>; batches: AsyncIterable<EntryBatch> }>): Promise<Record<string, string[][]>> {
  const out: Record<string, string[][]> = {};
  for await (const s of it) {
    const bs: string[][] = [];
    for await (const b of s.batches) bs.push(Array.from({ length: b.count }, (_, i) => `${(b.ts[i]! - T0) / S}:${lineAt(b, i)}`));
    out[s.labels.app!] = bs;
  }
  return out;
}

describe('StoreLogSource', () => {
  it('hands a stream newest batch first when asked, the same entries, non-overlapping, duplicates merged', async () => {
    const a = { app: 'a' };
    await fx.addChunk(a, [range(0, 5, (s) => `a${s}`), range(5, 10, (s) => `a${s}`)]);
    await fx.addChunk(a, [range(10, 15, (s) => `a${s}`)]);
    // A late chunk overlapping the second one, sharing one identical entry with it.
    await fx.addChunk(a, [[{ ts: at(12), line: 'a12' }, { ts: at(13), line: 'late' }]]);
    fx.addMemory(a, range(20, 23, (s) => `a${s}`));
    const src = new StoreLogSource(TENANT, fx.index, fx.store, fx.memory);
    const params = { matchers: [{ name: 'app', op: '=' as const, value: 'a' }], start: at(2), end: at(22), direction: 'backward' as const };
    const fwd = (await collect(src.select(params))).a!;
    const back = (await collect(src.selectBackward(params))).a!;
    expect(fwd.flat()).toEqual([...range(2, 10, (s) => `${s}:a${s}`).map((e) => e.line), '10:a10', '11:a11', '12:a12', '13:a13', '13:late', '14:a14', '20:a20', '21:a21']);
    expect([...back].reverse().flat()).toEqual(fwd.flat());
    // Each batch ascends; successive backward batches are strictly older.
    for (let k = 1; k < back.length; k++) expect(Number(back[k]!.at(-1)!.split(':')[0])).toBeLessThan(Number(back[k - 1]![0]!.split(':')[0]));
  });

  it('merges a chunk whose blocks overlap (entries that arrived out of order), both ways', async () => {
    const b = { app: 'b' };
    await fx.addChunk(b, [range(0, 10, (s) => `b${s}`), [...range(8, 9, (s) => `late${s}`), ...range(10, 20, (s) => `b${s}`)], range(15, 16, (s) => `late${s}`)]);
    const src = new StoreLogSource(TENANT, fx.index, fx.store, fx.memory);
    const params = { matchers: [{ name: 'app', op: '=' as const, value: 'b' }], start: at(0), end: at(30), direction: 'forward' as const };
    const fwd = (await collect(src.select(params))).b!;
    const back = (await collect(src.selectBackward(params))).b!;
    const want = [...range(0, 8, (s) => `${s}:b${s}`), ...['8:b8', '8:late8'].map((l) => ({ line: l })), ...range(9, 15, (s) => `${s}:b${s}`), { line: '15:b15' }, { line: '15:late15' }, ...range(16, 20, (s) => `${s}:b${s}`)].map((e) => e.line);
    expect(fwd.flat()).toEqual(want);
    expect([...back].reverse().flat()).toEqual(want);
  });

  it('a backward query with a limit stops reading each stream early and returns what the full scan returns', async () => {
    // Six streams, twelve one-block chunks each; "hit" on every third line.
    for (let st = 0; st < 6; st++) {
      for (let c = 0; c < 12; c++) {
        await fx.addChunk({ app: `s${st}` }, [range(c * 100, c * 100 + 100, (s) => (s % 3 === st % 3 ? `hit ${st} ${s}` : `miss ${st} ${s}`))]);
      }
    }
    const params: QueryParams = { start: at(0), end: at(1200), step: 0n, direction: 'backward', limit: 50, instant: false };
    const run = async (q: string, p: QueryParams, optimize: boolean): Promise<[QueryResult, number]> => {
      fx.store.gets = 0;
      const r = await evaluate(parseExpr(q), p, new StoreLogSource(TENANT, fx.index, fx.store, fx.memory), { optimize });
      return [{ ...r, stats: undefined } as unknown as QueryResult, fx.store.gets];
    };
    // Most reads allowed: the newest chunk or two of each stream suffices for 50 entries (of 72 chunks),
    // except for a stream with no match at all (s0 under the regex), which is read to the end.
    const bounds: Record<string, number> = {
      '{app=~"s.*"} |= "hit"': 14,
      '{app=~"s.*"}': 14,
      '{app=~"s[0-2]"} |~ "hit [12]"': 12 + 6,
      '{app=~"s.*"} | regexp "(?P<kind>\\\\w+) (?P<st>\\\\d)" | drop st': 14,
    };
    for (const [q, bound] of Object.entries(bounds)) {
      const [fast, reads] = await run(q, params, true);
      const [plain, allReads] = await run(q, params, false);
      expect(fast, q).toEqual(plain);
      expect(allReads, q).toBeGreaterThanOrEqual(36);
      expect(reads, q).toBeLessThanOrEqual(bound);
      expect((fast as QueryResult & { type: 'streams' }).streams.reduce((n, s) => n + s.entries.length, 0)).toBe(50);
    }
    // A limit larger than the data: every chunk is read, results still equal.
    const big = { ...params, limit: 100_000 };
    const [fast, reads] = await run('{app=~"s.*"} |= "hit"', big, true);
    const [plain] = await run('{app=~"s.*"} |= "hit"', big, false);
    expect(fast).toEqual(plain);
    expect(reads).toBe(72);
  });
});
