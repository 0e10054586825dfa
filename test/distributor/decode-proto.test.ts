import { describe, expect, it } from 'vitest';
import { decodePushProto, ProtoDecodeError } from '../../src/distributor/decode-proto.js';
import { encodePushRequest } from '../../src/model/push-proto.js';
import snappy from 'snappyjs';
import { rawProtoPush } from '../helpers/push-fuzz.js';

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

  it('decodes int64 seconds and int32 nanos exactly, negative ones included', () => {
    // Negative varints take ten bytes and pass 2^53: read as a double they rounded to multiples of 2048 s.
    const cases: [bigint, bigint][] = [[-1n, 0n], [-9_223_372_036n, 0n], [-(2n ** 63n), 0n], [2n ** 63n - 1n, 0n], [1_700_000_000n, 999_999_999n], [5n, -1n], [0n, -(2n ** 31n)], [2n ** 53n + 1n, 7n]];
    const pb = Buffer.from(snappy.uncompress(rawProtoPush([{ labels: '{a="1"}', entries: cases.map(([seconds, nanos]) => ({ seconds, nanos, line: 'x' })) }])));
    expect(decodePushProto(pb)[0]!.entries.map((e) => e.ts)).toEqual(cases.map(([s, n]) => s * 1_000_000_000n + n));
  });

  it('refuses a varint of more than ten bytes or cut short inside a timestamp', () => {
    const pb = Buffer.from(snappy.uncompress(rawProtoPush([{ labels: '{a="1"}', entries: [{ seconds: -1n, line: 'x' }] }])));
    // The ten-byte seconds varint is the longest field: cut the body inside it.
    const at = pb.indexOf(Buffer.from([0xff, 0xff, 0xff]));
    expect(() => decodePushProto(pb.subarray(0, at + 5))).toThrow(ProtoDecodeError);
  });
});
