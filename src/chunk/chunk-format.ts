/**
 * The chunk layout, version 1. All integers little-endian.
 *
 *   header   0  magic "NRVC"
 *            4  u8  format version (1)
 *            5  u8  chunk flags (none defined; must be 0)
 *            6  u16 reserved (0)
 *            8  u32 header size in bytes, including the trailing header CRC
 *           12  u32 block count
 *           16  u32 entry count
 *           20  u32 reserved (0)
 *           24  i64 min timestamp (ns)
 *           32  i64 max timestamp (ns)
 *           40  block table, BLOCK_ENTRY_SIZE bytes per block:
 *                 +0 i64 min ts, +8 i64 max ts, +16 u32 entry count, +20 u32 raw size,
 *                 +24 u32 compressed size, +28 u32 offset from chunk start, +32 u32 CRC32 of the
 *                 compressed bytes, +36 u32 block flags (bit 0: metadata column present)
 *            …  u32 CRC32 of every header byte before it
 *   blocks   one zstd frame each, back to back, in table order, starting right after the header.
 *
 * The table lets a reader pick blocks by time without decompressing anything, and the fixed prefix
 * lets a range reader learn the header size from the first HEADER_PREFIX_SIZE bytes.
 *
 * A block's decompressed bytes:
 *            0  u32 entry count (repeats the table, cross-checked)
 *            4  u32 timestamp column size
 *            8  u32 line-length column size
 *           12  u32 line bytes size
 *           16  u32 metadata column size (0 when absent)
 *           20  timestamps: one varint per entry, the delta from the previous entry (the first from the
 *               block's min timestamp, so 0); small numbers because entries ascend
 *               line lengths: one varint per entry
 *               line bytes back to back (a query searches them as one buffer)
 *               metadata: per entry a varint pair count, then per pair varint-length-prefixed UTF-8
 *               name and value
 */
export const MAGIC = Buffer.from('NRVC', 'latin1');
export const FORMAT_VERSION = 1;
export const HEADER_PREFIX_SIZE = 40;
export const BLOCK_ENTRY_SIZE = 40;
export const HEADER_CRC_SIZE = 4;
export const BLOCK_PREFIX_SIZE = 20;
export const BLOCK_FLAG_METADATA = 1;
/**
 * Largest raw block accepted on either side. The ingester cuts at ~256 KiB and a line is capped at
 * 256 KB, so real blocks are far below this; the bound keeps a corrupt size from driving a huge allocation.
 */
export const MAX_BLOCK_RAW_SIZE = 64 * 1024 * 1024;

/** One row of the block table. */
export interface BlockInfo {
  minTs: bigint;
  maxTs: bigint;
  count: number;
  rawSize: number;
  compressedSize: number;
  /** Byte offset of the block's zstd frame from the start of the chunk. */
  offset: number;
  crc: number;
  hasMetadata: boolean;
}

export interface ChunkHeader {
  version: number;
  minTs: bigint;
  maxTs: bigint;
  count: number;
  blocks: BlockInfo[];
  /** Bytes of header, including its CRC; the first block starts here. */
  headerSize: number;
  /** Bytes of the whole chunk object. */
  size: number;
}

export function headerSizeFor(blockCount: number): number {
  return HEADER_PREFIX_SIZE + blockCount * BLOCK_ENTRY_SIZE + HEADER_CRC_SIZE;
}
