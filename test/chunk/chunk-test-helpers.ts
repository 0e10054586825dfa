/** Shared by the chunk suites: random realistic rows, row views of a batch, and corruption assertions. */
import { expect } from 'vitest';
import { lineAt, type EntryBatch } from '../../src/model/batch.js';
import { ChunkCorruptError } from '../../src/chunk/chunk.js';

export type Row = { ts: bigint; line: string; metadata?: Record<string, string> };

// The benchmark data generator's PRNG: seeded, so every failure reproduces.
export { prng } from '../../bench/generate.js';

export const SAMPLES = ['', 'ok', 'naïve café ☕', '日本語のログ行', 'emoji 🚀🔥 done', 'tab\tand\nnewline', '{"level":"error","msg":"x"}'];

export function randomRows(rand: () => number, n: number, startTs: bigint): Row[] {
  const rows: Row[] = [];
  let ts = startTs;
  for (let i = 0; i < n; i++) {
    const r = rand();
    // Equal timestamps, small steps and the occasional big jump.
    ts += r < 0.2 ? 0n : r < 0.9 ? BigInt(Math.floor(rand() * 1e9)) : BigInt(Math.floor(rand() * 1e15));
    let line: string;
    const k = rand();
    if (k < 0.05) line = 'x'.repeat(Math.floor(rand() * 70_000));
    else if (k < 0.5) line = SAMPLES[Math.floor(rand() * SAMPLES.length)]!;
    else line = `level=info i=${i} msg="${Math.floor(rand() * 1e9).toString(36)}" ü=${'é'.repeat(Math.floor(rand() * 20))}`;
    const row: Row = { ts, line };
    if (rand() < 0.3) row.metadata = { trace_id: Math.floor(rand() * 1e12).toString(16), 'service.name': 'api ✓' };
    rows.push(row);
  }
  return rows;
}

export function rowsOf(batch: EntryBatch): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < batch.count; i++) {
    const row: Row = { ts: batch.ts[i]!, line: lineAt(batch, i) };
    const m = batch.metadata?.[i];
    if (m) row.metadata = m;
    out.push(row);
  }
  return out;
}

export function expectSameRows(batch: EntryBatch, rows: Row[]): void {
  expect(batch.count).toBe(rows.length);
  expect(batch.lineOffsets[0]).toBe(0);
  expect(rowsOf(batch)).toEqual(rows.map((r) => (r.metadata && Object.keys(r.metadata).length ? r : { ts: r.ts, line: r.line })));
}

export function expectCorrupt(f: () => unknown, id: string, pattern: RegExp, block?: number): ChunkCorruptError {
  let caught: unknown;
  try {
    f();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ChunkCorruptError);
  const e = caught as ChunkCorruptError;
  expect(e.message).toContain(id);
  expect(e.message).toMatch(pattern);
  expect(e.objectId).toBe(id);
  if (block !== undefined) {
    expect(e.blockIndex).toBe(block);
    expect(e.message).toContain(`block ${block}`);
  }
  return e;
}
