import { emptyRecord, emptyScope, idHex, MAX_VALUE_DEPTH, OtlpDecodeError, OtlpKvList, type OtlpKeyValue, type OtlpLogRecord, type OtlpResourceLogs, type OtlpScope, type OtlpScopeLogs, type OtlpValue } from './model.js';

/**
 * A hand-written protobuf decoder for ExportLogsServiceRequest: one pass over the bytes, no generated code,
 * no intermediate message objects beyond the model. Unknown fields (and known fields sent with another wire
 * type) are skipped, as protobuf readers do; anything that runs past its enclosing message is an error.
 */
class Reader {
  pos: number;
  constructor(readonly buf: Buffer, start: number, readonly end: number) {
    this.pos = start;
  }

  fail(what: string): never {
    throw new OtlpDecodeError(`malformed protobuf ExportLogsServiceRequest: ${what} at byte ${this.pos}`);
  }

  /** A varint of up to 32 significant bits (tags, lengths, enums, counts); higher bits are dropped. */
  uint32(): number {
    let result = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      if (b < 0x80) return result >>> 0;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** A full 64-bit varint as an unsigned bigint. */
  uint64(): bigint {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    }
    return this.fail('varint longer than 10 bytes');
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.end) this.fail('truncated fixed64');
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) this.fail('truncated fixed32');
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.end) this.fail('truncated double');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** The [start, end) of a length-delimited field's payload, stepped over. */
  span(): [number, number] {
    const len = this.uint32();
    const start = this.pos;
    if (len > this.end - start) this.fail(`length ${len} runs past the end of its message`);
    this.pos = start + len;
    return [start, start + len];
  }

  sub(): Reader {
    const [s, e] = this.span();
    return new Reader(this.buf, s, e);
  }

  string(): string {
    const [s, e] = this.span();
    return this.buf.toString('utf8', s, e);
  }

  bytes(): Uint8Array {
    const [s, e] = this.span();
    return this.buf.subarray(s, e);
  }

  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.uint64();
        return;
      case 1:
        if (this.pos + 8 > this.end) this.fail('truncated fixed64');
        this.pos += 8;
        return;
      case 2:
        this.span();
        return;
      case 5:
        if (this.pos + 4 > this.end) this.fail('truncated fixed32');
        this.pos += 4;
        return;
      default:
        this.fail(`unsupported wire type ${wire}`);
    }
  }

  /** Reads fields until the end of this message; `field` returns false for what it does not take. */
  each(field: (no: number, wire: number) => boolean): void {
    while (this.pos < this.end) {
      const tag = this.uint32();
      const no = tag >>> 3;
      const wire = tag & 7;
      if (no === 0) this.fail('field number 0');
      if (!field(no, wire)) this.skip(wire);
    }
  }
}

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

function anyValue(r: Reader, depth: number): OtlpValue {
  if (depth > MAX_VALUE_DEPTH) r.fail(`attribute or body values nested deeper than ${MAX_VALUE_DEPTH} levels`);
  let v: OtlpValue;
  r.each((no, wire) => {
    if (no === 1 && wire === LEN) v = r.string();
    else if (no === 2 && wire === VARINT) v = r.uint64() !== 0n;
    else if (no === 3 && wire === VARINT) v = BigInt.asIntN(64, r.uint64());
    else if (no === 4 && wire === I64) v = r.double();
    else if (no === 5 && wire === LEN) {
      const items: OtlpValue[] = [];
      const list = r.sub();
      list.each((n, w) => {
        if (n !== 1 || w !== LEN) return false;
        items.push(anyValue(list.sub(), depth + 1));
        return true;
      });
      v = items;
    } else if (no === 6 && wire === LEN) v = new OtlpKvList(keyValues(r.sub(), depth + 1));
    else if (no === 7 && wire === LEN) v = r.bytes();
    else return false;
    return true;
  });
  return v;
}

/** The `repeated KeyValue values = 1` of a KeyValueList. */
function keyValues(r: Reader, depth: number): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = [];
  r.each((no, wire) => {
    if (no !== 1 || wire !== LEN) return false;
    out.push(keyValue(r.sub(), depth));
    return true;
  });
  return out;
}

function keyValue(r: Reader, depth: number): OtlpKeyValue {
  const kv: OtlpKeyValue = { key: '', value: undefined };
  r.each((no, wire) => {
    if (no === 1 && wire === LEN) kv.key = r.string();
    else if (no === 2 && wire === LEN) kv.value = anyValue(r.sub(), depth + 1);
    else return false;
    return true;
  });
  return kv;
}

function logRecord(r: Reader): OtlpLogRecord {
  const rec = emptyRecord();
  r.each((no, wire) => {
    if (no === 1 && wire === I64) rec.timeUnixNano = r.fixed64();
    else if (no === 11 && wire === I64) rec.observedTimeUnixNano = r.fixed64();
    else if (no === 2 && wire === VARINT) rec.severityNumber = r.uint32() | 0;
    else if (no === 3 && wire === LEN) rec.severityText = r.string();
    else if (no === 5 && wire === LEN) rec.body = anyValue(r.sub(), 1);
    else if (no === 6 && wire === LEN) rec.attributes.push(keyValue(r.sub(), 1));
    else if (no === 7 && wire === VARINT) rec.droppedAttributesCount = r.uint32();
    else if (no === 8 && wire === I32) rec.flags = r.fixed32();
    else if (no === 9 && wire === LEN) {
      const id = r.bytes();
      if (id.length !== 0 && id.length !== 16) r.fail(`trace_id of ${id.length} bytes (a trace id is 16 bytes)`);
      rec.traceId = idHex(id);
    } else if (no === 10 && wire === LEN) {
      const id = r.bytes();
      if (id.length !== 0 && id.length !== 8) r.fail(`span_id of ${id.length} bytes (a span id is 8 bytes)`);
      rec.spanId = idHex(id);
    } else return false;
    return true;
  });
  return rec;
}

function scope(r: Reader): OtlpScope {
  const s = emptyScope();
  r.each((no, wire) => {
    if (no === 1 && wire === LEN) s.name = r.string();
    else if (no === 2 && wire === LEN) s.version = r.string();
    else if (no === 3 && wire === LEN) s.attributes.push(keyValue(r.sub(), 1));
    else if (no === 4 && wire === VARINT) s.droppedAttributesCount = r.uint32();
    else return false;
    return true;
  });
  return s;
}

function scopeLogs(r: Reader): OtlpScopeLogs {
  const out: OtlpScopeLogs = { scope: emptyScope(), logRecords: [] };
  r.each((no, wire) => {
    if (no === 1 && wire === LEN) out.scope = scope(r.sub());
    else if (no === 2 && wire === LEN) out.logRecords.push(logRecord(r.sub()));
    else return false;
    return true;
  });
  return out;
}

function resourceLogs(r: Reader): OtlpResourceLogs {
  const out: OtlpResourceLogs = { attributes: [], scopeLogs: [] };
  r.each((no, wire) => {
    if (no === 1 && wire === LEN) {
      const resource = r.sub();
      resource.each((n, w) => {
        if (n !== 1 || w !== LEN) return false;
        out.attributes.push(keyValue(resource.sub(), 1));
        return true;
      });
    } else if (no === 2 && wire === LEN) out.scopeLogs.push(scopeLogs(r.sub()));
    else return false;
    return true;
  });
  return out;
}

/** Decodes an uncompressed protobuf ExportLogsServiceRequest. Throws OtlpDecodeError. */
export function decodeOtlpProto(buf: Buffer): OtlpResourceLogs[] {
  const out: OtlpResourceLogs[] = [];
  const r = new Reader(buf, 0, buf.length);
  r.each((no, wire) => {
    if (no !== 1 || wire !== LEN) return false;
    out.push(resourceLogs(r.sub()));
    return true;
  });
  return out;
}
