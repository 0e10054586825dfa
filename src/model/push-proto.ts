import protobuf from 'protobufjs';
import type { Entry, PushStream } from './entry.js';
import { NS_PER_SEC } from './time.js';

// Loki's push wire format (logproto.PushRequest). Field numbers are the wire contract.
const SCHEMA = `
syntax = "proto3";
package logproto;
message PushRequest { repeated StreamAdapter streams = 1; }
message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
message EntryAdapter { Timestamp timestamp = 1; string line = 2; repeated LabelPairAdapter structuredMetadata = 3; }
message LabelPairAdapter { string name = 1; string value = 2; }
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
`;

const root = protobuf.parse(SCHEMA, { keepCase: true }).root;
const PushRequest = root.lookupType('logproto.PushRequest');

interface WireLong { low: number; high: number; toNumber(): number }
interface WireEntry { timestamp?: { seconds?: number | WireLong; nanos?: number }; line?: string; structuredMetadata?: { name: string; value: string }[] }
interface WireStream { labels?: string; entries?: WireEntry[] }

/** Streams whose `labels` is the raw text the client sent (not yet validated). */
export interface RawPushStream {
  labels: string;
  entries: Entry[];
}

/** Decodes an uncompressed PushRequest. Throws on malformed protobuf. */
export function decodePushRequest(buf: Uint8Array): RawPushStream[] {
  const msg = PushRequest.decode(buf) as unknown as { streams?: WireStream[] };
  const out: RawPushStream[] = [];
  for (const s of msg.streams ?? []) {
    const entries: Entry[] = [];
    for (const e of s.entries ?? []) {
      const secsRaw = e.timestamp?.seconds ?? 0;
      const secs = typeof secsRaw === 'number' ? secsRaw : secsRaw.toNumber();
      const entry: Entry = { ts: BigInt(secs) * NS_PER_SEC + BigInt(e.timestamp?.nanos ?? 0), line: e.line ?? '' };
      if (e.structuredMetadata && e.structuredMetadata.length > 0) {
        entry.metadata = {};
        for (const p of e.structuredMetadata) entry.metadata[p.name] = p.value;
      }
      entries.push(entry);
    }
    out.push({ labels: s.labels ?? '', entries });
  }
  return out;
}

/** Encodes streams as an uncompressed PushRequest (the agent snappy-compresses it). */
export function encodePushRequest(streams: PushStream[]): Uint8Array {
  const wire = {
    streams: streams.map((s) => ({
      labels: s.labels,
      entries: s.entries.map((e) => ({
        timestamp: { seconds: Number(e.ts / NS_PER_SEC), nanos: Number(e.ts % NS_PER_SEC) },
        line: e.line,
        structuredMetadata: e.metadata ? Object.entries(e.metadata).map(([name, value]) => ({ name, value })) : [],
      })),
    })),
  };
  return PushRequest.encode(PushRequest.fromObject(wire)).finish();
}
