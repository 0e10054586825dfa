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

class BodyAbortedError extends Error {
  readonly statusCode = 400;
  constructor(got: number) {
    super(`request body aborted by the client after ${got} bytes`);
  }
}

/**
 * Reads a request body into one buffer. With a Content-Length the buffer is allocated once at that
 * size, so a 100 MB push costs 100 MB, not the chunks plus their concatenation; without one, chunks
 * are concatenated at the end. Either way the limit is enforced as bytes arrive. `charge` (which may
 * throw to refuse the body) is told of the bytes the body will hold before they are buffered: the whole
 * declared length before reading anything, else each chunk as it arrives. The promise always settles,
 * also when the client goes away mid-body, so whatever was charged can be given back.
 */
export function readBody(stream: IncomingMessage, contentLength: string | undefined, limit: number, charge?: (bytes: number) => void): Promise<Buffer> {
  const declared = contentLength !== undefined && /^\d+$/.test(contentLength) ? Number(contentLength) : null;
  return new Promise((resolve, reject) => {
    if (declared !== null && declared > limit) {
      stream.resume();
      reject(new BodyTooLargeError(limit));
      return;
    }
    if (declared !== null && charge) {
      try {
        charge(declared);
      } catch (err) {
        stream.resume();
        reject(err as Error);
        return;
      }
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
      if (declared === null && charge) {
        try {
          charge(chunk.length);
        } catch (err) {
          failed = true;
          stream.resume();
          reject(err as Error);
          return;
        }
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
    let ended = false;
    // A client gone mid-body may end the stream with 'close' alone; the promise must still settle.
    stream.on('close', () => {
      if (failed || ended) return;
      failed = true;
      reject(new BodyAbortedError(got));
    });
    stream.on('end', () => {
      ended = true;
      if (failed) return;
      if (whole) {
        if (got !== declared) reject(new BodyIncompleteError(got, declared!));
        else resolve(whole);
      } else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, got));
    });
  });
}
