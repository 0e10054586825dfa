import { describe, expect, it } from 'vitest';
import { openPiece, pieceCount, pieceLineBytes } from '../../src/ingester/memory-piece.js';
import { Stream } from '../../src/ingester/stream.js';
import type { IngestEntry } from '../../src/model/entry.js';

const settings = { blockSize: 1000, targetSize: 600, maxChunkAge: 3_600_000_000_000n, outOfOrderWindow: 60_000_000_000n };
const e = (ts: bigint, line: string): IngestEntry => ({ ts, line: Buffer.from(line) });
const newStream = () => new Stream('t', { app: 'x' }, '{app="x"}', 'fp', 1, settings);

function allLines(s: Stream): string[] {
  return s.pieces(0n, 1n << 62n).map((p) => openPiece(p, 'test')).flatMap((b) => Array.from({ length: b.count }, (_, i) => `${b.ts[i]}:${b.lines.toString('utf8', b.lineOffsets[i]!, b.lineOffsets[i + 1]!)}`));
}

describe('Stream', () => {
  it('accepts out-of-order entries within the window, sorted when read, and refuses older ones', () => {
    const s = newStream();
    const base = 1_000_000_000_000n;
    const r = s.append([e(base + 50n, 'c'), e(base + 10n, 'a'), e(base + 30n, 'b'), e(base - 60_000_000_001n + 50n, 'too old')], 0);
    expect(r.accepted.map((x) => x.line.toString())).toEqual(['c', 'a', 'b']);
    expect(r.tooFarBehind).toHaveLength(1);
    expect(r.tooFarBehind[0]!.oldest).toBe(base + 50n - 60_000_000_000n);
    expect(allLines(s)).toEqual([`${base + 10n}:a`, `${base + 30n}:b`, `${base + 50n}:c`]);
  });

  it('drops exact duplicates whether they sit in the head or in compressed blocks, keeps same-time different lines', () => {
    const s = newStream();
    const long = 'x'.repeat(400);
    // Three 400-byte lines pass the 1000-byte block size: the first two land in a compressed block.
    s.append([e(1n, long + '1'), e(2n, long + '2'), e(3n, long + '3')], 0);
    expect(s.blocks.length + s.closed.length).toBeGreaterThan(0);
    const r = s.append([e(1n, long + '1'), e(3n, long + '3'), e(3n, 'other line, same time'), e(2n, long + '2')], 0);
    expect(r.duplicates).toBe(3);
    expect(r.accepted.map((x) => x.line.toString())).toEqual(['other line, same time']);
    // A duplicate inside one push is dropped too.
    const r2 = s.append([e(5n, 'dup'), e(5n, 'dup')], 0);
    expect(r2.duplicates).toBe(1);
  });

  it('classifies without changing the stream: what a failed WAL write never committed is no duplicate of its resend', () => {
    const s = newStream();
    s.append([e(10n, 'held')], 0);
    const first = s.classify([e(10n, 'held'), e(20n, 'new'), e(15n, 'late'), e(20n, 'new')]);
    expect(first.duplicates).toBe(2);
    expect(first.accepted.map((x) => x.line.toString())).toEqual(['new', 'late']);
    // Never committed (its WAL write failed): nothing of it is held, and the same batch again is accepted.
    expect(allLines(s)).toEqual(['10:held']);
    expect(s.newest).toBe(10n);
    const again = s.classify([e(20n, 'new'), e(15n, 'late')]);
    expect(again.accepted).toHaveLength(2);
    const v = s.version;
    s.commit(again.accepted, 0);
    expect(s.version).toBe(v + 1);
    expect(allLines(s)).toEqual(['10:held', '15:late', '20:new']);
    // A duplicate of an earlier entry of the same push, before anything was looked up, is caught too.
    expect(s.classify([e(30n, 'twice'), e(30n, 'twice')]).duplicates).toBe(1);
    // Once committed, the resend is a duplicate.
    expect(s.classify([e(20n, 'new'), e(15n, 'late')]).duplicates).toBe(2);
  });

  it('hands queries its compressed blocks as they are held, copies only the head, and copies nothing for statistics', () => {
    const s = newStream();
    const line = (i: number) => `line ${i} ${'abcdefghij'.repeat(20)}`;
    for (let i = 0; i < 32; i++) s.append([e(BigInt(i + 1), line(i))], 0);
    const held = [...s.closed.flatMap((c) => c.blocks), ...s.blocks];
    expect(held.length).toBeGreaterThan(1);
    expect(s.head.count).toBeGreaterThan(0);
    const pieces = s.pieces(0n, 1n << 62n);
    // The very block objects, not decoded copies: a query decompresses each only when it reaches it.
    expect(pieces.slice(0, held.length).map((p) => (p.kind === 'block' ? p.block : null))).toEqual(held);
    for (let k = 0; k < held.length; k++) expect((pieces[k] as { block: unknown }).block).toBe(held[k]);
    const head = pieces[held.length]!;
    expect(head.kind).toBe('batch');
    // The head copy stays as it was when the head moves on.
    const before = openPiece(head, 't').lines.toString();
    s.append([e(100n, 'later')], 0);
    s.cutBlock();
    expect(openPiece(head, 't').lines.toString()).toBe(before);
    // Statistics: sizes only, the same entry and byte counts as the entries themselves.
    const stats = s.pieces(0n, 1n << 62n, 'stats');
    expect(stats.some((p) => p.kind === 'batch')).toBe(false);
    const entries = s.pieces(0n, 1n << 62n).map((p) => openPiece(p, 't'));
    expect(stats.reduce((n, p) => n + pieceCount(p), 0)).toBe(entries.reduce((n, b) => n + b.count, 0));
    expect(stats.reduce((n, p) => n + pieceLineBytes(p), 0)).toBe(entries.reduce((n, b) => n + b.lineOffsets[b.count]! - b.lineOffsets[0]!, 0));
    expect(() => openPiece(stats.find((p) => p.kind === 'summary') ?? { kind: 'summary', minTs: 0n, maxTs: 0n, count: 0, lineBytes: 0 }, 't')).toThrow('statistics only');
  });

  it('cuts blocks at the block size and closes the chunk at the target size', () => {
    const s = newStream();
    const line = (i: number) => `line ${i} ${'abcdefghij'.repeat(20)} ${Math.sin(i)}`;
    for (let i = 0; i < 200; i++) s.append([e(BigInt(i + 1), line(i))], 0);
    expect(s.closed.length).toBeGreaterThan(0);
    for (const c of s.closed) {
      const compressed = c.blocks.reduce((n, b) => n + b.data.length, 0);
      expect(compressed).toBeGreaterThanOrEqual(settings.targetSize);
      for (const b of c.blocks) expect(b.rawSize).toBeGreaterThanOrEqual(settings.blockSize);
    }
    expect(allLines(s)).toHaveLength(200);
    s.closeChunk();
    expect(s.head.count).toBe(0);
    expect(s.blocks).toHaveLength(0);
    expect(allLines(s)).toHaveLength(200);
  });

  it('closes the open chunk once its entries span the max chunk age', () => {
    const s = new Stream('t', {}, '{}', 'fp', 1, { ...settings, maxChunkAge: 100n });
    s.append([e(1n, 'a'.repeat(600)), e(50n, 'b'.repeat(600))], 0);
    expect(s.closed).toHaveLength(0);
    s.append([e(200n, 'c'.repeat(1200))], 0);
    expect(s.closed).toHaveLength(1);
    expect(s.closed[0]!.maxTs - s.closed[0]!.minTs).toBeGreaterThanOrEqual(100n);
  });
});

describe('Stream duplicate memory across a flush', () => {
  it('still drops a re-sent entry after its chunk was flushed', () => {
    const s = newStream();
    s.append([e(10n, 'first'), e(20n, 'second')], 0);
    s.closeChunk();
    const chunk = s.closed[0]!;
    s.flushed(chunk);
    expect(s.closed).toHaveLength(0);
    expect(s.isEmpty).toBe(true);
    // Flushed data is not served from memory any more…
    expect(allLines(s)).toEqual([]);
    // …but a retry of the same batch is recognised.
    const r = s.append([e(10n, 'first'), e(20n, 'second'), e(20n, 'new at same time')], 0);
    expect(r.duplicates).toBe(2);
    expect(r.accepted.map((x) => x.line.toString())).toEqual(['new at same time']);
  });
});

describe('Stream duplicate check with structured metadata', () => {
  const m = (ts: bigint, line: string, metadata?: Record<string, string>): IngestEntry => (metadata ? { ts, line: Buffer.from(line), metadata } : { ts, line: Buffer.from(line) });
  const held = (s: Stream) =>
    s
      .pieces(0n, 1n << 62n)
      .map((p) => openPiece(p, 'test'))
      .flatMap((b) => Array.from({ length: b.count }, (_, i) => `${b.ts[i]}:${b.lines.toString('utf8', b.lineOffsets[i]!, b.lineOffsets[i + 1]!)}:${JSON.stringify(b.metadata?.[i] ?? null)}`));

  it('keeps entries that differ only in metadata and drops exact duplicates, in the head, in blocks and in one push', () => {
    const s = newStream();
    const long = 'y'.repeat(400);
    s.append([m(1n, long, { t: '1' }), m(2n, long), m(3n, long, { t: '3', u: 'x' })], 0);
    expect(s.blocks.length + s.closed.length).toBeGreaterThan(0);
    const r = s.append(
      [
        m(1n, long, { t: '1' }), // duplicate (in a block)
        m(1n, long, { t: '2' }), // other value
        m(1n, long), // no metadata against metadata
        m(2n, long, {}), // an empty set is no metadata: duplicate
        m(2n, long, { t: '' }), // a key with an empty value is still a key
        m(3n, long, { u: 'x', t: '3' }), // same set, other key order: duplicate (in the head)
        m(3n, long, { t: '3' }), // a subset
        m(4n, 'in push', { k: 'a' }),
        m(4n, 'in push', { k: 'b' }),
        m(4n, 'in push', { k: 'a' }), // duplicate of an earlier entry of this push
      ],
      0,
    );
    expect(r.duplicates).toBe(4);
    expect(r.accepted.map((x) => `${x.ts}:${JSON.stringify(x.metadata ?? null)}`)).toEqual(['1:{"t":"2"}', '1:null', '2:{"t":""}', '3:{"t":"3"}', '4:{"k":"a"}', '4:{"k":"b"}']);
    expect(held(s).filter((l) => l.startsWith('1:'))).toHaveLength(3);
  });

  it('still tells metadata apart after the chunk was flushed', () => {
    const s = newStream();
    s.append([m(10n, 'line', { a: '1' })], 0);
    s.closeChunk();
    s.flushed(s.closed[0]!);
    const r = s.append([m(10n, 'line', { a: '1' }), m(10n, 'line', { a: '2' }), m(10n, 'line')], 0);
    expect(r.duplicates).toBe(1);
    expect(r.accepted.map((x) => JSON.stringify(x.metadata ?? null))).toEqual(['{"a":"2"}', 'null']);
  });
});
