import { uncompressSync } from 'snappy';

/** A snappy block that cannot be decoded. */
export class SnappyError extends Error {}

/** A snappy block declaring more than `distributor.max_decompressed_size`: a 413, like a gzip body past it. */
export class SnappyTooLargeError extends Error {
  constructor(declared: number, limit: number) {
    super(`snappy block declares ${declared} uncompressed bytes, more than ${limit}, over distributor.max_decompressed_size (${limit}): send smaller pushes`);
  }
}

/** The uncompressed length a raw snappy block declares in its leading varint. */
export function declaredLength(buf: Uint8Array): number {
  let result = 0;
  let mult = 1;
  for (let i = 0; i < 5 && i < buf.length; i++) {
    const b = buf[i]!;
    result += (b & 0x7f) * mult;
    if (b < 0x80) return result;
    mult *= 128;
  }
  throw new SnappyError('missing or overlong length preamble');
}

/**
 * Decompresses raw (block-format) snappy with the native module. `copyOutputData` is required on every
 * call: without it the module's output buffers leak. The declared size is checked first so a hostile
 * preamble cannot make us allocate gigabytes.
 */
export function snappyUncompress(buf: Buffer, maxLength: number): Buffer {
  const len = declaredLength(buf);
  if (len > maxLength) throw new SnappyTooLargeError(len, maxLength);
  try {
    return uncompressSync(buf, { asBuffer: true, copyOutputData: true }) as Buffer;
  } catch (err) {
    throw new SnappyError(err instanceof Error ? err.message : String(err));
  }
}
