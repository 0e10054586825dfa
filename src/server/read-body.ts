import type { IncomingMessage } from 'node:http';

/** A body longer than the server takes: fastify's own 413. */
class BodyTooLargeError extends Error {
  readonly statusCode = 413;
  readonly code = 'FST_ERR_CTP_BODY_TOO_LARGE';
  constructor(limit: number) {
    super(`Request body is too large: the limit is ${limit} bytes`);
  }
}

class BodyIncompleteError extends Error {
  readonly statusCode = 400;
  constructor(got: number, declared: number) {
    super(`Request body ended after ${got} of the ${declared} bytes its Content-Length declared`);
  }
}

/**
 * Reads a request body into one buffer. With a Content-Length the buffer is allocated once at that
 * size, so a 100 MB push costs 100 MB, not the chunks plus their concatenation; without one, chunks
 * are concatenated at the end. Either way the limit is enforced as bytes arrive.
 */
export function readBody(stream: IncomingMessage, contentLength: string | undefined, limit: number): Promise<Buffer> {
  const declared = contentLength !== undefined && /^\d+$/.test(contentLength) ? Number(contentLength) : null;
  return new Promise((resolve, reject) => {
    if (declared !== null && declared > limit) {
      stream.resume();
      reject(new BodyTooLargeError(limit));
      return;
    }
    const whole = declared !== null ? Buffer.allocUnsafe(declared) : null;
    const chunks: Buffer[] = [];
    let got = 0;
    let failed = false;
    stream.on('data', (chunk: Buffer) => {
      if (failed) return;
      if (got + chunk.length > (declared ?? limit)) {
        failed = true;
        stream.resume();
        reject(declared !== null ? new BodyTooLargeError(declared) : new BodyTooLargeError(limit));
        return;
      }
      if (whole) chunk.copy(whole, got);
      else chunks.push(chunk);
      got += chunk.length;
    });
    stream.on('error', (err) => {
      if (failed) return;
      failed = true;
      reject(err);
    });
    stream.on('end', () => {
      if (failed) return;
      if (whole) {
        if (got !== declared) reject(new BodyIncompleteError(got, declared!));
        else resolve(whole);
      } else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, got));
    });
  });
}
