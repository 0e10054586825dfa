import { describe, expect, it } from 'vitest';
import { batchFromEntries, lineAt, type EntryBatch } from '../../src/model/batch.js';
import { mergeBatches } from '../../src/querier/batch-ops.js';
import { mergePieces, type MergePiece } from '../../src/querier/piece-merge.js';
import { prng } from '../../bench/generate.js';

type E = { ts: bigint; line: string; metadata?: Record<string, string> };

/** A piece made of ascending, strictly non-overlapping blocks, recording how far it was read. */
function piece(blocks: E[][], log: string[], name: string): MergePiece {
  const all = blocks.flat();
  return {
    minTs: all[0]!.ts,
    maxTs: all[all.length - 1]!.ts,
    open(reverse) {
      log.push(`open ${name}`);
      const order = reverse ? [...blocks].reverse() : blocks;
      return (async function* () {
        try {
          for (const b of order) yield batchFromEntries(b);
        } finally {
          log.push(`close ${name}`);
        }
      })();
    },
  };
}

async function collect(it: AsyncIterable<EntryBatch>): Promise<E[][]> {
  const out: E[][] = [];
  for await (const b of it)
    out.push(
      Array.from({ length: b.count }, (_, i) => {
        const e: E = { ts: b.ts[i]!, line: lineAt(b, i) };
        const m = b.metadata?.[i];
        if (m) e.metadata = m;
        return e;
      }),
    );
  return out;
}

function randomPieces(rand: () => number): E[][][] {
  const pieces: E[][][] = [];
  const n = 1 + Math.floor(rand() * 5);
  for (let p = 0; p < n; p++) {
    let t = BigInt(Math.floor(rand() * 60)) + (rand() < 0.5 ? 0n : 1n << 32n);
    const blocks: E[][] = [];
    const nb = 1 + Math.floor(rand() * 3);
    for (let b = 0; b < nb; b++) {
      const es: E[] = [];
      const ne = 1 + Math.floor(rand() * 8);
      for (let k = 0; k < ne; k++) {
        const e: E = { ts: t, line: `v${Math.floor(rand() * 2)}` };
        const r = rand();
        if (r < 0.25) e.metadata = { m: String(Math.floor(rand() * 2)) };
        if (!es.some((x) => x.ts === e.ts && x.line === e.line && (x.metadata?.m ?? '') === (e.metadata?.m ?? ''))) es.push(e);
        if (rand() < 0.7) t += BigInt(1 + Math.floor(rand() * 4));
      }
      blocks.push(es);
      // Blocks of one piece never overlap.
      t += 1n;
    }
    pieces.push(blocks);
  }
  return pieces.sort((a, b) => (a[0]![0]!.ts < b[0]![0]!.ts ? -1 : a[0]![0]!.ts > b[0]![0]!.ts ? 1 : 0));
}

describe('mergePieces', () => {
  it('yields what a full merge yields, forward and newest-first, in non-overlapping ascending batches', async () => {
    const rand = prng(11);
    for (let round = 0; round < 300; round++) {
      const input = randomPieces(rand);
      const log: string[] = [];
      const full = mergeBatches(input.flat().map((b) => batchFromEntries(b)));
      const want = Array.from({ length: full.count }, (_, i) => `${full.ts[i]}:${lineAt(full, i)}:${full.metadata?.[i]?.m ?? '-'}`);
      const fwd = await collect(mergePieces(input.map((b, k) => piece(b, log, `p${k}`)), false));
      const back = await collect(mergePieces(input.map((b, k) => piece(b, log, `p${k}`)), true));
      const str = (bs: E[][]) => bs.flat().map((e) => `${e.ts}:${e.line}:${e.metadata?.m ?? '-'}`);
      expect(str(fwd), `round ${round}`).toEqual(want);
      // Newest first: the same entries once the batch order is turned round (equal times keep their set).
      expect(str([...back].reverse()).sort(), `round ${round}`).toEqual([...want].sort());
      expect(str([...back].reverse()).map((s) => s.split(':')[0]), `round ${round}`).toEqual(want.map((s) => s.split(':')[0]));
      for (const bs of [fwd, back]) {
        for (const b of bs) for (let k = 1; k < b.length; k++) expect(b[k]!.ts >= b[k - 1]!.ts).toBe(true);
      }
      for (let k = 1; k < fwd.length; k++) expect(fwd[k]![0]!.ts > fwd[k - 1]!.at(-1)!.ts).toBe(true);
      for (let k = 1; k < back.length; k++) expect(back[k]!.at(-1)!.ts < back[k - 1]![0]!.ts).toBe(true);
    }
  });

  it('drops an entry repeated across pieces only when its structured metadata is the same too', async () => {
    const log: string[] = [];
    const chunk = piece([[{ ts: 5n, line: 'a', metadata: { k: '1' } }, { ts: 6n, line: 'b' }]], log, 'chunk');
    const memory = piece(
      [
        [
          { ts: 5n, line: 'a', metadata: { k: '1' } },
          { ts: 5n, line: 'a', metadata: { k: '2' } },
          { ts: 5n, line: 'a' },
          { ts: 6n, line: 'b', metadata: { k: '1' } },
          { ts: 6n, line: 'b' },
        ],
      ],
      log,
      'memory',
    );
    for (const reverse of [false, true]) {
      const got = (await collect(mergePieces([chunk, memory], reverse))).flat().map((e) => `${e.ts}:${e.line}:${e.metadata?.k ?? '-'}`);
      expect(got.sort()).toEqual(['5:a:-', '5:a:1', '5:a:2', '6:b:-', '6:b:1']);
    }
  });

  it('opens a piece only when the merge reaches it, and closes what is open when the reader stops', async () => {
    const log: string[] = [];
    const mk = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ ts: BigInt(from + i), line: `l${from + i}` }));
    const pieces = [piece([mk(0, 10)], log, 'old'), piece([mk(8, 10)], log, 'mid'), piece([mk(100, 5), mk(105, 5)], log, 'new')];
    for await (const b of mergePieces(pieces, true)) {
      expect(b.ts[0]).toBe(105n);
      break;
    }
    expect(log).toEqual(['open new', 'close new']);
    log.length = 0;
    const all = await collect(mergePieces(pieces, false));
    expect(all.flat().length).toBe(28);
    expect(log).toEqual(['open old', 'open mid', 'close old', 'close mid', 'open new', 'close new']);
  });
});
