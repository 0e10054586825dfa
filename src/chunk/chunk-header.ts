/**
 * Writing and reading the chunk header (layout in chunk-format.ts). Reading decompresses nothing and
 * checks everything it can: magic, version, the header CRC, and that the block table is internally
 * consistent (contiguous offsets, sane sizes, counts and time bounds that agree with the totals).
 */
import { crc32 } from 'node:zlib';
import { ChunkCorruptError } from './chunk-error.js';
import {
  BLOCK_ENTRY_SIZE,
  BLOCK_FLAG_METADATA,
  FORMAT_VERSION,
  HEADER_PREFIX_SIZE,
  MAGIC,
  MAX_BLOCK_RAW_SIZE,
  READABLE_VERSIONS,
  headerSizeFor,
  minRawSize,
  type BlockInfo,
  type ChunkHeader,
} from './chunk-format.js';

const U32_MAX = 0xffffffff;

/** Builds the header bytes (always FORMAT_VERSION) for blocks laid out back to back right after it. */
export function writeChunkHeader(blocks: Omit<BlockInfo, 'offset'>[]): Buffer {
  const headerSize = headerSizeFor(blocks.length);
  const buf = Buffer.alloc(headerSize);
  let count = 0;
  let minTs = blocks[0]!.minTs;
  let maxTs = blocks[0]!.maxTs;
  let offset = headerSize;
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i]!;
    // Blocks of an older version cannot be relabelled; they must be decoded and encoded again.
    if (b.version !== undefined && b.version !== FORMAT_VERSION) throw new RangeError(`block ${i} is format version ${b.version}; a chunk is written as version ${FORMAT_VERSION} only`);
    const at = HEADER_PREFIX_SIZE + i * BLOCK_ENTRY_SIZE;
    buf.writeBigInt64LE(b.minTs, at);
    buf.writeBigInt64LE(b.maxTs, at + 8);
    buf.writeUInt32LE(b.count, at + 16);
    buf.writeUInt32LE(b.rawSize, at + 20);
    buf.writeUInt32LE(b.compressedSize, at + 24);
    buf.writeUInt32LE(offset, at + 28);
    buf.writeUInt32LE(b.crc >>> 0, at + 32);
    buf.writeUInt32LE(b.hasMetadata ? BLOCK_FLAG_METADATA : 0, at + 36);
    offset += b.compressedSize;
    if (offset > U32_MAX) throw new RangeError(`chunk would exceed ${U32_MAX} bytes at block ${i}`);
    count += b.count;
    if (b.minTs < minTs) minTs = b.minTs;
    if (b.maxTs > maxTs) maxTs = b.maxTs;
  }
  if (count > U32_MAX) throw new RangeError(`chunk would hold ${count} entries; the limit is ${U32_MAX}`);
  MAGIC.copy(buf, 0);
  buf.writeUInt8(FORMAT_VERSION, 4);
  buf.writeUInt32LE(headerSize, 8);
  buf.writeUInt32LE(blocks.length, 12);
  buf.writeUInt32LE(count, 16);
  buf.writeBigInt64LE(minTs, 24);
  buf.writeBigInt64LE(maxTs, 32);
  buf.writeUInt32LE(crc32(buf.subarray(0, headerSize - 4)), headerSize - 4);
  return buf;
}

/**
 * The header size, from the first HEADER_PREFIX_SIZE bytes of a chunk: a range reader fetches this
 * many bytes to get the whole header. Checks magic and version.
 */
export function chunkHeaderSize(prefix: Buffer, id: string): number {
  const corrupt = (problem: string): never => {
    throw new ChunkCorruptError(id, problem);
  };
  if (prefix.length < HEADER_PREFIX_SIZE) corrupt(`truncated: ${prefix.length} bytes, a chunk header needs at least ${HEADER_PREFIX_SIZE}`);
  if (!prefix.subarray(0, 4).equals(MAGIC)) corrupt(`bad magic bytes ${prefix.subarray(0, 4).toString('hex')} (expected ${MAGIC.toString('hex')}, "${MAGIC.toString('latin1')}")`);
  const version = prefix.readUInt8(4);
  if (!READABLE_VERSIONS.includes(version)) corrupt(`unknown format version ${version} (this build reads versions ${READABLE_VERSIONS.join(' and ')})`);
  const blockCount = prefix.readUInt32LE(12);
  const headerSize = prefix.readUInt32LE(8);
  if (blockCount < 1 || headerSize !== headerSizeFor(blockCount)) {
    corrupt(`header size ${headerSize} does not fit a table of ${blockCount} blocks`);
  }
  return headerSize;
}

/**
 * Reads the header and block table without decompressing anything. `buf` is normally the whole chunk
 * and its length must match the table exactly (a truncated or padded object is corrupt); pass
 * `{ partial: true }` when `buf` holds only a prefix (at least the header) from a range read.
 */
export function readChunkHeader(buf: Buffer, id: string, opts: { partial?: boolean } = {}): ChunkHeader {
  const corrupt = (problem: string, block?: number): never => {
    throw new ChunkCorruptError(id, problem, block);
  };
  const headerSize = chunkHeaderSize(buf, id);
  if (buf.length < headerSize) corrupt(`truncated: ${buf.length} bytes, the header alone is ${headerSize}`);
  const storedCrc = buf.readUInt32LE(headerSize - 4);
  const crc = crc32(buf.subarray(0, headerSize - 4));
  if (storedCrc !== crc) corrupt(`header checksum mismatch: stored 0x${storedCrc.toString(16)}, computed 0x${crc.toString(16)}`);
  if (buf.readUInt8(5) !== 0 || buf.readUInt16LE(6) !== 0 || buf.readUInt32LE(20) !== 0) corrupt('reserved header fields are not zero');

  const version = buf.readUInt8(4);
  const blockCount = buf.readUInt32LE(12);
  const count = buf.readUInt32LE(16);
  const minTs = buf.readBigInt64LE(24);
  const maxTs = buf.readBigInt64LE(32);
  const blocks: BlockInfo[] = new Array(blockCount);
  let expectOffset = headerSize;
  let sum = 0;
  let seenMin = 0n;
  let seenMax = 0n;
  for (let i = 0; i < blockCount; i++) {
    const at = HEADER_PREFIX_SIZE + i * BLOCK_ENTRY_SIZE;
    const flags = buf.readUInt32LE(at + 36);
    const b: BlockInfo = {
      minTs: buf.readBigInt64LE(at),
      maxTs: buf.readBigInt64LE(at + 8),
      count: buf.readUInt32LE(at + 16),
      rawSize: buf.readUInt32LE(at + 20),
      compressedSize: buf.readUInt32LE(at + 24),
      offset: buf.readUInt32LE(at + 28),
      crc: buf.readUInt32LE(at + 32),
      hasMetadata: (flags & BLOCK_FLAG_METADATA) !== 0,
      version,
    };
    if ((flags & ~BLOCK_FLAG_METADATA) !== 0) corrupt(`unknown block flags 0x${flags.toString(16)}`, i);
    if (b.count < 1) corrupt('block table lists 0 entries', i);
    if (b.minTs > b.maxTs) corrupt(`block min timestamp ${b.minTs} is after its max ${b.maxTs}`, i);
    if (b.rawSize < minRawSize(version, b.count) || b.rawSize > MAX_BLOCK_RAW_SIZE) {
      corrupt(`raw size ${b.rawSize} is impossible for ${b.count} entries (allowed up to ${MAX_BLOCK_RAW_SIZE})`, i);
    }
    if (b.compressedSize < 1) corrupt('compressed size is 0', i);
    if (b.offset !== expectOffset) corrupt(`offset ${b.offset} should be ${expectOffset} (blocks are back to back after the header)`, i);
    expectOffset += b.compressedSize;
    sum += b.count;
    if (i === 0 || b.minTs < seenMin) seenMin = b.minTs;
    if (i === 0 || b.maxTs > seenMax) seenMax = b.maxTs;
    blocks[i] = b;
  }
  if (sum !== count) corrupt(`blocks hold ${sum} entries but the header says ${count}`);
  if (seenMin !== minTs || seenMax !== maxTs) corrupt(`chunk time bounds [${minTs}, ${maxTs}] disagree with its blocks [${seenMin}, ${seenMax}]`);
  if (!opts.partial && buf.length !== expectOffset) {
    corrupt(buf.length < expectOffset ? `truncated: ${buf.length} bytes, the block table needs ${expectOffset}` : `${buf.length - expectOffset} unexpected bytes after the last block`);
  }
  return { version, minTs, maxTs, count, blocks, headerSize, size: expectOffset };
}
