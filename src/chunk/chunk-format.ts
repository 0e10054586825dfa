/**
 * The chunk layout. All integers little-endian. This build writes version 2 and reads 1 and 2; the two
 * share the header and block table and differ only in the bytes of a block.
 *
 *   header   0  magic "NRVC"
 *            4  u8  format version (1 or 2)
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
 *   blocks   back to back, in table order, starting right after the header.
 *
 * The table lets a reader pick blocks by time without decompressing anything, and the fixed prefix
 * lets a range reader learn the header size from the first HEADER_PREFIX_SIZE bytes.
 *
 * Version 2 block: every column is its own compression unit. Sharing one zstd frame, the near-random
 * timestamp bytes and the skewed length bytes spoil zstd's literal statistics for the text and for each
 * other. Split, each is compressed on its own statistics: the random low bytes of nanosecond clocks
 * stay raw, and the text compresses about as well as it would alone. The stored bytes (what the block
 * CRC covers):
 *            0  u32 entry count (repeats the table, cross-checked)
 *            4  u32 line bytes size L
 *            8  u32 metadata column size M (0 when absent)
 *           12  u8  timestamp delta width W: 1, 2, 4 or 8 bytes, the smallest that holds the block's
 *               largest delta
 *           13  u8  line length width V: 1, 2 or 4 bytes, likewise
 *           14  u8  timestamp unit exponent E (0–9): deltas are stored in units of 10^E ns, the largest
 *               such unit dividing every delta (clients that send millisecond timestamps get E = 6)
 *           15  u8  reserved (0)
 *           16  segments, in this order: W timestamp planes, V line-length planes, the metadata column
 *               (only when M > 0), the line bytes. Each is a u32 stored size S, then S bytes: the
 *               segment itself when S equals its size, otherwise one zstd frame of it (the writer
 *               compresses only when that makes it strictly smaller, so random planes stay raw). The
 *               line bytes segment ends the block exactly.
 * A plane holds one byte of every value: plane k of the timestamps is byte k (little-endian) of each
 * entry's delta from the previous entry (the first from the block's min timestamp, so 0). Transposed,
 * the high planes are runs of near-constant bytes that compress to almost nothing, which varints (a
 * continuation bit in every byte) defeat. The metadata column: per entry a varint pair count, then per
 * pair varint-length-prefixed UTF-8 name and value. The raw size in the table is
 * 16 + count × (W + V) + M + L.
 *
 * Version 1 block: one zstd frame of
 *            0  u32 entry count (repeats the table, cross-checked)
 *            4  u32 timestamp column size
 *            8  u32 line-length column size
 *           12  u32 line bytes size
 *           16  u32 metadata column size (0 when absent)
 *           20  timestamps: one varint per entry, the delta from the previous entry (the first from the
 *               block's min timestamp, so 0)
 *               line lengths: one varint per entry
 *               line bytes back to back (a query searches them as one buffer)
 *               metadata: as in version 2
 */
export const MAGIC = Buffer.from('NRVC', 'latin1');
/** The version this build writes. */
export const FORMAT_VERSION = 2;
export const FORMAT_V1 = 1;
export const READABLE_VERSIONS: readonly number[] = [1, 2];
export const HEADER_PREFIX_SIZE = 40;
export const BLOCK_ENTRY_SIZE = 40;
export const HEADER_CRC_SIZE = 4;
export const BLOCK_FLAG_METADATA = 1;

/** Version 1: the fixed prefix of a decompressed block. */
export const BLOCK_PREFIX_SIZE = 20;

/** Version 2: the fixed prefix of a block's stored bytes. */
export const V2_PREFIX_SIZE = 16;
/** Version 2: the stored size in front of every segment. */
export const V2_SEGMENT_HEADER_SIZE = 4;
export const V2_TS_WIDTHS: readonly number[] = [1, 2, 4, 8];
export const V2_LEN_WIDTHS: readonly number[] = [1, 2, 4];
export const V2_MAX_TS_UNIT_EXPONENT = 9;

/** The smallest raw size a block of `count` entries can have in `version`: used to reject a corrupt table early. */
export function minRawSize(version: number, count: number): number {
  return version === FORMAT_V1 ? BLOCK_PREFIX_SIZE + 2 * count : V2_PREFIX_SIZE + 2 * count;
}

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
  /** Byte offset of the block's stored bytes from the start of the chunk. */
  offset: number;
  crc: number;
  hasMetadata: boolean;
  /**
   * Format version of the block's bytes, from the chunk header. Absent means FORMAT_VERSION: blocks
   * encoded in this process (the ingester's in-memory blocks) are always the current version.
   */
  version?: number;
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
