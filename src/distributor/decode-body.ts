import { decodePushJsonColumns } from './decode-json.js';
import { decodeLegacyPushJson } from './decode-legacy-json.js';
import { decodePushProtoColumns } from './decode-proto.js';
import { TooManyEntriesError, type DecodedPush } from './entry-columns.js';
import { DecompressedTooLargeError, inflateBody, InflateError } from './inflate.js';
import { JsonLineCounter, NotJsonError } from './json-line-counter.js';
import { ProtoLineCounter } from './proto-line-counter.js';
import { declaredLength, snappyUncompress, SnappyTooLargeError } from './snappy-block.js';
import { SnappyStream } from './snappy-stream.js';

/** A body that cannot be decoded: always a 400 with this message. */
export class PushBodyError extends Error {}

/** A body over a size cap (decompressed size, entries per push): a 413 with this message. */
export class PushTooLargeError extends Error {}

/** The lines counted while inflating already exceed what the tenant may ingest now: a 429. */
export class RateLimitedWhileInflatingError extends Error {
  constructor(readonly countedBytes: number) {
    super(`at least ${countedBytes} bytes of lines`);
  }
}

export interface DecodeLimits {
  /** `distributor.max_decompressed_size`. */
  maxDecompressedSize: number;
  /** `distributor.max_push_entries`. */
  maxEntries: number;
  /**
   * The rate limit as a compressed body can be judged by while inflating: a push of more than
   * `chargedWholeAbove` entries is charged all its bytes, and no charge over `burst` is ever admitted.
   * Only a push certain to be refused is refused early: one the bucket could take once refilled, or one
   * whose few entries validation may yet cut down, is decoded and judged whole.
   */
  rate?: { burst: number; chargedWholeAbove: number };
  /**
   * Told of the bytes decoding is about to hold beyond the body (inflated output as it comes, a snappy
   * block's declared length before it is uncompressed, the entry columns); it throws to refuse the push
   * (`distributor.max_inflight_push_bytes`).
   */
  charge?: (bytes: number) => void;
}

// What the entry columns cost per entry (timestamp, line start and length).
const COLUMN_BYTES_PER_ENTRY = 16;
// A plain snappy body is followed this much at a time by the look-ahead, so it stops near the point that refuses it.
const LOOKAHEAD_SLICE = 64 * 1024;

/**
 * Watches a compressed protobuf body as it inflates: the snappy block inside is followed as a stream and
 * its PushRequest counted, so a block declaring more than the cap is a 413 at its first bytes, a push
 * past `distributor.max_push_entries` a 413 at the entry too many, and a push that can never pass the
 * rate limit a 429 as soon as that is certain: more entries than the limiter charges whole, and more
 * bytes of lines than the burst (the bucket never holds more, however long the rest would take).
 */
function protobufObserver(limits: DecodeLimits): (chunk: Buffer) => void {
  const counter = new ProtoLineCounter();
  const rate = limits.rate;
  let checkedDeclared = false;
  const snappy = new SnappyStream((bytes) => counter.feed(bytes));
  return (chunk) => {
    if (snappy.lost || counter.lost) return;
    snappy.feed(chunk);
    if (!checkedDeclared && snappy.declared !== null) {
      checkedDeclared = true;
      if (snappy.declared > limits.maxDecompressedSize) throw new SnappyTooLargeError(snappy.declared, limits.maxDecompressedSize);
    }
    if (counter.entries > limits.maxEntries) throw new TooManyEntriesError(limits.maxEntries);
    if (rate && counter.entries > rate.chargedWholeAbove && counter.lineBytes > rate.burst) throw new RateLimitedWhileInflatingError(counter.lineBytes);
  };
}

type Format = 'protobuf' | 'json';

/** Which JSON body a route takes: Loki's v1 shape, or the legacy one `/api/prom/push` takes. Protobuf is the same for both. */
export type PushDialect = 'v1' | 'legacy';

function formatOf(contentType: string | undefined): Format {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json' || type === '') return 'json';
  throw new PushBodyError(`unsupported Content-Type ${JSON.stringify(contentType)}: use application/json or application/x-protobuf`);
}

async function decodeContentEncoding(body: Buffer, encoding: string | undefined, format: Format, limits: DecodeLimits, dialect: PushDialect): Promise<Buffer> {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return body;
  const kind = enc === 'gzip' || enc === 'x-gzip' ? 'gzip' : enc === 'deflate' ? 'deflate' : null;
  if (!kind) throw new PushBodyError(`unsupported Content-Encoding ${JSON.stringify(encoding)}: use gzip, deflate or none`);
  let observe: (chunk: Buffer) => void;
  // The line counter follows the v1 shape only: a legacy body is judged once decoded.
  if (format === 'json' && dialect === 'legacy') observe = () => {};
  else if (format === 'json') {
    const counter = new JsonLineCounter();
    const rate = limits.rate;
    observe = (chunk) => {
      counter.feed(chunk);
      if (rate && counter.entries > rate.chargedWholeAbove && counter.bytes > rate.burst) throw new RateLimitedWhileInflatingError(counter.bytes);
    };
  } else observe = protobufObserver(limits);
  const charge = limits.charge;
  const watch = charge
    ? (chunk: Buffer) => {
        charge(chunk.length);
        observe(chunk);
      }
    : observe;
  try {
    return await inflateBody(body, kind, limits.maxDecompressedSize, watch);
  } catch (err) {
    if (err instanceof DecompressedTooLargeError || err instanceof SnappyTooLargeError || err instanceof TooManyEntriesError) throw new PushTooLargeError(err.message);
    if (err instanceof InflateError || err instanceof NotJsonError) throw new PushBodyError(err.message);
    throw err;
  }
}

/**
 * Content-Type decides the format, as Loki does: protobuf (snappy-compressed) or JSON. The result holds
 * the entries column-wise with lines left in the (inflated) body: memory proportional to the body.
 */
export async function decodePushBody(body: Buffer, contentType: string | undefined, contentEncoding: string | undefined, limits: DecodeLimits, dialect: PushDialect = 'v1'): Promise<DecodedPush> {
  const decoded = await decodeFormat(body, contentType, contentEncoding, limits, dialect);
  limits.charge?.(decoded.columns.count * COLUMN_BYTES_PER_ENTRY);
  return decoded;
}

/**
 * A snappy body as sent (no Content-Encoding) is followed through the same look-ahead as an inflating
 * one before it is uncompressed, so a push that can never pass the rate limit or the entry cap is
 * refused without being decoded. Only a block that could be refused is looked at: one declaring more
 * than the burst (the lines it holds are no more than it declares) or room for more entries than the cap
 * (an entry takes at least two bytes). A malformed block is left for the decoder to name.
 */
function lookAheadPlainSnappy(raw: Buffer, limits: DecodeLimits): void {
  let declared: number;
  try {
    declared = declaredLength(raw);
  } catch {
    return;
  }
  if (declared > limits.maxDecompressedSize) return;
  const mayBeRateLimited = limits.rate !== undefined && declared > limits.rate.burst;
  if (!mayBeRateLimited && declared <= 2 * limits.maxEntries) return;
  const observe = protobufObserver(limits);
  try {
    for (let i = 0; i < raw.length; i += LOOKAHEAD_SLICE) observe(raw.subarray(i, i + LOOKAHEAD_SLICE));
  } catch (err) {
    if (err instanceof TooManyEntriesError) throw new PushTooLargeError(err.message);
    if (err instanceof SnappyTooLargeError) throw new PushTooLargeError(err.message);
    throw err;
  }
}

async function decodeFormat(body: Buffer, contentType: string | undefined, contentEncoding: string | undefined, limits: DecodeLimits, dialect: PushDialect): Promise<DecodedPush> {
  const format = formatOf(contentType);
  const raw = await decodeContentEncoding(body, contentEncoding, format, limits, dialect);
  try {
    if (format === 'protobuf') {
      if (raw === body) lookAheadPlainSnappy(raw, limits);
      if (limits.charge) {
        let declared: number | null = null;
        try {
          declared = declaredLength(raw);
        } catch {
          // snappyUncompress names what is wrong
        }
        if (declared !== null && declared <= limits.maxDecompressedSize) limits.charge(declared);
      }
      let pb: Buffer;
      try {
        pb = snappyUncompress(raw, limits.maxDecompressedSize);
      } catch (err) {
        if (err instanceof SnappyTooLargeError) throw new PushTooLargeError(err.message);
        throw new PushBodyError(`protobuf body is not valid snappy (block format): ${err instanceof Error ? err.message : String(err)}`);
      }
      try {
        return decodePushProtoColumns(pb, limits.maxEntries);
      } catch (err) {
        if (err instanceof TooManyEntriesError) throw err;
        throw new PushBodyError(`malformed protobuf PushRequest: ${(err as Error).message}`);
      }
    }
    try {
      if (dialect === 'legacy') {
        // Parsed whole: what JSON.parse holds is charged as about twice the body.
        limits.charge?.(raw.length * 2);
        return decodeLegacyPushJson(raw, limits.maxEntries);
      }
      return await decodePushJsonColumns(raw, limits.maxEntries);
    } catch (err) {
      if (err instanceof TooManyEntriesError) throw err;
      throw new PushBodyError((err as Error).message);
    }
  } catch (err) {
    if (err instanceof TooManyEntriesError) throw new PushTooLargeError(err.message);
    throw err;
  }
}
