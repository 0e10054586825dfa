import { describe, expect, it } from 'vitest';
import { decodePushProtoColumns } from '../../src/distributor/decode-proto.js';
import { ProtoLineCounter } from '../../src/distributor/proto-line-counter.js';
import { metadataBytes, type PushStream } from '../../src/model/entry.js';
import { encodePushRequest } from '../../src/model/push-proto.js';
import { Prng } from '../helpers/prng.js';

function countInPieces(pb: Uint8Array, rng: Prng): ProtoLineCounter {
  const c = new ProtoLineCounter();
  for (let i = 0; i < pb.length; ) {
    const n = 1 + rng.int(rng.chance(0.5) ? 4 : 3000);
    c.feed(pb.subarray(i, i + n));
    i += n;
  }
  return c;
}

function randomPush(rng: Prng): PushStream[] {
  return Array.from({ length: 1 + rng.int(4) }, (_, s) => ({
    labels: `{app="s${s}"}`,
    entries: Array.from({ length: rng.int(50) }, (_, i) => ({
      ts: BigInt(rng.int(2 ** 31)) * 1_000_000_000n + BigInt(i),
      line: 'é'.repeat(rng.int(3)) + 'x'.repeat(rng.chance(0.1) ? rng.int(20_000) : rng.int(200)),
      ...(rng.chance(0.3) ? { metadata: { trace: 't'.repeat(rng.int(40)), user: 'u' } } : {}),
    })),
  }));
}

/** A length-delimited field. */
function field(n: number, body: Uint8Array): Buffer {
  const len: number[] = [];
  let v = body.length;
  while (v >= 0x80) {
    len.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  len.push(v);
  return Buffer.concat([Buffer.from([(n << 3) | 2, ...len]), body]);
}

describe('ProtoLineCounter', () => {
  it('counts exactly the entries and line bytes the decoder finds, fed in pieces of any size', () => {
    const rng = new Prng(11);
    for (let round = 0; round < 200; round++) {
      const streams = randomPush(rng);
      const pb = encodePushRequest(streams);
      const c = countInPieces(pb, rng);
      const decoded = decodePushProtoColumns(Buffer.from(pb), Number.MAX_SAFE_INTEGER);
      const md = streams.flatMap((s) => s.entries).reduce((n, e) => n + metadataBytes(e.metadata), 0);
      expect(c.lost).toBe(false);
      expect(c.entries).toBe(decoded.columns.count);
      expect(c.lineBytes).toBe(decoded.columns.bytes - md);
    }
  });

  it('counts only the last line of an entry that repeats the field, as the decoder keeps only that one', () => {
    const entry = Buffer.concat([field(2, Buffer.alloc(5000, 0x61)), field(2, Buffer.from('short'))]);
    const pb = field(1, Buffer.concat([field(1, Buffer.from('{a="1"}')), field(2, entry)]));
    const c = countInPieces(pb, new Prng(3));
    expect(c.entries).toBe(1);
    expect(c.lineBytes).toBe(5);
    expect(decodePushProtoColumns(pb, 10).columns.bytes).toBe(5);
  });

  it('never counts more entries or line bytes than a decode that succeeds, whatever the bytes (mutated pushes)', () => {
    const rng = new Prng(Number(process.env.NARVI_FUZZ_SEED ?? 23));
    let decodedOk = 0;
    for (let round = 0; round < 3000; round++) {
      const pb = Buffer.from(encodePushRequest(randomPush(rng)));
      for (let k = 1 + rng.int(4); k > 0; k--) {
        const at = rng.int(pb.length);
        if (rng.chance(0.5)) pb[at] ^= 1 << rng.int(8);
        else pb[at] = rng.pick([0x00, 0x0a, 0x12, 0x1a, 0x80, 0xff, 0x0b, 0x01]);
      }
      const cut = rng.chance(0.2) ? pb.subarray(0, rng.int(pb.length)) : pb;
      const c = countInPieces(cut, rng);
      let decoded;
      try {
        decoded = decodePushProtoColumns(cut, Number.MAX_SAFE_INTEGER);
      } catch {
        continue;
      }
      decodedOk++;
      expect(c.entries, `seed ${rng.seed} round ${round}`).toBeLessThanOrEqual(decoded.columns.count);
      expect(c.lineBytes, `seed ${rng.seed} round ${round}`).toBeLessThanOrEqual(decoded.columns.bytes);
    }
    expect(decodedOk).toBeGreaterThan(300);
  });

  it('gives up (lost) on a field overrunning its message or an unknown wire type, counting nothing more', () => {
    const c = new ProtoLineCounter();
    c.feed(field(1, Buffer.concat([field(2, Buffer.from([0x12, 0x7f, 0x61]))])));
    expect(c.lost).toBe(true);
    const w = new ProtoLineCounter();
    w.feed(Buffer.from([0x0b]));
    expect(w.lost).toBe(true);
  });
});
