import { describe, expect, it } from 'vitest';
import { batchFromEntries, lineAt, type EntryBatch } from '../../src/model/batch.js';
import { mergeBatches, trimBatch } from '../../src/querier/batch-ops.js';
import { prng } from '../../bench/generate.js';

type E = { ts: bigint; line: string; metadata?: Record<string, string> };

function rows(b: EntryBatch): E[] {
  return Array.from({ length: b.count }, (_, i) => {
    const e: E = { ts: b.ts[i]!, line: lineAt(b, i) };
    const m = b.metadata?.[i];
    if (m) e.metadata = m;
    return e;
  });
}

const metaKey = (m: Record<string, string> | undefined) => JSON.stringify(Object.entries(m ?? {}).sort());

/**
 * The merge by definition: stable sort by time (batch order breaks ties), then drop exact repeats at one
 * time: same line and same structured metadata (none and empty alike, key order aside).
 */
function reference(batches: E[][]): E[] {
  const all = batches.flatMap((b, bi) => b.map((e, i) => ({ e, bi, i })));
  all.sort((x, y) => (x.e.ts < y.e.ts ? -1 : x.e.ts > y.e.ts ? 1 : 0));
  const out: E[] = [];
  for (const { e } of all) {
    if (out.some((o) => o.ts === e.ts && o.line === e.line && metaKey(o.metadata) === metaKey(e.metadata))) continue;
    out.push(e);
  }
  return out;
}

describe('mergeBatches', () => {
  it('merges overlapping batches in time order and drops exact duplicates, over random inputs', () => {
    const rand = prng(7);
    // Timestamps near 2^32 boundaries and with large high words, where a 32-bit comparison could go wrong.
    const bases = [1_700_000_000_000_000_000n, (1n << 32n) - 3n, (5n << 32n) + 4294967290n];
    for (let round = 0; round < 300; round++) {
      const base = bases[round % bases.length]!;
      const k = 2 + Math.floor(rand() * 3);
      const input: E[][] = [];
      for (let b = 0; b < k; b++) {
        const n = Math.floor(rand() * 12);
        const es: E[] = [];
        let t = base + BigInt(Math.floor(rand() * 10));
        for (let i = 0; i < n; i++) {
          t += BigInt(Math.floor(rand() * 3)) * (rand() < 0.3 ? 1n << 32n : 1n);
          const e: E = { ts: t, line: `l${Math.floor(rand() * 3)}${'x'.repeat(Math.floor(rand() * 3))}` };
          const r = rand();
          if (r < 0.15) e.metadata = { trace: String(i % 2) };
          else if (r < 0.2) e.metadata = { span: '1', trace: String(i % 2) };
          else if (r < 0.25) e.metadata = { trace: String(i % 2), span: '1' };
          // A batch never repeats an entry itself (the ingester drops duplicates within a stream).
          if (!es.some((x) => x.ts === e.ts && x.line === e.line && metaKey(x.metadata) === metaKey(e.metadata))) es.push(e);
        }
        input.push(es);
      }
      const got = rows(mergeBatches(input.map((es) => batchFromEntries(es))));
      const want = reference(input);
      // Metadata rides along with its entry; a duplicate keeps the first copy's.
      expect(got.map((e) => [e.ts, e.line]), `round ${round}`).toEqual(want.map((e) => [e.ts, e.line]));
      if (input.some((es) => es.some((e) => e.metadata))) expect(got.map((e) => e.metadata ?? null)).toEqual(want.map((e) => e.metadata ?? null));
    }
  });

  it('keeps entries that differ only in structured metadata, drops exact repeats whatever the key order', () => {
    const a = batchFromEntries([
      { ts: 1n, line: 'x', metadata: { t: '1', u: '2' } },
      { ts: 1n, line: 'x', metadata: { t: '2' } },
      { ts: 2n, line: 'y' },
    ]);
    const b = batchFromEntries([
      { ts: 1n, line: 'x', metadata: { u: '2', t: '1' } },
      { ts: 1n, line: 'x' },
      { ts: 2n, line: 'y', metadata: {} },
      { ts: 2n, line: 'y', metadata: { t: '' } },
    ]);
    // A batch without any metadata against one with some.
    const c = batchFromEntries([{ ts: 1n, line: 'x' }, { ts: 2n, line: 'y' }]);
    expect(rows(mergeBatches([a, b, c])).map((e) => `${e.ts}:${e.line}:${metaKey(e.metadata)}`)).toEqual([
      '1:x:[["t","1"],["u","2"]]',
      '1:x:[["t","2"]]',
      '1:x:[]',
      '2:y:[]',
      '2:y:[["t",""]]',
    ]);
  });

  it('returns a single live batch as it is', () => {
    const b = batchFromEntries([{ ts: 1n, line: 'a' }]);
    expect(mergeBatches([batchFromEntries([]), b])).toBe(b);
  });

  it('trimBatch keeps [start, end) and shares memory', () => {
    const b = batchFromEntries([1n, 2n, 3n, 4n].map((ts) => ({ ts, line: `l${ts}` })));
    const t = trimBatch(b, 2n, 4n)!;
    expect(rows(t).map((e) => e.line)).toEqual(['l2', 'l3']);
    expect(t.lines.buffer).toBe(b.lines.buffer);
    expect(trimBatch(b, 5n, 9n)).toBeNull();
  });
});
