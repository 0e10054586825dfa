import { uncompressSync } from 'snappy';

/** A snappy block that cannot be decoded, or would decode to more than allowed. */
export class SnappyError extends Error {}

/** The uncompressed length a raw snappy block declares in its leading varint. */
function declaredLength(buf: Uint8Array): number {
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
  if (len > maxLength) throw new SnappyError(`declares ${len} uncompressed bytes, more than the ${maxLength} allowed`);
  try {
    return uncompressSync(buf, { asBuffer: true, copyOutputData: true }) as Buffer;
  } catch (err) {
    throw new SnappyError(err instanceof Error ? err.message : String(err));
  }
}
