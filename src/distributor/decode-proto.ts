import type { IngestEntry, IngestStream } from '../model/entry.js';

/**
 * A hand-rolled decoder for Loki's PushRequest. Unlike a generic protobuf library it leaves each line as a
 * view into the request body (no UTF-8 decode and re-encode), which is most of the work on the push path.
 */
export class ProtoDecodeError extends Error {}

class Reader {
  pos: number;
  constructor(readonly buf: Buffer, start: number, readonly end: number) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let mult = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoDecodeError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mult;
      if (b < 0x80) return result;
      mult *= 128;
    }
    throw new ProtoDecodeError('varint longer than 10 bytes');
  }

  /** Length-delimited field: returns [start, end) and advances. */
  bytes(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new ProtoDecodeError(`length-delimited field of ${len} bytes overruns its message`);
    this.pos = end;
    return [start, end];
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0: this.varint(); return;
      case 1: this.advance(8); return;
      case 2: this.bytes(); return;
      case 5: this.advance(4); return;
      default: throw new ProtoDecodeError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new ProtoDecodeError('truncated fixed-width field');
    this.pos += n;
  }
}

const TWO_63 = 2 ** 63;
const TWO_64 = 2 ** 64;

function decodeTimestamp(buf: Buffer, start: number, end: number): bigint {
  const r = new Reader(buf, start, end);
  let seconds = 0;
  let nanos = 0;
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wt = tag & 7;
    if (field === 1 && wt === 0) {
      seconds = r.varint();
      if (seconds >= TWO_63) seconds -= TWO_64; // two's-complement negative int64
    } else if (field === 2 && wt === 0) {
      nanos = r.varint();
      if (nanos >= 2 ** 31) nanos -= 2 ** 32;
    } else r.skip(wt);
  }
  return BigInt(Math.trunc(seconds)) * 1_000_000_000n + BigInt(nanos);
}

function decodeLabelPair(buf: Buffer, start: number, end: number): [string, string] {
  const r = new Reader(buf, start, end);
  let name = '';
  let value = '';
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wt = tag & 7;
    if ((field === 1 || field === 2) && wt === 2) {
      const [s, e] = r.bytes();
      if (field === 1) name = buf.toString('utf8', s, e);
      else value = buf.toString('utf8', s, e);
    } else r.skip(wt);
  }
  return [name, value];
}

function decodeEntry(buf: Buffer, start: number, end: number): IngestEntry {
  const r = new Reader(buf, start, end);
  let ts = 0n;
  let line: Buffer = buf.subarray(0, 0);
  let metadata: Record<string, string> | undefined;
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wt = tag & 7;
    if (field === 1 && wt === 2) {
      const [s, e] = r.bytes();
      ts = decodeTimestamp(buf, s, e);
    } else if (field === 2 && wt === 2) {
      const [s, e] = r.bytes();
      line = buf.subarray(s, e);
    } else if (field === 3 && wt === 2) {
      const [s, e] = r.bytes();
      const [k, v] = decodeLabelPair(buf, s, e);
      (metadata ??= {})[k] = v;
    } else r.skip(wt);
  }
  return metadata ? { ts, line, metadata } : { ts, line };
}

function decodeStream(buf: Buffer, start: number, end: number): IngestStream {
  const r = new Reader(buf, start, end);
  let labels = '';
  const entries: IngestEntry[] = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wt = tag & 7;
    if (field === 1 && wt === 2) {
      const [s, e] = r.bytes();
      labels = buf.toString('utf8', s, e);
    } else if (field === 2 && wt === 2) {
      const [s, e] = r.bytes();
      entries.push(decodeEntry(buf, s, e));
    } else r.skip(wt);
  }
  return { labels, entries };
}

/** Decodes an uncompressed PushRequest; throws ProtoDecodeError on malformed input. */
export function decodePushProto(buf: Buffer): IngestStream[] {
  const r = new Reader(buf, 0, buf.length);
  const streams: IngestStream[] = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wt = tag & 7;
    if (field === 0) throw new ProtoDecodeError('invalid field number 0');
    if (field === 1 && wt === 2) {
      const [s, e] = r.bytes();
      streams.push(decodeStream(buf, s, e));
    } else r.skip(wt);
  }
  return streams;
}
