import { describe, expect, it } from 'vitest';
import { Multiline } from '../../agent/multiline.js';
import type { ParsedLine } from '../../agent/parsed-line.js';

const cfg = { firstline: /^\d{4}-/, maxWaitMs: 1000, maxLines: 4 };
let off = 0;
const pl = (line: string, stream?: string): ParsedLine => {
  const start = off;
  off += line.length + 1;
  return { ts: BigInt(start), line, stream, start, end: off };
};

describe('multiline joining', () => {
  it('joins continuation lines onto the first line and keeps its timestamp', () => {
    off = 0;
    const m = new Multiline(cfg, 10_000);
    const out: ParsedLine[] = [];
    for (const l of ['2024-01-01 boom', '  at a()', '  at b()', '2024-01-01 next']) m.push(pl(l), 0, (e) => out.push(e));
    expect(out).toHaveLength(1);
    expect(out[0]!.line).toBe('2024-01-01 boom\n  at a()\n  at b()');
    expect(out[0]!.ts).toBe(0n);
    expect(out[0]!.end).toBe(out[0]!.line.length + 1);
    expect(m.heldStart()).toBe(out[0]!.end);
  });

  it('sends a block after max_wait_time without a new line', () => {
    off = 0;
    const m = new Multiline(cfg, 10_000);
    const out: ParsedLine[] = [];
    m.push(pl('2024-01-01 only'), 1000, (e) => out.push(e));
    m.flushExpired(1500, (e) => out.push(e));
    expect(out).toHaveLength(0);
    m.flushExpired(2000, (e) => out.push(e));
    expect(out.map((e) => e.line)).toEqual(['2024-01-01 only']);
    expect(m.pending()).toBe(false);
  });

  it('sends a block when it reaches max_lines', () => {
    off = 0;
    const m = new Multiline(cfg, 10_000);
    const out: ParsedLine[] = [];
    for (const l of ['2024-01-01 a', 'b', 'c', 'd', 'e']) m.push(pl(l), 0, (e) => out.push(e));
    expect(out.map((e) => e.line)).toEqual(['2024-01-01 a\nb\nc\nd']);
  });

  it('keeps stdout and stderr blocks apart', () => {
    off = 0;
    const m = new Multiline(cfg, 10_000);
    const out: ParsedLine[] = [];
    m.push(pl('2024-01-01 out', 'stdout'), 0, (e) => out.push(e));
    m.push(pl('2024-01-01 err', 'stderr'), 0, (e) => out.push(e));
    m.push(pl('  out cont', 'stdout'), 0, (e) => out.push(e));
    m.flush((e) => out.push(e));
    expect(out.map((e) => e.line)).toEqual(['2024-01-01 out\n  out cont', '2024-01-01 err']);
  });

  it('caps a block at the max line size and counts it', () => {
    off = 0;
    let n = 0;
    const m = new Multiline({ ...cfg, maxLines: 100 }, 20, () => n++);
    const out: ParsedLine[] = [];
    for (const l of ['2024-01-01 aaaa', 'bbbbbbbbbb', 'cccc', '2024-01-01 next']) m.push(pl(l), 0, (e) => out.push(e));
    expect(out[0]!.line).toBe('2024-01-01 aaaa\nbbbb');
    expect(n).toBe(1);
  });
});
