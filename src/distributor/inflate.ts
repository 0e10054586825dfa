import zlib from 'node:zlib';

/** A body that inflates past `distributor.max_decompressed_size`: a 413. */
export class DecompressedTooLargeError extends Error {
  constructor(readonly limit: number, encoding: string) {
    super(`${encoding} body inflates to more than ${limit} bytes, over distributor.max_decompressed_size (${limit}): send smaller pushes`);
  }
}

/** A body that is not valid for its Content-Encoding: a 400. */
export class InflateError extends Error {}

/**
 * Inflates a gzip or deflate body as a stream, a chunk at a time off the event loop, into one buffer.
 * The size cap and `observe` (which may throw to refuse the body) see every chunk as it comes, so a
 * bomb or an over-limit body is stopped after at most one chunk past the point that gives it away, and
 * memory never exceeds what was inflated so far. A gzip body's trailer announces its size: one past the
 * cap is refused before inflating anything, and an honest one sizes the output buffer exactly.
 */
export function inflateBody(body: Buffer, encoding: 'gzip' | 'deflate', cap: number, observe?: (chunk: Buffer) => void): Promise<Buffer> {
  let capacity = Math.min(cap, Math.max(64 * 1024, body.length * 4));
  if (encoding === 'gzip' && body.length >= 18 && body[0] === 0x1f && body[1] === 0x8b) {
    // ISIZE is the size modulo 2^32, and only of the last member: a hint, checked as we go.
    const announced = body.readUInt32LE(body.length - 4);
    if (announced > cap) return Promise.reject(new DecompressedTooLargeError(cap, encoding));
    capacity = Math.max(announced, 1);
  }
  return new Promise((resolve, reject) => {
    const z = encoding === 'gzip' ? zlib.createGunzip({ chunkSize: 64 * 1024 }) : zlib.createInflate({ chunkSize: 64 * 1024 });
    let out = Buffer.allocUnsafe(capacity);
    let used = 0;
    let done = false;
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      z.destroy();
      reject(err);
    };
    z.on('data', (chunk: Buffer) => {
      if (done) return;
      if (used + chunk.length > cap) return fail(new DecompressedTooLargeError(cap, encoding));
      try {
        observe?.(chunk);
      } catch (err) {
        return fail(err as Error);
      }
      if (used + chunk.length > out.length) {
        const grown = Buffer.allocUnsafe(Math.min(cap, Math.max(out.length * 2, used + chunk.length)));
        out.copy(grown, 0, 0, used);
        out = grown;
      }
      used += chunk.copy(out, used);
    });
    z.on('error', (err) => fail(new InflateError(`cannot decompress ${encoding} body: ${err.message}`)));
    z.on('end', () => {
      if (done) return;
      done = true;
      // Hand back exactly what was inflated; a small remainder is copied so the oversized buffer can go.
      resolve(used === out.length ? out : used < out.length / 2 ? Buffer.from(out.subarray(0, used)) : out.subarray(0, used));
    });
    z.end(body);
  });
}
