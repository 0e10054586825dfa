import type { IngestStream } from '../model/entry.js';
import { EntryColumns, type DecodedPush, type DecodedStream } from './entry-columns.js';

/**
 * A hand-rolled decoder for Loki's PushRequest. Unlike a generic protobuf library it leaves each line as a
 * view into the request body (no UTF-8 decode and re-encode), and it allocates nothing per field: this is
 * the hottest loop of the push path.
 */
export class ProtoDecodeError extends Error {}


// Cursor shared by the functions below; decoding is synchronous, so one suffices.
let buf: Buffer = Buffer.alloc(0);
let pos = 0;
let cols: EntryColumns = new EntryColumns(buf, 0);

function varint(end: number): number {
  let b = buf[pos]!;
  if (pos < end && b < 0x80) {
    pos++;
    return b;
  }
  let result = 0;
  let mult = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new ProtoDecodeError('truncated varint');
    b = buf[pos++]!;
    result += (b & 0x7f) * mult;
    if (b < 0x80) return result;
    mult *= 128;
  }
  throw new ProtoDecodeError('varint longer than 10 bytes');
}

/** Reads a length prefix and returns the end of the length-delimited field that starts at `pos`. */
function lengthEnd(end: number): number {
  const len = varint(end);
  const fieldEnd = pos + len;
  if (fieldEnd > end) throw new ProtoDecodeError(`length-delimited field of ${len} bytes overruns its message`);
  return fieldEnd;
}

function skip(wireType: number, end: number): void {
  switch (wireType) {
    case 0:
      varint(end);
      return;
    case 1:
      pos += 8;
      break;
    case 2:
      pos = lengthEnd(end);
      return;
    case 5:
      pos += 4;
      break;
    default:
      throw new ProtoDecodeError(`unsupported wire type ${wireType}`);
  }
  if (pos > end) throw new ProtoDecodeError('truncated fixed-width field');
}

/**
 * A varint as a signed 64-bit integer (protobuf int64, and int32 sign-extended to 64 bits). Negative values take
 * ten bytes and exceed 2^53, so past seven bytes the value is assembled as a bigint: a double would round a
 * negative timestamp to a multiple of 2048 seconds.
 */
function varintInt64(end: number): bigint {
  let result = 0;
  let mult = 1;
  for (let i = 0; i < 7; i++) {
    if (pos >= end) throw new ProtoDecodeError('truncated varint');
    const b = buf[pos++]!;
    result += (b & 0x7f) * mult;
    if (b < 0x80) return BigInt(result);
    mult *= 128;
  }
  let big = BigInt(result);
  let shift = 49n;
  for (let i = 7; i < 10; i++) {
    if (pos >= end) throw new ProtoDecodeError('truncated varint');
    const b = buf[pos++]!;
    big |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return BigInt.asIntN(64, big);
    shift += 7n;
  }
  throw new ProtoDecodeError('varint longer than 10 bytes');
}

function timestamp(end: number): bigint {
  let seconds = 0n;
  let nanos = 0n;
  while (pos < end) {
    const tag = varint(end);
    if (tag === 8) seconds = varintInt64(end);
    else if (tag === 16) nanos = BigInt.asIntN(32, varintInt64(end));
    else skip(tag & 7, end);
  }
  return seconds * 1_000_000_000n + nanos;
}

function labelPair(end: number, into: Record<string, string>): void {
  let name = '';
  let value = '';
  while (pos < end) {
    const tag = varint(end);
    if (tag === 10 || tag === 18) {
      const e = lengthEnd(end);
      const s = buf.toString('utf8', pos, e);
      pos = e;
      if (tag === 10) name = s;
      else value = s;
    } else skip(tag & 7, end);
  }
  into[name] = value;
}

function entry(end: number): void {
  let ts = 0n;
  let lineStart = 0;
  let lineEnd = 0;
  let metadata: Record<string, string> | undefined;
  while (pos < end) {
    const tag = varint(end);
    if (tag === 10) {
      const e = lengthEnd(end);
      ts = timestamp(e);
    } else if (tag === 18) {
      lineEnd = lengthEnd(end);
      lineStart = pos;
      pos = lineEnd;
    } else if (tag === 26) {
      const e = lengthEnd(end);
      labelPair(e, (metadata ??= Object.create(null) as Record<string, string>));
    } else skip(tag & 7, end);
  }
  const i = cols.add(ts, lineStart, lineEnd);
  if (metadata) cols.setMetadata(i, metadata);
}

function stream(end: number): DecodedStream {
  let labels = '';
  const from = cols.count;
  while (pos < end) {
    const tag = varint(end);
    if (tag === 10) {
      const e = lengthEnd(end);
      labels = buf.toString('utf8', pos, e);
      pos = e;
    } else if (tag === 18) {
      const e = lengthEnd(end);
      entry(e);
      pos = e;
    } else skip(tag & 7, end);
  }
  return { labels, from, to: cols.count };
}

/**
 * Decodes an uncompressed PushRequest into columns (lines stay views into `body`); throws
 * ProtoDecodeError on malformed input and TooManyEntriesError past `maxEntries`.
 */
export function decodePushProtoColumns(body: Buffer, maxEntries: number): DecodedPush {
  buf = body;
  pos = 0;
  cols = new EntryColumns(body, maxEntries);
  const columns = cols;
  const end = body.length;
  const streams: DecodedStream[] = [];
  try {
    while (pos < end) {
      const tag = varint(end);
      if (tag >>> 3 === 0) throw new ProtoDecodeError('invalid field number 0');
      if (tag === 10) {
        const e = lengthEnd(end);
        streams.push(stream(e));
        pos = e;
      } else skip(tag & 7, end);
    }
  } finally {
    buf = Buffer.alloc(0);
    cols = new EntryColumns(buf, 0);
  }
  return { streams, columns };
}

/** The same, as one object per entry (for callers with small bodies). */
export function decodePushProto(body: Buffer, maxEntries = Number.MAX_SAFE_INTEGER): IngestStream[] {
  const { streams, columns } = decodePushProtoColumns(body, maxEntries);
  return streams.map((s) => ({ labels: s.labels, entries: columns.entries(s.from, s.to) }));
}
