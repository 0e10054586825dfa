import { describe, expect, it } from 'vitest';
import { peekBlockLines } from '../../src/chunk/block-decode.js';
import { decodeBlockBytes, encodeBlock, encodeChunk, readChunkHeader, ChunkCorruptError } from '../../src/chunk/chunk.js';
import { batchFromEntries } from '../../src/model/batch.js';
import { encodeChunkV1 } from './v1-encoder.js';

const rows = Array.from({ length: 300 }, (_, i) => ({ ts: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n, line: `line ${i} ${'x'.repeat(i % 40)}` }));

describe('peekBlockLines', () => {
  it('returns exactly the line bytes, and a batch decoded from a copy of them equals the plain decode', () => {
    const batch = batchFromEntries(rows);
    const block = encodeBlock(batch);
    const info = { ...block, offset: 0, compressedSize: block.data.length };
    const peeked = peekBlockLines(block.data, info, 'c', 0)!;
    expect(Buffer.compare(peeked, batch.lines)).toBe(0);
    const viaPeek = decodeBlockBytes(block.data, info, 'c', 0, Buffer.from(peeked));
    const plain = decodeBlockBytes(block.data, info, 'c', 0);
    expect([...viaPeek.ts]).toEqual([...plain.ts]);
    expect([...viaPeek.lineOffsets]).toEqual([...plain.lineOffsets]);
    expect(Buffer.compare(viaPeek.lines, plain.lines)).toBe(0);
  });

  it('refuses a block whose bytes fail the checksum', () => {
    const block = encodeBlock(batchFromEntries(rows));
    const info = { ...block, offset: 0, compressedSize: block.data.length };
    const bad = Buffer.from(block.data);
    bad[bad.length - 3]! ^= 0xff;
    expect(() => peekBlockLines(bad, info, 'c', 0)).toThrow(ChunkCorruptError);
    expect(() => peekBlockLines(bad, info, 'c', 0)).toThrow(/checksum mismatch/);
  });

  it('answers null for a version 1 block, whose lines are not stored apart', () => {
    const buf = encodeChunkV1([batchFromEntries(rows)]);
    const h = readChunkHeader(buf, 'v1');
    const info = h.blocks[0]!;
    expect(peekBlockLines(buf.subarray(info.offset, info.offset + info.compressedSize), info, 'v1', 0)).toBeNull();
    // and a current chunk is peekable through its header row
    const cur = encodeChunk([batchFromEntries(rows)]);
    const ch = readChunkHeader(cur, 'v2');
    const ci = ch.blocks[0]!;
    expect(peekBlockLines(cur.subarray(ci.offset, ci.offset + ci.compressedSize), ci, 'v2', 0)!.toString()).toContain('line 299');
  });
});
