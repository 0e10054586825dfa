import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { IngestStream } from '../model/entry.js';
import { decodePushJson } from './decode-json.js';
import { decodePushProto } from './decode-proto.js';
import { snappyUncompress } from './snappy-block.js';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

/** A body that cannot be decoded: always a 400 with this message. */
export class PushBodyError extends Error {}

// A decompressed push may not grow past this; a bomb gets a 400, not an out-of-memory.
const MAX_DECOMPRESSED = 256 * 1024 * 1024;

async function decodeContentEncoding(body: Buffer, encoding: string | undefined): Promise<Buffer> {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return body;
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return await gunzip(body, { maxOutputLength: MAX_DECOMPRESSED });
    if (enc === 'deflate') return await inflate(body, { maxOutputLength: MAX_DECOMPRESSED });
  } catch (err) {
    throw new PushBodyError(`cannot decompress ${enc} body: ${(err as Error).message}`);
  }
  throw new PushBodyError(`unsupported Content-Encoding ${JSON.stringify(encoding)}: use gzip, deflate or none`);
}

/** Content-Type decides the format, as Loki does: protobuf (snappy-compressed) or JSON. */
export async function decodePushBody(body: Buffer, contentType: string | undefined, contentEncoding: string | undefined): Promise<IngestStream[]> {
  const raw = await decodeContentEncoding(body, contentEncoding);
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') {
    let pb: Buffer;
    try {
      pb = snappyUncompress(raw, MAX_DECOMPRESSED);
    } catch (err) {
      throw new PushBodyError(`protobuf body is not valid snappy (block format): ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      return decodePushProto(pb);
    } catch (err) {
      throw new PushBodyError(`malformed protobuf PushRequest: ${(err as Error).message}`);
    }
  }
  if (type === 'application/json' || type === '') {
    try {
      return decodePushJson(raw);
    } catch (err) {
      throw new PushBodyError((err as Error).message);
    }
  }
  throw new PushBodyError(`unsupported Content-Type ${JSON.stringify(contentType)}: use application/json or application/x-protobuf`);
}
