import { expect } from 'vitest';
import { gzipSync, deflateSync } from 'node:zlib';
import snappy from 'snappyjs';
import type { PushStream } from '../../src/model/entry.js';
import { encodePushRequest } from '../../src/model/push-proto.js';

export interface PushResult {
  status: number;
  body: string;
}

export function nowNs(offsetMs = 0): bigint {
  return BigInt(Date.now() + offsetMs) * 1_000_000n;
}

/** A JSON push body: values as [ns string, line] or with metadata. */
export function jsonBody(streams: { stream: Record<string, string>; values: ([string, string] | [string, string, Record<string, string>])[] }[]): string {
  return JSON.stringify({ streams });
}

export async function pushJson(url: string, body: string | Buffer, opts: { encoding?: 'gzip' | 'deflate'; tenant?: string; contentType?: string } = {}): Promise<PushResult> {
  let payload: Buffer = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
  if (opts.encoding === 'gzip') payload = gzipSync(payload);
  if (opts.encoding === 'deflate') payload = deflateSync(payload);
  if (opts.encoding) headers['content-encoding'] = opts.encoding;
  if (opts.tenant) headers['x-scope-orgid'] = opts.tenant;
  const res = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers, body: payload });
  return { status: res.status, body: await res.text() };
}

export async function pushProto(url: string, streams: PushStream[], opts: { tenant?: string; raw?: Buffer } = {}): Promise<PushResult> {
  const body = opts.raw ?? Buffer.from(snappy.compress(Buffer.from(encodePushRequest(streams))));
  const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
  if (opts.tenant) headers['x-scope-orgid'] = opts.tenant;
  const res = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.text() };
}

/** `n` entries of 1 000-byte lines, 1 ns apart from `ts`, as an uncompressed protobuf PushRequest of one stream. */
export function thousandByteLines(labels: string, n: number, ts: bigint): Buffer {
  const line = 'b'.repeat(1000);
  return Buffer.from(encodePushRequest([{ labels, entries: Array.from({ length: n }, (_, i) => ({ ts: ts + BigInt(i), line })) }]));
}

/**
 * Asserts that a push of 1 000-byte lines by tenant `fake` at a 1 MB/s rate was refused by the look-ahead while
 * the body was being decompressed, once past the 8 192 entries charged whole (8.2 MB of lines) and long before
 * the whole body: the bytes it had counted lie between those bounds.
 */
export function expectRefusedWhileDecompressing(res: PushResult): void {
  expect(res.status, res.body).toBe(429);
  expect(res.body).toMatch(/^Ingestion rate limit exceeded for user fake \(limit: 1048576 bytes\/sec\) while attempting to ingest an unknown number of lines totaling more than '(\d+)' bytes, .* \(refused while decompressing the body\)/);
  const counted = Number(/more than '(\d+)'/.exec(res.body)![1]);
  expect(counted).toBeGreaterThan(8192 * 1000);
  expect(counted).toBeLessThan(16 * 1024 * 1024);
}
