import type { Limits } from '../../config/config.js';
import { PushBodyError, PushTooLargeError, type DecodeLimits } from '../decode-body.js';
import { TooManyEntriesError, type DecodedPush } from '../entry-columns.js';
import { DecompressedTooLargeError, inflateBody, InflateError } from '../inflate.js';
import { nowNs } from '../../model/time.js';
import { decodeOtlpJson } from './decode-json.js';
import { decodeOtlpProto } from './decode-proto.js';
import { OtlpDecodeError, type OtlpResourceLogs } from './model.js';
import { otlpToStreams } from './to-streams.js';

export type OtlpEncoding = 'protobuf' | 'json';

/** OTLP/HTTP's two encodings by Content-Type; null for any other type (a 415). */
export function otlpEncodingOf(contentType: string | undefined): OtlpEncoding | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return null;
}

// What the decoded request costs beyond its bytes, per byte of body, for the in-flight budget (objects per record).
const MODEL_BYTES_PER_BODY_BYTE = 2;
const COLUMN_BYTES_PER_ENTRY = 16;

/**
 * Decodes an OTLP logs export (gzip or deflate Content-Encoding, or none) and maps it onto streams with the
 * tenant's `otlp_config`. Throws PushBodyError (400) for a body that cannot be decoded and
 * PushTooLargeError (413) past `distributor.max_decompressed_size` or `distributor.max_push_entries`.
 */
export async function decodeOtlpBody(body: Buffer, contentType: string | undefined, contentEncoding: string | undefined, limits: DecodeLimits, tenant: Limits): Promise<DecodedPush> {
  const encoding = otlpEncodingOf(contentType);
  if (!encoding) throw new PushBodyError(`content type: ${contentType ?? ''} is not supported: use application/x-protobuf or application/json`);
  const enc = (contentEncoding ?? '').trim().toLowerCase();
  let raw = body;
  if (enc === 'gzip' || enc === 'x-gzip' || enc === 'deflate') {
    try {
      raw = await inflateBody(body, enc === 'deflate' ? 'deflate' : 'gzip', limits.maxDecompressedSize, limits.charge ? (chunk) => limits.charge!(chunk.length) : undefined);
    } catch (err) {
      if (err instanceof DecompressedTooLargeError) throw new PushTooLargeError(err.message);
      if (err instanceof InflateError) throw new PushBodyError(err.message);
      throw err;
    }
  } else if (enc !== '' && enc !== 'identity') throw new PushBodyError(`unsupported Content-Encoding ${JSON.stringify(contentEncoding)}: use gzip, deflate or none`);
  limits.charge?.(raw.length * MODEL_BYTES_PER_BODY_BYTE);
  let req: OtlpResourceLogs[];
  try {
    req = encoding === 'protobuf' ? decodeOtlpProto(raw) : decodeOtlpJson(raw);
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw new PushBodyError(err.message);
    // A value nested beyond what the stack takes, in JSON.parse: still the client's body at fault.
    if (err instanceof RangeError) throw new PushBodyError(`cannot decode the OTLP ${encoding} body: ${err.message}`);
    throw err;
  }
  try {
    const decoded = otlpToStreams(req, tenant.otlpConfig, nowNs(), limits.maxEntries);
    limits.charge?.(decoded.columns.count * COLUMN_BYTES_PER_ENTRY);
    return decoded;
  } catch (err) {
    if (err instanceof TooManyEntriesError) throw new PushTooLargeError(err.message);
    throw err;
  }
}
