import { describe, expect, it } from 'vitest';
import { decodePushProto, ProtoDecodeError } from '../../src/distributor/decode-proto.js';
import { encodePushRequest } from '../../src/model/push-proto.js';

describe('decodePushProto', () => {
  it('decodes what a protobuf library encodes, leaving lines as bytes', () => {
    const pb = Buffer.from(
      encodePushRequest([
        { labels: '{app="a"}', entries: [{ ts: 1_700_000_000_123_456_789n, line: 'héllo' }, { ts: 0n, line: '' }] },
        { labels: '{app="b", x="y"}', entries: [{ ts: 5n, line: 'meta', metadata: { trace: 't1', user: 'u' } }] },
      ]),
    );
    const s = decodePushProto(pb);
    expect(s.map((x) => x.labels)).toEqual(['{app="a"}', '{app="b", x="y"}']);
    expect(s[0]!.entries.map((e) => [e.ts, e.line.toString('utf8')])).toEqual([[1_700_000_000_123_456_789n, 'héllo'], [0n, '']]);
    expect(s[1]!.entries[0]!.metadata).toEqual({ trace: 't1', user: 'u' });
  });

  it('skips fields it does not know (forward compatibility)', () => {
    const pb = Buffer.from(encodePushRequest([{ labels: '{a="1"}', entries: [{ ts: 1n, line: 'x' }] }]));
    // Field 15, varint 300, then field 14 length-delimited "zz" at the top level.
    const extra = Buffer.from([0x78, 0xac, 0x02, 0x72, 0x02, 0x7a, 0x7a]);
    const s = decodePushProto(Buffer.concat([extra, pb]));
    expect(s).toHaveLength(1);
    expect(s[0]!.entries[0]!.line.toString()).toBe('x');
  });

  it('rejects truncated and malformed input with ProtoDecodeError', () => {
    const pb = Buffer.from(encodePushRequest([{ labels: '{a="1"}', entries: [{ ts: 1n, line: 'a longer line' }] }]));
    expect(() => decodePushProto(pb.subarray(0, pb.length - 4))).toThrow(ProtoDecodeError);
    expect(() => decodePushProto(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(ProtoDecodeError);
    expect(() => decodePushProto(Buffer.from([0x0b]))).toThrow(/unsupported wire type 3/);
  });
});
