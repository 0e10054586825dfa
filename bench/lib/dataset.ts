import snappy from 'snappyjs';
import { encodePushRequest } from '../../src/model/push-proto.js';
import { generateLines } from '../generate.js';

const BATCH_BYTES = 1024 * 1024;

export interface Batch {
  lines: number;
  rawBytes: number;
  streams: Map<number, { ts: bigint; line: string }[]>;
}

/** Groups the generated lines into ~1 MiB batches (by raw line bytes), each holding its streams' entries. */
export function buildBatches(totalBytes: number, startNs: bigint): Batch[] {
  const batches: Batch[] = [];
  let cur: Batch = { lines: 0, rawBytes: 0, streams: new Map() };
  for (const l of generateLines({ maxBytes: totalBytes, startNs, meanStepNs: 200_000 })) {
    let s = cur.streams.get(l.stream);
    if (!s) cur.streams.set(l.stream, (s = []));
    s.push({ ts: l.ts, line: l.line });
    cur.lines++;
    cur.rawBytes += Buffer.byteLength(l.line);
    if (cur.rawBytes >= BATCH_BYTES) {
      batches.push(cur);
      cur = { lines: 0, rawBytes: 0, streams: new Map() };
    }
  }
  if (cur.lines > 0) batches.push(cur);
  return batches;
}

export function jsonBodies(batches: Batch[], labels: Record<string, string>[]): Buffer[] {
  return batches.map((b) =>
    Buffer.from(JSON.stringify({ streams: [...b.streams].map(([i, es]) => ({ stream: labels[i], values: es.map((e) => [e.ts.toString(), e.line]) })) })),
  );
}

export function protoBodies(batches: Batch[], labelStrings: string[]): Buffer[] {
  return batches.map((b) => Buffer.from(snappy.compress(Buffer.from(encodePushRequest([...b.streams].map(([i, es]) => ({ labels: labelStrings[i]!, entries: es })))))));
}

/** Pushes every body, `concurrency` at a time; throws on any answer but 204. */
export async function pushAll(url: string, bodies: Buffer[], contentType: string, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const r = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': contentType }, body });
      if (r.status !== 204) throw new Error(`push answered ${r.status}: ${await r.text()}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * One JSON push of about `bytes` bytes of the smallest entries there are (one-character lines, one stream
 * `{app="tiny"}`, timestamps 1 ns apart from `baseNs`): the body that costs a decoder the most per byte.
 */
export function tinyEntriesBody(bytes: number, baseNs: bigint): { body: Buffer; entries: number } {
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const v = `["${baseNs + BigInt(parts.length)}","${parts.length % 10}"]`;
    parts.push(v);
    size += v.length + 1;
  }
  return { body: Buffer.from(`{"streams":[{"stream":{"app":"tiny"},"values":[${parts.join(',')}]}]}`), entries: parts.length };
}
