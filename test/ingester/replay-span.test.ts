import { describe, expect, it } from 'vitest';
import { openPiece } from '../../src/ingester/memory-piece.js';
import { Stream } from '../../src/ingester/stream.js';
import { decodeRecordSpans, encodePushRecord, RECORD_PUSH, WalRecordError } from '../../src/ingester/wal-record.js';
import type { IngestEntry } from '../../src/model/entry.js';

// Small blocks so spans are cut into blocks mid-way, and chunks close mid-span.
const settings = { blockSize: 700, targetSize: 500, maxChunkAge: 3_600_000_000_000n, outOfOrderWindow: 1_000n };
const newStream = () => new Stream('t', { app: 'x' }, '{app="x"}', 'fp', 1, settings);
const e = (ts: bigint, line: string, metadata?: Record<string, string>): IngestEntry => (metadata ? { ts, line: Buffer.from(line), metadata } : { ts, line: Buffer.from(line) });

function state(s: Stream): unknown {
  const lines = s.pieces(-(1n << 62n), 1n << 62n).map((p) => openPiece(p, 'test')).flatMap((b) => Array.from({ length: b.count }, (_, i) => `${b.ts[i]}:${b.lines.toString('utf8', b.lineOffsets[i]!, b.lineOffsets[i + 1]!)}:${JSON.stringify(b.metadata?.[i] ?? null)}`));
  return { lines, newest: s.newest, head: [s.head.count, s.head.rawBytes, s.head.minTs, s.head.maxTs, s.head.ordered], blocks: s.blocks.map((b) => [b.count, b.minTs, b.maxTs]), closed: s.closed.map((c) => [c.count, c.minTs, c.maxTs, c.lineBytes]), memory: s.memoryBytes };
}

/** Replays `records` through spans into one stream and through append into another: they must not differ. */
function both(records: IngestEntry[][]): { viaSpans: Stream; viaAppend: Stream } {
  const viaSpans = newStream();
  const viaAppend = newStream();
  for (const entries of records) {
    const rec = decodeRecordSpans(encodePushRecord('t', [{ canonical: '{app="x"}', entries }]));
    if (rec.type !== RECORD_PUSH) throw new Error('not a push');
    viaSpans.replaySpan(rec.buf, rec.streams[0]!, 0);
    viaAppend.append(entries, 0);
  }
  return { viaSpans, viaAppend };
}

const lines = (from: number, n: number, step = 1n, text = 'line') => Array.from({ length: n }, (_, i) => e(BigInt(from) + BigInt(i) * step, `${text} ${from + i} ${'p'.repeat((from + i) % 90)}`));

describe('replaying a push record as spans', () => {
  it('rebuilds what append rebuilds: blocks cut and chunks closed mid-span, in-order records after one another', () => {
    const { viaSpans, viaAppend } = both([lines(1000, 40), lines(1040, 1), lines(1041, 60)]);
    expect(viaSpans.closed.length).toBeGreaterThan(1);
    expect(state(viaSpans)).toEqual(state(viaAppend));
  });

  it('drops a record resent whole (duplicates across records), and keeps same-time different lines', () => {
    const first = lines(1000, 20);
    const { viaSpans, viaAppend } = both([first, first, [e(1019n, 'other line at the same time'), ...lines(1020, 5)], lines(1019, 3)]);
    expect(state(viaSpans)).toEqual(state(viaAppend));
    expect((state(viaSpans) as { lines: string[] }).lines.filter((l) => l.startsWith('1000:'))).toHaveLength(1);
  });

  it('copies ascending entries with metadata straight in: runs sharing metadata, changes, gaps without, across blocks and chunks', () => {
    const level = (i: number) => ({ detected_level: i % 7 === 3 ? 'error' : 'info' });
    const records = [0, 1, 2].map((r) =>
      Array.from({ length: 40 }, (_, i) => {
        const n = r * 40 + i;
        const md = n % 11 === 5 ? undefined : n % 13 === 0 ? { detected_level: 'warn', trace_id: `t${n}` } : level(n);
        return e(BigInt(20_000 + n), `entry ${n} ${'m'.repeat(n % 50)}`, md);
      }),
    );
    const { viaSpans, viaAppend } = both(records);
    expect(viaSpans.closed.length).toBeGreaterThan(1);
    expect(state(viaSpans)).toEqual(state(viaAppend));
    const held = (state(viaSpans) as { lines: string[] }).lines;
    expect(held).toHaveLength(120);
    expect(held.filter((l) => l.endsWith(':null'))).toHaveLength(11);
    expect(held).toContain('20013:entry 13 mmmmmmmmmmmmm:{"detected_level":"warn","trace_id":"t13"}');
    expect(held).toContain('20014:entry 14 mmmmmmmmmmmmmm:{"detected_level":"info"}');
    expect(held).toContain('20017:entry 17 mmmmmmmmmmmmmmmmm:{"detected_level":"error"}');
  });

  it('refuses a record whose metadata JSON is broken, even after a run of good ones', () => {
    const good = encodePushRecord('t', [{ canonical: '{app="x"}', entries: [e(1n, 'a', { k: 'v' }), e(2n, 'b', { k: 'v' }), e(3n, 'c', { k: 'w' })] }]);
    // The third entry's metadata {"k":"w"} becomes {"k":"w" with its closing brace overwritten.
    const at = good.lastIndexOf('"w"}');
    good[at + 3] = 0x20;
    expect(() => decodeRecordSpans(good)).toThrow(SyntaxError);
  });

  it('takes the slow path for equal timestamps, out-of-order entries, entries past the window and metadata', () => {
    const { viaSpans, viaAppend } = both([
      lines(5000, 10),
      [e(6000n, 'a'), e(6000n, 'b'), e(6000n, 'a')],
      [e(7000n, 'late-1'), e(6500n, 'late-0'), e(7001n, 'after')],
      [e(7002n, 'too old is next'), e(1n, 'far behind the window')],
      [e(8000n, 'with metadata', { trace: 'x' }), e(8001n, 'without')],
      lines(9000, 30, 3n),
    ]);
    expect(state(viaSpans)).toEqual(state(viaAppend));
    const held = (state(viaSpans) as { lines: string[] }).lines;
    expect(held).toContain('8000:with metadata:{"trace":"x"}');
    expect(held.filter((l) => l.startsWith('6000:'))).toEqual(['6000:a:null', '6000:b:null']);
    expect(held.some((l) => l.includes('far behind'))).toBe(false);
  });

  it('copies the lines: the record buffer can be overwritten once replaySpan returns', () => {
    const entries = lines(1000, 8);
    const buf = encodePushRecord('t', [{ canonical: '{app="x"}', entries }]);
    const rec = decodeRecordSpans(buf);
    if (rec.type !== RECORD_PUSH) throw new Error('not a push');
    const s = newStream();
    s.replaySpan(rec.buf, rec.streams[0]!, 0);
    buf.fill(0);
    const viaAppend = newStream();
    viaAppend.append(lines(1000, 8), 0);
    expect(state(s)).toEqual(state(viaAppend));
  });

  it('refuses a truncated or mangled record at decode, before any of it is applied', () => {
    const buf = encodePushRecord('t', [{ canonical: '{app="x"}', entries: lines(1, 3) }, { canonical: '{app="y"}', entries: [e(5n, 'm', { k: 'v' })] }]);
    expect(() => decodeRecordSpans(buf.subarray(0, buf.length - 3))).toThrow(WalRecordError);
    // Metadata that is not JSON fails the whole record, as decodeRecord does.
    const bad = Buffer.from(buf);
    bad[bad.length - 2] = 0x7b;
    expect(() => decodeRecordSpans(bad)).toThrow();
  });
});
