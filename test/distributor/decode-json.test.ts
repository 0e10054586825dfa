import { wellFormed } from '../../src/model/labels.js';
import { describe, expect, it } from 'vitest';
import { decodePushJson, JsonPushError } from '../../src/distributor/decode-json.js';
import { TooManyEntriesError } from '../../src/distributor/entry-columns.js';
import { JsonLineCounter } from '../../src/distributor/json-line-counter.js';

/** Metadata is stored as UTF-8: lone surrogates become U+FFFD at decode (README, push semantics). */
function wellFormedRecord(md: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(md).map(([k, v]) => [wellFormed(k), wellFormed(v)]));
}

/** What a push means, by JSON.parse: the reference the byte-level decoder must agree with. */
function reference(text: string) {
  const doc = JSON.parse(text) as { streams: { stream: Record<string, string>; values: [string, string, Record<string, string>?][] }[] };
  return doc.streams.map((s) => ({
    labels: { ...s.stream },
    entries: s.values.map(([ts, line, md]) => ({ ts: BigInt(ts), line: Buffer.from(line, 'utf8').toString('hex'), metadata: md && Object.keys(md).length > 0 ? wellFormedRecord(md) : undefined })),
  }));
}

async function decoded(body: Buffer) {
  return (await decodePushJson(body)).map((s) => ({
    labels: { ...(s.labels as Record<string, string>) },
    entries: s.entries.map((e) => ({ ts: e.ts, line: e.line.toString('hex'), metadata: e.metadata ? { ...e.metadata } : undefined })),
  }));
}

// A seeded generator so a failure can be replayed.
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

const ODD = ['\r', '\n', '\t', '\u0001', '\u0000', '\b', '\f', '"', '\\', '/', 'é', '日本', '😀', '\ud800', '\udc00', ' ', 'x'.repeat(300), ''];

function randomString(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) s += r() < 0.5 ? ODD[Math.floor(r() * ODD.length)]! : String.fromCharCode(32 + Math.floor(r() * 90));
  return s;
}

describe('decodePushJson', () => {
  it('agrees with JSON.parse on random bodies full of escapes, control characters, surrogates and metadata', async () => {
    const r = rng(7);
    for (let round = 0; round < 300; round++) {
      const streams = Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({
        stream: { app: randomString(r) || 'a', [`k${Math.floor(r() * 3)}`]: randomString(r) },
        values: Array.from({ length: Math.floor(r() * 5) }, () => {
          const v: unknown[] = [String(Math.floor(r() * 1e9)) + String(Math.floor(r() * 1e9)).padStart(9, '0'), randomString(r)];
          if (r() < 0.4) v.push({ [randomString(r) || 'm']: randomString(r) });
          return v;
        }),
      }));
      // Random whitespace between tokens, and unknown fields that must be skipped.
      let text = JSON.stringify({ extra: [1, { a: null }], streams, tail: true }, null, r() < 0.5 ? 1 : undefined);
      if (r() < 0.3) text = text.replace(/"values"/, '"ignored":[1.5e3,false],"values"');
      expect(await decoded(Buffer.from(text, 'utf8')), text).toEqual(reference(text));
    }
  });

  it('keeps a line without escapes as a view of the body, and turns invalid UTF-8 into U+FFFD as text decoding does', async () => {
    const body = Buffer.concat([Buffer.from('{"streams":[{"stream":{"a":"b"},"values":[["1","plain"],["2","'), Buffer.from([0xff, 0x41]), Buffer.from('"]]}]}')]);
    const [s] = await decodePushJson(body);
    expect(s!.entries[0]!.line.buffer).toBe(body.buffer);
    expect(s!.entries[1]!.line.toString('utf8')).toBe('\ufffdA');
  });

  it('reads 19-digit nanosecond timestamps exactly', async () => {
    const [s] = await decodePushJson(Buffer.from('{"streams":[{"stream":{"a":"b"},"values":[["1700000000123456789","x"],["0","y"],["9223372036854775807","z"]]}]}'));
    expect(s!.entries.map((e) => e.ts)).toEqual([1700000000123456789n, 0n, 9223372036854775807n]);
  });

  it('names the exact path of a wrong type, and refuses malformed JSON with the byte where it broke', async () => {
    const cases: [string, RegExp][] = [
      ['{"streams": [', /invalid JSON body: unexpected end of input/],
      ['{"streams":[]} x', /invalid JSON body: unexpected "x" at byte 15/],
      ['[1]', /body must be a JSON object with a "streams" array, got array/],
      ['{}', /"streams" must be an array, got undefined/],
      ['{"streams":{}}', /"streams" must be an array, got object/],
      ['{"streams":[{"stream":{"a":1},"values":[]}]}', /streams\[0\]\.stream\.a must be a string, got number/],
      ['{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"m":2}]]}]}', /streams\[0\]\.values\[0\]\[2\]\.m: structured metadata values must be strings, got number/],
      ['{"streams":[{"stream":{"a":"b"},"values":[["1",2]]}]}', /streams\[0\]\.values\[0\]\[1\]: line must be a string, got number/],
      ['{"streams":[{"stream":{"a":"b"},"values":[["-1","x"]]}]}', /timestamp must be a string of Unix epoch nanoseconds.*got "-1"/],
      ['{"streams":[{"stream":{"a":"b"},"values":[["1","a\u0001b"]]}]}', /invalid JSON body: .*control characters/],
      ['{"streams":[{"stream":{"a":"b"},"values":[["1","\\x"]]}]}', /invalid JSON body: bad escape/],
      ['{"streams":' + '['.repeat(100_000), /nested deeper than 64 levels/],
    ];
    for (const [text, re] of cases) {
      let err: unknown;
      try {
        await decodePushJson(Buffer.from(text));
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(JsonPushError);
      expect((err as Error).message, text).toMatch(re);
    }
  });

  it('stops at the entry cap', async () => {
    const body = Buffer.from(JSON.stringify({ streams: [{ stream: { a: 'b' }, values: Array.from({ length: 11 }, (_, i) => [String(i), 'x']) }] }));
    await expect(decodePushJson(body, 10)).rejects.toThrow(TooManyEntriesError);
    expect((await decodePushJson(body, 11))[0]!.entries).toHaveLength(11);
  });
});

describe('JsonLineCounter', () => {
  it('counts line and metadata bytes however the body is cut into chunks, never more than the decoder finds', async () => {
    const text = JSON.stringify({
      streams: [
        { stream: { app: 'x', values: 'not counted' }, values: [['1', 'hello'], ['2', 'a"b\\c', { trace: 'abc' }]] },
        { values: [['3', 'é\u0001']], stream: { s: 'y' } },
      ],
    });
    const body = Buffer.from(text);
    const exact = (await decodePushJson(body)).reduce((n, s) => n + s.entries.reduce((m, e) => m + e.line.length + (e.metadata ? 8 : 0), 0), 0);
    for (const size of [1, 2, 3, 7, body.length]) {
      const c = new JsonLineCounter();
      for (let p = 0; p < body.length; p += size) c.feed(body.subarray(p, p + size));
      // Escapes count one byte each: 'a"b\c' is 5 bytes, \u0001 one.
      expect(c.bytes).toBe(exact);
      // Only arrays in streams[*].values are entries: not the metadata object, not a label named "values".
      expect(c.entries).toBe(3);
    }
  });

  it('refuses a body of leading whitespace past 1 MiB, and not whitespace after the first token', () => {
    const c = new JsonLineCounter();
    c.feed(Buffer.alloc(1024 * 1024, 0x20));
    expect(() => c.feed(Buffer.from('\n'))).toThrow('invalid JSON body: more than 1048576 bytes of whitespace before the first token');
    const ok = new JsonLineCounter();
    ok.feed(Buffer.from(' {'));
    for (let i = 0; i < 3; i++) ok.feed(Buffer.alloc(1024 * 1024, 0x20));
    ok.feed(Buffer.from('"streams":[]}'));
    expect(ok.entries).toBe(0);
  });
});
