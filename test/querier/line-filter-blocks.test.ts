import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluate, type QueryParams } from '../../query/engine.js';
import { parseExpr } from '../../query/parser.js';
import { StoreLogSource } from '../../src/querier/store-source.js';
import { removeDir, tempDir } from '../helpers/server.js';
import { openFixture, TENANT, type Fixture } from './store-fixture.js';

/**
 * The store skips a block whose bytes lack a leading `|=` literal. An ip() range or a pattern is not such a
 * literal: over real chunks, ip() and pattern filters must find the same lines with that shortcut on and off.
 */

const S = 1_000_000_000n;
const T0 = 1_700_000_000n * S;
const at = (s: number) => T0 + BigInt(s) * S;

let fx: Fixture;
let dir: string;

beforeEach(() => {
  dir = tempDir('narvi-lfb-');
  fx = openFixture(dir);
});

afterEach(() => {
  fx.index.db.close();
  removeDir(dir);
});

const block = (from: number, fmt: (s: number) => string) => Array.from({ length: 10 }, (_, k) => ({ ts: at(from + k), line: fmt(from + k) }));

describe('ip() and pattern line filters over stored blocks', () => {
  it('find the same lines with block skipping on and off', async () => {
    // Three blocks: client addresses in 10/8, in 192.168/16, and none.
    await fx.addChunk({ app: 'g' }, [block(0, (s) => `10.0.${s}.1 GET /a`), block(10, (s) => `192.168.0.${s} POST /b`), block(20, (s) => `health ${s}`)]);
    const params: QueryParams = { start: at(0), end: at(100), step: 0n, direction: 'forward', limit: 1000, instant: false };
    const count = async (q: string, optimize: boolean): Promise<number> => {
      const r = await evaluate(parseExpr(q), params, new StoreLogSource(TENANT, fx.index, fx.store, fx.memory), { optimize });
      if (r.type !== 'streams') throw new Error(r.type);
      return r.streams.reduce((n, s) => n + s.entries.length, 0);
    };
    const want: Record<string, number> = {
      '{app="g"} |= ip("10.0.0.0/8")': 10,
      '{app="g"} |= ip("192.168.0.0-192.168.0.14")': 5,
      '{app="g"} != ip("10.0.0.0/8")': 20,
      '{app="g"} |= ip("10.0.0.0/8") or "health"': 20,
      '{app="g"} |> "<_> GET <_>"': 10,
      '{app="g"} !> "health <_>"': 20,
      '{app="g"} |= "POST" |= ip("192.168.0.0/16")': 10,
    };
    for (const [q, n] of Object.entries(want)) {
      expect(await count(q, true), q).toBe(n);
      expect(await count(q, false), q).toBe(n);
    }
  });
});
