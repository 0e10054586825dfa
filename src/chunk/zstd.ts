/**
 * zstd over zstd-napi's low-level binding. The high-level `compress`/`decompress` of zstd-napi reset
 * their context on every call and probe frame sizes in JS; the binding lets us keep one compression and
 * one decompression context for the whole process (calls are synchronous, so sharing them is safe) and
 * decompress straight into a buffer of the size the chunk header already told us.
 */
import binding from 'zstd-napi/binding.js';

/** Frames larger than this are refused rather than allocated: a corrupt size field must not exhaust memory. */
export const MAX_DECOMPRESSED_SIZE = 1 << 30;

let cctx: binding.CCtx | undefined;
// A second context for compressions with explicit parameters: compress2 honours sticky parameters,
// while the plain context's compress() ignores them.
let tunedCctx: binding.CCtx | undefined;
let tunedMinMatch = 0;
let dctx: binding.DCtx | undefined;
// Compression output goes to a reused scratch buffer, then is copied out at its exact size, so callers
// that keep compressed blocks in memory (the ingester) hold no compressBound() slack.
let scratch: Buffer = Buffer.alloc(0);
const SCRATCH_KEEP_LIMIT = 4 * 1024 * 1024;

function asError(err: unknown, what: string): Error {
  if (err instanceof Error) return err;
  return new Error(`${what}: ${String(err)}`);
}

/**
 * Compresses `buf` into one zstd frame (with its content size recorded) at `level`. `minMatch`, when
 * given, overrides the shortest match length zstd would pick for this level and input size.
 */
export function compress(buf: Uint8Array, level = 3, minMatch?: number): Buffer {
  cctx ??= new binding.CCtx();
  const bound = binding.compressBound(buf.length);
  // Keep the scratch for block-sized inputs; a rare huge input gets its own buffer rather than
  // pinning that much memory for the life of the process.
  let dst = scratch;
  if (dst.length < bound) {
    dst = Buffer.allocUnsafeSlow(Math.max(bound, 64 * 1024));
    if (bound <= SCRATCH_KEEP_LIMIT) scratch = dst;
  }
  let n: number;
  try {
    if (minMatch === undefined) {
      n = cctx.compress(dst, buf, level);
    } else {
      tunedCctx ??= new binding.CCtx();
      tunedCctx.setParameter(binding.CParameter.compressionLevel, level);
      if (minMatch !== tunedMinMatch) {
        tunedCctx.setParameter(binding.CParameter.minMatch, minMatch);
        tunedMinMatch = minMatch;
      }
      n = tunedCctx.compress2(dst, buf);
    }
  } catch (err) {
    throw asError(err, 'zstd compress failed');
  }
  const out = Buffer.allocUnsafeSlow(n);
  dst.copy(out, 0, 0, n);
  return out;
}

/**
 * Decompresses one zstd frame. With `rawSize` the output is allocated once at that size and the frame
 * must produce exactly that many bytes; without it the size comes from the frame header.
 */
export function decompress(buf: Uint8Array, rawSize?: number): Buffer {
  dctx ??= new binding.DCtx();
  let size = rawSize;
  if (size === undefined) {
    let declared: number | null;
    try {
      declared = binding.getFrameContentSize(buf);
    } catch (err) {
      throw asError(err, 'zstd frame header unreadable');
    }
    if (declared === null) throw new Error('zstd frame does not record its decompressed size');
    size = declared;
  }
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_DECOMPRESSED_SIZE) {
    throw new Error(`zstd decompressed size ${size} is out of range (0..${MAX_DECOMPRESSED_SIZE})`);
  }
  const out = Buffer.allocUnsafeSlow(size);
  let n: number;
  try {
    n = dctx.decompress(out, buf);
  } catch (err) {
    throw asError(err, 'zstd decompress failed');
  }
  if (n !== size) throw new Error(`zstd frame decompressed to ${n} bytes, expected ${size}`);
  return out;
}

/**
 * Decompresses one zstd frame into `dst`, which must be exactly the frame's content size: for a part
 * that is parsed and dropped (a block's columns), so the caller can reuse one scratch buffer.
 */
export function decompressInto(buf: Uint8Array, dst: Uint8Array): void {
  dctx ??= new binding.DCtx();
  let n: number;
  try {
    n = dctx.decompress(dst, buf);
  } catch (err) {
    throw asError(err, 'zstd decompress failed');
  }
  if (n !== dst.length) throw new Error(`zstd frame decompressed to ${n} bytes, expected ${dst.length}`);
}
