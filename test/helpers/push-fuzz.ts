/**
 * Push bodies for fuzzing the write API: valid JSON and protobuf (snappy) bodies, optionally gzip/deflate
 * compressed, then damaged — truncated, bit-flipped, sent with the wrong Content-Type or Content-Encoding — or
 * built with wrong types, huge numbers and deep nesting. The protobuf encoder is written out by hand so fields can
 * hold values no schema-checked encoder would produce (int64 seconds at the extremes, negative nanos, wrong wire
 * types).
 */
import { deflateSync, gzipSync } from 'node:zlib';
import snappy from 'snappyjs';
import type { Prng } from './prng.js';

export interface FuzzPush {
  what: string;
  body: Buffer;
  headers: Record<string, string>;
}

const LABEL_NAMES = ['app', 'env', 'pod', 'a', 'constructor', 'x_y'];
const BAD_LABEL_NAMES = ['__name__', '__proto__', '0bad', 'a-b', 'Über', '', 'x'.repeat(2000)];
const LABEL_VALUES = ['fuzz', 'demo', 'x\ry', 'é', '\u0000', '\ud800', '"', '\\', '}', 'a\nb'];
const BAD_LABEL_VALUES = ['', 'v'.repeat(3000)];

function labelName(r: Prng): string {
  return r.chance(0.05) ? r.pick(BAD_LABEL_NAMES) : r.pick(LABEL_NAMES);
}

function labelValue(r: Prng): string {
  return r.chance(0.05) ? r.pick(BAD_LABEL_VALUES) : r.pick(LABEL_VALUES);
}
const LINES = ['level=info msg=ok a=1', '{"a":{"b":[1,2,3]},"level":"warn"}', '', 'é😀', '\u0000\u0001', '['.repeat(100_000), '{"a":'.repeat(50_000), 'x'.repeat(300_000), '{"a":'.repeat(40_000) + '1' + '}'.repeat(40_000), '{"a":' + '['.repeat(50_000) + ']'.repeat(50_000) + '}'];

function nowNs(r: Prng): bigint {
  return BigInt(Date.now()) * 1_000_000n - BigInt(r.int(600_000)) * 1_000_000n;
}

const EXTREME_NS = ['0', '1', '9223372036854775807', '9223372036854775808', '9999999999999999999', '18446744073709551615', '-1', '1e18', '1.5', '', 'abc', '00000000000000000001'];

function tsString(r: Prng): string {
  return r.chance(0.95) ? String(nowNs(r)) : r.pick(EXTREME_NS);
}

function labelsText(r: Prng): string {
  if (r.chance(0.03)) return r.pick(['', '{}', '{app=}', '{app="x"', 'app="x"', '{app="x",app="y"}', '{a="\\q"}', '{' + 'a="1",'.repeat(100) + '}']);
  const pairs = [`app="${r.pick(['fuzz', 'demo'])}"`];
  for (let n = r.int(3); n > 0; n--) pairs.push(`${labelName(r)}=${JSON.stringify(labelValue(r))}`);
  return `{${pairs.join(', ')}}`;
}

function jsonDoc(r: Prng): unknown {
  const streams = [];
  for (let s = 1 + r.int(3); s > 0; s--) {
    const stream: Record<string, string> = { app: r.pick(['fuzz', 'demo']) };
    for (let n = r.int(3); n > 0; n--) stream[labelName(r)] = labelValue(r);
    const values: unknown[] = [];
    for (let e = 1 + r.int(4); e > 0; e--) {
      const v: unknown[] = [tsString(r), r.chance(0.97) ? r.pick(LINES.slice(0, 5)) : r.pick(LINES)];
      if (r.chance(0.2)) v.push({ [labelName(r)]: labelValue(r), trace_id: 'abc' });
      values.push(v);
    }
    streams.push({ stream, values });
  }
  return { streams };
}

/** JSON with the wrong type somewhere, as client bugs produce. */
function wrongTypes(r: Prng): string {
  const ts = String(BigInt(Date.now()) * 1_000_000n);
  return r.pick([
    '[]', 'null', '1', '"streams"', '{}', '{"streams":null}', '{"streams":{}}', '{"streams":[null]}', '{"streams":[1]}',
    '{"streams":[{"stream":[],"values":[]}]}', '{"streams":[{"stream":{"app":1},"values":[]}]}', '{"streams":[{"stream":{"app":"x"},"values":{}}]}',
    `{"streams":[{"stream":{"app":"x"},"values":[[${ts},"line"]]}]}`, `{"streams":[{"stream":{"app":"x"},"values":[["${ts}",1]]}]}`,
    `{"streams":[{"stream":{"app":"x"},"values":[["${ts}"]]}]}`, `{"streams":[{"stream":{"app":"x"},"values":[["${ts}","a","b","c"]]}]}`,
    `{"streams":[{"stream":{"app":"x"},"values":[["${ts}","a",[]]]}]}`, `{"streams":[{"stream":{"app":"x"},"values":[["${ts}","a",{"k":1}]]}]}`,
    `{"streams":[{"stream":{"app":"x"},"values":[["1e308","a"]]}]}`, `{"streams":[{"stream":{"__proto__":"x"},"values":[["${ts}","a"]]}]}`,
    '{"streams":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}', '{"streams":[' + '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000) + ']}',
    '['.repeat(200_000), '{"streams":[{"stream":{"app":"x"},"values":[' + '[],'.repeat(10_000) + '[]]}]}',
    `{"streams":[{"stream":{"app":"x"},"values":[["${ts}","\\ud800\\udc00\\ud800"]]}]}`, '\ufeff{"streams":[]}', '{"streams":[]} trailing',
  ]);
}

// ---------------------------------------------------------------- protobuf, by hand

function varint(v: bigint): Buffer {
  let u = v < 0n ? v + (1n << 64n) : v;
  const out: number[] = [];
  do {
    let b = Number(u & 0x7fn);
    u >>= 7n;
    if (u > 0n) b |= 0x80;
    out.push(b);
  } while (u > 0n);
  return Buffer.from(out);
}

function field(no: number, wire: number, payload: Buffer): Buffer {
  const tag = varint(BigInt((no << 3) | wire));
  if (wire === 2) return Buffer.concat([tag, varint(BigInt(payload.length)), payload]);
  return Buffer.concat([tag, payload]);
}

function str(no: number, s: string): Buffer {
  return field(no, 2, Buffer.from(s, 'utf8'));
}

const EXTREME_SECONDS = [0n, -1n, 1n, -9_300_000_000n, -9_223_372_037n, 9_223_372_037n, (1n << 63n) - 1n, -(1n << 63n), 1n << 40n];

function protoEntry(r: Prng): Buffer {
  const ns = nowNs(r);
  let secs = ns / 1_000_000_000n;
  let nanos = ns % 1_000_000_000n;
  if (r.chance(0.05)) secs = r.pick(EXTREME_SECONDS);
  if (r.chance(0.02)) nanos = r.pick([-1n, 1_000_000_000n, 2_147_483_647n, -2_147_483_648n]);
  const ts = Buffer.concat([field(1, 0, varint(secs)), field(2, 0, varint(nanos))]);
  const e = [field(1, 2, ts), str(2, r.chance(0.97) ? r.pick(LINES.slice(0, 5)) : r.pick(LINES))];
  if (r.chance(0.2)) e.push(field(3, 2, Buffer.concat([str(1, labelName(r)), str(2, labelValue(r))])));
  // An unknown field of each fixed-width wire type, which a decoder must skip.
  if (r.chance(0.05)) e.push(field(9, r.pick([0, 1, 5]), Buffer.from(r.pick([[1], [1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4]]))));
  return Buffer.concat(e);
}

function protoBody(r: Prng): Buffer {
  const out: Buffer[] = [];
  for (let s = 1 + r.int(3); s > 0; s--) {
    const stream = [str(1, labelsText(r))];
    for (let e = 1 + r.int(4); e > 0; e--) stream.push(field(2, 2, protoEntry(r)));
    if (r.chance(0.1)) stream.push(field(3, 0, varint(BigInt(r.int(1 << 30)))));
    out.push(field(1, 2, Buffer.concat(stream)));
  }
  return Buffer.concat(out);
}

/** A snappy-compressed PushRequest with timestamps given as raw (seconds, nanos), including values out of any range. */
export function rawProtoPush(streams: { labels: string; entries: { seconds: bigint; nanos?: bigint; line: string }[] }[]): Buffer {
  const out: Buffer[] = [];
  for (const s of streams) {
    const stream = [str(1, s.labels)];
    for (const e of s.entries) {
      const ts = Buffer.concat([field(1, 0, varint(e.seconds)), field(2, 0, varint(e.nanos ?? 0n))]);
      stream.push(field(2, 2, Buffer.concat([field(1, 2, ts), str(2, e.line)])));
    }
    out.push(field(1, 2, Buffer.concat(stream)));
  }
  return Buffer.from(snappy.compress(Buffer.concat(out)));
}

// ---------------------------------------------------------------- damage

function truncate(r: Prng, b: Buffer): Buffer {
  return b.subarray(0, r.int(b.length + 1));
}

function flipBits(r: Prng, b: Buffer): Buffer {
  const c = Buffer.from(b);
  for (let n = 1 + r.int(8); n > 0 && c.length > 0; n--) c[r.int(c.length)]! ^= 1 << r.int(8);
  return c;
}

const CONTENT_TYPES = ['application/json', 'application/x-protobuf', 'application/protobuf', 'text/plain', '', 'application/json; charset=utf-16', 'APPLICATION/JSON', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/x-protobuf; x=y'];
const ENCODINGS = ['gzip', 'deflate', 'identity', 'br', 'gzip, deflate', 'x-gzip', 'GZIP', 'snappy', ''];

/** One push to send: valid bodies in every framing, then the same damaged. */
export function fuzzPush(r: Prng): FuzzPush {
  const proto = r.chance(0.45);
  let what = proto ? 'protobuf' : 'json';
  let body: Buffer;
  if (proto) body = Buffer.from(snappy.compress(protoBody(r)));
  else if (r.chance(0.2)) {
    body = Buffer.from(wrongTypes(r));
    what += ' wrong-types';
  } else body = Buffer.from(JSON.stringify(jsonDoc(r)));
  const headers: Record<string, string> = { 'content-type': proto ? 'application/x-protobuf' : 'application/json' };
  const enc = r.int(4);
  if (enc === 1) {
    body = gzipSync(body);
    headers['content-encoding'] = 'gzip';
    what += '+gzip';
  } else if (enc === 2) {
    body = deflateSync(body);
    headers['content-encoding'] = 'deflate';
    what += '+deflate';
  }
  switch (r.int(14)) {
    case 0:
      body = truncate(r, body);
      what += ' truncated';
      break;
    case 1:
      body = flipBits(r, body);
      what += ' bit-flipped';
      break;
    case 2:
      headers['content-type'] = r.pick(CONTENT_TYPES);
      what += ` as ${JSON.stringify(headers['content-type'])}`;
      break;
    case 3:
      headers['content-encoding'] = r.pick(ENCODINGS);
      what += ` encoded ${JSON.stringify(headers['content-encoding'])}`;
      break;
    case 4:
      body = r.bytes(r.int(256));
      what = `random bytes as ${what}`;
      break;
    default:
      break;
  }
  return { what, body, headers };
}
