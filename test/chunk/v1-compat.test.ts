import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { batchFromEntries } from '../../src/model/batch.js';
import { assembleChunk, blocksOverlapping, decodeBlock, decodeBlockBytes, decodeChunk, encodeChunk, readChunkHeader } from '../../src/chunk/chunk.js';
import { writeChunkHeader } from '../../src/chunk/chunk-header.js';
import { compress } from '../../src/chunk/zstd.js';
import { expectCorrupt, expectSameRows, prng, randomRows, rowsOf, type Row } from './chunk-test-helpers.js';
import { encodeBlockV1, encodeChunkV1 } from './v1-encoder.js';

/**
 * A chunk written by the last version 1 build (commit 230708e) from FIXTURE_ROWS: two blocks, an
 * empty line, equal timestamps, metadata on one entry, a negative timestamp and a gap wider than 2^53 ns.
 */
const V1_FIXTURE = Buffer.from(
  'TlJWQwEAAAB8AAAAAgAAAAYAAAAAAAAA+/////////8AAAAAAAAAQAAAKjb+nJcXALiOD0SdlxcEAAAAcgAAAHsAAAB8AAAAFxcH' +
    'OAEAAAD7/////////wAAAAAAAABAAgAAAEAAAABFAAAA9wAAAKkhxZAAAAAAToUcVSi1L/0gcpEDAAQAAAAMAAAABAAAADoAAAAU' +
    'AAAAAACVmu8669WjkN0IGAAQEmxldmVsPWluZm8gbXNnPSJzdGFydGVkIm5hw692ZSBjYWbDqSDimJVhZnRlciBmaXZlIG1pbnV0' +
    'ZXMAAAEIdHJhY2VfaWQGYWJjMTIzACi1L/0gQOUBADQDAgAAAAoAAAACAAAAIACFgEAIGG5lZ2F0aXZlYSBnYXAgd2lkZXIgdGhh' +
    'biAyXjUzIG5zAgBgYBlQAg==',
  'base64',
);
const FIXTURE_ROWS: Row[][] = [
  [
    { ts: 1700000000000000000n, line: 'level=info msg="started"' },
    { ts: 1700000000000000000n, line: '' },
    { ts: 1700000000123456789n, line: 'naïve café ☕', metadata: { trace_id: 'abc123' } },
    { ts: 1700000300000000000n, line: 'after five minutes' },
  ],
  [
    { ts: -5n, line: 'negative' },
    { ts: 2n ** 62n, line: 'a gap wider than 2^53 ns' },
  ],
];

describe('reading version 1 chunks', () => {
  it('decodes a chunk written by the version 1 build', () => {
    const header = readChunkHeader(V1_FIXTURE, 'fixture');
    expect(header.version).toBe(1);
    expect(header.blocks.map((b) => b.version)).toEqual([1, 1]);
    expect(header.count).toBe(6);
    const blocks = decodeChunk(V1_FIXTURE, 'fixture');
    expect(blocks).toHaveLength(2);
    expectSameRows(blocks[0]!, FIXTURE_ROWS[0]!);
    expectSameRows(blocks[1]!, FIXTURE_ROWS[1]!);
    // Version 1 kept a metadata slot for every entry of a block that had any.
    expect(blocks[0]!.metadata).toEqual([null, null, { trace_id: 'abc123' }, null]);
    expect(blocks[1]!.metadata).toBeUndefined();
  });

  it('the test encoder reproduces the version 1 build byte for byte', () => {
    expect(encodeChunkV1(FIXTURE_ROWS.map((r) => batchFromEntries(r))).equals(V1_FIXTURE)).toBe(true);
  });

  it('the same entries written today are version 2 and decode identically', () => {
    const batches = FIXTURE_ROWS.map((r) => batchFromEntries(r));
    const v2 = encodeChunk(batches);
    expect(readChunkHeader(v2, 'c').version).toBe(2);
    expect(decodeChunk(v2, 'c').map(rowsOf)).toEqual(decodeChunk(V1_FIXTURE, 'c').map(rowsOf));
  });

  it('round-trips random entries across many version 1 blocks', () => {
    const rand = prng(7);
    const blocks: Row[][] = [];
    let ts = 1_700_000_000_000_000_000n;
    for (let b = 0; b < 20; b++) {
      const rows = randomRows(rand, 1 + Math.floor(rand() * 300), ts);
      ts = rows[rows.length - 1]!.ts;
      blocks.push(rows);
    }
    const buf = encodeChunkV1(blocks.map((r) => batchFromEntries(r)));
    const header = readChunkHeader(buf, 'v1');
    expect(header.version).toBe(1);
    for (let b = 0; b < blocks.length; b++) expectSameRows(decodeBlock(buf, header, b, 'v1'), blocks[b]!);
  });

  it('round-trips extreme timestamps and blocks far larger than 256 KiB', () => {
    const extreme: Row[] = [
      { ts: -(2n ** 63n), line: 'min' },
      { ts: 0n, line: 'epoch' },
      { ts: 2n ** 53n + 1n, line: 'past safe integer' },
      { ts: 2n ** 63n - 1n, line: 'max' },
    ];
    const big = Array.from({ length: 12 }, (_, i) => ({ ts: BigInt(i), line: String.fromCharCode(65 + i).repeat(300_000) }));
    const out = decodeChunk(encodeChunkV1([batchFromEntries(extreme)]), 'c');
    expectSameRows(out[0]!, extreme);
    expectSameRows(decodeChunk(encodeChunkV1([batchFromEntries(big)]), 'c')[0]!, big);
  });

  it('selects version 1 blocks by time and decodes one fetched alone', () => {
    const rows = [0, 1, 2].map((b) => Array.from({ length: 50 }, (_, i) => ({ ts: BigInt(1000 * (b + 1) + i), line: `v1 block ${b} line ${i}` })));
    const buf = encodeChunkV1(rows.map((r) => batchFromEntries(r)));
    const header = readChunkHeader(buf, 'c');
    expect(blocksOverlapping(header, 2010n, 2020n)).toEqual([1]);
    const b1 = header.blocks[1]!;
    expectSameRows(decodeBlockBytes(Buffer.from(buf.subarray(b1.offset, b1.offset + b1.compressedSize)), b1, 'c', 1), rows[1]!);
  });

  it('a block table row without a version is read as the current version', () => {
    const block = encodeBlockV1(batchFromEntries([{ ts: 1n, line: 'old' }]));
    const info = { ...block, compressedSize: block.data.length, offset: 0 };
    expect(decodeBlockBytes(block.data, { ...info, version: 1 }, 'c', 0).lines.toString()).toBe('old');
    // The same bytes read as version 2 are refused, never misread.
    expectCorrupt(() => decodeBlockBytes(block.data, info, 'c', 0), 'c', /block holds|width|raw size|prefix/, 0);
  });

  it('version 1 blocks cannot be relabelled into a version 2 chunk', () => {
    const block = encodeBlockV1(batchFromEntries([{ ts: 1n, line: 'old' }]));
    expect(() => writeChunkHeader([{ ...block, compressedSize: block.data.length, version: 1 }])).toThrow(/block 0 is format version 1/);
    // assembleChunk takes freshly encoded blocks, which carry no version: it always writes version 2.
    expect(readChunkHeader(assembleChunk([{ ...block }]), 'c').version).toBe(2);
  });
});

describe('corrupt version 1 chunks', () => {
  const id = 'fake/0123abcd/1000-3999/deadbeef';

  function forge(raw: Buffer, like: { ts: bigint; line: string }[]): Buffer {
    const good = encodeBlockV1(batchFromEntries(like));
    const data = compress(raw);
    return encodeChunkV1Blocks([{ ...good, data, crc: crc32(data), rawSize: raw.length }]);
  }
  function encodeChunkV1Blocks(blocks: ReturnType<typeof encodeBlockV1>[]): Buffer {
    const header = writeChunkHeader(blocks.map((b) => ({ ...b, compressedSize: b.data.length })));
    header[4] = 1;
    header.writeUInt32LE(crc32(header.subarray(0, header.length - 4)), header.length - 4);
    return Buffer.concat([header, ...blocks.map((b) => b.data)]);
  }
  const rows = [
    { ts: 1n, line: 'abc' },
    { ts: 2n, line: 'de' },
  ];
  const raw = Buffer.concat([
    Buffer.from([2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.from([0, 1]), // timestamps 1, 2
    Buffer.from([3, 2]), // lengths
    Buffer.from('abcde'),
  ]);

  it('the hand-built block is valid as it stands', () => {
    expectSameRows(decodeChunk(forge(raw, rows), id)[0]!, rows);
  });

  it('line lengths that overrun the line bytes', () => {
    const bad = Buffer.from(raw);
    bad[23] = 9;
    expectCorrupt(() => decodeChunk(forge(bad, rows), id), id, /line lengths overrun/, 0);
  });

  it('a timestamp varint that runs into the next column', () => {
    const bad = Buffer.from(raw);
    bad[20] = 0x80;
    bad[21] = 0x80;
    expectCorrupt(() => decodeChunk(forge(bad, rows), id), id, /timestamp/, 0);
  });

  it('column sizes that do not add up', () => {
    const bad = Buffer.from(raw);
    bad[12] = 6;
    expectCorrupt(() => decodeChunk(forge(bad, rows), id), id, /do not add up/, 0);
  });

  it('a flipped byte fails the block checksum', () => {
    const buf = encodeChunkV1([batchFromEntries(rows)]);
    buf[buf.length - 3] ^= 0x20;
    expectCorrupt(() => decodeChunk(buf, id), id, /checksum mismatch/, 0);
  });
});
