import { describe, expect, it } from 'vitest';
import { openPiece } from '../../src/ingester/memory-piece.js';
import { Stream } from '../../src/ingester/stream.js';
import { decodeRecordSpans, encodePushRecord, RECORD_PUSH } from '../../src/ingester/wal-record.js';
import type { IngestEntry } from '../../src/model/entry.js';

/** WAL replay over a checkpoint: structured metadata is part of an entry's identity there too. */

const settings = { blockSize: 700, targetSize: 500, maxChunkAge: 3_600_000_000_000n, outOfOrderWindow: 1_000_000n };
const newStream = () => new Stream('t', { app: 'x' }, '{app="x"}', 'fp', 1, settings);
const e = (ts: bigint, line: string, metadata?: Record<string, string>): IngestEntry => (metadata ? { ts, line: Buffer.from(line), metadata } : { ts, line: Buffer.from(line) });

function held(s: Stream): string[] {
  return s
    .pieces(0n, 1n << 62n)
    .map((p) => openPiece(p, 'test'))
    .flatMap((b) => Array.from({ length: b.count }, (_, i) => `${b.ts[i]}:${b.lines.toString('utf8', b.lineOffsets[i]!, b.lineOffsets[i + 1]!)}:${JSON.stringify(b.metadata?.[i] ?? null)}`));
}

function replay(s: Stream, entries: IngestEntry[]): void {
  const rec = decodeRecordSpans(encodePushRecord('t', [{ canonical: '{app="x"}', entries }]));
  if (rec.type !== RECORD_PUSH) throw new Error('not a push');
  s.replaySpan(rec.buf, rec.streams[0]!, 0);
}

describe('WAL replay with structured metadata', () => {
  it('drops what both the checkpoint and a segment hold, keeps entries differing only in metadata', () => {
    const pad = 'p'.repeat(150);
    // Before the checkpoint: enough to cut blocks, some entries with metadata, two at one time.
    const before = [e(100n, `a ${pad}`, { trace: '1' }), e(100n, `a ${pad}`, { trace: '2' }), e(101n, `b ${pad}`), e(102n, `c ${pad}`, { k: 'v' }), e(103n, `d ${pad}`), e(104n, `e ${pad}`, { k: 'v' })];
    const original = newStream();
    original.append(before, 0);
    const checkpoint = original.checkpointBlocks();
    expect(checkpoint.length).toBeGreaterThan(1);

    const restarted = newStream();
    expect(restarted.restoreBlocks(checkpoint.map((block) => ({ block, lineBytes: block.rawSize })), 0)).toBe(true);
    // The segment still holds the records the checkpoint already covers, then what came after.
    replay(restarted, before);
    replay(restarted, [
      e(100n, `a ${pad}`, { trace: '3' }), // same time and line, other metadata: kept
      e(101n, `b ${pad}`, { trace: '1' }), // metadata where the held one has none: kept
      e(102n, `c ${pad}`), // none where the held one has some: kept
      e(104n, `e ${pad}`, { k: 'v' }), // exact duplicate: dropped
      e(105n, 'new'),
    ]);
    const got = held(restarted);
    const meta = (l: string) => l.split(':').slice(2).join(':');
    expect(got.filter((l) => l.startsWith('100:')).map(meta)).toEqual(['{"trace":"1"}', '{"trace":"2"}', '{"trace":"3"}']);
    expect(got.filter((l) => l.startsWith('101:')).map(meta)).toEqual(['null', '{"trace":"1"}']);
    expect(got.filter((l) => l.startsWith('102:'))).toHaveLength(2);
    expect(got.filter((l) => l.startsWith('104:'))).toHaveLength(1);
    expect(got).toHaveLength(before.length + 4);
  });

  it('replays a segment twice (a checkpoint that failed) without doubling any entry, with or without metadata', () => {
    const record = [e(10n, 'x', { a: '1' }), e(10n, 'x', { a: '2' }), e(10n, 'x'), e(11n, 'y', { b: '' })];
    const s = newStream();
    replay(s, record);
    replay(s, record);
    replay(s, [e(11n, 'y', { b: '' }), e(11n, 'y')]);
    expect(held(s)).toEqual(['10:x:{"a":"1"}', '10:x:{"a":"2"}', '10:x:null', '11:y:{"b":""}', '11:y:null']);
  });
});
