const NS = 1_000_000_000n;

function varintLen(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  while (v >= 128) {
    buf[pos++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/**
 * One stream's entries in a batch, kept already encoded as protobuf `EntryAdapter` bytes (or JSON value
 * pairs) rather than as objects. A batch lives about a second, long enough for objects to survive young-
 * generation collections and get promoted; bytes in one growing buffer keep the agent's heap small and its
 * GC cheap. Timestamps are kept beside the bytes so an out-of-order stream can still be sent sorted.
 */
export class StreamBuffer {
  private buf: Buffer;
  private len = 0;
  private ts: BigInt64Array;
  private offs: Uint32Array;
  count = 0;
  private lastTs = 0n;
  private unordered = false;
  private json: string[] | undefined;

  constructor(readonly labels: string, encoding: 'protobuf' | 'json') {
    this.buf = Buffer.allocUnsafe(encoding === 'protobuf' ? 4096 : 0);
    this.ts = new BigInt64Array(64);
    this.offs = new Uint32Array(65);
    if (encoding === 'json') this.json = [];
  }

  add(ts: bigint, line: string): void {
    if (this.count > 0 && ts < this.lastTs) this.unordered = true;
    else this.lastTs = ts;
    if (this.count === this.ts.length) {
      const t = new BigInt64Array(this.ts.length * 2);
      t.set(this.ts);
      this.ts = t;
      const o = new Uint32Array(this.ts.length + 1);
      o.set(this.offs);
      this.offs = o;
    }
    this.ts[this.count] = ts;
    if (this.json) {
      this.json.push(`["${ts}",${JSON.stringify(line)}]`);
    } else {
      this.len = this.writeEntry(ts, line);
    }
    this.count++;
    this.offs[this.count] = this.len;
  }

  private writeEntry(ts: bigint, line: string): number {
    let sec = 0;
    let nano = 0;
    if (ts > 0n) {
      sec = Number(ts / NS);
      nano = Number(ts % NS);
    }
    const tsLen = (sec !== 0 ? 1 + varintLen(sec) : 0) + (nano !== 0 ? 1 + varintLen(nano) : 0);
    const lb = Buffer.byteLength(line);
    const el = 1 + varintLen(tsLen) + tsLen + (lb > 0 ? 1 + varintLen(lb) + lb : 0);
    const need = this.len + 1 + varintLen(el) + el;
    if (need > this.buf.length) {
      const b = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(b, 0, 0, this.len);
      this.buf = b;
    }
    const buf = this.buf;
    let pos = this.len;
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, el);
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, tsLen);
    if (sec !== 0) {
      buf[pos++] = 0x08;
      pos = writeVarint(buf, pos, sec);
    }
    if (nano !== 0) {
      buf[pos++] = 0x10;
      pos = writeVarint(buf, pos, nano);
    }
    if (lb > 0) {
      buf[pos++] = 0x12;
      pos = writeVarint(buf, pos, lb);
      pos += buf.write(line, pos, 'utf8');
    }
    return pos;
  }

  /** Entry indices in timestamp order (stable), only computed when entries arrived out of order. */
  private order(): number[] | undefined {
    if (!this.unordered) return undefined;
    const idx = Array.from({ length: this.count }, (_, i) => i);
    const ts = this.ts;
    idx.sort((a, b) => (ts[a]! < ts[b]! ? -1 : ts[a]! > ts[b]! ? 1 : a - b));
    return idx;
  }

  /** The size of this stream's `StreamAdapter` message including its field header. */
  protoSize(): number {
    const ll = Buffer.byteLength(this.labels);
    const body = 1 + varintLen(ll) + ll + this.len;
    return 1 + varintLen(body) + body;
  }

  writeProto(out: Buffer, pos: number): number {
    const ll = Buffer.byteLength(this.labels);
    out[pos++] = 0x0a;
    pos = writeVarint(out, pos, 1 + varintLen(ll) + ll + this.len);
    out[pos++] = 0x0a;
    pos = writeVarint(out, pos, ll);
    pos += out.write(this.labels, pos, 'utf8');
    const order = this.order();
    if (!order) {
      this.buf.copy(out, pos, 0, this.len);
      return pos + this.len;
    }
    for (const i of order) {
      const a = this.offs[i]!;
      const b = this.offs[i + 1]!;
      this.buf.copy(out, pos, a, b);
      pos += b - a;
    }
    return pos;
  }

  /** `{"stream":{…},"values":[…]}` for JSON pushes. */
  jsonStream(labelsJson: string): string {
    const vals = this.json!;
    const order = this.order();
    return `{"stream":${labelsJson},"values":[${(order ? order.map((i) => vals[i]!) : vals).join(',')}]}`;
  }
}

/** A whole PushRequest from stream buffers, uncompressed. */
export function encodeProtoRequest(streams: StreamBuffer[]): Buffer {
  let total = 0;
  for (const s of streams) total += s.protoSize();
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const s of streams) pos = s.writeProto(out, pos);
  return out;
}
