import { describe, expect, it } from 'vitest';
import { decodeChunk, readChunkHeader } from '../../src/chunk/chunk.js';
import { rewriteEntries } from '../../src/compactor/chunk-rewrite.js';
import { batchFromEntries } from '../../src/model/batch.js';

function lines(chunks: ReturnType<typeof rewriteEntries>['chunks']): string[] {
  const out: string[] = [];
  for (const c of chunks) {
    for (const b of decodeChunk(c.bytes, 'test')) {
      for (let i = 0; i < b.count; i++) out.push(`${b.ts[i]}:${b.lines.toString('utf8', b.lineOffsets[i]!, b.lineOffsets[i + 1]!)}:${JSON.stringify(b.metadata?.[i] ?? null)}`);
    }
  }
  return out;
}

describe('rewriteEntries', () => {
  it('merges overlapping inputs in time order, keeps exact duplicates once and entries that differ only in metadata twice', () => {
    const a = batchFromEntries([
      { ts: 1n, line: 'one' },
      { ts: 3n, line: 'three', metadata: { user: 'ann' } },
      { ts: 5n, line: 'five' },
    ]);
    const b = batchFromEntries([
      { ts: 2n, line: 'two' },
      { ts: 3n, line: 'three', metadata: { user: 'ann' } },
      { ts: 3n, line: 'three', metadata: { user: 'bob' } },
      { ts: 3n, line: 'three-b' },
      { ts: 5n, line: 'five' },
    ]);
    const out = rewriteEntries([a, b], { cutoff: null }, { blockSize: 1 << 20, targetSize: 1 << 20 });
    expect(out.duplicates).toBe(2);
    expect(out.read).toBe(8);
    expect(lines(out.chunks)).toEqual(['1:one:null', '2:two:null', '3:three:{"user":"ann"}', '3:three:{"user":"bob"}', '3:three-b:null', '5:five:null']);
  });

  it('leaves out entries before the cutoff and those the drop predicate picks, and cuts blocks and chunks by size', () => {
    const entries = Array.from({ length: 2000 }, (_, i) => ({ ts: BigInt(i), line: `line ${i} ${'x'.repeat(50)}`, metadata: i % 2 ? { odd: 'yes' } : undefined }));
    const out = rewriteEntries([batchFromEntries(entries)], { cutoff: 100n, drop: (_ts, line, md) => md?.odd === 'yes' && line.includes('line 5') }, { blockSize: 4096, targetSize: 600 });
    const got = lines(out.chunks);
    expect(got.some((l) => l.startsWith('99:'))).toBe(false);
    expect(got[0]).toMatch(/^100:line 100 /);
    expect(got.filter((l) => / line 5\d* .*"odd"/.test(l.split(':')[1]!))).toEqual([]);
    expect(got.some((l) => l.startsWith('500:line 500'))).toBe(true);
    expect(got.length + out.removed).toBe(2000);
    expect(out.chunks.length).toBeGreaterThan(1);
    for (const c of out.chunks) {
      const h = readChunkHeader(c.bytes, 't');
      expect(h.blocks.length).toBeGreaterThan(0);
      expect(c.count).toBe(h.count);
      for (const bl of h.blocks.slice(0, -1)) expect(bl.rawSize).toBeGreaterThan(4096);
    }
  });

  it('writes nothing when every entry is removed', () => {
    const out = rewriteEntries([batchFromEntries([{ ts: 1n, line: 'a' }])], { cutoff: 10n }, { blockSize: 100, targetSize: 100 });
    expect(out.chunks).toEqual([]);
    expect(out.removed).toBe(1);
  });
});
