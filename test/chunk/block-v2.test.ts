import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { batchFromEntries, lineAt, type EntryBatch } from '../../src/model/batch.js';
import { assembleChunk, decodeBlockBytes, decodeChunk, encodeBlock, encodeChunk, readChunkHeader, type EncodedBlock } from '../../src/chunk/chunk.js';
import { generateLines } from '../../bench/generate.js';
import { expectCorrupt, expectSameRows, prng, type Row } from './chunk-test-helpers.js';
import { encodeChunkV1 } from './v1-encoder.js';

/** Where each segment of a version 2 block starts (its u32 stored size) and how many bytes it stores. */
function segments(data: Buffer): { at: number; stored: number }[] {
  const out: { at: number; stored: number }[] = [];
  for (let p = 16; p < data.length; ) {
    const stored = data.readUInt32LE(p);
    out.push({ at: p, stored });
    p += 4 + stored;
  }
  return out;
}

function decodeBlockOf(block: EncodedBlock, id = 'c'): EntryBatch {
  return decodeBlockBytes(block.data, { ...block, compressedSize: block.data.length, offset: 0 }, id, 0);
}

const rowsAt = (times: bigint[], line = (i: number) => `line ${i}`): Row[] => times.map((ts, i) => ({ ts, line: line(i) }));

describe('version 2 blocks', () => {
  it('pick the smallest timestamp delta width of 1, 2, 4 or 8 bytes', () => {
    const cases: [bigint[], number][] = [
      [[5n], 1],
      [[10n, 10n, 10n], 1],
      [[0n, 255n, 509n], 1],
      [[0n, 256n], 2],
      [[1n, 1n + 65_535n], 2],
      [[1n, 1n + 65_537n], 4],
      [[0n, 2n ** 32n - 1n], 4],
      [[0n, 2n ** 32n], 8],
      [[-(2n ** 63n), 2n ** 63n - 1n], 8],
    ];
    for (const [times, width] of cases) {
      // No delta here is a multiple of 10, so the unit stays 1 ns and the width reflects the raw deltas.
      const rows = rowsAt(times);
      const block = encodeBlock(batchFromEntries(rows));
      expect(block.data[12], `width for ${times.join(', ')}`).toBe(width);
      expectSameRows(decodeBlockOf(block), rows);
    }
  });

  it('pick the smallest line length width of 1, 2 or 4 bytes', () => {
    for (const [len, width] of [
      [0, 1],
      [255, 1],
      [256, 2],
      [65_535, 2],
      [65_536, 4],
      [300_000, 4],
    ] as const) {
      const rows = [
        { ts: 1n, line: 'x'.repeat(len) },
        { ts: 2n, line: 'short' },
      ];
      const block = encodeBlock(batchFromEntries(rows));
      expect(block.data[13], `width for a ${len}-byte line`).toBe(width);
      expectSameRows(decodeBlockOf(block), rows);
    }
  });

  it('store deltas in the largest power-of-ten unit that divides them all', () => {
    const base = 1_732_190_400_000_000_000n;
    const cases: [bigint[], number][] = [
      [[base, base + 1_000_000n, base + 3_000_000n], 6], // milliseconds
      [[base, base + 7_000n, base + 9_000n], 3], // microseconds
      [[base, base + 2_000_000_000n], 9], // whole seconds
      [[base, base + 1_000_000n, base + 1_000_001n], 0], // one nanosecond step spoils it
      [[base, base, base], 0], // no deltas at all
      [[base + 123n], 0],
      // Millisecond timestamps hours apart: deltas past 2^32 ns still scale, and shrink to 4 bytes.
      [[base, base + 3_600_000_000_000n, base + 7_200_000_000_005n - 5n], 9],
      // A delta past 2^53 ns is not exact as a double and is never scaled.
      [[0n, 2n ** 60n], 0],
    ];
    for (const [times, exp] of cases) {
      const rows = rowsAt(times);
      const block = encodeBlock(batchFromEntries(rows));
      expect(block.data[14], `unit for ${times.join(', ')}`).toBe(exp);
      expectSameRows(decodeBlockOf(block), rows);
    }
    const hours = encodeBlock(batchFromEntries(rowsAt([base, base + 3_600_000_000_000n])));
    expect(hours.data[12]).toBe(2);
  });

  it('millisecond timestamps from real clients compress far better than with nanosecond deltas', () => {
    const rand = prng(3);
    let ms = 1_732_190_400_000;
    const rows: Row[] = [];
    for (let i = 0; i < 2000; i++) {
      ms += Math.floor(rand() * 40);
      rows.push({ ts: BigInt(ms) * 1_000_000n, line: `level=info i=${i}` });
    }
    const scaled = encodeBlock(batchFromEntries(rows));
    expect(scaled.data[14]).toBe(6);
    expect(scaled.data[12]).toBe(1);
    expectSameRows(decodeBlockOf(scaled), rows);
    // One odd nanosecond forces unit 1 and 4-byte deltas: the scaled block must be clearly smaller.
    const unscaled = encodeBlock(batchFromEntries([...rows.slice(0, -1), { ...rows[rows.length - 1]!, ts: rows[rows.length - 1]!.ts + 1n }]));
    expect(unscaled.data[14]).toBe(0);
    expect(scaled.data.length).toBeLessThan(unscaled.data.length - 1500);
  });

  it('keep a segment raw exactly when zstd cannot make it smaller', () => {
    // One entry: every part is tiny, so nothing is compressed and the block is prefix + sizes + bytes.
    const tiny = encodeBlock(batchFromEntries([{ ts: 9n, line: 'hello' }]));
    expect(segments(tiny.data).map((s) => s.stored)).toEqual([1, 1, 5]);
    expect(tiny.data.length).toBe(16 + 3 * 4 + 7);
    expect(tiny.data.subarray(tiny.data.length - 5).toString()).toBe('hello');

    // Random line bytes and random nanosecond deltas stay raw; repetitive lines and the high planes shrink.
    const rand = prng(11);
    let ts = 1_000_000_000_000n;
    const batch: EntryBatch = { count: 1000, ts: new BigInt64Array(1000), lineOffsets: new Uint32Array(1001), lines: Buffer.alloc(40_000) };
    for (let i = 0; i < 1000; i++) {
      ts += BigInt(1 + Math.floor(rand() * 2 ** 24));
      batch.ts[i] = ts;
      batch.lineOffsets[i + 1] = 40 * (i + 1);
    }
    for (let i = 0; i < batch.lines.length; i++) batch.lines[i] = Math.floor(rand() * 256);
    const block = encodeBlock(batch);
    const segs = segments(block.data);
    expect(block.data[12]).toBe(4);
    expect(segs).toHaveLength(4 + 1 + 1);
    expect(segs[0]!.stored).toBe(1000); // lowest timestamp byte: random, raw
    expect(segs[3]!.stored).toBeLessThan(100); // highest: always 0, a tiny frame
    expect(segs[5]!.stored).toBe(batch.lines.length); // random lines: raw
    const out = decodeBlockOf(block);
    expect(out.lines.equals(batch.lines)).toBe(true);
    expect(out.ts).toEqual(batch.ts);
  });

  it('decoded lines never alias the chunk buffer, raw or compressed', () => {
    for (const line of ['a', 'repeat '.repeat(200)]) {
      const buf = encodeChunk([batchFromEntries([{ ts: 1n, line }])]);
      const out = decodeChunk(buf, 'c')[0]!;
      buf.fill(0);
      expect(lineAt(out, 0)).toBe(line);
    }
  });

  it('write no metadata column when no entry carries metadata', () => {
    const batch = batchFromEntries([{ ts: 1n, line: 'a' }]);
    batch.metadata = [null];
    const block = encodeBlock(batch);
    expect(block.hasMetadata).toBe(false);
    expect(block.data.readUInt32LE(8)).toBe(0);
    expect(decodeBlockOf(block).metadata).toBeUndefined();
  });

  it('are clearly smaller than version 1 on realistic logs, and read back the same', () => {
    const per = new Map<number, Row[]>();
    for (const g of generateLines({ seed: 5, maxBytes: 3e6 })) {
      let rows = per.get(g.stream);
      if (!rows) per.set(g.stream, (rows = []));
      rows.push({ ts: g.ts, line: g.line });
    }
    const batches = [...per.values()].filter((r) => r.length > 200).map((r) => batchFromEntries(r));
    const v1 = encodeChunkV1(batches);
    const v2 = encodeChunk(batches);
    expect(v2.length).toBeLessThan(v1.length * 0.96);
    expect(decodeChunk(v2, 'v2').map((b) => b.lines.toString())).toEqual(decodeChunk(v1, 'v1').map((b) => b.lines.toString()));
  });
});

describe('corrupt version 2 blocks', () => {
  const id = 'fake/0123abcd/1000-3999/deadbeef';
  const rand = prng(99);
  const rows: Row[] = Array.from({ length: 300 }, (_, i) => ({
    ts: 1_700_000_000_000_000_000n + BigInt(i) * 1_234_567n + BigInt(Math.floor(rand() * 1000)),
    line: `level=info i=${i} msg="request ${i % 17} done"`,
    ...(i % 50 === 0 ? { metadata: { trace_id: `t${i}` } } : {}),
  }));
  const good = encodeBlock(batchFromEntries(rows));

  /** Re-seals edited block bytes (valid CRC) and decodes them through a whole chunk, as a querier would. */
  function decodeForged(data: Buffer, patch: Partial<EncodedBlock> = {}): EntryBatch {
    const chunk = assembleChunk([{ ...good, ...patch, data, crc: crc32(data) }]);
    return decodeChunk(chunk, id)[0]!;
  }
  const edit = (f: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(good.data);
    f(b);
    return b;
  };

  it('the block used below is valid and exercises every segment kind', () => {
    expectSameRows(decodeForged(Buffer.from(good.data)), rows);
    expect(good.hasMetadata).toBe(true);
    expect(good.data[12]).toBe(4);
    const segs = segments(good.data);
    expect(segs).toHaveLength(4 + good.data[13]! + 2);
    expect(segs.some((s) => s.stored === rows.length)).toBe(true); // a raw plane
    expect(segs.some((s) => s.stored < rows.length)).toBe(true); // a compressed plane
  });

  it('a segment whose stored size overruns the block', () => {
    const [first] = segments(good.data);
    const bad = edit((b) => b.writeUInt32LE(good.data.length, first!.at));
    expectCorrupt(() => decodeForged(bad), id, /timestamp plane 0 of \d+ stored bytes overruns the block/, 0);
    const segs = segments(good.data);
    const last = segs[segs.length - 1]!;
    const bad2 = edit((b) => b.writeUInt32LE(last.stored + 1, last.at));
    expectCorrupt(() => decodeForged(bad2), id, /the lines of \d+ stored bytes overruns the block/, 0);
  });

  it('a stored size larger than the segment itself', () => {
    const small = encodeBlock(batchFromEntries([{ ts: 1n, line: 'x' }]));
    const bad = Buffer.from(small.data);
    bad.writeUInt32LE(2, 16); // plane of 1 byte claims 2
    expectCorrupt(
      () => decodeBlockBytes(bad, { ...small, compressedSize: bad.length, offset: 0, crc: crc32(bad) }, id, 3),
      id,
      /timestamp plane 0 is stored in 2 bytes, more than its 1/,
      3,
    );
  });

  it('an invalid width byte, unit exponent or reserved byte', () => {
    for (const [at, value, pattern] of [
      [12, 3, /timestamp width byte 3 is invalid \(allowed: 1, 2, 4, 8\)/],
      [12, 0, /timestamp width byte 0 is invalid/],
      [13, 8, /line length width byte 8 is invalid \(allowed: 1, 2, 4\)/],
      [14, 10, /timestamp unit exponent 10 is invalid \(allowed: 0 to 9\)/],
      [15, 1, /reserved block byte is not zero/],
    ] as const) {
      expectCorrupt(() => decodeForged(edit((b) => (b[at] = value))), id, pattern, 0);
    }
  });

  it('planes truncated: the block ends before all its segments', () => {
    const segs = segments(good.data);
    // Cut right after the first plane: the second plane's size is missing.
    const cut = Buffer.from(good.data.subarray(0, segs[1]!.at));
    expectCorrupt(() => decodeForged(cut), id, /timestamp plane 1 is missing/, 0);
    // Cut inside a plane's bytes.
    const mid = Buffer.from(good.data.subarray(0, segs[2]!.at + 10));
    expectCorrupt(() => decodeForged(mid), id, /timestamp plane 2 of \d+ stored bytes overruns/, 0);
    // A width that claims more planes than the block stores runs into the lines.
    const wider = edit((b) => (b[12] = 8));
    expectCorrupt(() => decodeForged(wider, { rawSize: good.rawSize + 4 * rows.length }), id, /zstd decompression of timestamp plane 5 failed/, 0);
  });

  it('sizes that do not add up to the raw size in the table', () => {
    expectCorrupt(() => decodeForged(Buffer.from(good.data), { rawSize: good.rawSize + 1 }), id, /do not add up to the raw size/, 0);
    const moreLines = edit((b) => b.writeUInt32LE(b.readUInt32LE(4) + 1, 4));
    expectCorrupt(() => decodeForged(moreLines, { rawSize: good.rawSize + 1 }), id, /line lengths add up to \d+ bytes, but the block holds \d+/, 0);
  });

  it('an entry count or metadata flag that disagrees with the table', () => {
    expectCorrupt(() => decodeForged(edit((b) => b.writeUInt32LE(299, 0))), id, /block holds 299 entries but the block table says 300/, 0);
    expectCorrupt(() => decodeForged(Buffer.from(good.data), { hasMetadata: false }), id, /metadata column presence disagrees/, 0);
  });

  it('a damaged zstd frame inside a segment (with a valid CRC)', () => {
    const compressed = segments(good.data).findIndex((s, i) => i < 4 && s.stored < rows.length);
    const s = segments(good.data)[compressed]!;
    const bad = edit((b) => b.fill(0xaa, s.at + 4, s.at + 4 + s.stored));
    expectCorrupt(() => decodeForged(bad), id, new RegExp(`zstd decompression of timestamp plane ${compressed} failed`), 0);
  });

  it('planes whose values do not match the table: line lengths and timestamps', () => {
    const tiny = (data: Buffer) => decodeBlockBytes(data, { minTs: 1n, maxTs: 2n, count: 2, rawSize: 16 + 4 + 3, compressedSize: data.length, offset: 0, crc: crc32(data), hasMetadata: false }, id, 0);
    const block = (tsPlane: number[], lenPlane: number[], lines: string): Buffer =>
      Buffer.concat([
        Buffer.from([2, 0, 0, 0, lines.length, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0]),
        Buffer.from([2, 0, 0, 0, ...tsPlane]),
        Buffer.from([2, 0, 0, 0, ...lenPlane]),
        Buffer.from([lines.length, 0, 0, 0]),
        Buffer.from(lines),
      ]);
    expect(rowsOfBatch(tiny(block([0, 1], [1, 2], 'abc')))).toEqual([
      [1n, 'a'],
      [2n, 'bc'],
    ]);
    expectCorrupt(() => tiny(block([0, 1], [1, 9], 'abc')), id, /line lengths add up to 10 bytes, but the block holds 3/, 0);
    expectCorrupt(() => tiny(block([0, 2], [1, 2], 'abc')), id, /last timestamp 3 does not match the block's max 2/, 0);
    expectCorrupt(() => tiny(Buffer.concat([block([0, 1], [1, 2], 'abc'), Buffer.from('!')])), id, /1 unexpected bytes after the lines/, 0);
  });

  it('a scaled delta that would pass 2^53 ns', () => {
    const data = Buffer.concat([
      Buffer.from([2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 8, 1, 9, 0]),
      ...[0, 0, 0, 0, 0, 0, 0, 1].map((b) => Buffer.from([2, 0, 0, 0, 0, b])), // delta 2^56 units of 1 s
      [Buffer.from([2, 0, 0, 0, 1, 1])],
      [Buffer.from([2, 0, 0, 0]), Buffer.from('ab')],
    ].flat());
    const info = { minTs: 0n, maxTs: 1n, count: 2, rawSize: 16 + 18 + 2, compressedSize: data.length, offset: 0, crc: crc32(data), hasMetadata: false };
    expectCorrupt(() => decodeBlockBytes(data, info, id, 0), id, /timestamp delta of entry 1 overflows/, 0);
  });

  it('a timestamp sum that passes int64', () => {
    const rowsMax = [
      { ts: 2n ** 63n - 10n, line: 'a' },
      { ts: 2n ** 63n - 1n, line: 'b' },
    ];
    const block = encodeBlock(batchFromEntries(rowsMax));
    expectSameRows(decodeBlockOf(block), rowsMax);
    const bad = Buffer.from(block.data);
    // Plane 0, entry 1: delta 9 → 255 pushes past the maximum.
    const p0 = segments(bad)[0]!;
    expect(p0.stored).toBe(2);
    bad[p0.at + 4 + 1] = 255;
    expectCorrupt(() => decodeBlockBytes(bad, { ...block, compressedSize: bad.length, offset: 0, crc: crc32(bad) }, id, 0), id, /timestamp of entry 1 overflows 64 bits/, 0);
  });
});

function rowsOfBatch(b: EntryBatch): [bigint, string][] {
  return Array.from({ length: b.count }, (_, i) => [b.ts[i]!, lineAt(b, i)]);
}

describe('version 2 chunk header', () => {
  it('reports version 2 and stamps it on every block', () => {
    const h = readChunkHeader(encodeChunk([batchFromEntries([{ ts: 1n, line: 'a' }])]), 'c');
    expect(h.version).toBe(2);
    expect(h.blocks[0]!.version).toBe(2);
  });
});
