import { describe, expect, it } from 'vitest';
import { CriParser, parseCriLine } from '../../agent/cri.js';
import type { ParsedLine } from '../../agent/parsed-line.js';
import { parseRFC3339 } from '../../src/model/time.js';

function run(lines: string[], maxLineSize = 1024) {
  let truncated = 0;
  const p = new CriParser(maxLineSize, () => truncated++);
  const out: ParsedLine[] = [];
  let off = 0;
  for (const l of lines) {
    const end = off + Buffer.byteLength(l) + 1;
    p.push(l, off, end, 42n, (e) => out.push(e));
    off = end;
  }
  return { out, truncated, parser: p };
}

describe('CRI parsing', () => {
  it('parses timestamp, stream, tag and content', () => {
    const r = parseCriLine('2024-01-02T15:04:05.123456789Z stdout F hello world');
    expect(r).toEqual({ ts: parseRFC3339('2024-01-02T15:04:05.123456789Z'), stream: 'stdout', partial: false, content: 'hello world' });
    expect(parseCriLine('2024-01-02T15:04:05Z stderr P part')!.partial).toBe(true);
  });

  it('honours timezone offsets and short fractions', () => {
    expect(parseCriLine('2024-01-02T17:04:05.5+02:00 stdout F x')!.ts).toBe(parseRFC3339('2024-01-02T15:04:05.5Z'));
  });

  it('keeps empty content and content with spaces intact', () => {
    expect(parseCriLine('2024-01-02T15:04:05Z stdout F ')!.content).toBe('');
    expect(parseCriLine('2024-01-02T15:04:05Z stdout F')!.content).toBe('');
    expect(parseCriLine('2024-01-02T15:04:05Z stdout F  two  spaces ')!.content).toBe(' two  spaces ');
  });

  it('rejects lines that are not CRI', () => {
    expect(parseCriLine('hello world')).toBeNull();
    expect(parseCriLine('2024-01-02T15:04:05Z stdin F x')).toBeNull();
    expect(parseCriLine('2024-01-02T15:04:05Z stdout X x')).toBeNull();
    expect(parseCriLine('2024-13-02T15:04:05Z stdout F x')).toBeNull();
  });

  it('joins partial lines until the F line, keeping the first timestamp and the offsets of both ends', () => {
    const { out } = run(['2024-01-02T15:04:05.1Z stdout P hel', '2024-01-02T15:04:05.2Z stdout P lo ', '2024-01-02T15:04:05.3Z stdout F world']);
    expect(out).toHaveLength(1);
    expect(out[0]!.line).toBe('hello world');
    expect(out[0]!.ts).toBe(parseRFC3339('2024-01-02T15:04:05.1Z'));
    expect(out[0]!.start).toBe(0);
    expect(out[0]!.end).toBeGreaterThan(60);
  });

  it('joins stdout and stderr partials separately and reports the held start', () => {
    const a = '2024-01-02T15:04:05.1Z stdout P out-';
    const { out, parser } = run([a, '2024-01-02T15:04:05.2Z stderr F err line']);
    expect(out.map((e) => [e.stream, e.line])).toEqual([['stderr', 'err line']]);
    expect(parser.heldStart()).toBe(0);
    parser.push('2024-01-02T15:04:05.3Z stdout F done', 100, 140, 0n, (e) => out.push(e));
    expect(out[1]).toMatchObject({ stream: 'stdout', line: 'out-done', start: 0, end: 140 });
    expect(parser.heldStart()).toBeUndefined();
  });

  it('caps joined partial lines at the max line size and counts the truncation once', () => {
    const part = 'x'.repeat(60);
    const { out, truncated } = run(['2024-01-02T15:04:05Z stdout P ' + part, '2024-01-02T15:04:05Z stdout P ' + part, '2024-01-02T15:04:05Z stdout P ' + part, '2024-01-02T15:04:05Z stdout F end'], 100);
    expect(out).toHaveLength(1);
    expect(out[0]!.line).toBe('x'.repeat(100));
    expect(truncated).toBe(1);
  });

  it('keeps a foreign line with the read time rather than dropping it', () => {
    const { out } = run(['garbage']);
    expect(out).toEqual([{ ts: 42n, line: 'garbage', start: 0, end: 8 }]);
  });

  it('flushes a held partial when the file ends', () => {
    const { out, parser } = run(['2024-01-02T15:04:05Z stdout P unfinished']);
    expect(out).toHaveLength(0);
    parser.flush((e) => out.push(e));
    expect(out[0]!.line).toBe('unfinished');
  });
});
