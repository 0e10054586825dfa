import { describe, expect, it } from 'vitest';
import { encodeProtoRequest, StreamBuffer } from '../../agent/stream-buffer.js';
import { decodePushRequest } from '../../src/model/push-proto.js';

function buffers(streams: { labels: string; entries: { ts: bigint; line: string }[] }[], encoding: 'protobuf' | 'json' = 'protobuf') {
  return streams.map((s) => {
    const b = new StreamBuffer(s.labels, encoding);
    for (const e of s.entries) b.add(e.ts, e.line);
    return b;
  });
}

describe('stream buffers (pre-encoded batch entries)', () => {
  const streams = [
    {
      labels: '{job="a", pod="é"}',
      entries: [
        { ts: 1_700_000_000_123_456_789n, line: 'hello' },
        { ts: 1_700_000_001_000_000_000n, line: '' },
        { ts: 1_700_000_002_000_000_005n, line: 'ünïcödé ' + 'x'.repeat(300) },
      ],
    },
    { labels: '{job="b"}', entries: [{ ts: 1_700_000_000_000_000_001n, line: 'b' }] },
  ];

  it('encodes a PushRequest the generic protobuf decoder reads back exactly', () => {
    expect(decodePushRequest(encodeProtoRequest(buffers(streams)))).toEqual(streams);
  });

  it('round-trips many streams, growing buffers and long lines', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({
      labels: `{job="j${i}"}`,
      entries: Array.from({ length: 200 }, (_, k) => ({ ts: 1_700_000_000_000_000_000n + BigInt(i * 1_000_003 + k * 999_999_937), line: `line ${k} ` + 'y'.repeat((k * 97) % 20_000) })),
    }));
    expect(decodePushRequest(encodeProtoRequest(buffers(many)))).toEqual(many);
  });

  it('sends a stream whose entries arrived out of order sorted by timestamp, stable for equal ones', () => {
    const [b] = buffers([{ labels: '{a="1"}', entries: [{ ts: 30n, line: 'c' }, { ts: 10n, line: 'a1' }, { ts: 20n, line: 'b' }, { ts: 10n, line: 'a2' }] }]);
    expect(decodePushRequest(encodeProtoRequest([b!]))[0]!.entries.map((e) => e.line)).toEqual(['a1', 'a2', 'b', 'c']);
    const [j] = buffers([{ labels: '{a="1"}', entries: [{ ts: 30n, line: 'c' }, { ts: 10n, line: 'a"1' }] }], 'json');
    expect(JSON.parse(j!.jsonStream('{"a":"1"}'))).toEqual({ stream: { a: '1' }, values: [['10', 'a"1'], ['30', 'c']] });
  });
});
