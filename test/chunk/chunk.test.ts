import { describe, expect, it } from 'vitest';
import { batchFromEntries, lineAt, type EntryBatch } from '../../src/model/batch.js';
import {
  HEADER_PREFIX_SIZE,
  assembleChunk,
  blocksOverlapping,
  chunkHeaderSize,
  decodeBlock,
  decodeBlockBytes,
  decodeChunk,
  encodeBlock,
  encodeChunk,
  readChunkHeader,
} from '../../src/chunk/chunk.js';
import { expectCorrupt, expectSameRows, prng, randomRows, rowsOf, type Row } from './chunk-test-helpers.js';

/** Three blocks covering [1000,1999], [2000,2999], [3000,3999] ns. */
function threeBlockChunk(): { buf: Buffer; rows: Row[][] } {
  const rows = [0, 1, 2].map((b) =>
    Array.from({ length: 100 }, (_, i) => ({ ts: BigInt(1000 * (b + 1) + i * 10 + (i === 99 ? 9 : 0)), line: `block ${b} line ${i}` })),
  );
  return { buf: encodeChunk(rows.map((r) => batchFromEntries(r))), rows };
}

describe('chunk round trip', () => {
  it('round-trips random entries across many blocks', () => {
    const rand = prng(42);
    const blocks: Row[][] = [];
    let ts = 1_700_000_000_000_000_000n;
    for (let b = 0; b < 25; b++) {
      const rows = randomRows(rand, 1 + Math.floor(rand() * 400), ts);
      ts = rows[rows.length - 1]!.ts;
      blocks.push(rows);
    }
    const buf = encodeChunk(blocks.map((r) => batchFromEntries(r)));
    const header = readChunkHeader(buf, 'tenant/abc/1');
    expect(header.blocks).toHaveLength(25);
    expect(header.count).toBe(blocks.reduce((n, r) => n + r.length, 0));
    expect(header.size).toBe(buf.length);
    for (let b = 0; b < blocks.length; b++) expectSameRows(decodeBlock(buf, header, b, 'tenant/abc/1'), blocks[b]!);
    const all = decodeChunk(buf, 'x');
    expect(all.map(rowsOf).flat().map((r) => r.ts)).toEqual(blocks.flat().map((r) => r.ts));
  });

  it('round-trips a single entry, an empty line and equal timestamps', () => {
    for (const rows of [
      [{ ts: 5n, line: 'only' }],
      [{ ts: 0n, line: '' }],
      [
        { ts: 7n, line: 'a' },
        { ts: 7n, line: 'a' },
        { ts: 7n, line: '' },
      ],
    ]) {
      const buf = encodeChunk([batchFromEntries(rows)]);
      expectSameRows(decodeChunk(buf, 'c')[0]!, rows);
    }
  });

  it('round-trips extreme timestamps: negative, near int64 limits, and gaps wider than 2^53 ns', () => {
    const rows: Row[] = [
      { ts: -(2n ** 63n), line: 'min' },
      { ts: -1n, line: 'minus one' },
      { ts: 0n, line: 'epoch' },
      { ts: 2n ** 32n - 1n, line: 'u32 edge' },
      { ts: 2n ** 32n, line: 'u32 edge+1' },
      { ts: 2n ** 53n + 1n, line: 'past safe integer' },
      { ts: 2n ** 62n + 12345n, line: 'far' },
      { ts: 2n ** 63n - 1n, line: 'max' },
    ];
    const buf = encodeChunk([batchFromEntries(rows)]);
    const header = readChunkHeader(buf, 'c');
    expect(header.minTs).toBe(-(2n ** 63n));
    expect(header.maxTs).toBe(2n ** 63n - 1n);
    expectSameRows(decodeChunk(buf, 'c')[0]!, rows);
  });

  it('keeps metadata per entry, with null for entries without it', () => {
    const rows: Row[] = [
      { ts: 1n, line: 'a', metadata: { trace_id: 'abc', ['__proto__']: 'kept', 'ключ': 'значение' } },
      { ts: 2n, line: 'b' },
      { ts: 3n, line: 'c', metadata: { empty: '' } },
    ];
    const batch = decodeChunk(encodeChunk([batchFromEntries(rows)]), 'c')[0]!;
    expect(batch.metadata).toHaveLength(3);
    expect(batch.metadata![1]).toBeNull();
    expect(Object.entries(batch.metadata![0]!)).toEqual([
      ['trace_id', 'abc'],
      ['__proto__', 'kept'],
      ['ключ', 'значение'],
    ]);
    expect(batch.metadata![2]).toEqual({ empty: '' });
    const plain = decodeChunk(encodeChunk([batchFromEntries([{ ts: 1n, line: 'a' }])]), 'c')[0]!;
    expect(plain.metadata).toBeUndefined();
  });

  it('encodes batches whose offsets do not start at zero (a slice of a bigger buffer)', () => {
    const lines = Buffer.from('XXXhelloworld!YY');
    const batch: EntryBatch = { count: 3, ts: new BigInt64Array([1n, 2n, 3n]), lineOffsets: new Uint32Array([3, 8, 13, 14]), lines };
    const out = decodeChunk(encodeChunk([batch]), 'c')[0]!;
    expect([0, 1, 2].map((i) => lineAt(out, i))).toEqual(['hello', 'world', '!']);
  });

  it('decoded lines are one contiguous buffer a filter can search', () => {
    const rows = Array.from({ length: 500 }, (_, i) => ({ ts: BigInt(i), line: i === 321 ? 'needle-9f3a here' : `line ${i}` }));
    const batch = decodeChunk(encodeChunk([batchFromEntries(rows)]), 'c')[0]!;
    const at = batch.lines.indexOf('needle-9f3a');
    expect(at).toBeGreaterThanOrEqual(0);
    const hit = batch.lineOffsets.findIndex((o, i) => o <= at && at < batch.lineOffsets[i + 1]!);
    expect(hit).toBe(321);
  });

  it('assembles a chunk from blocks compressed earlier, identical to encodeChunk', () => {
    const batches = [0, 1, 2].map((b) => batchFromEntries([{ ts: BigInt(b * 10), line: `b${b}` }, { ts: BigInt(b * 10 + 5), line: `b${b}'` }]));
    const blocks = batches.map((b) => encodeBlock(b));
    expect(blocks[1]!.minTs).toBe(10n);
    expect(blocks[1]!.maxTs).toBe(15n);
    expect(blocks[1]!.count).toBe(2);
    expect(assembleChunk(blocks).equals(encodeChunk(batches))).toBe(true);
  });

  it('round-trips blocks far larger than the usual 256 KiB, before and after a small one', () => {
    const big = Array.from({ length: 20 }, (_, i) => ({ ts: BigInt(i), line: String.fromCharCode(65 + i).repeat(300_000) + 'ü' }));
    const small = [{ ts: 100n, line: 'small' }];
    const buf = encodeChunk([batchFromEntries(small), batchFromEntries(big), batchFromEntries(small)]);
    const out = decodeChunk(buf, 'c');
    expectSameRows(out[1]!, big);
    expectSameRows(out[0]!, small);
    expectSameRows(out[2]!, small);
  });

  it('rejects input it cannot encode with a clear error', () => {
    const huge: EntryBatch = { count: 1, ts: new BigInt64Array([1n]), lineOffsets: new Uint32Array([0, 65 * 1024 * 1024]), lines: Buffer.alloc(65 * 1024 * 1024) };
    expect(() => encodeBlock(huge)).toThrow(/block would be \d+ bytes raw; the limit is 67108864/);
    expect(() => encodeChunk([])).toThrow(/at least one block/);
    expect(() => encodeBlock(batchFromEntries([]))).toThrow(/count must be a positive integer/);
    const unordered = batchFromEntries([{ ts: 10n, line: 'a' }]);
    unordered.ts = new BigInt64Array([10n, 9n]);
    unordered.count = 2;
    unordered.lineOffsets = new Uint32Array([0, 1, 1]);
    expect(() => encodeBlock(unordered)).toThrow(/ts must ascend.*entry 1/);
    const overrun: EntryBatch = { count: 1, ts: new BigInt64Array([1n]), lineOffsets: new Uint32Array([0, 99]), lines: Buffer.from('short') };
    expect(() => encodeBlock(overrun)).toThrow(/past the end of batch.lines/);
  });
});

describe('chunk header', () => {
  it('reads the block table without the block bytes, from a prefix', () => {
    const { buf } = threeBlockChunk();
    const size = chunkHeaderSize(buf.subarray(0, HEADER_PREFIX_SIZE), 'c');
    const header = readChunkHeader(buf.subarray(0, size), 'c', { partial: true });
    expect(header.headerSize).toBe(size);
    expect(header.size).toBe(buf.length);
    expect(header.count).toBe(300);
    expect(header.minTs).toBe(1000n);
    expect(header.maxTs).toBe(3999n);
    expect(header.blocks.map((b) => [b.minTs, b.maxTs, b.count])).toEqual([
      [1000n, 1999n, 100],
      [2000n, 2999n, 100],
      [3000n, 3999n, 100],
    ]);
    expect(header.blocks[0]!.offset).toBe(size);
    // A block fetched on its own (as a range read would) decodes by its table row.
    const b1 = header.blocks[1]!;
    const alone = Buffer.from(buf.subarray(b1.offset, b1.offset + b1.compressedSize));
    expect(lineAt(decodeBlockBytes(alone, b1, 'c', 1), 0)).toBe('block 1 line 0');
  });

  it('selects blocks by time range using only the header', () => {
    const { buf, rows } = threeBlockChunk();
    const header = readChunkHeader(buf, 'c');
    expect(blocksOverlapping(header, 0n, 1000n)).toEqual([]);
    expect(blocksOverlapping(header, 0n, 1001n)).toEqual([0]);
    expect(blocksOverlapping(header, 1999n, 2000n)).toEqual([0]);
    expect(blocksOverlapping(header, 2500n, 2600n)).toEqual([1]);
    expect(blocksOverlapping(header, 1500n, 3000n)).toEqual([0, 1]);
    expect(blocksOverlapping(header, 0n, 10_000n)).toEqual([0, 1, 2]);
    expect(blocksOverlapping(header, 4000n, 5000n)).toEqual([]);
    // Skipped blocks are never decoded: corrupting them does not disturb reading the selected one.
    const damaged = Buffer.from(buf);
    for (const i of [0, 2]) damaged[header.blocks[i]!.offset + 3] ^= 0xff;
    const [only] = blocksOverlapping(header, 2500n, 2600n);
    expectSameRows(decodeBlock(damaged, header, only!, 'c'), rows[1]!);
  });

  it('rejects a block index out of range as a caller error', () => {
    const { buf } = threeBlockChunk();
    const header = readChunkHeader(buf, 'c');
    expect(() => decodeBlock(buf, header, 3, 'c')).toThrow(RangeError);
  });
});

describe('corrupt chunks', () => {
  const id = 'fake/0123abcd/1000-3999/deadbeef';

  it('a flipped byte in a block is a checksum error naming the object and block', () => {
    const { buf } = threeBlockChunk();
    const header = readChunkHeader(buf, id);
    const b = header.blocks[1]!;
    const bad = Buffer.from(buf);
    bad[b.offset + Math.floor(b.compressedSize / 2)] ^= 0x01;
    const h = readChunkHeader(bad, id);
    expectCorrupt(() => decodeBlock(bad, h, 1, id), id, /checksum mismatch/, 1);
    expect(rowsOf(decodeBlock(bad, h, 0, id))).toHaveLength(100);
  });

  it('truncation is detected by the header read and by the block read', () => {
    const { buf } = threeBlockChunk();
    const header = readChunkHeader(buf, id);
    const cut = buf.subarray(0, buf.length - 7);
    expectCorrupt(() => readChunkHeader(cut, id), id, /truncated/);
    expectCorrupt(() => decodeBlock(cut, header, 2, id), id, /truncated/, 2);
    expectCorrupt(() => readChunkHeader(buf.subarray(0, 20), id), id, /truncated/);
    expectCorrupt(() => readChunkHeader(buf.subarray(0, header.headerSize - 1), id), id, /truncated/);
    expectCorrupt(() => readChunkHeader(Buffer.alloc(0), id), id, /truncated/);
    const b = header.blocks[2]!;
    expectCorrupt(() => decodeBlockBytes(buf.subarray(b.offset, b.offset + b.compressedSize - 1), b, id, 2), id, /truncated/, 2);
  });

  it('trailing bytes after the last block are rejected', () => {
    const { buf } = threeBlockChunk();
    expectCorrupt(() => readChunkHeader(Buffer.concat([buf, Buffer.from('junk')]), id), id, /unexpected bytes/);
  });

  it('bad magic and unknown version are named', () => {
    const { buf } = threeBlockChunk();
    const magic = Buffer.from(buf);
    magic.write('GZIP', 0, 'latin1');
    expectCorrupt(() => readChunkHeader(magic, id), id, /bad magic/);
    const version = Buffer.from(buf);
    version[4] = 9;
    expectCorrupt(() => readChunkHeader(version, id), id, /unknown format version 9/);
    expectCorrupt(() => readChunkHeader(Buffer.from('{"not":"a chunk"} padding padding padding padding'), id), id, /bad magic/);
  });

  it('any flipped byte in the block table fails the header checksum', () => {
    const { buf } = threeBlockChunk();
    const header = readChunkHeader(buf, id);
    for (let at = HEADER_PREFIX_SIZE; at < header.headerSize; at += 7) {
      const bad = Buffer.from(buf);
      bad[at] ^= 0x10;
      expectCorrupt(() => readChunkHeader(bad, id), id, /header checksum mismatch/);
    }
    const tot = Buffer.from(buf);
    tot[16] ^= 0x01; // total entry count
    expectCorrupt(() => readChunkHeader(tot, id), id, /header checksum mismatch/);
  });

  it('a table that lies consistently (valid CRCs, wrong lengths) is still caught', async () => {
    const { crc32 } = await import('node:zlib');
    const { buf } = threeBlockChunk();
    const header = readChunkHeader(buf, id);
    const reseal = (b: Buffer): Buffer => {
      b.writeUInt32LE(crc32(b.subarray(0, header.headerSize - 4)), header.headerSize - 4);
      return b;
    };
    const rowAt = (i: number) => HEADER_PREFIX_SIZE + i * 40;

    // Raw size too small for the frame: decompression fails.
    const raw = Buffer.from(buf);
    raw.writeUInt32LE(header.blocks[1]!.rawSize - 1, rowAt(1) + 20);
    reseal(raw);
    expectCorrupt(() => decodeBlock(raw, readChunkHeader(raw, id), 1, id), id, /decompression failed|raw/, 1);

    // Entry count that disagrees with the block's own columns (totals kept consistent).
    const count = Buffer.from(buf);
    count.writeUInt32LE(99, rowAt(0) + 16);
    count.writeUInt32LE(101, rowAt(1) + 16);
    reseal(count);
    const ch = readChunkHeader(count, id);
    expectCorrupt(() => decodeBlock(count, ch, 0, id), id, /holds 100 entries but the block table says 99/, 0);

    // Max timestamp that the decoded timestamps do not reach.
    const max = Buffer.from(buf);
    max.writeBigInt64LE(1998n, rowAt(0) + 8);
    max.writeBigInt64LE(1000n, 24);
    reseal(max);
    expectCorrupt(() => decodeBlock(max, readChunkHeader(max, id), 0, id), id, /does not match the block's max/, 0);

    // A shifted min timestamp: decoded times shift too and no longer reach the stored max.
    const min = Buffer.from(buf);
    min.writeBigInt64LE(999n, rowAt(0));
    min.writeBigInt64LE(999n, 24);
    reseal(min);
    expectCorrupt(() => decodeBlock(min, readChunkHeader(min, id), 0, id), id, /last timestamp 1998 does not match the block's max 1999/, 0);

    // Offsets that overlap.
    const off = Buffer.from(buf);
    off.writeUInt32LE(header.blocks[1]!.offset - 1, rowAt(1) + 28);
    reseal(off);
    expectCorrupt(() => readChunkHeader(off, id), id, /offset .* should be/, 1);

    // Entry total that disagrees with the blocks.
    const total = Buffer.from(buf);
    total.writeUInt32LE(301, 16);
    reseal(total);
    expectCorrupt(() => readChunkHeader(total, id), id, /blocks hold 300 entries but the header says 301/);

    // A block whose min is after its max.
    const inverted = Buffer.from(buf);
    inverted.writeBigInt64LE(5000n, rowAt(2));
    reseal(inverted);
    expectCorrupt(() => readChunkHeader(inverted, id), id, /min timestamp 5000 is after its max/, 2);
  });
});
